package redaction

import (
	"regexp"
	"unicode/utf8"
)

// referenceRules is the straightforward implementation the engine is
// measured against: the same nine rule classes as one Go regexp each,
// applied one after another, then the same cut. It is kept for the
// benchmark only (it misses forms the engine handles and leaks on overlaps).
var referenceRules = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?is)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), "[REDACTED_PRIVATE_KEY]"},
	{regexp.MustCompile(`(?i)(\bbearer[ \t]+)[A-Za-z0-9\-._~+/]{16,}=*`), "${1}[REDACTED]"},
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`), "[REDACTED_JWT]"},
	{regexp.MustCompile(`sk-[A-Za-z0-9_-]{20,}`), "[REDACTED_OPENAI_KEY]"},
	{regexp.MustCompile(`(?:AKIA|ASIA)[A-Z0-9]{16}`), "[REDACTED_AWS_ACCESS_KEY_ID]"},
	{regexp.MustCompile(`(?i)((?:\bapi-key|ocp-apim-subscription-key|azure[a-z_]*key)["']?\s*[:=]\s*["']?)[^\s"',;&\[]+`), "${1}[REDACTED_AZURE_KEY]"},
	{regexp.MustCompile(`(?i)((?:api[_-]?key|x-api-key|client[_-]?secret|secret[_-]?key|access[_-]?token)["']?\s*[:=]\s*["']?)[^\s"',;&\[]+`), "${1}[REDACTED]"},
	{regexp.MustCompile(`(?i)((?:password|passwd|pwd)["']?\s*[:=]\s*["']?)[^\s"',;&\[]+`), "${1}[REDACTED]"},
	{regexp.MustCompile(`[A-Za-z0-9+/_-]{201,}=*`), "…[TRUNCATED_LONG_TOKEN]"},
}

func referenceRedact(s string) string {
	for _, r := range referenceRules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	if len(s) > DefaultMaxFieldBytes {
		cut := DefaultMaxFieldBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + TruncationMarker
	}
	return s
}
