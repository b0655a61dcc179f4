package loki

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditevent"
)

// testEvents are the contract-shaped events in testdata/events.jsonl, one
// per event type, as raw JSON lines.
func testEvents(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// withFields returns the event JSON with some top-level fields replaced
// (a nil value deletes the field).
func withFields(t testing.TB, event []byte, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	// Without HTML escaping, as the event JSON is written.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// appendEvent decodes an audit event and appends it as a record, the way
// the chataudit receiver does.
func appendEvent(t testing.TB, sl plog.ScopeLogs, event []byte) plog.LogRecord {
	t.Helper()
	ev, err := auditevent.DecodeEvent(event)
	if err != nil {
		t.Fatalf("decoding test event: %v", err)
	}
	lr := sl.LogRecords().AppendEmpty()
	auditevent.ToLogRecord(ev, lr, time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC))
	return lr
}

// newLogs starts a batch with one resource (service.name = service) and scope.
func newLogs(service string) (plog.Logs, plog.ScopeLogs) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", service)
	return ld, rl.ScopeLogs().AppendEmpty()
}

func eventsLogs(t testing.TB, events ...[]byte) plog.Logs {
	ld, sl := newLogs("mini-chat")
	for _, ev := range events {
		appendEvent(t, sl, ev)
	}
	return ld
}

// testConfig points at the fake, without queue (so ConsumeLogs returns the
// outcome) and with short retry intervals.
func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = endpoint
	cfg.ClientConfig.Timeout = 10 * time.Second
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 20 * time.Second
	return cfg
}

type testExporter struct {
	exporter.Logs
	reader *sdkmetric.ManualReader
	logs   *observer.ObservedLogs
}

func startExporter(t *testing.T, cfg *Config) *testExporter {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	set := exportertest.NewNopSettings(componentType)
	reader := sdkmetric.NewManualReader()
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	core, logs := observer.New(zapcore.DebugLevel)
	set.Logger = zap.New(core)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &testExporter{Logs: exp, reader: reader, logs: logs}
}

// counter sums the data points of a counter whose attributes include attrs.
func (te *testExporter) counter(t *testing.T, name string, attrs map[string]string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := te.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is %T, want an int64 sum", name, m.Data)
			}
		points:
			for _, dp := range sum.DataPoints {
				for k, want := range attrs {
					if v, ok := dp.Attributes.Value(attribute.Key(k)); !ok || v.AsString() != want {
						continue points
					}
				}
				total += dp.Value
			}
		}
	}
	return total
}

// allLogText is every observed log message and field value, to check that
// nothing secret or record-derived leaked.
func (te *testExporter) allLogText() string {
	var s string
	for _, e := range te.logs.All() {
		s += e.Message + "\n"
		for k, v := range e.ContextMap() {
			s += k + "=" + fmt.Sprint(v) + "\n"
		}
	}
	return s
}

func freeLocalAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
