package redaction

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// loadMessages reads a benchmark corpus: JSONL lines {"text": ...}, one chat
// message (prompt or response, up to 8 KiB) per line.
func loadMessages(tb testing.TB, name string) (msgs []string, bytes int64) {
	tb.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		msgs = append(msgs, m.Text)
		bytes += int64(len(m.Text))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return msgs, bytes
}

// BenchmarkRedact reports MB/s of the engine and of the regexp reference on
// the same corpora: chat text without secrets and chat text rich in them.
// Besides the wall-clock MB/s it reports cpu-MB/s, bytes per second of CPU
// time used by the process (GC included), which is the per-core figure and
// holds on a busy machine.
func BenchmarkRedact(b *testing.B) {
	for _, corpus := range []string{"clean", "secrets"} {
		msgs, n := loadMessages(b, "bench_"+corpus+".jsonl")
		for _, impl := range []struct {
			name   string
			redact func(string) string
		}{
			{"engine", func(s string) string { out, _ := Default().Redact(s); return out }},
			{"reference", referenceRedact},
		} {
			b.Run(impl.name+"/"+corpus, func(b *testing.B) {
				b.SetBytes(n)
				b.ReportAllocs()
				cpu0 := cpuSeconds()
				for b.Loop() {
					for _, m := range msgs {
						impl.redact(m)
					}
				}
				if cpu := cpuSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(float64(n)*float64(b.N)/cpu/1e6, "cpu-MB/s")
				}
			})
		}
	}
}

// The benchmark corpora are what they claim: the clean one holds no secret
// (the engine leaves every message alone), the rich one many.
func TestBenchmarkCorpora(t *testing.T) {
	clean, _ := loadMessages(t, "bench_clean.jsonl")
	for _, m := range clean {
		if out, h := Default().Redact(m); out != m || h.Total() != 0 {
			t.Fatalf("clean corpus message changed:\n%s", firstDiff(m, out))
		}
	}
	if allocs := testing.AllocsPerRun(3, func() {
		for _, m := range clean {
			Default().Redact(m)
		}
	}); allocs != 0 {
		t.Fatalf("%.0f allocations redacting the clean corpus", allocs)
	}
	rich, _ := loadMessages(t, "bench_secrets.jsonl")
	var total Hits
	for _, m := range rich {
		_, h := Default().Redact(m)
		total.Add(h)
	}
	if total.Total() < 4*len(rich) {
		t.Fatalf("secret-rich corpus: %d hits in %d messages", total.Total(), len(rich))
	}
	total.ForEach(func(rule string, n int) { t.Logf("%s: %d", rule, n) })
}

func firstDiff(a, b string) string {
	i := commonPrefix(a, b)
	lo := max(0, i-60)
	return "in:  " + strings.ReplaceAll(a[lo:min(len(a), i+80)], "\n", `\n`) + "\nout: " + strings.ReplaceAll(b[lo:min(len(b), i+80)], "\n", `\n`)
}
