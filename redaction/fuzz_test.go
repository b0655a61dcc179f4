package redaction

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks the engine's invariants on arbitrary input: no panic,
// valid UTF-8 stays valid, a second pass changes nothing, and the output
// never exceeds the limit plus the truncation marker. A small limit engine
// runs too, so cuts happen on short inputs.
func FuzzRedact(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.Text)
	}
	f.Add(strings.Repeat("é", 5000))
	f.Add("AKIAIOSFODNN7EXAMPLEXYZ")
	f.Add("password=" + strings.Repeat("a", 100))
	small, err := New(Options{MaxFieldBytes: 24})
	if err != nil {
		f.Fatal(err)
	}
	engines := []*Engine{Default(), small}
	f.Fuzz(func(t *testing.T, in string) {
		for _, e := range engines {
			out, hits := e.Redact(in)
			if utf8.ValidString(in) && !utf8.ValidString(out) {
				t.Fatalf("limit %d: valid UTF-8 in, invalid out: %q -> %q", e.limit, in, out)
			}
			if again, h2 := e.Redact(out); again != out {
				t.Fatalf("limit %d: not idempotent:\n in:  %q\n out: %q\n 2nd: %q (hits %d)", e.limit, in, out, again, h2.Total())
			}
			if hits.Truncated() && len(out) > e.limit+len(TruncationMarker) {
				t.Fatalf("limit %d: cut output is %d bytes", e.limit, len(out))
			}
			if !hits.Truncated() && len(out) > len(in)+hits.Total()*len(classMarkers[clsAWS]) {
				t.Fatalf("limit %d: output grew beyond its markers: %d -> %d bytes", e.limit, len(in), len(out))
			}
			if out == in && hits.Total() != 0 {
				t.Fatalf("limit %d: hits %d but unchanged text %q", e.limit, hits.Total(), in)
			}
		}
	})
}
