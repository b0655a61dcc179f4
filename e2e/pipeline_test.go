package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// goldenEvents are the model's golden files: every event type, with all
// optional fields present and with all absent.
var goldenEvents = []string{
	"turn_completed_full", "turn_completed_min", "turn_failed_full", "turn_failed_min",
	"turn_retry_full", "turn_retry_min", "turn_edit_full", "turn_edit_min",
	"turn_delete_full", "turn_delete_min", "turn_completed_unknown_fields",
}

var pathFor = map[string]string{
	"turn_completed": "turn", "turn_failed": "turn", "turn_retry": "turn-retry",
	"turn_edit": "turn-edit", "turn_delete": "turn-delete",
}

const leakedKey = "sk-proj-Xq3vT9bL2mN8pR4sW6yZ1aC5dF7gH0jK3lM9nB2vC4xZ"

func loadGolden(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "auditevent", "testdata", name+".json"))
	require.NoError(t, err)
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&ev))
	return ev
}

// TestNativeAndOTLPGiveTheSameRecords sends every golden event once over the
// native endpoint and once over OTLP/HTTP with the official OpenTelemetry Go
// log SDK (as a plugin following docs/schema.md would), and checks that the
// file sink holds the event, field by field, and the same record both ways.
func TestNativeAndOTLPGiveTheSameRecords(t *testing.T) {
	dir := t.TempDir()
	otlpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	nativeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	out := filepath.Join(dir, "data", "audit.jsonl")
	writeFile(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
  chataudit:
    endpoint: %s
processors:
  redact:
exporters:
  auditfile:
    path: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp, chataudit]
      processors: [redact]
      exporters: [auditfile]
`, otlpAddr, nativeAddr, out))
	p := startOtelaudit(t, dir, nil, []string{"--config", "config.yaml"}, otlpAddr, nativeAddr)

	events := make([]map[string]any, 0, len(goldenEvents))
	for _, name := range goldenEvents {
		ev := loadGolden(t, name)
		if name == "turn_completed_full" {
			ev["prompt"] = "please debug, my key is " + leakedKey + ", it fails"
		}
		events = append(events, ev)
	}

	// Native: each event on its own per-type path.
	for _, ev := range events {
		body, err := json.Marshal(ev)
		require.NoError(t, err)
		status, resp := postJSON(t, "http://"+nativeAddr+"/v1/audit/"+pathFor[ev["event_type"].(string)], "application/json", body)
		require.Equal(t, http.StatusAccepted, status, resp)
		assert.JSONEq(t, `{"accepted":1}`, resp)
	}

	// OTLP/HTTP through the official exporter.
	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpoint(otlpAddr), otlploghttp.WithInsecure())
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "mini-chat"))
	provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	logger := provider.Logger("mini-chat-audit-plugin")
	for _, ev := range events {
		logger.Emit(traceContext(t, ev), pluginRecord(t, ev))
	}
	require.NoError(t, provider.Shutdown(context.Background()))

	lines := waitForLines(t, out, 2*len(events), p)
	require.Len(t, lines, 2*len(events))
	native, otlp := lines[:len(events)], lines[len(events):]
	for i, ev := range events {
		want := ev
		if goldenEvents[i] == "turn_completed_full" {
			want = cloneMap(ev)
			want["prompt"] = "please debug, my key is [REDACTED_OPENAI_KEY], it fails"
		}
		for path, line := range map[string]map[string]any{"native": native[i], "otlp": otlp[i]} {
			t.Run(goldenEvents[i]+"/"+path, func(t *testing.T) {
				assertLineIsEvent(t, line, want)
			})
		}
		// The same record either way, apart from when it was observed and who sent it.
		n, o := cloneMap(native[i]), cloneMap(otlp[i])
		for _, m := range []map[string]any{n, o} {
			delete(m, "observed_timestamp")
			delete(m, "scope")
			delete(m, "resource")
			delete(m, "span_id") // the OTel API only carries a trace id inside a span context
		}
		assert.Equal(t, n, o, "%s: native and OTLP records differ", goldenEvents[i])
	}
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), leakedKey, "a secret reached the file")
}

// assertLineIsEvent checks one file line against the event it carries.
func assertLineIsEvent(t *testing.T, line, ev map[string]any) {
	t.Helper()
	typ := ev["event_type"].(string)
	assert.Equal(t, "mini_chat.audit."+typ, line["event_name"])
	wantTS, err := time.Parse(time.RFC3339Nano, ev["timestamp"].(string))
	require.NoError(t, err)
	gotTS, err := time.Parse(time.RFC3339Nano, line["timestamp"].(string))
	require.NoError(t, err)
	assert.True(t, wantTS.Equal(gotTS), "timestamp %v, want %v", gotTS, wantTS)
	assert.NotEmpty(t, line["observed_timestamp"])
	if typ == "turn_failed" {
		assert.Equal(t, "ERROR", line["severity_text"])
		assert.EqualValues(t, 17, line["severity_number"])
	} else {
		assert.Equal(t, "INFO", line["severity_text"])
		assert.EqualValues(t, 9, line["severity_number"])
	}
	if tid, ok := ev["trace_id"].(string); ok {
		assert.Equal(t, tid, line["trace_id"])
	} else {
		assert.NotContains(t, line, "trace_id")
	}
	attrs, _ := line["attributes"].(map[string]any)
	assert.Equal(t, typ, attrs["mini_chat.event_type"])
	assert.Equal(t, ev["tenant_id"], attrs["mini_chat.tenant_id"])
	assert.Equal(t, ev["chat_id"], attrs["mini_chat.chat_id"])
	assert.Equal(t, ev["turn_id"], attrs["mini_chat.turn_id"])
	if rid, ok := ev["request_id"]; ok {
		assert.Equal(t, rid, attrs["mini_chat.request_id"])
	} else {
		assert.Equal(t, ev["new_request_id"], attrs["mini_chat.request_id"])
	}
	if model, ok := ev["selected_model"]; ok {
		assert.Equal(t, model, attrs["gen_ai.request.model"])
		assert.Equal(t, ev["effective_model"], attrs["gen_ai.response.model"])
		usage := ev["usage"].(map[string]any)
		assert.Equal(t, jsonNumber(t, usage["input_tokens"]), attrs["gen_ai.usage.input_tokens"])
		assert.Equal(t, jsonNumber(t, usage["output_tokens"]), attrs["gen_ai.usage.output_tokens"])
	}
	assert.Equal(t, normalise(t, ev), line["body"], "the body is the event")
}

// pluginRecord builds the log record a plugin emits for ev, following
// docs/schema.md with nothing but the OpenTelemetry log API.
func pluginRecord(t *testing.T, ev map[string]any) otellog.Record {
	t.Helper()
	typ := ev["event_type"].(string)
	var r otellog.Record
	r.SetEventName("mini_chat.audit." + typ)
	ts, err := time.Parse(time.RFC3339Nano, ev["timestamp"].(string))
	require.NoError(t, err)
	r.SetTimestamp(ts)
	if typ == "turn_failed" {
		r.SetSeverity(otellog.SeverityError)
		r.SetSeverityText("ERROR")
	} else {
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
	}
	r.SetBody(logValue(ev))
	attr := func(k string, v any) {
		if v != nil {
			r.AddAttributes(attribute.KeyValue{Key: attribute.Key(k), Value: logValue(v)})
		}
	}
	attr("mini_chat.event_type", typ)
	attr("mini_chat.tenant_id", ev["tenant_id"])
	attr("mini_chat.requester_type", ev["requester_type"])
	attr("mini_chat.chat_id", ev["chat_id"])
	attr("mini_chat.turn_id", ev["turn_id"])
	if rid, ok := ev["new_request_id"]; ok {
		attr("mini_chat.request_id", rid) // a retry or edit is indexed by the request it starts
	} else {
		attr("mini_chat.request_id", ev["request_id"])
	}
	if uid, ok := ev["user_id"]; ok {
		attr("mini_chat.user_id", uid)
	} else {
		attr("mini_chat.user_id", ev["actor_user_id"])
	}
	if usage, ok := ev["usage"].(map[string]any); ok {
		attr("gen_ai.request.model", ev["selected_model"])
		attr("gen_ai.response.model", ev["effective_model"])
		attr("gen_ai.usage.input_tokens", usage["input_tokens"])
		attr("gen_ai.usage.output_tokens", usage["output_tokens"])
	}
	return r
}

func logValue(v any) attribute.Value {
	switch x := v.(type) {
	case string:
		return attribute.StringValue(x)
	case bool:
		return attribute.BoolValue(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return attribute.Int64Value(i)
		}
		f, _ := x.Float64()
		return attribute.Float64Value(f)
	case []any:
		vals := make([]attribute.Value, len(x))
		for i, e := range x {
			vals[i] = logValue(e)
		}
		return attribute.SliceValue(vals...)
	case map[string]any:
		kvs := make([]attribute.KeyValue, 0, len(x))
		for k, e := range x {
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: logValue(e)})
		}
		return attribute.MapValue(kvs...)
	}
	return attribute.Value{}
}

// normalise turns an event decoded with UseNumber into what a plain
// json.Unmarshal of a file line gives, so the two compare directly.
func normalise(t *testing.T, v any) any {
	switch x := v.(type) {
	case json.Number:
		return jsonNumber(t, x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalise(t, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(t, e)
		}
		return out
	}
	return v
}

func jsonNumber(t *testing.T, v any) float64 {
	t.Helper()
	f, err := v.(json.Number).Float64()
	require.NoError(t, err)
	return f
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// traceContext carries the event's trace id the way the OTel log API takes
// it: from the span context of the emitting call.
func traceContext(t *testing.T, ev map[string]any) context.Context {
	t.Helper()
	hexID, ok := ev["trace_id"].(string)
	if !ok {
		return context.Background()
	}
	tid, err := trace.TraceIDFromHex(hexID)
	require.NoError(t, err)
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc)
}
