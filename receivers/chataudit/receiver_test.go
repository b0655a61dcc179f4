package chataudit

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelaudit/otelaudit/auditevent"
)

// golden reads an event file of the auditevent package's golden set.
func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "auditevent", "testdata", name))
	require.NoError(t, err)
	return strings.TrimSuffix(string(b), "\n")
}

type testServer struct {
	url string
	tel *componenttest.Telemetry
}

// startReceiver runs the receiver on a free 127.0.0.1 port until the test ends.
func startReceiver(t *testing.T, next consumer.Logs, configure func(*Config)) testServer {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	if configure != nil {
		configure(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := receivertest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	rcv, err := NewFactory().CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return testServer{url: "http://" + rcv.(*auditReceiver).listenAddr.String(), tel: tel}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func post(t *testing.T, url, contentType, body string) response {
	t.Helper()
	return do(t, http.MethodPost, url, contentType, strings.NewReader(body), nil)
}

func do(t *testing.T, method, url, contentType string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &r.body), "response body %q is not JSON", raw)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	return r
}

// records returns every record the sink got, with the event JSON each carries.
func records(t *testing.T, sink *consumertest.LogsSink) []string {
	t.Helper()
	var out []string
	for _, logs := range sink.AllLogs() {
		rls := logs.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			sls := rls.At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					b, err := auditevent.EventJSONFromLogRecord(lrs.At(k))
					require.NoError(t, err)
					out = append(out, string(b))
				}
			}
		}
	}
	return out
}

func bare(envelope string) string {
	// The golden envelopes carry the tag first; the bare event is the rest.
	_, rest, _ := strings.Cut(envelope, `","`)
	return `{"` + rest
}

func TestAcceptsEnvelopeForms(t *testing.T) {
	turn := golden(t, "envelope_turn_full.json")
	mutation := golden(t, "envelope_mutation_min.json")
	del := golden(t, "envelope_delete_full.json")
	tests := []struct {
		name, contentType, body string
		want                    []string
	}{
		{"single object", "application/json", turn, []string{bare(turn)}},
		{"array", "application/json", "[" + turn + ",\n " + mutation + "," + del + "]", []string{bare(turn), bare(mutation), bare(del)}},
		{"ndjson", "application/x-ndjson", "\n" + turn + "\r\n\n  \n" + mutation + "\n" + del, []string{bare(turn), bare(mutation), bare(del)}},
		{"charset parameter", "application/json; charset=UTF-8", del, []string{bare(del)}},
		{"ndjson with charset", "application/x-ndjson;charset=utf-8", del + "\n", []string{bare(del)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := new(consumertest.LogsSink)
			srv := startReceiver(t, sink, nil)
			resp := post(t, srv.url+PathEvents, tc.contentType, tc.body)
			require.Equal(t, http.StatusAccepted, resp.status, resp.raw)
			assert.Equal(t, map[string]any{"accepted": float64(len(tc.want))}, resp.body)
			require.Len(t, sink.AllLogs(), 1, "one request must reach the pipeline as one ConsumeLogs call")
			assert.Equal(t, tc.want, records(t, sink))

			rl := sink.AllLogs()[0].ResourceLogs().At(0)
			svc, _ := rl.Resource().Attributes().Get("service.name")
			assert.Equal(t, "mini-chat", svc.Str())
			assert.Equal(t, "github.com/otelaudit/otelaudit/receivers/chataudit", rl.ScopeLogs().At(0).Scope().Name())
			lr := rl.ScopeLogs().At(0).LogRecords().At(0)
			assert.NotZero(t, lr.ObservedTimestamp())
			assert.True(t, strings.HasPrefix(lr.EventName(), auditevent.EventNamePrefix))
		})
	}
}

func TestSingleEventPaths(t *testing.T) {
	tests := []struct {
		path, file string
	}{
		{PathTurn, "turn_completed_full.json"},
		{PathTurn, "turn_failed_min.json"},
		{PathTurnRetry, "turn_retry_full.json"},
		{PathTurnEdit, "turn_edit_min.json"},
		{PathTurnDelete, "turn_delete_full.json"},
		{PathTurnDelete, "envelope_delete_min.json"}, // a matching tag is tolerated
	}
	for _, tc := range tests {
		t.Run(tc.path+"/"+tc.file, func(t *testing.T) {
			sink := new(consumertest.LogsSink)
			srv := startReceiver(t, sink, nil)
			body := golden(t, tc.file)
			resp := post(t, srv.url+tc.path, "application/json", body)
			require.Equal(t, http.StatusAccepted, resp.status, resp.raw)
			assert.Equal(t, float64(1), resp.body["accepted"])
			want := body
			if strings.HasPrefix(tc.file, "envelope_") {
				want = bare(body)
			}
			assert.Equal(t, []string{want}, records(t, sink))
		})
	}
}

func TestBadRequests(t *testing.T) {
	turn := golden(t, "envelope_turn_full.json")
	del := golden(t, "envelope_delete_min.json")
	const secret = "sk-proj-DONOTECHOTHISVALUE"
	badAttachment := strings.Replace(turn, `"attachment_id":"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"`, `"attachment_id":"`+secret+`"`, 1)
	noInput := strings.Replace(del, `"request_id":"9e44d3c2-b1a0-4f9e-8d7c-6b5a4e3d2c1b"`, `"request_id":null`, 1)
	tests := []struct {
		name, path, contentType, body string
		index                         any // float64 index, or nil when the error is about the body as a whole
		line                          any
		field                         string
	}{
		{"bad record in array", PathEvents, "application/json", "[" + del + "," + del + "," + badAttachment + "]", float64(2), nil, "attachments[1].attachment_id"},
		{"bad record in ndjson", PathEvents, "application/x-ndjson", del + "\n\n" + noInput + "\n" + del, float64(1), float64(3), "request_id"},
		{"bad single envelope", PathEvents, "application/json", badAttachment, float64(0), nil, "attachments[1].attachment_id"},
		{"bare event on the envelope endpoint", PathEvents, "application/json", bare(del), float64(0), nil, "type"},
		{"malformed array element", PathEvents, "application/json", "[" + del + ",{]", float64(1), nil, ""},
		{"malformed ndjson line", PathEvents, "application/x-ndjson", del + "\n{\"type\":", float64(1), float64(2), ""},
		{"array not closed", PathEvents, "application/json", "[" + del, nil, nil, ""},
		{"trailing data after array", PathEvents, "application/json", "[" + del + "] x", nil, nil, ""},
		{"empty body", PathEvents, "application/json", "", nil, nil, ""},
		{"blank body", PathTurn, "application/json", " \n ", nil, nil, ""},
		{"empty array", PathEvents, "application/json", " [ ] ", nil, nil, ""},
		{"blank ndjson", PathEvents, "application/x-ndjson", "\n\r\n\n", nil, nil, ""},
		{"event on the wrong path", PathTurn, "application/json", golden(t, "turn_delete_min.json"), float64(0), nil, "event_type"},
		{"retry on the edit path", PathTurnEdit, "application/json", golden(t, "turn_retry_min.json"), float64(0), nil, "event_type"},
		{"mismatched tag on a single path", PathTurnDelete, "application/json", strings.Replace(del, `"type":"delete"`, `"type":"turn"`, 1), float64(0), nil, "type"},
		{"array on a single path", PathTurn, "application/json", "[" + golden(t, "turn_completed_min.json") + "]", float64(0), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := new(consumertest.LogsSink)
			srv := startReceiver(t, sink, nil)
			resp := post(t, srv.url+tc.path, tc.contentType, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.status, resp.raw)
			assert.Equal(t, 0, sink.LogRecordCount(), "nothing of a bad request may reach the pipeline")
			assert.Empty(t, sink.AllLogs())
			assert.NotEmpty(t, resp.body["error"])
			assert.Equal(t, tc.index, resp.body["index"], resp.raw)
			assert.Equal(t, tc.line, resp.body["line"], resp.raw)
			if tc.field != "" {
				assert.Equal(t, tc.field, resp.body["field"], resp.raw)
				assert.NotEmpty(t, resp.body["reason"])
				assert.Contains(t, resp.body["error"], tc.field)
			}
			assert.NotContains(t, resp.raw, secret)
		})
	}
}

func TestRequestBodyLimit(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, func(c *Config) { c.MaxRequestBodySize = 2048 })
	del := golden(t, "envelope_delete_full.json")
	small := "[" + del + "]"
	require.Less(t, len(small), 2048)
	large := "[" + strings.Repeat(del+",", 2048/len(del)+1) + del + "]"

	assert.Equal(t, http.StatusAccepted, post(t, srv.url+PathEvents, "application/json", small).status)

	resp := post(t, srv.url+PathEvents, "application/json", large)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.status, resp.raw)
	assert.Contains(t, resp.body["error"], "max_request_body_size")

	// Without a Content-Length (chunked), the limit is hit while reading.
	resp = do(t, http.MethodPost, srv.url+PathEvents, "application/json", io.MultiReader(strings.NewReader(large)), nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.status, resp.raw)

	assert.Equal(t, 1, sink.LogRecordCount(), "only the small request may have been accepted")
}

func TestDefaultBodyLimitIs4MiB(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, nil)
	resp := post(t, srv.url+PathEvents, "application/json", "["+strings.Repeat(" ", 4<<20)+"]")
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.status, resp.raw)
}

func TestUnsupportedMediaType(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, nil)
	del := golden(t, "envelope_delete_min.json")
	for _, tc := range []struct{ path, contentType string }{
		{PathEvents, "text/plain"},
		{PathEvents, ""},
		{PathEvents, "application/json; charset=iso-8859-1"},
		{PathEvents, "application/x-protobuf"},
		{PathEvents, "application/json; charset"}, // unparsable
		{PathTurnDelete, "application/x-ndjson"},  // NDJSON only on the events endpoint
	} {
		t.Run(tc.path+" "+tc.contentType, func(t *testing.T) {
			resp := post(t, srv.url+tc.path, tc.contentType, del)
			assert.Equal(t, http.StatusUnsupportedMediaType, resp.status, resp.raw)
			assert.Contains(t, resp.body["error"], "application/json")
		})
	}
	assert.Equal(t, 0, sink.LogRecordCount())
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, nil)
	for _, path := range []string{PathEvents, PathTurn, PathTurnRetry, PathTurnEdit, PathTurnDelete} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			resp := do(t, method, srv.url+path, "application/json", nil, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.status, method+" "+path)
			assert.Equal(t, "POST", resp.header.Get("Allow"))
		}
	}
	for _, path := range []string{"/", "/v1/audit", "/v1/audit/turns", "/v1/logs", "/v1/audit/events/extra"} {
		resp := post(t, srv.url+path, "application/json", golden(t, "envelope_delete_min.json"))
		assert.Equal(t, http.StatusNotFound, resp.status, path)
		assert.Contains(t, resp.body["error"], PathEvents)
	}
	assert.Equal(t, 0, sink.LogRecordCount())
}

// erroringConsumer fails every call with err, counting the calls.
type erroringConsumer struct {
	err   error
	calls atomic.Int32
}

func (c *erroringConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *erroringConsumer) ConsumeLogs(context.Context, plog.Logs) error {
	c.calls.Add(1)
	return c.err
}

func TestPipelineRefusal(t *testing.T) {
	body := "[" + golden(t, "envelope_turn_min.json") + "," + golden(t, "envelope_delete_min.json") + "]"

	t.Run("transient gives 503 with Retry-After", func(t *testing.T) {
		next := &erroringConsumer{err: errors.New("data refused due to high memory usage")}
		srv := startReceiver(t, next, nil)
		resp := post(t, srv.url+PathEvents, "application/json", body)
		assert.Equal(t, http.StatusServiceUnavailable, resp.status, resp.raw)
		assert.Equal(t, "1", resp.header.Get("Retry-After"))
		assert.Equal(t, int32(1), next.calls.Load())
		assert.NotContains(t, resp.raw, "memory usage", "downstream error text is not passed on")
	})
	t.Run("configured Retry-After", func(t *testing.T) {
		next := &erroringConsumer{err: errors.New("journal full")}
		srv := startReceiver(t, next, func(c *Config) { c.RetryAfter = 7_000_000_000 })
		resp := post(t, srv.url+PathTurnDelete, "application/json", golden(t, "turn_delete_min.json"))
		assert.Equal(t, http.StatusServiceUnavailable, resp.status, resp.raw)
		assert.Equal(t, "7", resp.header.Get("Retry-After"))
	})
	t.Run("permanent gives 500 without detail", func(t *testing.T) {
		next := &erroringConsumer{err: consumererror.NewPermanent(errors.New("cannot store prompt sk-proj-LEAKLEAK"))}
		srv := startReceiver(t, next, nil)
		resp := post(t, srv.url+PathEvents, "application/json", body)
		assert.Equal(t, http.StatusInternalServerError, resp.status, resp.raw)
		assert.Empty(t, resp.header.Get("Retry-After"))
		assert.NotContains(t, resp.raw, "LEAK")
		assert.NotContains(t, resp.raw, "cannot store")
	})
}

func TestObsReportMetrics(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, nil)
	del := golden(t, "envelope_delete_min.json")
	require.Equal(t, http.StatusAccepted, post(t, srv.url+PathEvents, "application/json", "["+del+","+del+","+del+"]").status)
	require.Equal(t, http.StatusAccepted, post(t, srv.url+PathEvents, "application/json", del).status)

	m, err := srv.tel.GetMetric("otelcol_receiver_accepted_log_records")
	require.NoError(t, err)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%T", m.Data)
	var total int64
	for _, dp := range sum.DataPoints {
		total += dp.Value
	}
	assert.Equal(t, int64(4), total)
}

func TestGzipBody(t *testing.T) {
	sink := new(consumertest.LogsSink)
	srv := startReceiver(t, sink, nil)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(golden(t, "turn_edit_full.json")))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	resp := do(t, http.MethodPost, srv.url+PathTurnEdit, "application/json", &buf, http.Header{"Content-Encoding": {"gzip"}})
	require.Equal(t, http.StatusAccepted, resp.status, resp.raw)
	assert.Equal(t, []string{golden(t, "turn_edit_full.json")}, records(t, sink))
}

func TestStartFailsOnBusyPort(t *testing.T) {
	first := startReceiver(t, new(consumertest.LogsSink), nil)
	cfg := createDefaultConfig()
	cfg.NetAddr.Endpoint = strings.TrimPrefix(first.url, "http://")
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(componentType), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	assert.Error(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	assert.NoError(t, rcv.Shutdown(context.Background()))
}

func TestShutdownWithoutStart(t *testing.T) {
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(componentType), createDefaultConfig(), new(consumertest.LogsSink))
	require.NoError(t, err)
	assert.NoError(t, rcv.Shutdown(context.Background()))
}
