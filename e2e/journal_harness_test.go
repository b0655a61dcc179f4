package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// journalSetup describes one otelaudit process of a journal test.
type journalSetup struct {
	dir         string // working directory; data lands under ./data
	nativeAddr  string
	metricsAddr string
	natsURL     string // external NATS; empty = embedded JetStream
	lokiURL     string // a second destination; empty = file sink only
	maxBytes    int64  // journal size limit; 0 = default
	otlpGRPC    string // also take OTLP/gRPC on this address; empty = native only
	direct      bool   // no journal: the ingest pipeline writes straight to the file sink
	filePath    string // file sink path, relative to dir
}

func newJournalSetup(t testing.TB) journalSetup {
	return journalSetup{
		dir:         t.TempDir(),
		nativeAddr:  fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		metricsAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		filePath:    "data/audit.jsonl",
	}
}

func (s journalSetup) config() string {
	var b strings.Builder
	if !s.direct {
		b.WriteString("extensions:\n  jetstream:\n")
		if s.natsURL != "" {
			fmt.Fprintf(&b, "    url: %s\n", s.natsURL)
		} else {
			b.WriteString("    embedded:\n      store_dir: ./data/journal\n")
		}
		b.WriteString("connectors:\n  journal:\n    extension: jetstream\n")
		if s.maxBytes > 0 {
			fmt.Fprintf(&b, "    max_bytes: %d\n", s.maxBytes)
		}
		b.WriteString("    delivery:\n      redelivery_backoff:\n        initial_interval: 100ms\n        max_interval: 1s\n        multiplier: 2\n")
	}
	receivers, otlp := "[chataudit]", ""
	if s.otlpGRPC != "" {
		receivers = "[chataudit, otlp]"
		otlp = fmt.Sprintf("  otlp:\n    protocols:\n      grpc:\n        endpoint: %s\n", s.otlpGRPC)
	}
	fmt.Fprintf(&b, `receivers:
  chataudit:
    endpoint: %s
%sprocessors:
  redact:
exporters:
  auditfile:
    path: %s
`, s.nativeAddr, otlp, s.filePath)
	pipelines := "    logs/file:\n      receivers: [journal]\n      exporters: [auditfile]\n"
	ingestTo := "journal"
	if s.direct {
		pipelines, ingestTo = "", "auditfile"
	}
	if s.lokiURL != "" {
		fmt.Fprintf(&b, `  loki:
    endpoint: %s
    encoding: json
    timeout: 2s
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
`, s.lokiURL)
		pipelines += "    logs/loki:\n      receivers: [journal]\n      exporters: [loki]\n"
	}
	host, port, _ := net.SplitHostPort(s.metricsAddr)
	b.WriteString("service:\n")
	if !s.direct {
		b.WriteString("  extensions: [jetstream]\n")
	}
	fmt.Fprintf(&b, `  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: %s
                port: %s
  pipelines:
    logs/ingest:
      receivers: %s
      processors: [redact]
      exporters: [%s]
%s`, host, port, receivers, ingestTo, pipelines)
	return b.String()
}

func (s journalSetup) start(t testing.TB) *process {
	t.Helper()
	writeFile(t, s.dir+"/config.yaml", s.config())
	return startOtelaudit(t, s.dir, nil, []string{"--config", "config.yaml"}, s.nativeAddr, s.metricsAddr)
}

// auditEvent returns a realistic turn event whose request_id encodes i.
func auditEvent(run string, i int) []byte {
	ev := map[string]any{
		"event_type":     "turn_completed",
		"timestamp":      time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
		"tenant_id":      "7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10",
		"requester_type": "user",
		"user_id":        "0b8f5e2a-6c1d-4f7e-8a3b-9d2c1e0f4a5b",
		"chat_id":        "5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e",
		"turn_id":        requestID(run, i),
		"request_id":     requestID(run, i),
		"selected_model": "gpt-4.1", "effective_model": "gpt-4.1",
		"usage":            map[string]any{"input_tokens": 100 + i%50, "output_tokens": 20},
		"latency_ms":       map[string]any{"ttft_ms": 300, "total_ms": 1200 + i%700},
		"policy_decisions": map[string]any{"quota": map[string]any{"decision": "allow"}},
		"prompt":           fmt.Sprintf("Question %d: how do I rotate the key sk-proj-%032d safely?", i, i),
	}
	b, _ := json.Marshal(ev)
	return b
}

// requestID makes a UUID whose last group carries the run tag and i.
func requestID(run string, i int) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%s%08d", run, i)
}

func newRunTag() string { return fmt.Sprintf("%04x", rand.IntN(0xffff)) }

// sender posts events like the chat service's outbox: every event is sent
// until it is acknowledged with 202, retrying refusals and broken connections.
type sender struct {
	url      string
	run      string
	acked    sync.Map // request_id -> true
	nAcked   atomic.Int64
	refusals atomic.Int64 // 503 answers (with Retry-After)
	connErrs atomic.Int64
	badRetry atomic.Int64 // 503 without Retry-After
}

// sendAll posts events [from, to) with workers concurrent clients, batch
// events per request (one bare event on /v1/audit/turn, or an NDJSON request
// of envelopes on /v1/audit/events). Each client keeps its connection, as a
// real sender would, so TCP set-up does not add to the cost of a record.
func (s *sender) sendAll(ctx context.Context, from, to, batch, workers int) error {
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers},
	}
	defer client.CloseIdleConnections()
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for first := range next {
				if err := s.sendRange(ctx, client, first, min(first+batch, to)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for first := from; first < to; first += batch {
		select {
		case next <- first:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// sendRange posts events [from, to) in one request until it is acknowledged.
func (s *sender) sendRange(ctx context.Context, client *http.Client, from, to int) error {
	if to-from == 1 {
		return s.post(ctx, client, "/v1/audit/turn", "application/json", auditEvent(s.run, from), from, to)
	}
	var body bytes.Buffer
	for i := from; i < to; i++ {
		body.WriteString(`{"type":"turn",`) // the envelope tag, then the event's own fields
		body.Write(auditEvent(s.run, i)[1:])
		body.WriteByte('\n')
	}
	return s.post(ctx, client, "/v1/audit/events", "application/x-ndjson", body.Bytes(), from, to)
}

// post sends one request until it gets 202, retrying refusals (503) and
// broken connections; any other status is an error.
func (s *sender) post(ctx context.Context, client *http.Client, path, contentType string, body []byte, from, to int) error {
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := client.Do(req)
		if err != nil {
			s.connErrs.Add(1)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusAccepted:
			for i := from; i < to; i++ {
				s.acked.Store(requestID(s.run, i), true)
			}
			s.nAcked.Add(int64(to - from))
			return nil
		case http.StatusServiceUnavailable:
			s.refusals.Add(1)
			if resp.Header.Get("Retry-After") == "" {
				s.badRetry.Add(1)
			}
			time.Sleep(100 * time.Millisecond)
		default:
			return fmt.Errorf("events %d-%d: unexpected status %d", from, to-1, resp.StatusCode)
		}
	}
	return ctx.Err()
}

// requestIDs counts each request_id in the file sink's lines.
func requestIDs(t testing.TB, paths ...string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, p := range paths {
		for _, l := range readJSONL(t, p) {
			body, _ := l["body"].(map[string]any)
			rid, _ := body["request_id"].(string)
			seen[rid]++
		}
	}
	return seen
}

// checkDelivered asserts every acknowledged event is in seen and reports
// duplicates, which the at-least-once guarantee allows.
func checkDelivered(t *testing.T, what string, s *sender, seen map[string]int) {
	t.Helper()
	missing, dups := 0, 0
	s.acked.Range(func(k, _ any) bool {
		if seen[k.(string)] == 0 {
			missing++
		}
		return true
	})
	for _, n := range seen {
		if n > 1 {
			dups += n - 1
		}
	}
	t.Logf("%s: %d acknowledged, %d distinct delivered, %d duplicates", what, s.nAcked.Load(), len(seen), dups)
	require.Zero(t, missing, "%s: acknowledged events missing", what)
}

// waitUntil polls cond every 100ms until it holds or the deadline passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fakeLoki is a Loki push endpoint on 127.0.0.1 decoding the JSON encoding.
// Its behaviour can change during a test: refuse connections (not
// listening), answer a status, or be slow.
type fakeLoki struct {
	t      *testing.T
	addr   string
	mu     sync.Mutex
	srv    *http.Server
	status int           // answer; 0 = accept (204)
	delay  time.Duration // before answering
	seen   map[string]int
	pushes int
}

func newFakeLoki(t *testing.T) *fakeLoki {
	return &fakeLoki{t: t, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), seen: map[string]int{}}
}

func (f *fakeLoki) url() string { return "http://" + f.addr }

func (f *fakeLoki) listen() {
	f.t.Helper()
	l, err := net.Listen("tcp", f.addr)
	require.NoError(f.t, err)
	f.mu.Lock()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.handle)}
	srv := f.srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
	f.t.Cleanup(f.close)
}

func (f *fakeLoki) close() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			f.t.Log(err)
		}
		_ = srv.Close()
	}
}

func (f *fakeLoki) set(status int, delay time.Duration) {
	f.mu.Lock()
	f.status, f.delay = status, delay
	f.mu.Unlock()
}

func (f *fakeLoki) count() (distinct int, seen map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := make(map[string]int, len(f.seen))
	for k, v := range f.seen {
		cp[k] = v
	}
	return len(cp), cp
}

func (f *fakeLoki) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status, delay := f.status, f.delay
	f.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if status != 0 {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "scripted failure", status)
		return
	}
	var push struct {
		Streams []struct {
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	if r.URL.Path != "/loki/api/v1/push" || json.NewDecoder(r.Body).Decode(&push) != nil {
		http.Error(w, "bad push", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushes++
	for _, s := range push.Streams {
		for _, v := range s.Values {
			var line string
			if len(v) < 2 || json.Unmarshal(v[1], &line) != nil {
				continue
			}
			var ev struct {
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil {
				f.seen[ev.RequestID]++
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// metric reads one sample's value (sum over label sets that contain every
// given label fragment) from a Prometheus text endpoint.
func metric(t *testing.T, addr, name string, labelFragments ...string) float64 {
	t.Helper()
	v, _ := metricSample(t, addr, name, labelFragments...)
	return v
}

// metricSample is metric that also says whether any sample matched.
func metricSample(t *testing.T, addr, name string, labelFragments ...string) (sum float64, found bool) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, f := range labelFragments {
			ok = ok && strings.Contains(line, f)
		}
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v); err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}
