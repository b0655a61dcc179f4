package loki

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

const (
	tenantA = "a1111111-1111-4111-8111-11111111111a"
	tenantB = "b2222222-2222-4222-8222-22222222222b"
	tenantC = "c3333333-3333-4333-8333-33333333333c"
)

// eventMeta is what the event's structured metadata must be by default.
func eventMeta(t *testing.T, event []byte) (eventType string, ts int64, meta map[string]string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	parsed, err := time.Parse(time.RFC3339Nano, str("timestamp"))
	if err != nil {
		t.Fatal(err)
	}
	meta = map[string]string{
		"tenant_id": str("tenant_id"),
		"chat_id":   str("chat_id"),
		"turn_id":   str("turn_id"),
	}
	if v := str("request_id"); v != "" {
		meta["request_id"] = v
	} else {
		meta["request_id"] = str("new_request_id")
	}
	if v := str("user_id"); v != "" {
		meta["user_id"] = v
	} else {
		meta["user_id"] = str("actor_user_id")
	}
	if v := str("trace_id"); v != "" {
		meta["trace_id"] = v
	}
	return str("event_type"), parsed.UnixNano(), meta
}

func consume(t *testing.T, te *testExporter, ld plog.Logs) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return te.ConsumeLogs(ctx, ld)
}

func TestPushCarriesEachEventType(t *testing.T) {
	for _, enc := range []Encoding{EncodingProtobuf, EncodingJSON} {
		t.Run(string(enc), func(t *testing.T) {
			fake := newFakeLoki(t)
			cfg := testConfig(fake.endpoint())
			cfg.Encoding = enc
			te := startExporter(t, cfg)

			events := testEvents(t)
			if err := consume(t, te, eventsLogs(t, events...)); err != nil {
				t.Fatal(err)
			}

			pushes := fake.received()
			if len(pushes) != 1 {
				t.Fatalf("got %d pushes, want 1", len(pushes))
			}
			p := pushes[0]
			if p.HasTenant {
				t.Errorf("X-Scope-OrgID sent (%q) with tenancy off", p.Tenant)
			}
			wantCT := map[Encoding]string{EncodingProtobuf: "application/x-protobuf", EncodingJSON: "application/json"}[enc]
			if p.ContentType != wantCT {
				t.Errorf("Content-Type %q, want %q", p.ContentType, wantCT)
			}
			byType := map[string]gotStream{}
			for _, s := range p.Streams {
				byType[s.Labels["event_type"]] = s
			}
			if len(p.Streams) != len(events) || len(byType) != len(events) {
				t.Fatalf("got %d streams (%d event types), want one per event type (%d)", len(p.Streams), len(byType), len(events))
			}
			for _, ev := range events {
				typ, ts, meta := eventMeta(t, ev)
				s := byType[typ]
				wantLabels := map[string]string{"service_name": "mini-chat", "event_type": typ}
				if !maps.Equal(s.Labels, wantLabels) {
					t.Errorf("%s: labels %v, want %v", typ, s.Labels, wantLabels)
				}
				if len(s.Entries) != 1 {
					t.Fatalf("%s: %d entries, want 1", typ, len(s.Entries))
				}
				e := s.Entries[0]
				if e.Line != string(ev) {
					t.Errorf("%s: line\n%s\nwant the event JSON\n%s", typ, e.Line, ev)
				}
				if e.UnixNano != ts {
					t.Errorf("%s: timestamp %d, want the event's %d", typ, e.UnixNano, ts)
				}
				if !maps.Equal(e.Metadata, meta) {
					t.Errorf("%s: structured metadata %v, want %v", typ, e.Metadata, meta)
				}
			}
			if got := te.counter(t, metricEntriesSent, nil); got != int64(len(events)) {
				t.Errorf("%s = %d, want %d", metricEntriesSent, got, len(events))
			}
		})
	}
}

func TestLogfmtLine(t *testing.T) {
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.LineFormat = LineFormatLogfmt
	te := startExporter(t, cfg)
	events := testEvents(t)
	if err := consume(t, te, eventsLogs(t, events[0], events[1])); err != nil {
		t.Fatal(err)
	}
	lines := map[string]map[string]string{}
	for _, s := range fake.received()[0].Streams {
		line := s.Entries[0].Line
		if strings.ContainsAny(line, "\n\r\t") {
			t.Errorf("logfmt line contains raw control characters: %q", line)
		}
		kv, err := parseLogfmt(line)
		if err != nil {
			t.Fatalf("%v in %q", err, line)
		}
		lines[s.Labels["event_type"]] = kv
	}
	var first map[string]any
	if err := json.Unmarshal(events[0], &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"event_type":                      quoteForTest("turn_completed"),
		"usage.input_tokens":              "1234",
		"policy_decisions.quota.decision": quoteForTest("downgrade"),
		"attachments.0.filename":          quoteForTest("report q1.pdf"),
		"attachments.0.size_bytes":        "482133",
		"prompt":                          quoteForTest(first["prompt"].(string)),
	}
	for k, v := range want {
		if got := lines["turn_completed"][k]; got != v {
			t.Errorf("turn_completed %s=%s, want %s", k, got, v)
		}
	}
	if got := lines["turn_failed"]["latency_ms"]; got != "{}" {
		t.Errorf("turn_failed latency_ms=%s, want {} (empty object kept)", got)
	}
}

// parseLogfmt splits a line into key -> raw value (quoted values unescaped
// then re-quoted with quoteForTest, bare values as is).
func parseLogfmt(line string) (map[string]string, error) {
	out := map[string]string{}
	for line != "" {
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			return nil, errors.New("logfmt: missing key")
		}
		key := line[:eq]
		line = line[eq+1:]
		var val string
		if strings.HasPrefix(line, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(line[i])
					}
					continue
				}
				b.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("logfmt: unterminated quote")
			}
			val = quoteForTest(b.String())
			line = line[i+1:]
		} else {
			end := strings.IndexByte(line, ' ')
			if end < 0 {
				end = len(line)
			}
			val, line = line[:end], line[end:]
		}
		if _, dup := out[key]; dup {
			return nil, errors.New("logfmt: duplicate key " + key)
		}
		out[key] = val
		line = strings.TrimPrefix(line, " ")
	}
	return out, nil
}

func quoteForTest(s string) string { return "<" + s + ">" }

func TestTenantSplit(t *testing.T) {
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{})
	te := startExporter(t, cfg)

	events := testEvents(t)
	tenants := []string{tenantA, tenantB, tenantC}
	var batch [][]byte
	for i := 0; i < 9; i++ { // interleaved: A B C A B C ...
		batch = append(batch, withFields(t, events[i%len(events)], map[string]any{"tenant_id": tenants[i%3]}))
	}
	if err := consume(t, te, eventsLogs(t, batch...)); err != nil {
		t.Fatal(err)
	}

	pushes := fake.received()
	if len(pushes) != 3 {
		t.Fatalf("got %d pushes, want one per tenant (3)", len(pushes))
	}
	seen := map[string]bool{}
	for _, p := range pushes {
		if !p.HasTenant || !slices.Contains(tenants, p.Tenant) {
			t.Fatalf("push with X-Scope-OrgID %q (present %v), want one of %v", p.Tenant, p.HasTenant, tenants)
		}
		if seen[p.Tenant] {
			t.Errorf("tenant %s pushed twice", p.Tenant)
		}
		seen[p.Tenant] = true
		if n := p.entryCount(); n != 3 {
			t.Errorf("tenant %s: %d entries, want 3", p.Tenant, n)
		}
		for _, s := range p.Streams {
			for _, e := range s.Entries {
				var ev struct {
					TenantID string `json:"tenant_id"`
				}
				if err := json.Unmarshal([]byte(e.Line), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.TenantID != p.Tenant || e.Metadata["tenant_id"] != p.Tenant {
					t.Errorf("push for tenant %s carries an entry of tenant %s (metadata %s)", p.Tenant, ev.TenantID, e.Metadata["tenant_id"])
				}
			}
		}
	}
	if got := te.counter(t, metricTenantFallbacks, nil); got != 0 {
		t.Errorf("%s = %d, want 0", metricTenantFallbacks, got)
	}
}

func TestTenantFallback(t *testing.T) {
	const hostile = "evil|7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10"
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{Fallback: "audit-unknown"})
	te := startExporter(t, cfg)

	events := testEvents(t)
	ld, sl := newLogs("mini-chat")
	appendEvent(t, sl, withFields(t, events[0], map[string]any{"tenant_id": tenantA}))
	// Upper-case UUID: the same tenant, one Loki tenant.
	appendEvent(t, sl, withFields(t, events[1], map[string]any{"tenant_id": strings.ToUpper(tenantA)}))
	missing := appendEvent(t, sl, events[2])
	missing.Attributes().Remove("mini_chat.tenant_id")
	appendEvent(t, sl, events[3]).Attributes().PutStr("mini_chat.tenant_id", hostile)
	appendEvent(t, sl, events[4]).Attributes().PutInt("mini_chat.tenant_id", 42)

	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range fake.received() {
		got[p.Tenant] += p.entryCount()
	}
	want := map[string]int{tenantA: 2, "audit-unknown": 3}
	if !maps.Equal(got, want) {
		t.Errorf("entries per tenant %v, want %v", got, want)
	}
	if n := te.counter(t, metricTenantFallbacks, map[string]string{"reason": "missing"}); n != 1 {
		t.Errorf("fallbacks{reason=missing} = %d, want 1", n)
	}
	if n := te.counter(t, metricTenantFallbacks, map[string]string{"reason": "invalid"}); n != 2 {
		t.Errorf("fallbacks{reason=invalid} = %d, want 2", n)
	}
	logText := te.allLogText()
	if !strings.Contains(logText, "fallback tenant") {
		t.Errorf("no log about the fallback tenant:\n%s", logText)
	}
	if strings.Contains(logText, "evil") {
		t.Errorf("a tenant value taken from a record reached the log:\n%s", logText)
	}
}

func TestTenantPatternAndPrefix(t *testing.T) {
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{FromAttribute: "org", Pattern: "[a-z]{3,10}", Prefix: "chat-", Fallback: "chat-other"})
	te := startExporter(t, cfg)

	events := testEvents(t)
	ld, sl := newLogs("mini-chat")
	appendEvent(t, sl, events[0]).Attributes().PutStr("org", "acme")
	appendEvent(t, sl, events[1]).Attributes().PutStr("org", "acmeinc-and-more") // too long for the pattern
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("org", "globex")      // resource value when the record has none
	appendEvent(t, sl, events[2])

	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range fake.received() {
		got[p.Tenant] += p.entryCount()
	}
	want := map[string]int{"chat-acme": 1, "chat-other": 1, "chat-globex": 1}
	if !maps.Equal(got, want) {
		t.Errorf("entries per tenant %v, want %v", got, want)
	}
}

func TestStaticTenant(t *testing.T) {
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{Static: "audit"})
	te := startExporter(t, cfg)
	events := testEvents(t)
	batch := [][]byte{
		withFields(t, events[0], map[string]any{"tenant_id": tenantA}),
		withFields(t, events[1], map[string]any{"tenant_id": tenantB}),
	}
	if err := consume(t, te, eventsLogs(t, batch...)); err != nil {
		t.Fatal(err)
	}
	pushes := fake.received()
	if len(pushes) != 1 || pushes[0].Tenant != "audit" || pushes[0].entryCount() != 2 {
		t.Fatalf("got %d pushes (first: tenant %q), want one push of 2 entries for tenant audit", len(pushes), pushes[0].Tenant)
	}
}

func TestEntriesOrderedWithinStream(t *testing.T) {
	fake := newFakeLoki(t)
	te := startExporter(t, testConfig(fake.endpoint()))

	deleteEvent := testEvents(t)[4]
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	offsets := []time.Duration{5 * time.Second, 1 * time.Second, 4 * time.Second, 2 * time.Nanosecond, 3 * time.Second}
	ld, sl := newLogs("mini-chat")
	for _, off := range offsets {
		appendEvent(t, sl, withFields(t, deleteEvent, map[string]any{"timestamp": base.Add(off).Format(time.RFC3339Nano)}))
	}
	// No Timestamp: the observed time (base+2.5s) places it.
	noTS := appendEvent(t, sl, withFields(t, deleteEvent, map[string]any{"timestamp": base.Add(time.Hour).Format(time.RFC3339Nano)}))
	noTS.SetTimestamp(0)
	noTS.SetObservedTimestamp(pcommon.NewTimestampFromTime(base.Add(2500 * time.Millisecond)))

	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	streams := fake.received()[0].Streams
	if len(streams) != 1 {
		t.Fatalf("got %d streams, want 1", len(streams))
	}
	var got []int64
	for _, e := range streams[0].Entries {
		got = append(got, e.UnixNano)
	}
	want := []int64{
		base.Add(2 * time.Nanosecond).UnixNano(), base.Add(time.Second).UnixNano(),
		base.Add(2500 * time.Millisecond).UnixNano(), base.Add(3 * time.Second).UnixNano(),
		base.Add(4 * time.Second).UnixNano(), base.Add(5 * time.Second).UnixNano(),
	}
	if !slices.Equal(got, want) {
		t.Errorf("entry timestamps %v, want ascending %v", got, want)
	}
}

func TestLabelNamesSanitised(t *testing.T) {
	fake := newFakeLoki(t)
	cfg := testConfig(fake.endpoint())
	cfg.Labels = []FieldMapping{
		{From: FromResource, Key: "service.name", Name: "service.name"},
		{From: FromResource, Key: "k8s.namespace.name"},
		{From: FromAttribute, Key: "mini_chat.requester_type"},
		{From: FromAttribute, Key: "9lives-key"},
		{From: FromRecord, Key: RecordFieldSeverityText, Name: "level"},
	}
	te := startExporter(t, cfg)
	ld, sl := newLogs("mini-chat")
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "audit-ns")
	appendEvent(t, sl, testEvents(t)[1]).Attributes().PutStr("9lives-key", `quote " and \ back`)
	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	got := fake.received()[0].Streams[0].Labels
	want := map[string]string{
		"service_name":             "mini-chat",
		"k8s_namespace_name":       "audit-ns",
		"mini_chat_requester_type": "system",
		"_9lives_key":              `quote " and \ back`,
		"level":                    "ERROR",
	}
	if !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

func TestNonAuditRecordKeepsBodyAndAttributes(t *testing.T) {
	fake := newFakeLoki(t)
	te := startExporter(t, testConfig(fake.endpoint()))
	ld, sl := newLogs("billing")
	lr := sl.LogRecords().AppendEmpty()
	lr.Body().SetStr("plain <message>")
	lr.Attributes().PutStr("mini_chat.event_type", "custom")
	lr.Attributes().PutInt("n", 3)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1700000000, 5)))
	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	e := fake.received()[0].Streams[0].Entries[0]
	const want = `{"body":"plain <message>","attributes":{"mini_chat.event_type":"custom","n":3}}`
	if e.Line != want || e.UnixNano != 1700000000_000000005 {
		t.Errorf("entry %d %s, want %d %s", e.UnixNano, e.Line, int64(1700000000_000000005), want)
	}
}

func TestRecordWithoutLabelValuesGetsUnknownService(t *testing.T) {
	fake := newFakeLoki(t)
	te := startExporter(t, testConfig(fake.endpoint()))
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("no service, no event type")
	if err := consume(t, te, ld); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"service_name": "unknown_service"}
	if got := fake.received()[0].Streams[0].Labels; !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v (Loki refuses streams without labels)", got, want)
	}
}

// linesOf lists every stored line, sorted, to compare what Loki kept.
func linesOf(pushes []gotPush) []string {
	var out []string
	for _, p := range pushes {
		for _, s := range p.Streams {
			for _, e := range s.Entries {
				out = append(out, e.Line)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestRetriesThrottlingAndOutagesWithoutLossOrDuplicates(t *testing.T) {
	fake := newFakeLoki(t,
		scriptedReply{status: http.StatusNoContent}, // tenant A
		scriptedReply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "1"}, body: "Ingestion rate limit exceeded"}, // tenant B
		scriptedReply{status: http.StatusServiceUnavailable, body: "ingester unavailable"},                                                      // tenant B again
		// then 204
	)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{})
	te := startExporter(t, cfg)

	events := testEvents(t)
	var batch [][]byte
	for i, ev := range events {
		batch = append(batch, withFields(t, ev, map[string]any{"tenant_id": []string{tenantA, tenantB}[i%2]}))
	}
	if err := consume(t, te, eventsLogs(t, batch...)); err != nil {
		t.Fatalf("ConsumeLogs: %v (want success after retries)", err)
	}

	var order []string
	for _, p := range fake.received() {
		order = append(order, p.Tenant)
	}
	if want := []string{tenantA, tenantB, tenantB, tenantB}; !slices.Equal(order, want) {
		t.Fatalf("push order by tenant %v, want %v (only the failed tenant retried)", order, want)
	}
	var wantLines []string
	for _, b := range batch {
		wantLines = append(wantLines, string(b))
	}
	sort.Strings(wantLines)
	if got := linesOf(fake.stored()); !slices.Equal(got, wantLines) {
		t.Errorf("Loki stored %d entries:\n%v\nwant each event exactly once (%d)", len(got), got, len(wantLines))
	}
	pushes := fake.received()
	if gap := pushes[2].At.Sub(pushes[1].At); gap < 900*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After: 1, want at least 1s", gap)
	}
	if got := te.counter(t, metricEntriesSent, nil); got != int64(len(events)) {
		t.Errorf("%s = %d, want %d", metricEntriesSent, got, len(events))
	}
}

func TestBadRequestIsNotRetriedAndCountsRejectedEntries(t *testing.T) {
	const lokiBody = "entry for stream '{event_type=\"turn_completed\", service_name=\"mini-chat\"}' has timestamp too old: 2026-03-02T10:15:00Z, oldest acceptable timestamp is: 2026-03-09T00:00:00Z\n" +
		"user 'fake', total ignored: 2 out of 5 for stream: {event_type=\"turn_completed\", service_name=\"mini-chat\"}"
	fake := newFakeLoki(t, scriptedReply{status: http.StatusBadRequest, body: lokiBody})
	te := startExporter(t, testConfig(fake.endpoint()))

	err := consume(t, te, eventsLogs(t, testEvents(t)...))
	if err == nil || !consumererror.IsPermanent(err) {
		t.Fatalf("ConsumeLogs error %v, want a permanent error", err)
	}
	if !strings.Contains(err.Error(), "rejected 2 of 5 entries") {
		t.Errorf("error %q does not say how many entries Loki rejected", err)
	}
	if n := len(fake.received()); n != 1 {
		t.Errorf("%d pushes, want 1 (400 is not retried)", n)
	}
	if n := te.counter(t, metricEntriesRejected, map[string]string{"reason": "bad_request"}); n != 2 {
		t.Errorf("rejected{reason=bad_request} = %d, want 2", n)
	}
	if n := te.counter(t, metricEntriesSent, nil); n != 3 {
		t.Errorf("%s = %d, want the 3 entries Loki kept", metricEntriesSent, n)
	}
	warn := te.logs.FilterMessageSnippet("Loki rejected entries").All()
	if len(warn) != 1 {
		t.Fatalf("%d 'Loki rejected entries' logs, want 1", len(warn))
	}
	fields := warn[0].ContextMap()
	if fields["rejected_entries"] != int64(2) || !strings.Contains(fields["reason"].(string), "timestamp too old") {
		t.Errorf("log fields %v: want rejected_entries=2 and Loki's reason", fields)
	}
	if text := te.allLogText() + err.Error(); strings.Contains(text, "Summarise") || strings.Contains(text, "revenue") {
		t.Errorf("event content reached logs or errors:\n%s", text)
	}
}

func TestBadRequestQuotingALineIsWithheld(t *testing.T) {
	events := testEvents(t)
	fake := newFakeLoki(t, scriptedReply{status: http.StatusBadRequest, body: "line too long: " + string(events[0])})
	te := startExporter(t, testConfig(fake.endpoint()))
	err := consume(t, te, eventsLogs(t, events...))
	if err == nil || !consumererror.IsPermanent(err) {
		t.Fatalf("ConsumeLogs error %v, want a permanent error", err)
	}
	if n := te.counter(t, metricEntriesRejected, map[string]string{"reason": "bad_request"}); n != 5 {
		t.Errorf("rejected = %d, want the whole push (5) when Loki gives no count", n)
	}
	if text := te.allLogText() + err.Error(); strings.Contains(text, "Summarise") || !strings.Contains(text, "withheld") {
		t.Errorf("want the reason withheld, got:\n%s", text)
	}
}

func TestAuthFailuresArePermanentAndNameCredentials(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			fake := newFakeLoki(t, scriptedReply{status: code, body: "no org id"})
			te := startExporter(t, testConfig(fake.endpoint()))
			err := consume(t, te, eventsLogs(t, testEvents(t)...))
			if err == nil || !consumererror.IsPermanent(err) {
				t.Fatalf("ConsumeLogs error %v, want a permanent error", err)
			}
			if !strings.Contains(err.Error(), "check the exporter's credentials") {
				t.Errorf("error %q does not tell to check credentials", err)
			}
			if n := len(fake.received()); n != 1 {
				t.Errorf("%d pushes, want 1 (not retried)", n)
			}
			if n := te.counter(t, metricEntriesRejected, map[string]string{"reason": "auth"}); n != 5 {
				t.Errorf("rejected{reason=auth} = %d, want 5", n)
			}
		})
	}
}

func TestPermanentFailureOfOneTenantDoesNotBlockOthers(t *testing.T) {
	fake := newFakeLoki(t,
		scriptedReply{status: http.StatusForbidden},          // tenant A: refused
		scriptedReply{status: http.StatusServiceUnavailable}, // tenant B: retried
	)
	cfg := testConfig(fake.endpoint())
	cfg.Tenant = configoptional.Some(TenantConfig{})
	te := startExporter(t, cfg)
	events := testEvents(t)
	batch := [][]byte{
		withFields(t, events[0], map[string]any{"tenant_id": tenantA}),
		withFields(t, events[1], map[string]any{"tenant_id": tenantB}),
	}
	if err := consume(t, te, eventsLogs(t, batch...)); err != nil {
		t.Fatalf("ConsumeLogs: %v, want success once tenant B is delivered", err)
	}
	var order []string
	for _, p := range fake.received() {
		order = append(order, p.Tenant)
	}
	if want := []string{tenantA, tenantB, tenantB}; !slices.Equal(order, want) {
		t.Errorf("pushes by tenant %v, want %v", order, want)
	}
	if n := te.counter(t, metricEntriesRejected, map[string]string{"reason": "auth"}); n != 1 {
		t.Errorf("rejected{reason=auth} = %d, want 1", n)
	}
	if len(te.logs.FilterMessageSnippet("Dropping entries Loki refused").All()) != 1 {
		t.Errorf("the refused tenant's failure was not logged")
	}
}

func TestDefaultQueueDelivers(t *testing.T) {
	fake := newFakeLoki(t, scriptedReply{status: http.StatusBadGateway})
	cfg := testConfig(fake.endpoint())
	def := createDefaultConfig().(*Config)
	cfg.QueueConfig = def.QueueConfig
	te := startExporter(t, cfg)
	events := testEvents(t)
	if err := consume(t, te, eventsLogs(t, events...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.stored()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(linesOf(fake.stored())); got != len(events) {
		t.Errorf("Loki stored %d entries through the queue, want %d", got, len(events))
	}
}

func TestClientTimeoutIsRetried(t *testing.T) {
	fake := newFakeLoki(t, scriptedReply{status: http.StatusNoContent, delay: 5 * time.Second})
	cfg := testConfig(fake.endpoint())
	cfg.ClientConfig.Timeout = 200 * time.Millisecond
	te := startExporter(t, cfg)
	if err := consume(t, te, eventsLogs(t, testEvents(t)...)); err != nil {
		t.Fatalf("ConsumeLogs: %v, want success on the retry after the timeout", err)
	}
	if n := len(fake.received()); n != 2 {
		t.Errorf("%d pushes, want 2 (one timed out, one retried)", n)
	}
	retried := te.logs.FilterMessageSnippet("Will retry").All()
	// net/http words a client timeout either way, depending on which timer fires first.
	if len(retried) != 1 || !containsAny(fmt.Sprint(retried[0].ContextMap()["error"]), "Timeout", "deadline exceeded") {
		t.Errorf("want one retry logged for the client timeout, got %v", retried)
	}
}

func TestErrorsDoNotRevealEndpointCredentials(t *testing.T) {
	fake := newFakeLoki(t, scriptedReply{status: http.StatusInternalServerError, body: "boom"})
	closed := "http://" + freeLocalAddr(t) // nothing listens: a network error
	for name, c := range map[string]struct{ endpoint, want string }{
		"http error":    {fake.endpoint(), "HTTP 500"},
		"network error": {closed, "connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(strings.Replace(c.endpoint, "http://", "http://audit:s3cretpw@", 1))
			cfg.RetryConfig.Enabled = false
			te := startExporter(t, cfg)
			err := consume(t, te, eventsLogs(t, testEvents(t)...))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ConsumeLogs error %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error()+te.allLogText(), "s3cretpw") {
				t.Errorf("endpoint password in error or logs: %v", err)
			}
		})
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
