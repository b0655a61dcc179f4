package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestCrashLosesNothingAcknowledged: 20,000 events from 8 concurrent
// senders, otelaudit killed with SIGKILL part-way and restarted on the same
// config and data dir; every event that got a 202 must be in the file sink.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test")
	}
	const n = 20000
	s := newJournalSetup(t)
	p := s.start(t)
	snd := &sender{url: "http://" + s.nativeAddr, run: newRunTag()}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- snd.sendAll(ctx, 0, n, 1, 8) }()

	waitUntil(t, 5*time.Minute, "a third of the events acknowledged", func() bool { return snd.nAcked.Load() >= n/3 })
	p.kill()
	ackedAtKill := snd.nAcked.Load()
	time.Sleep(300 * time.Millisecond) // senders now meet refused connections
	p = s.start(t)
	require.NoError(t, <-done)
	require.EqualValues(t, n, snd.nAcked.Load())
	t.Logf("killed after %d acknowledgements; %d connection errors retried", ackedAtKill, snd.connErrs.Load())

	file := filepath.Join(s.dir, s.filePath)
	waitUntil(t, 5*time.Minute, "every acknowledged event in the file", func() bool { return len(requestIDs(t, file)) >= n })
	// Batches in flight at the kill come back once their ack_wait has passed:
	// wait until the file sink's cursor has nothing pending, so that the
	// duplicate count below is final.
	waitUntil(t, 3*time.Minute, "the file sink's cursor to drain", func() bool {
		pending, found := metricSample(t, s.metricsAddr, "otelaudit_journal_pending_messages", `pipeline="logs/file"`)
		return found && pending == 0
	})
	checkDelivered(t, "file", snd, requestIDs(t, file))
	p.stop()
}

// TestOutageOfOneDestination: while the Loki-like destination refuses
// connections and then answers 503, the file sink still receives every
// event; once the destination is back it receives every event too.
func TestOutageOfOneDestination(t *testing.T) {
	const n = 1500
	loki := newFakeLoki(t) // not listening yet: connections are refused
	s := newJournalSetup(t)
	s.lokiURL = loki.url()
	p := s.start(t)
	snd := &sender{url: "http://" + s.nativeAddr, run: newRunTag()}
	file := filepath.Join(s.dir, s.filePath)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	require.NoError(t, snd.sendAll(ctx, 0, n, 1, 4))
	waitUntil(t, 2*time.Minute, "file sink to have phase 1 while loki refuses connections", func() bool { return len(requestIDs(t, file)) >= n })

	loki.set(http.StatusServiceUnavailable, 0)
	loki.listen()
	require.NoError(t, snd.sendAll(ctx, n, 2*n, 1, 4))
	waitUntil(t, 2*time.Minute, "file sink to have phase 2 while loki answers 503", func() bool { return len(requestIDs(t, file)) >= 2*n })
	distinct, _ := loki.count()
	assert.Zero(t, distinct, "a 503 must not count as delivered")

	loki.set(0, 0)
	waitUntil(t, 3*time.Minute, "loki to receive every event after it came back", func() bool { d, _ := loki.count(); return d >= 2*n })
	_, seen := loki.count()
	checkDelivered(t, "loki", snd, seen)
	checkDelivered(t, "file", snd, requestIDs(t, file))
	assert.Positive(t, metric(t, s.metricsAddr, "otelaudit_journal_redelivered_records_total", `logs/loki`), "redeliveries of the failing destination are counted")
	p.stop()
}

// TestSlowDestinationDoesNotSlowTheFileSink compares how long the file sink
// takes to receive the same load with and without a destination that takes
// two seconds per request.
func TestSlowDestinationDoesNotSlowTheFileSink(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level timing comparison")
	}
	const n = 2000
	run := func(withSlow bool) time.Duration {
		s := newJournalSetup(t)
		if withSlow {
			loki := newFakeLoki(t)
			loki.set(0, 2*time.Second)
			loki.listen()
			s.lokiURL = loki.url()
		}
		p := s.start(t)
		defer p.stop()
		snd := &sender{url: "http://" + s.nativeAddr, run: newRunTag()}
		file := filepath.Join(s.dir, s.filePath)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		require.NoError(t, snd.sendAll(ctx, 0, n, 1, 8))
		waitUntil(t, 3*time.Minute, "file sink to have every event", func() bool { return len(requestIDs(t, file)) >= n })
		return time.Since(start)
	}
	without := run(false)
	with := run(true)
	ratio := float64(with) / float64(without)
	t.Logf("file sink received %d events in %v alone, %v beside a slow destination (ratio %.2f)", n, without, with, ratio)
	assert.Less(t, ratio, 2.0, "a slow destination slowed the file sink down")
}

// TestFullJournalRefusesRetryably: with a tiny journal and a dead
// destination, ingestion is refused with 503 + Retry-After, the refusal is
// counted, and nothing acknowledged is lost, neither at the file sink nor,
// once it comes back, at the dead destination.
func TestFullJournalRefusesRetryably(t *testing.T) {
	loki := newFakeLoki(t) // dead: refuses connections
	s := newJournalSetup(t)
	s.lokiURL = loki.url()
	s.maxBytes = 256 << 10
	s.otlpGRPC = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := s.start(t)
	snd := &sender{url: "http://" + s.nativeAddr, run: newRunTag()}
	file := filepath.Join(s.dir, s.filePath)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- snd.sendAll(ctx, 0, 5000, 1, 4) }()
	waitUntil(t, 2*time.Minute, "the journal to refuse", func() bool { return snd.refusals.Load() >= 20 })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Zero(t, snd.badRetry.Load(), "every 503 carries Retry-After")
	acked := int(snd.nAcked.Load())
	require.Positive(t, acked)
	t.Logf("journal full after %d acknowledged events; %d refusals", acked, snd.refusals.Load())

	assert.Positive(t, metric(t, s.metricsAddr, "otelaudit_journal_refused_records_total"), "the journal counts its refusals")
	assert.Equal(t, codes.Unavailable, otlpGRPCExport(t, s.otlpGRPC), "OTLP/gRPC gets the retryable UNAVAILABLE")
	// The collector's own receiver metric counts them too: as "refused" or,
	// with the receiverhelper's newer metrics gate, as "failed".
	assert.Positive(t, metric(t, s.metricsAddr, "otelcol_receiver_refused_log_records", `receiver="chataudit"`)+
		metric(t, s.metricsAddr, "otelcol_receiver_failed_log_records", `receiver="chataudit"`), "the receiver counts the refusals")
	waitUntil(t, time.Minute, "file sink to have every acknowledged event", func() bool { return len(requestIDs(t, file)) >= acked })
	checkDelivered(t, "file", snd, requestIDs(t, file))

	loki.listen()
	waitUntil(t, 2*time.Minute, "the revived destination to have every acknowledged event", func() bool { d, _ := loki.count(); return d >= acked })
	_, seen := loki.count()
	checkDelivered(t, "loki", snd, seen)

	// Drained, the journal takes events again.
	more := &sender{url: snd.url, run: snd.run}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	require.NoError(t, more.sendAll(ctx2, 5000, 5010, 1, 1))
	p.stop()
}

// TestScaleOutOnExternalNATS: two otelaudit processes share one external
// NATS server (built from the nats-server module this repo pins): ingestion
// is split between them and so is delivery, with nothing lost.
func TestScaleOutOnExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server")
	}
	const n = 4000
	bin := filepath.Join(t.TempDir(), "nats-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	natsPort := freePort(t)
	nats := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(natsPort), "-sd", t.TempDir())
	nats.Stdout, nats.Stderr = os.Stderr, os.Stderr
	require.NoError(t, nats.Start())
	t.Cleanup(func() { _ = nats.Process.Kill(); _ = nats.Wait() })
	natsAddr := fmt.Sprintf("127.0.0.1:%d", natsPort)
	(&process{t: t, stderr: &syncBuffer{}, done: make(chan struct{})}).waitListening(natsAddr)

	var setups [2]journalSetup
	var procs [2]*process
	var senders [2]*sender
	run := newRunTag()
	for i := range setups {
		setups[i] = newJournalSetup(t)
		setups[i].natsURL = "nats://" + natsAddr
		procs[i] = setups[i].start(t)
		senders[i] = &sender{url: "http://" + setups[i].nativeAddr, run: run}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errs := make(chan error, 2)
	for i := range senders {
		go func() { errs <- senders[i].sendAll(ctx, i*n/2, (i+1)*n/2, 1, 4) }()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)

	files := []string{filepath.Join(setups[0].dir, setups[0].filePath), filepath.Join(setups[1].dir, setups[1].filePath)}
	waitUntil(t, 3*time.Minute, "both instances together to deliver every event", func() bool { return len(requestIDs(t, files...)) >= n })
	all := requestIDs(t, files...)
	for i := range senders {
		checkDelivered(t, fmt.Sprintf("instance %d's events", i), senders[i], all)
	}
	for i, f := range files {
		got := len(readJSONL(t, f))
		t.Logf("instance %d delivered %d records", i, got)
		assert.Positive(t, got, "instance %d took no share of the delivery", i)
	}
	for _, p := range procs {
		p.stop()
	}
}

// otlpGRPCExport sends one log record over OTLP/gRPC and returns the status code.
func otlpGRPCExport(t *testing.T, addr string) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(strings.Repeat("refused while the journal is full. ", 200))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	return status.Code(err)
}
