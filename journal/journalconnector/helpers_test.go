package journalconnector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelaudit/otelaudit/journal/internal/journaltest"
	"github.com/otelaudit/otelaudit/journal/jetstreamextension"
)

const (
	attrRequestID = "mini_chat.request_id"
	secretInBody  = "password=hunter2-BODY-MARKER"
)

var (
	fileID = pipeline.NewIDWithName(pipeline.SignalLogs, "file")
	lokiID = pipeline.NewIDWithName(pipeline.SignalLogs, "loki")
)

func require(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// journal is one running extension + connector pair, as one otelaudit process has them.
type journal struct {
	t       testing.TB
	ext     extension.Extension
	conn    *journalConnector
	metrics *journaltest.Metrics
	stopped bool
}

func embedded(dir string) *jetstreamextension.Config {
	cfg := jetstreamextension.NewFactory().CreateDefaultConfig().(*jetstreamextension.Config)
	cfg.Embedded.StoreDir = dir
	return cfg
}

func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Delivery.AckWait = 2 * time.Second
	cfg.Delivery.RedeliveryBackoff = BackoffConfig{InitialInterval: 20 * time.Millisecond, MaxInterval: 200 * time.Millisecond, Multiplier: 2}
	return cfg
}

func startJournal(t testing.TB, extCfg *jetstreamextension.Config, cfg *Config, sinks map[pipeline.ID]consumer.Logs) *journal {
	t.Helper()
	require(t, extCfg.Validate())
	require(t, cfg.Validate())
	ctx := context.Background()
	ext, err := newTestExtension(t, extCfg)
	require(t, err)
	host := hostWith(ext)

	m := journaltest.NewMetrics()
	set := connectortest.NewNopSettings(Type)
	set.MeterProvider = m.Provider
	c, err := NewFactory().CreateLogsToLogs(ctx, set, cfg, routerFor(sinks))
	require(t, err)
	if err := c.Start(ctx, host); err != nil {
		_ = ext.Shutdown(ctx)
		t.Fatal(err)
	}
	j := &journal{t: t, ext: ext, conn: c.(*journalConnector), metrics: m}
	t.Cleanup(j.stop)
	return j
}

// newTestExtension creates and starts a jetstream extension.
func newTestExtension(t testing.TB, cfg *jetstreamextension.Config) (extension.Extension, error) {
	t.Helper()
	ext, err := jetstreamextension.NewFactory().Create(context.Background(), extensiontest.NewNopSettings(jetstreamextension.Type), cfg)
	if err != nil {
		return nil, err
	}
	return ext, ext.Start(context.Background(), journaltest.Host{})
}

func hostWith(ext extension.Extension) journaltest.Host {
	return journaltest.Host{component.NewID(jetstreamextension.Type): ext}
}

func routerFor(sinks map[pipeline.ID]consumer.Logs) connector.LogsRouterAndConsumer {
	return connector.NewLogsRouter(sinks)
}

func (j *journal) stop() {
	if j.stopped {
		return
	}
	j.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require(j.t, j.conn.Shutdown(ctx))
	require(j.t, j.ext.Shutdown(ctx))
}

func (j *journal) js() jetstream.JetStream {
	js, err := j.ext.(jetstreamextension.Journal).JetStream()
	require(j.t, err)
	return js
}

func (j *journal) streamMsgs(name string) uint64 {
	s, err := j.js().Stream(context.Background(), name)
	require(j.t, err)
	return s.CachedInfo().State.Msgs
}

// counter reads one of the connector's metrics; missing points read as 0.
func (j *journal) counter(name string, attrs ...string) int64 {
	v, _ := j.metrics.Value(j.t, name, attrs...)
	return v
}

// send ingests batches (batch i carries records "<prefix>-i-0" ... ) and returns the accepted ids.
func (j *journal) send(prefix string, batches, perBatch int) []string {
	j.t.Helper()
	var ids []string
	for i := range batches {
		ld := makeLogs(prefix, i, perBatch)
		require(j.t, j.conn.ConsumeLogs(context.Background(), ld))
		ids = append(ids, recordIDs(ld)...)
	}
	return ids
}

func makeLogs(prefix string, batch, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "mini-chat")
	sl := rl.ScopeLogs().AppendEmpty()
	for r := range n {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetEventName("mini_chat.audit.turn_completed")
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 3, 2, 10, 0, batch, r, time.UTC)))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		lr.Attributes().PutStr(attrRequestID, fmt.Sprintf("%s-%d-%d", prefix, batch, r))
		body := lr.Body().SetEmptyMap()
		body.PutStr("event_type", "turn_completed")
		body.PutStr("prompt", "please fix my config "+secretInBody)
	}
	return ld
}

func recordIDs(ld plog.Logs) []string {
	var ids []string
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				v, _ := lr.Attributes().Get(attrRequestID)
				ids = append(ids, v.Str())
			}
		}
	}
	return ids
}

// Sink modes.
const (
	accept = iota
	failRetryable
	failPermanent
)

// sink is a destination pipeline that records what it accepted and can be made to fail or block.
type sink struct {
	mu       sync.Mutex
	got      map[string]int // request id -> times accepted
	attempts int
	mode     int
	gate     chan struct{} // non-nil: ConsumeLogs waits until it is closed
	// permanentFor makes the sink refuse permanently the batches it matches.
	permanentFor func(plog.Logs) bool
}

func newSink() *sink { return &sink{got: map[string]int{}} }

func (s *sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *sink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s.mu.Lock()
	s.attempts++
	gate, mode, perm := s.gate, s.mode, s.permanentFor
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	switch {
	case perm != nil && perm(ld):
		return consumererror.NewPermanent(errors.New("destination rejected the batch: 400 bad request"))
	case mode == failRetryable:
		return errors.New("destination unavailable: connection refused")
	case mode == failPermanent:
		return consumererror.NewPermanent(errors.New("destination rejected the batch"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range recordIDs(ld) {
		s.got[id]++
	}
	return nil
}

func (s *sink) setMode(m int) {
	s.mu.Lock()
	s.mode = m
	s.mu.Unlock()
}

func (s *sink) block() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *sink) unblock() {
	s.mu.Lock()
	close(s.gate)
	s.gate = nil
	s.mu.Unlock()
}

func (s *sink) counts() (distinct, total, attempts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.got {
		total += n
	}
	return len(s.got), total, s.attempts
}

// missing returns the ids the sink has not accepted.
func (s *sink) missing(ids []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range ids {
		if s.got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// waitUntil polls cond; the generous limit only bounds a broken test, it is not a speed check.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitAll(t testing.TB, name string, s *sink, ids []string) {
	t.Helper()
	waitUntil(t, name+" has every record", func() bool { return len(s.missing(ids)) == 0 })
}
