package redaction

import (
	"strings"
	"testing"
)

// Hostile repetitions of every matcher's anchor: they must stay correct (a
// second pass changes nothing). Each matcher's forward and backward scans
// are memoised or bounded so these cost linear time (see the package doc;
// tests do not assert on time).
func TestHostileRepetitions(t *testing.T) {
	for _, unit := range []string{
		"eyJ-", "eyJa.", "sk-a", "password=\"", "password: '", "-----BEGIN PRIVATE KEY-----",
		"-----END PRIVATE KEY-----\nAAAA ", "a@", "://a:b@", "Authorization: Basic ", "Bearer ",
		"api_key: |\n ", "x-api-key=", `\"password\": \"`, "--password ", "curl -u a:", "<password>",
		`("password", "`, `setPassword("`, `PASSWORD = """`, "AKIA", `\n`, "ab+/", "key: ", "**Password:** ",
		`<add key="password" value="`, "-----BEGIN PUBLIC KEY-----", `AzureOpenAI(api_key="`, "mysql -p", "a@",
		"://a:b@c@", "Authorization: Bearer ", "Key [None]: ", "token: ",
	} {
		in := strings.Repeat(unit, 100000/len(unit))
		out, _ := Default().Redact(in)
		if again, _ := Default().Redact(out); again != out {
			t.Errorf("%q repeated: a second pass changed the text", unit)
		}
	}
}
