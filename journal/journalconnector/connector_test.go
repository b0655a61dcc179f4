package journalconnector

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelaudit/otelaudit/journal/internal/journaltest"
)

func TestEveryDestinationGetsEverything(t *testing.T) {
	file, loki := newSink(), newSink()
	j := startJournal(t, embedded(t.TempDir()), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file, lokiID: loki})

	ids := j.send("fan", 40, 3)
	waitAll(t, "file", file, ids)
	waitAll(t, "loki", loki, ids)

	for name, s := range map[string]*sink{"file": file, "loki": loki} {
		if distinct, total, _ := s.counts(); distinct != 120 || total != 120 {
			t.Errorf("%s accepted %d records (%d distinct), want each of the 120 once", name, total, distinct)
		}
	}
	if got := j.counter(MetricIngested); got != 120 {
		t.Errorf("%s = %d, want 120", MetricIngested, got)
	}
	for _, p := range []string{"logs/file", "logs/loki"} {
		if got := j.counter(MetricDelivered, attrPipeline, p); got != 120 {
			t.Errorf("%s{pipeline=%s} = %d, want 120", MetricDelivered, p, got)
		}
	}
	// Interest retention: once both destinations acknowledged, the journal is empty.
	waitUntil(t, "the journal is empty", func() bool { return j.streamMsgs(DefaultStream) == 0 })
	if v, ok := j.metrics.Value(t, MetricPending, attrPipeline, "logs/file"); !ok || v != 0 {
		t.Errorf("%s{pipeline=logs/file} = %d (reported: %v), want 0", MetricPending, v, ok)
	}
	if v, ok := j.metrics.Value(t, MetricStreamMaxBytes); !ok || v != DefaultMaxBytes {
		t.Errorf("%s = %d (reported: %v), want %d", MetricStreamMaxBytes, v, ok, DefaultMaxBytes)
	}
}

func TestFailingDestinationDoesNotHoldUpOthers(t *testing.T) {
	file, loki := newSink(), newSink()
	loki.setMode(failRetryable)
	j := startJournal(t, embedded(t.TempDir()), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file, lokiID: loki})

	ids := j.send("outage", 30, 2)
	waitAll(t, "file (while loki fails)", file, ids)
	waitUntil(t, "loki has been tried", func() bool { _, _, a := loki.counts(); return a > 1 })
	if distinct, _, _ := loki.counts(); distinct != 0 {
		t.Fatalf("failing loki accepted %d records", distinct)
	}
	if v, _ := j.metrics.Value(t, MetricPending, attrPipeline, "logs/loki"); v != 30 {
		t.Errorf("%s{pipeline=logs/loki} = %d while loki is down, want 30", MetricPending, v)
	}

	loki.setMode(accept)
	waitAll(t, "loki (after recovery)", loki, ids)
	if _, total, _ := file.counts(); total != len(ids) {
		t.Errorf("file accepted %d records, want %d (no duplicates from loki's retries)", total, len(ids))
	}
	if got := j.counter(MetricFailed, attrPipeline, "logs/loki"); got == 0 {
		t.Errorf("%s{pipeline=logs/loki} = 0, want the failed attempts counted", MetricFailed)
	}
	if got := j.counter(MetricRedelivered, attrPipeline, "logs/loki"); got == 0 {
		t.Errorf("%s{pipeline=logs/loki} = 0, want the redeliveries counted", MetricRedelivered)
	}
	if got := j.counter(MetricFailed, attrPipeline, "logs/file"); got != 0 {
		t.Errorf("%s{pipeline=logs/file} = %d, want 0", MetricFailed, got)
	}
	waitUntil(t, "the journal is empty", func() bool { return j.streamMsgs(DefaultStream) == 0 })
}

// A destination that takes longer than ack_wait per batch neither holds up the others nor gets
// its batches redelivered behind its back (the worker keeps them alive while it works).
func TestBlockedDestinationDoesNotHoldUpOthers(t *testing.T) {
	file, slow := newSink(), newSink()
	slow.block()
	cfg := testConfig()
	cfg.Delivery.AckWait = time.Second
	j := startJournal(t, embedded(t.TempDir()), cfg, map[pipeline.ID]consumer.Logs{fileID: file, lokiID: slow})

	ids := j.send("slow", 20, 2)
	waitAll(t, "file (while loki is blocked)", file, ids)
	waitUntil(t, "loki got its first batch", func() bool { _, _, a := slow.counts(); return a == 1 })
	time.Sleep(3 * cfg.Delivery.AckWait) // loki is stuck well past ack_wait
	slow.unblock()
	waitAll(t, "loki (after unblocking)", slow, ids)
	if _, total, _ := slow.counts(); total != len(ids) {
		t.Errorf("slow destination accepted %d records, want each of %d once (no redelivery while it worked)", total, len(ids))
	}
	if got := j.counter(MetricRedelivered, attrPipeline, "logs/loki"); got != 0 {
		t.Errorf("%s{pipeline=logs/loki} = %d, want 0", MetricRedelivered, got)
	}
}

func TestPermanentFailureIsDeadLettered(t *testing.T) {
	file, loki := newSink(), newSink()
	loki.permanentFor = func(ld plog.Logs) bool { return slices.Contains(recordIDs(ld), "poison-3-0") }
	j := startJournal(t, embedded(t.TempDir()), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file, lokiID: loki})

	ids := j.send("poison", 6, 2)
	waitAll(t, "file", file, ids)
	good := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return strings.HasPrefix(id, "poison-3-") })
	waitAll(t, "loki (all but the poison batch)", loki, good)
	waitUntil(t, "the dead letter is stored", func() bool { return j.streamMsgs(DefaultDeadLetterStream) == 1 })

	if got := j.counter(MetricDeadLettered, attrPipeline, "logs/loki"); got != 2 {
		t.Errorf("%s{pipeline=logs/loki} = %d, want 2", MetricDeadLettered, got)
	}
	if v, _ := j.metrics.Value(t, MetricDeadMessages); v != 1 {
		t.Errorf("%s = %d, want 1", MetricDeadMessages, v)
	}
	dl, err := j.js().Stream(context.Background(), DefaultDeadLetterStream)
	require(t, err)
	raw, err := dl.GetLastMsgForSubject(context.Background(), DefaultDeadLetterPrefix+".otelaudit_logs_loki")
	require(t, err)
	if raw.Header.Get(HeaderPipeline) != "logs/loki" || !strings.Contains(raw.Header.Get(HeaderError), "400 bad request") {
		t.Errorf("dead letter headers = %v, want the pipeline and the destination's error", raw.Header)
	}
	ld, err := unmarshaler.UnmarshalLogs(raw.Data)
	require(t, err)
	if got := recordIDs(ld); !slices.Equal(got, []string{"poison-3-0", "poison-3-1"}) {
		t.Errorf("dead letter holds %v, want the poison batch", got)
	}
	// Terminated for loki and delivered to file: the journal itself lets it go.
	waitUntil(t, "the journal is empty", func() bool { return j.streamMsgs(DefaultStream) == 0 })
}

func TestFullJournalRefusesRetryably(t *testing.T) {
	file := newSink()
	file.block()
	cfg := testConfig()
	cfg.MaxBytes = 16 * 1024
	j := startJournal(t, embedded(t.TempDir()), cfg, map[pipeline.ID]consumer.Logs{fileID: file})

	var accepted []string
	var refusal error
	for i := 0; i < 200 && refusal == nil; i++ {
		ld := makeLogs("full", i, 2)
		if err := j.conn.ConsumeLogs(context.Background(), ld); err != nil {
			refusal = err
		} else {
			accepted = append(accepted, recordIDs(ld)...)
		}
	}
	if refusal == nil {
		t.Fatal("a 16 KiB journal accepted 200 batches with its only destination blocked")
	}
	if consumererror.IsPermanent(refusal) {
		t.Fatalf("full journal error is permanent: %v", refusal)
	}
	if got := consumererror.ToHTTPStatus(refusal); got != http.StatusServiceUnavailable {
		t.Errorf("full journal error maps to HTTP %d, want 503", got)
	}
	if !strings.Contains(refusal.Error(), "journal full") || strings.Contains(refusal.Error(), "hunter2") {
		t.Errorf("refusal %q should say the journal is full and quote no record content", refusal)
	}
	if got := j.counter(MetricRefused, attrReason, reasonFull); got != 2 {
		t.Errorf("%s{reason=full} = %d, want 2", MetricRefused, got)
	}

	// Once the destination catches up there is room again, and nothing accepted was lost.
	file.unblock()
	waitAll(t, "file", file, accepted)
	waitUntil(t, "the journal is empty", func() bool { return j.streamMsgs(DefaultStream) == 0 })
	require(t, j.conn.ConsumeLogs(context.Background(), makeLogs("full-after", 0, 2)))
}

func TestRetriedBatchIsStoredOnce(t *testing.T) {
	file := newSink()
	file.block() // keep the messages in the journal so the count below is exact
	j := startJournal(t, embedded(t.TempDir()), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file})

	first := makeLogs("dup", 0, 3)
	retry := makeLogs("dup", 0, 3) // the same request again ...
	for _, lr := range retry.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(time.Minute))) // ... received later
	}
	require(t, j.conn.ConsumeLogs(context.Background(), first))
	require(t, j.conn.ConsumeLogs(context.Background(), retry))
	require(t, j.conn.ConsumeLogs(context.Background(), makeLogs("dup", 1, 3))) // different content

	if n := j.streamMsgs(DefaultStream); n != 2 {
		t.Fatalf("journal holds %d messages, want 2 (the retry stored once)", n)
	}
	if got := j.counter(MetricDuplicates); got != 3 {
		t.Errorf("%s = %d, want 3", MetricDuplicates, got)
	}
	file.unblock()
	waitAll(t, "file", file, append(recordIDs(first), recordIDs(makeLogs("dup", 1, 3))...))
	if _, total, _ := file.counts(); total != 6 {
		t.Errorf("file accepted %d records, want 6", total)
	}
}

func TestOversizedBatchIsSplitAndDeduplicated(t *testing.T) {
	ext := embedded(t.TempDir())
	ext.Embedded.MaxPayload = 16 * 1024
	file := newSink()
	j := startJournal(t, ext, testConfig(), map[pipeline.ID]consumer.Logs{fileID: file})

	ld := makeLogs("big", 0, 60)
	for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
		lr.Body().Map().PutStr("response", strings.Repeat("x", 1500))
	}
	require(t, j.conn.ConsumeLogs(context.Background(), ld))
	require(t, j.conn.ConsumeLogs(context.Background(), ld)) // a client retry of the whole request
	waitAll(t, "file", file, recordIDs(ld))
	if got := j.counter(MetricIngested); got != 60 {
		t.Errorf("%s = %d, want 60", MetricIngested, got)
	}
	if got := j.counter(MetricDuplicates); got != 60 {
		t.Errorf("%s = %d, want 60 (every part of the retry recognised)", MetricDuplicates, got)
	}
	if _, total, _ := file.counts(); total != 60 {
		t.Errorf("file accepted %d records, want 60", total)
	}

	huge := makeLogs("huge", 0, 1)
	huge.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Map().PutStr("response", strings.Repeat("y", 32*1024))
	err := j.conn.ConsumeLogs(context.Background(), huge)
	if err == nil || !consumererror.IsPermanent(err) || !strings.Contains(err.Error(), "maximum message size") {
		t.Errorf("a single 32 KiB record with max_payload 16 KiB: %v, want a permanent size error", err)
	}
}

func TestRestartRedeliversUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	file, loki := newSink(), newSink()
	loki.setMode(failRetryable)
	j := startJournal(t, embedded(dir), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file, lokiID: loki})
	ids := j.send("restart", 25, 2)
	waitAll(t, "file", file, ids)
	j.stop()

	file2, loki2 := newSink(), newSink()
	startJournal(t, embedded(dir), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file2, lokiID: loki2})
	waitAll(t, "loki after restart", loki2, ids)
	if distinct, _, _ := file2.counts(); distinct != 0 {
		t.Errorf("file got %d records again after restart although it had acknowledged all of them", distinct)
	}
}

func TestReplayWindowBackfillsNewDestination(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.ReplayWindow = time.Hour
	file := newSink()
	j := startJournal(t, embedded(dir), cfg, map[pipeline.ID]consumer.Logs{fileID: file})
	ids := j.send("replay", 10, 1)
	waitAll(t, "file", file, ids)
	if n := j.streamMsgs(DefaultStream); n != 10 {
		t.Fatalf("journal holds %d messages with a replay window, want all 10 kept", n)
	}
	j.stop()

	// A destination added later is back-filled from the window.
	file2, loki := newSink(), newSink()
	j = startJournal(t, embedded(dir), cfg, map[pipeline.ID]consumer.Logs{fileID: file2, lokiID: loki})
	waitAll(t, "new loki destination", loki, ids)
	if distinct, _, _ := file2.counts(); distinct != 0 {
		t.Errorf("file got %d old records again", distinct)
	}
	j.stop()

	// Switching back to interest retention on the same stream is refused with a clear error.
	ext, err := newTestExtension(t, embedded(dir))
	require(t, err)
	defer func() { _ = ext.Shutdown(context.Background()) }()
	c, err := NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(Type), testConfig(),
		routerFor(map[pipeline.ID]consumer.Logs{fileID: newSink()}))
	require(t, err)
	err = c.Start(context.Background(), hostWith(ext))
	if err == nil || !strings.Contains(err.Error(), "replay_window") {
		t.Fatalf("changing retention: %v, want an error naming replay_window", err)
	}
}

func TestScaleOutSharesDelivery(t *testing.T) {
	_, url := journaltest.NATSServer(t, "", "")
	extCfg := embedded("")
	extCfg.URL = url
	cfg := testConfig()
	a, b := newSink(), newSink()
	ja := startJournal(t, extCfg, cfg, map[pipeline.ID]consumer.Logs{fileID: a})
	jb := startJournal(t, extCfg, cfg, map[pipeline.ID]consumer.Logs{fileID: b})

	var ids []string
	for i := range 60 {
		ld := makeLogs("scale", i, 2)
		ingest := ja
		if i%2 == 1 {
			ingest = jb
		}
		require(t, ingest.conn.ConsumeLogs(context.Background(), ld))
		ids = append(ids, recordIDs(ld)...)
	}
	waitUntil(t, "the two instances together delivered everything", func() bool {
		return len(b.missing(a.missing(ids))) == 0
	})
	_, ta, _ := a.counts()
	_, tb, _ := b.counts()
	if ta+tb != len(ids) {
		t.Errorf("instances accepted %d + %d records, want %d in all (each batch once)", ta, tb, len(ids))
	}
	t.Logf("delivery shared: instance A %d records, instance B %d", ta, tb)

	// One instance stops; the other takes over everything that follows.
	ja.stop()
	more := jb.send("scale-late", 10, 2)
	waitAll(t, "instance B after A stopped", b, more)
}

func TestIngestBeforeStartIsRetryable(t *testing.T) {
	c, err := NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(Type), testConfig(),
		routerFor(map[pipeline.ID]consumer.Logs{fileID: consumertest.NewNop()}))
	require(t, err)
	err = c.ConsumeLogs(context.Background(), makeLogs("early", 0, 1))
	if err == nil || consumererror.IsPermanent(err) {
		t.Fatalf("ingest before Start: %v, want a retryable error", err)
	}
	if c.Capabilities().MutatesData {
		t.Error("the connector must not claim to mutate its input")
	}
	if _, err := NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(Type), testConfig(), consumertest.NewNop()); err == nil {
		t.Error("creating the connector with a plain consumer (no router) should fail")
	}
}

func TestStartWithoutExtensionFails(t *testing.T) {
	c, err := NewFactory().CreateLogsToLogs(context.Background(), connectortest.NewNopSettings(Type), testConfig(),
		routerFor(map[pipeline.ID]consumer.Logs{fileID: consumertest.NewNop()}))
	require(t, err)
	err = c.Start(context.Background(), journaltest.Host{})
	if err == nil || !strings.Contains(err.Error(), "jetstream") {
		t.Fatalf("Start without the extension: %v, want an error naming it", err)
	}
}

func TestRefusalReason(t *testing.T) {
	for msg, want := range map[string]string{
		"nats: maximum bytes exceeded":    reasonFull,
		"nats: maximum messages exceeded": reasonFull,
		"nats: insufficient resources":    reasonFull,
		"nats: timeout":                   reasonUnavailable,
		"nats: connection closed":         reasonUnavailable,
	} {
		if got := refusalReason(errors.New(msg)); got != want {
			t.Errorf("refusalReason(%q) = %s, want %s", msg, got, want)
		}
	}
}

func TestRemovedDestinationIsReportedThenPruned(t *testing.T) {
	dir := t.TempDir()
	j := startJournal(t, embedded(dir), testConfig(), map[pipeline.ID]consumer.Logs{fileID: newSink(), lokiID: newSink()})
	j.stop()

	// loki removed from the configuration: its consumer stays and pins what it has not seen.
	file := newSink()
	j = startJournal(t, embedded(dir), testConfig(), map[pipeline.ID]consumer.Logs{fileID: file})
	ids := j.send("stale", 5, 1)
	waitAll(t, "file", file, ids)
	if n := j.streamMsgs(DefaultStream); n != 5 {
		t.Fatalf("journal holds %d messages, want 5 pinned by the stale loki consumer", n)
	}
	j.stop()

	cfg := testConfig()
	cfg.Delivery.PruneStaleConsumers = true
	j = startJournal(t, embedded(dir), cfg, map[pipeline.ID]consumer.Logs{fileID: newSink()})
	s, err := j.js().Stream(context.Background(), DefaultStream)
	require(t, err)
	var names []string
	for n := range s.ConsumerNames(context.Background()).Name() {
		names = append(names, n)
	}
	if !slices.Equal(names, []string{"otelaudit_logs_file"}) {
		t.Fatalf("consumers after pruning = %v, want only otelaudit_logs_file", names)
	}
	waitUntil(t, "the journal is empty", func() bool { return j.streamMsgs(DefaultStream) == 0 })
}

func TestDurableName(t *testing.T) {
	for in, want := range map[string]string{"logs/file": "otelaudit_logs_file", "logs/loki.eu-1": "otelaudit_logs_loki_eu-1", "logs": "otelaudit_logs"} {
		if got := durableName(in); got != want {
			t.Errorf("durableName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExternalOutageRefusesRetryablyThenRecovers(t *testing.T) {
	opts := &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, DisableJetStreamBanner: true,
	}
	srv := journaltest.StartNATSServer(t, opts)
	extCfg := embedded("")
	extCfg.URL = srv.ClientURL()
	extCfg.RequestTimeout = 2 * time.Second
	file := newSink()
	file.block() // batches stored before the outage are still undelivered during it
	j := startJournal(t, extCfg, testConfig(), map[pipeline.ID]consumer.Logs{fileID: file})
	before := j.send("pre-outage", 5, 1)

	port := srv.Addr().(*net.TCPAddr).Port
	srv.Shutdown()
	srv.WaitForShutdown()
	err := j.conn.ConsumeLogs(context.Background(), makeLogs("in-outage", 0, 1))
	if err == nil || consumererror.IsPermanent(err) || consumererror.ToHTTPStatus(err) != http.StatusServiceUnavailable {
		t.Fatalf("ingest while NATS is down: %v, want a retryable (503) error", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error quotes record content: %v", err)
	}
	if got := j.counter(MetricRefused, attrReason, reasonUnavailable); got != 1 {
		t.Errorf("%s{reason=unavailable} = %d, want 1", MetricRefused, got)
	}

	restarted := *opts
	restarted.Port = port
	journaltest.StartNATSServer(t, &restarted)
	var after []string
	waitUntil(t, "ingestion works again", func() bool {
		ld := makeLogs("post-outage", 0, 1)
		if j.conn.ConsumeLogs(context.Background(), ld) != nil {
			return false
		}
		after = recordIDs(ld)
		return true
	})
	file.unblock()
	waitAll(t, "file after the outage", file, append(before, after...))
}
