package redaction

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// DefaultMaxFieldBytes is the contract's cut: 8 KiB of content per string.
const DefaultMaxFieldBytes = 8192

// TruncationMarker is appended to a text that was cut. It comes on top of the
// limit: a cut text is at most MaxFieldBytes + len(TruncationMarker) bytes.
const TruncationMarker = "…[TRUNCATED]"

// maxExtraRules bounds the extra rules, since their names become metric labels.
const maxExtraRules = 64

type class uint8

// Built-in classes in precedence order: when candidate matches overlap, they
// are merged into one replaced span and the earliest class here names it.
const (
	clsPEM class = iota
	clsBearer
	clsJWT
	clsOpenAI
	clsAWS
	clsAzure
	clsAPIKey
	clsPassword
	clsLongBase64
	numClasses
)

var classNames = [numClasses]string{
	clsPEM:        "pem_private_key",
	clsBearer:     "bearer_token",
	clsJWT:        "jwt",
	clsOpenAI:     "openai_api_key",
	clsAWS:        "aws_access_key_id",
	clsAzure:      "azure_api_key",
	clsAPIKey:     "api_key_fields",
	clsPassword:   "password_fields",
	clsLongBase64: "long_base64_like",
}

var classMarkers = [numClasses]string{
	clsPEM:        "[REDACTED_PRIVATE_KEY]",
	clsBearer:     "[REDACTED]",
	clsJWT:        "[REDACTED_JWT]",
	clsOpenAI:     "[REDACTED_OPENAI_KEY]",
	clsAWS:        "[REDACTED_AWS_ACCESS_KEY_ID]",
	clsAzure:      "[REDACTED_AZURE_KEY]",
	clsAPIKey:     "[REDACTED]",
	clsPassword:   "[REDACTED]",
	clsLongBase64: "…[TRUNCATED_LONG_TOKEN]",
}

// RuleClasses returns the nine contract rule class names in precedence order.
func RuleClasses() []string {
	out := make([]string, numClasses)
	copy(out, classNames[:])
	return out
}

// Rule is an extra, user-configured rule: every match of the Go regexp
// Pattern is replaced by Replacement ($1-style group references expand).
type Rule struct{ Name, Pattern, Replacement string }

// Options configure an Engine.
type Options struct {
	// Classes lists the enabled built-in classes; nil enables all nine.
	Classes []string
	// ExtraRules run after the built-in classes, in order.
	ExtraRules []Rule
	// MaxFieldBytes is the cut; 0 means DefaultMaxFieldBytes, negative disables it.
	MaxFieldBytes int
}

// Engine redacts text. It is immutable after New and safe for concurrent use.
type Engine struct {
	on    [numClasses]bool
	extra []extraRule
	limit int
}

type extraRule struct {
	name        string
	re          *regexp.Regexp
	replacement string
}

var ruleNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// New builds an Engine, rejecting unknown class names and bad extra rules.
func New(opts Options) (*Engine, error) {
	e := &Engine{limit: opts.MaxFieldBytes}
	if e.limit == 0 {
		e.limit = DefaultMaxFieldBytes
	}
	if opts.Classes == nil {
		for c := range e.on {
			e.on[c] = true
		}
	}
	for _, name := range opts.Classes {
		c, ok := classByName(name)
		if !ok {
			return nil, fmt.Errorf("classes: unknown rule class %q (known: %s)", name, strings.Join(classNames[:], ", "))
		}
		e.on[c] = true
	}
	if len(opts.ExtraRules) > maxExtraRules {
		return nil, fmt.Errorf("extra_rules: %d rules given, at most %d allowed", len(opts.ExtraRules), maxExtraRules)
	}
	seen := map[string]bool{}
	for i, r := range opts.ExtraRules {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("extra_rules[%d].name: must not be empty", i)
		case !ruleNameRE.MatchString(r.Name):
			return nil, fmt.Errorf("extra_rules[%d].name: %q must start with a letter and use at most 64 letters, digits, '_', '.', '-'", i, r.Name)
		case seen[r.Name]:
			return nil, fmt.Errorf("extra_rules[%d].name: %q is used twice", i, r.Name)
		}
		if _, builtin := classByName(r.Name); builtin {
			return nil, fmt.Errorf("extra_rules[%d].name: %q is a built-in rule class", i, r.Name)
		}
		if r.Pattern == "" {
			return nil, fmt.Errorf("extra_rules[%d].pattern: must not be empty", i)
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("extra_rules[%d].pattern: does not compile: %v", i, err)
		}
		seen[r.Name] = true
		e.extra = append(e.extra, extraRule{name: r.Name, re: re, replacement: r.Replacement})
	}
	return e, nil
}

func classByName(name string) (class, bool) {
	for c, n := range classNames {
		if n == name {
			return class(c), true
		}
	}
	return 0, false
}

var (
	defaultOnce   sync.Once
	defaultEngine *Engine
)

// Default returns the shared engine with all classes and the 8192-byte cut.
func Default() *Engine {
	defaultOnce.Do(func() {
		e, err := New(Options{})
		if err != nil {
			panic(err) // unreachable: the zero Options are valid
		}
		defaultEngine = e
	})
	return defaultEngine
}

// Redact replaces secrets in s and cuts the result to the field limit. When
// nothing matches and no cut is needed it returns s itself without allocating.
func (e *Engine) Redact(s string) (out string, hits Hits) {
	out = e.redactRules(s, &hits)
	if e.needsCut(out) {
		out = e.cut(out)
		hits.truncated = true
	}
	return out, hits
}

// redactRules applies the built-in classes (one pass) then the extra rules.
func (e *Engine) redactRules(s string, h *Hits) string {
	sc := scanner{s: s, on: &e.on}
	sc.scan()
	out := s
	if cands := sc.cands(); len(cands) > 0 {
		out = apply(s, cands, h)
	}
	for _, r := range e.extra {
		out = r.apply(out, h)
	}
	return out
}

func (r *extraRule) apply(s string, h *Hits) string {
	idx := r.re.FindAllStringSubmatchIndex(s, -1)
	if len(idx) == 0 {
		return s
	}
	var b []byte
	last := 0
	for _, m := range idx {
		b = append(b, s[last:m[0]]...)
		b = r.re.ExpandString(b, r.replacement, s, m)
		last = m[1]
	}
	b = append(b, s[last:]...)
	for i := range h.extra {
		if h.extra[i].name == r.name {
			h.extra[i].count += len(idx)
			return string(b)
		}
	}
	h.extra = append(h.extra, ruleCount{name: r.name, count: len(idx)})
	return string(b)
}

// apply replaces the candidate spans. Overlapping candidates merge into one
// span (their union, so no part of any of them survives), replaced by the
// marker of the highest-precedence class among them.
func apply(s string, cands []cand, h *Hits) string {
	if len(cands) > 32 {
		slices.SortFunc(cands, func(a, b cand) int { return a.start - b.start })
	} else {
		for i := 1; i < len(cands); i++ { // insertion sort: the list is short and nearly sorted
			for j := i; j > 0 && cands[j].start < cands[j-1].start; j-- {
				cands[j], cands[j-1] = cands[j-1], cands[j]
			}
		}
	}
	var b strings.Builder
	b.Grow(len(s) + 16*len(cands))
	last := 0
	for i := 0; i < len(cands); {
		start, end, win := cands[i].start, cands[i].end, cands[i].cls
		j := i + 1
		for ; j < len(cands) && cands[j].start < end; j++ {
			end = max(end, cands[j].end)
			win = min(win, cands[j].cls)
		}
		b.WriteString(s[last:start])
		b.WriteString(classMarkers[win])
		h.builtin[win]++
		last = end
		i = j
	}
	b.WriteString(s[last:])
	return b.String()
}

// needsCut: a text longer than the limit is cut, unless it is already a cut
// text (ends with the marker and fits limit+marker), so a second pass leaves
// it alone.
func (e *Engine) needsCut(s string) bool {
	if e.limit < 0 || len(s) <= e.limit {
		return false
	}
	return !(strings.HasSuffix(s, TruncationMarker) && len(s) <= e.limit+len(TruncationMarker))
}

// cut keeps at most limit bytes on a UTF-8 boundary, never inside a marker
// this engine wrote, and appends TruncationMarker. Cutting can expose a new
// match at the end (AKIA plus 17 characters cut to AKIA plus 16); the result
// is re-checked and the cut moved before any such match, so Redact stays
// idempotent.
func (e *Engine) cut(r string) string {
	pos := e.cutPoint(r, e.limit)
	for range 16 {
		out := r[:pos] + TruncationMarker
		var discard Hits
		again := e.redactRules(out, &discard)
		if again == out {
			return out
		}
		d := commonPrefix(again, out)
		if d >= pos {
			break // the marker itself is rewritten (by an extra rule); nothing to keep
		}
		pos = e.cutPoint(r, d)
	}
	return TruncationMarker
}

// cutPoint returns the largest position <= limit that starts a UTF-8
// character (for valid UTF-8) and is not inside a replacement marker.
func (e *Engine) cutPoint(r string, limit int) int {
	pos := min(limit, len(r))
	for k := 0; k < utf8.UTFMax-1 && pos > 0 && pos < len(r) && !utf8.RuneStart(r[pos]); k++ {
		pos--
	}
	return markerStartBefore(r, pos)
}

// markerStartBefore moves pos back to the start of a marker that straddles it.
func markerStartBefore(r string, pos int) int {
	lo := max(0, pos-len(classMarkers[clsLongBase64]))
	for j := pos - 1; j >= lo; j-- {
		if r[j] != '[' {
			continue
		}
		start := j
		if j >= 3 && r[j-3:j] == "…" {
			start = j - 3
		}
		for _, m := range classMarkers {
			if strings.HasPrefix(r[start:], m) && start+len(m) > pos {
				return start
			}
		}
	}
	return pos
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
