package loki

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

func wireStreams() []*stream {
	odd := []labelPair{{name: "event_type", value: "turn_edit"}, {name: "service_name", value: "a \"b\" \\ c\nd é 中"}}
	return []*stream{
		{
			labels: odd,
			key:    labelString(odd),
			entries: []entry{
				{unixNano: -1_500_000_000, line: "before 1970"}, // seconds -2, nanos 0.5e9
				{unixNano: 0, line: ""},
				{unixNano: 1772446500123456789, line: `{"x":"<y> & z"}`, metadata: []labelPair{{name: "chat_id", value: "c1"}, {name: "empty", value: ""}}},
			},
		},
		{
			labels:  []labelPair{{name: "service_name", value: "s"}},
			key:     `{service_name="s"}`,
			entries: []entry{{unixNano: 1, line: "one"}},
		},
	}
}

func TestWireFormatsRoundTrip(t *testing.T) {
	in := wireStreams()
	decoders := map[string]func([]byte) ([]gotStream, error){
		"protobuf": func(b []byte) ([]gotStream, error) { return decodeProtobufPush(b) },
		"json":     decodeJSONPush,
	}
	bodies := map[string][]byte{
		"protobuf": encodeProtobufPush(in),
		"json":     encodeJSONPush(nil, in),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			got, err := decoders[name](body)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(in) {
				t.Fatalf("%d streams, want %d", len(got), len(in))
			}
			for i, s := range in {
				wantLabels := map[string]string{}
				for _, l := range s.labels {
					wantLabels[l.name] = l.value
				}
				if !maps.Equal(got[i].Labels, wantLabels) {
					t.Errorf("stream %d labels %v, want %v", i, got[i].Labels, wantLabels)
				}
				if len(got[i].Entries) != len(s.entries) {
					t.Fatalf("stream %d: %d entries, want %d", i, len(got[i].Entries), len(s.entries))
				}
				for j, e := range s.entries {
					g := got[i].Entries[j]
					wantMeta := map[string]string{}
					for _, p := range e.metadata {
						wantMeta[p.name] = p.value
					}
					if g.UnixNano != e.unixNano || g.Line != e.line || !maps.Equal(g.Metadata, wantMeta) {
						t.Errorf("stream %d entry %d: got %d %q %v, want %d %q %v", i, j, g.UnixNano, g.Line, g.Metadata, e.unixNano, e.line, wantMeta)
					}
				}
			}
		})
	}
}

func TestSanitizeLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"service.name":         "service_name",
		"event_type":           "event_type",
		"9lives":               "_9lives",
		"k8s.pod-name":         "k8s_pod_name",
		"gen_ai.request.model": "gen_ai_request_model",
		"é":                    "__", // two UTF-8 bytes
		"":                     "",
	} {
		if got := SanitizeLabelName(in); got != want {
			t.Errorf("SanitizeLabelName(%q) = %q, want %q", in, got, want)
		}
		if got := SanitizeLabelName(in); got != "" && !lokiLabelName.MatchString(got) {
			t.Errorf("SanitizeLabelName(%q) = %q breaks Loki's label rule", in, got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for value, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Mon, 02 Mar 2026 10:00:30 GMT": 30 * time.Second,
		"Mon, 02 Mar 2026 09:59:00 GMT": 0, // in the past
	} {
		h := http.Header{}
		if value != "" {
			h.Set("Retry-After", value)
		}
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", value, got, want)
		}
	}
}

func TestRejectedEntries(t *testing.T) {
	cases := []struct {
		body   string
		pushed int
		want   int
	}{
		{"user 'x', total ignored: 3 out of 10 for stream: {a=\"b\"}", 10, 3},
		{"total ignored: 1 out of 4\ntotal ignored: 2 out of 6", 10, 3}, // one per stream
		{"error at least one label pair is required per stream", 7, 7},
		{"total ignored: 99 out of 99", 5, 5},
	}
	for _, c := range cases {
		if got := rejectedEntries([]byte(c.body), c.pushed); got != c.want {
			t.Errorf("rejectedEntries(%q, %d) = %d, want %d", c.body, c.pushed, got, c.want)
		}
	}
}

func TestSafeReason(t *testing.T) {
	tp := &tenantPush{streams: []*stream{{entries: []entry{{line: `{"event_type":"turn_completed","prompt":"my password=hunter2 and more text here to be long"}`}}}}}
	if got := safeReason([]byte("first line\x07\nsecond line"), tp); got != "first line" {
		t.Errorf("got %q, want the first line without control characters", got)
	}
	long := strings.Repeat("é", 1000)
	if got := safeReason([]byte(long), tp); len(got) > maxReasonBytes+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "éé") {
		t.Errorf("long reason not cut on a character boundary: %d bytes", len(got))
	}
	quoting := "line too long: " + tp.streams[0].entries[0].line[:70]
	if got := safeReason([]byte(quoting), tp); strings.Contains(got, "hunter2") || !strings.Contains(got, "withheld") {
		t.Errorf("reason quoting a line: got %q", got)
	}
	if got := safeReason(nil, tp); got != "(no reason given)" {
		t.Errorf("empty body: %q", got)
	}
}

func TestJSONToLogfmt(t *testing.T) {
	got, err := jsonToLogfmt([]byte(`{"a":"x y","n":1.50,"b":true,"z":null,"o":{"p":{"q":"\"\\\n\u0001"}},"l":[1,{"k":"v"}],"e":[],"f":{},"we ird=":"k"}`))
	if err != nil {
		t.Fatal(err)
	}
	const want = `a="x y" n=1.50 b=true z=null o.p.q="\"\\\n\u0001" l.0=1 l.1.k="v" e=[] f={} we_ird_="k"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := jsonToLogfmt([]byte(`[1]`)); err == nil {
		t.Error("a JSON array was accepted as a line object")
	}
}
