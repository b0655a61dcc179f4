package redaction

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutAtByteLimit(t *testing.T) {
	for _, n := range []int{0, 1, 8191, 8192} {
		in := strings.Repeat("a", n)
		if out, h := Default().Redact(in); out != in || h.Truncated() {
			t.Fatalf("%d bytes: changed (truncated=%v)", n, h.Truncated())
		}
	}
	in := strings.Repeat("a", 8193)
	out, h := Default().Redact(in)
	if want := strings.Repeat("a", 8192) + TruncationMarker; out != want || !h.Truncated() || h.Total() != 0 {
		t.Fatalf("8193 bytes: got %d bytes ending %q, truncated=%v", len(out), out[len(out)-20:], h.Truncated())
	}
	if again, h2 := Default().Redact(out); again != out || h2.Truncated() {
		t.Fatal("a cut text was cut again")
	}
}

func TestCutOnUTF8Boundary(t *testing.T) {
	for _, ch := range []string{"é", "€", "🙂"} {
		for pad := 0; pad < 4; pad++ {
			in := strings.Repeat("a", pad) + strings.Repeat(ch, 9000/len(ch)+2)
			out, h := Default().Redact(in)
			if !h.Truncated() || !strings.HasSuffix(out, TruncationMarker) {
				t.Fatalf("%q pad %d: not cut", ch, pad)
			}
			content := strings.TrimSuffix(out, TruncationMarker)
			if !utf8.ValidString(out) || len(content) > DefaultMaxFieldBytes || len(content) <= DefaultMaxFieldBytes-len(ch) {
				t.Fatalf("%q pad %d: content %d bytes, valid=%v", ch, pad, len(content), utf8.ValidString(out))
			}
			if !strings.HasPrefix(in, content) {
				t.Fatalf("%q pad %d: content is not a prefix of the input", ch, pad)
			}
		}
	}
}

func TestCustomLimits(t *testing.T) {
	small, err := New(Options{MaxFieldBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := small.Redact("0123456789abc"); out != "0123456789"+TruncationMarker {
		t.Fatalf("limit 10: %q", out)
	}
	none, err := New(Options{MaxFieldBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("word ", 10000)
	if out, h := none.Redact(big); out != big || h.Truncated() {
		t.Fatal("negative limit still cut")
	}
}

// A secret past the limit is redacted before the cut, and a secret (or
// marker) straddling the limit leaves no fragment behind.
func TestSecretNearTheLimit(t *testing.T) {
	secrets := []string{
		"AKIAIOSFODNN7EXAMPLE",
		testJWT,
		"sk-proj-4fG7hJ9kL2mNq8Rt5Vx1Zb3Cd6Ef0Gh2",
		"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----",
	}
	for _, secret := range secrets {
		for _, at := range []int{8192 - len(secret) - 1, 8192 - len(secret)/2, 8191, 8192, 8193, 9000} {
			in := strings.Repeat("z ", at/2) + strings.Repeat("z", at%2) + " " + secret + strings.Repeat(" tail", 200)
			out, h := Default().Redact(in)
			if !h.Truncated() || h.Total() != 1 {
				t.Fatalf("secret at %d: truncated=%v hits=%d", at, h.Truncated(), h.Total())
			}
			for _, frag := range fragments(secret, 6) {
				if strings.Contains(out, frag) {
					t.Fatalf("secret at %d: fragment %q survived in ...%q", at, frag, out[len(out)-60:])
				}
			}
			content := strings.TrimSuffix(out, TruncationMarker)
			if strings.Contains(content[max(0, len(content)-30):], "[REDACTED") && !strings.HasSuffix(content, "]") {
				t.Fatalf("secret at %d: a marker was cut in half: %q", at, out[len(out)-60:])
			}
		}
	}
}

// fragments returns every substring of s of length n that is not part of a
// replacement marker (PRIVAT is in [REDACTED_PRIVATE_KEY]).
func fragments(s string, n int) []string {
	var out []string
next:
	for i := 0; i+n <= len(s); i++ {
		for _, m := range classMarkers {
			if strings.Contains(m, s[i:i+n]) {
				continue next
			}
		}
		out = append(out, s[i:i+n])
	}
	return out
}

// Cutting can turn text that is no secret into one: 21 key characters cut
// to exactly AKIA + 16. The cut must move before it.
func TestCutDoesNotCreateASecret(t *testing.T) {
	pad := strings.Repeat("y ", 4086) // 8172 bytes
	in := pad + "AKIAIOSFODNN7EXAMPLEX and more text after"
	if out, h := Default().Redact("AKIAIOSFODNN7EXAMPLEX"); h.Total() != 0 || out != "AKIAIOSFODNN7EXAMPLEX" {
		t.Fatal("the 21-character run must not be a key")
	}
	out, h := Default().Redact(in)
	if !h.Truncated() || h.Total() != 0 {
		t.Fatalf("truncated=%v hits=%d", h.Truncated(), h.Total())
	}
	if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") {
		t.Fatalf("cut exposed a key id: ...%q", out[len(out)-40:])
	}
	if again, _ := Default().Redact(out); again != out {
		t.Fatalf("not idempotent: %q -> %q", out[len(out)-40:], again[len(again)-40:])
	}
}
