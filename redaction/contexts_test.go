package redaction

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// Secrets dropped into random chat text, next to random punctuation, at
// the start, in the middle and at the end: none may survive. This checks the
// matchers' boundaries far beyond the hand-written corpus.
func TestSecretsNeverSurviveInRandomContexts(t *testing.T) {
	clean, _ := loadMessages(t, "bench_clean.jsonl")
	rng := rand.New(rand.NewPCG(1, 2))
	const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	randStr := func(alphabet string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	upper := "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	value := func() string { // a password or key value: starts like no placeholder or prose word
		return string(rune('A'+rng.IntN(26))) + string(rune('0'+rng.IntN(10))) + randStr(b64url[:62]+"!#*+._-", 6+rng.IntN(14)) + randStr(b64url[:62], 1)
	}
	// Each maker returns the text to insert and the secret parts that must disappear.
	makers := []func() (string, []string){
		func() (string, []string) { k := "AKIA" + randStr(upper, 16); return k, []string{k[4:]} },
		func() (string, []string) { k := "ASIA" + randStr(upper, 16); return k, []string{k[4:]} },
		func() (string, []string) {
			j := "eyJ" + randStr(b64url, 30) + "." + randStr(b64url, 60) + "." + randStr(b64url, 43)
			return j, []string{j[3:33], j[34:94], j[95:]}
		},
		func() (string, []string) { k := "sk-proj-" + randStr(b64url, 100); return k, []string{k[8:]} },
		func() (string, []string) { k := "sk-" + randStr(b64url[:62], 48); return k, []string{k[3:]} },
		func() (string, []string) {
			body := randStr(b64url[:62]+"+/", 64) + "\n" + randStr(b64url[:62]+"+/", 64)
			return "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----", []string{body[:64], body[65:]}
		},
		func() (string, []string) { r := randStr(b64url[:62]+"+/", 260); return r, []string{r[:40], r[220:]} },
		func() (string, []string) { v := value(); return "password=" + v, []string{v} },
		func() (string, []string) { v := value(); return `"password": "` + v + `"`, []string{v} },
		func() (string, []string) { v := value(); return "DB_PASSWORD='" + v + "'", []string{v} },
		func() (string, []string) { v := value(); return "api_key: " + v, []string{v} },
		func() (string, []string) { v := value(); return "x-api-key=" + v, []string{v} },
		func() (string, []string) { v := value(); return `{"client_secret":"` + v + `"}`, []string{v} },
		func() (string, []string) { v := value(); return "Ocp-Apim-Subscription-Key: " + v, []string{v} },
		func() (string, []string) { v := value(); return "api-key: " + v, []string{v} },
		func() (string, []string) { v := value(); return "Authorization: Bearer " + v, []string{v} },
		func() (string, []string) { v := randStr(b64url, 32); return "Bearer " + v, []string{v} },
		func() (string, []string) {
			v := strings.NewReplacer(":", "", "@", "", "/", "").Replace(value())
			return "postgres://app:" + v + "@db:5432/x", []string{v}
		},
		func() (string, []string) {
			v := strings.NewReplacer("'", "").Replace(value())
			return "curl -u bob:" + v + " https://x", []string{v}
		},
		func() (string, []string) {
			c := base64.StdEncoding.EncodeToString([]byte("bob:" + value()))
			return "Authorization: Basic " + c, []string{c}
		},
		func() (string, []string) { v := value(); return "<password>" + v + "</password>", []string{v} },
		func() (string, []string) { v := value(); return `props.put("password", "` + v + `")`, []string{v} },
		func() (string, []string) { v := value(); return `setApiKey("` + v + `")`, []string{v} },
		func() (string, []string) { v := value(); return "mysql -u root -p" + v + " db", []string{v} },
		func() (string, []string) { v := value(); return "**Password:** " + v, []string{v} },
		func() (string, []string) { v := value(); return `{\"api_key\": \"` + v + `\"}`, []string{v} },
	}
	joiners := []string{" ", "\n", "\t", `"`, "'", "`", ",", ";", "(", ")", "[", "]", "{", "}", "<", ">", "|", ". ", ": ", "\r\n", " — ", "é ", "\\n"}
	for iter := 0; iter < 5000; iter++ {
		m := clean[rng.IntN(len(clean))]
		a, b := rng.IntN(len(m)+1), rng.IntN(len(m)+1)
		a, b = min(a, b), max(a, b)
		for a > 0 && a < len(m) && m[a]&0xC0 == 0x80 {
			a--
		}
		for b > 0 && b < len(m) && m[b]&0xC0 == 0x80 {
			b--
		}
		var text strings.Builder
		var parts []string
		switch rng.IntN(4) {
		case 0: // at the start
		default:
			text.WriteString(m[:a])
			text.WriteString(joiners[rng.IntN(len(joiners))])
		}
		for range 1 + rng.IntN(3) {
			secret, p := makers[rng.IntN(len(makers))]()
			text.WriteString(secret)
			parts = append(parts, p...)
			text.WriteString(joiners[rng.IntN(len(joiners))])
		}
		if rng.IntN(4) != 0 { // else at the very end
			text.WriteString(m[b:])
		}
		in := strings.TrimRight(text.String(), " ")
		out, _ := Default().Redact(in)
		for _, p := range parts {
			if strings.Contains(out, p) {
				t.Fatalf("iteration %d: %q survived in\n in:  %q\n out: %q", iter, p, in, out)
			}
		}
	}
}
