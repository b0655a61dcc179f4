package loki

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/otelaudit/otelaudit/processors/redact"
)

// Secrets the chat service failed to redact, in a prompt and a response.
const (
	secretOpenAIKey = "sk-proj-Xy7Qa9Lm2Np4Rs6Tu8Vw0Yz1Ab3Cd5Ef7Gh9Ij"
	secretJWT       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

// TestCollectorRedactsBeforeLoki runs a real collector in process: the OTLP
// receiver, the redact processor and this exporter, fed by the OpenTelemetry
// Go SDK's OTLP/HTTP log exporter; the fake Loki must get the events, per
// tenant, without the secrets.
func TestCollectorRedactsBeforeLoki(t *testing.T) {
	fake := newFakeLoki(t)
	otlpAddr := freeLocalAddr(t)

	cfgPath := filepath.Join(t.TempDir(), "otelaudit.yaml")
	cfgYAML := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
processors:
  redact: {}
exporters:
  loki:
    endpoint: %s
    tenant: {}
    retry_on_failure:
      initial_interval: 10ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp]
      processors: [redact]
      exporters: [loki]
`, otlpAddr, fake.endpoint())
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}

	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo:               component.BuildInfo{Command: "otelaudit-test", Version: "test"},
		Factories:               collectorFactories,
		DisableGracefulShutdown: true,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"file:" + cfgPath},
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory()},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- col.Run(context.Background()) }()
	t.Cleanup(func() {
		col.Shutdown()
		if err := <-runErr; err != nil {
			t.Errorf("collector: %v", err)
		}
	})
	waitFor(t, "the collector to run", func() bool { return col.GetState() == otelcol.StateRunning })

	// The chat service's side: each audit event as an OTLP log record, sent
	// with the OpenTelemetry Go SDK.
	ctx := context.Background()
	otlpExp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(otlpAddr), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	provider := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(otlpExp)),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "mini-chat"))),
	)
	logger := provider.Logger("mini-chat-audit")

	events := testEvents(t)
	tenants := []string{tenantA, tenantB}
	secretPrompt := withFields(t, events[0], map[string]any{
		"tenant_id": tenantA,
		"prompt":    "deploy with OPENAI_API_KEY=" + secretOpenAIKey + " please",
		"response":  "Use the header Authorization: Bearer " + secretJWT,
	})
	sent := [][]byte{secretPrompt}
	for i, ev := range events[1:] {
		sent = append(sent, withFields(t, ev, map[string]any{"tenant_id": tenants[i%2]}))
	}
	for _, ev := range sent {
		logger.Emit(ctx, sdkRecord(t, ev))
	}
	if err := provider.Shutdown(ctx); err != nil {
		t.Fatalf("OTLP export to the collector: %v", err)
	}

	waitFor(t, "Loki to store every event", func() bool { return len(linesOf(fake.stored())) == len(sent) })

	perTenant := map[string]int{}
	var all strings.Builder
	for _, p := range fake.stored() {
		perTenant[p.Tenant] += p.entryCount()
		for _, s := range p.Streams {
			all.WriteString(s.LabelString)
			for _, e := range s.Entries {
				all.WriteString(e.Line)
				for k, v := range e.Metadata {
					all.WriteString(k + "=" + v)
				}
				if !strings.Contains(e.Line, `"tenant_id":"`+p.Tenant+`"`) {
					t.Errorf("tenant %s got an entry of another tenant: %s", p.Tenant, e.Line)
				}
			}
			if s.Labels["service_name"] != "mini-chat" || s.Labels["event_type"] == "" {
				t.Errorf("stream labels %v", s.Labels)
			}
		}
	}
	if perTenant[tenantA] != 3 || perTenant[tenantB] != 2 {
		t.Errorf("entries per tenant %v, want %s:3 %s:2", perTenant, tenantA, tenantB)
	}
	got := all.String()
	for _, secret := range []string{secretOpenAIKey, secretJWT} {
		if strings.Contains(got, secret) {
			t.Errorf("secret %q reached Loki", secret)
		}
	}
	if !strings.Contains(got, "[REDACTED") {
		t.Errorf("no redaction marker in what Loki received:\n%s", got)
	}
	if !strings.Contains(got, "deploy with OPENAI_API_KEY=") {
		t.Errorf("the prompt around the secret is missing:\n%s", got)
	}
}

func collectorFactories() (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
		return f, err
	}
	if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](redact.NewFactory()); err != nil {
		return f, err
	}
	f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](NewFactory())
	return f, err
}

// sdkRecord is the OTel SDK record the chat service would emit for an
// event: the same shape as the model's mapping (event name, timestamps,
// severity, promoted attributes, the event as a map body).
func sdkRecord(t *testing.T, event []byte) otellog.Record {
	t.Helper()
	lr := appendEvent(t, plog.NewScopeLogs(), event)
	var r otellog.Record
	r.SetEventName(lr.EventName())
	r.SetTimestamp(lr.Timestamp().AsTime())
	r.SetObservedTimestamp(lr.ObservedTimestamp().AsTime())
	r.SetSeverity(otellog.Severity(lr.SeverityNumber()))
	r.SetSeverityText(lr.SeverityText())
	r.SetBody(sdkValue(lr.Body()))
	for k, v := range lr.Attributes().All() {
		r.AddAttributes(attribute.KeyValue{Key: attribute.Key(k), Value: sdkValue(v)})
	}
	return r
}

func sdkValue(v pcommon.Value) attribute.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return attribute.StringValue(v.Str())
	case pcommon.ValueTypeInt:
		return attribute.Int64Value(v.Int())
	case pcommon.ValueTypeDouble:
		return attribute.Float64Value(v.Double())
	case pcommon.ValueTypeBool:
		return attribute.BoolValue(v.Bool())
	case pcommon.ValueTypeMap:
		var kvs []attribute.KeyValue
		for k, mv := range v.Map().All() {
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: sdkValue(mv)})
		}
		return attribute.MapValue(kvs...)
	case pcommon.ValueTypeSlice:
		var vs []attribute.Value
		for _, sv := range v.Slice().All() {
			vs = append(vs, sdkValue(sv))
		}
		return attribute.SliceValue(vs...)
	default:
		return attribute.Value{}
	}
}
