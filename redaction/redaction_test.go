package redaction

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestRuleClassesArePrecedenceOrder(t *testing.T) {
	want := []string{"pem_private_key", "bearer_token", "jwt", "openai_api_key", "aws_access_key_id",
		"azure_api_key", "api_key_fields", "password_fields", "long_base64_like"}
	got := RuleClasses()
	if !equalStrings(got, want) {
		t.Fatalf("RuleClasses() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if RuleClasses()[0] != want[0] {
		t.Fatal("RuleClasses returns the engine's own slice")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"unknown class", Options{Classes: []string{"jwt", "github_token"}}, `classes: unknown rule class "github_token"`},
		{"empty rule name", Options{ExtraRules: []Rule{{Pattern: "x"}}}, "extra_rules[0].name: must not be empty"},
		{"bad rule name", Options{ExtraRules: []Rule{{Name: "has space", Pattern: "x"}}}, `extra_rules[0].name: "has space"`},
		{"duplicate rule", Options{ExtraRules: []Rule{{Name: "a", Pattern: "x"}, {Name: "a", Pattern: "y"}}}, `extra_rules[1].name: "a" is used twice`},
		{"builtin name", Options{ExtraRules: []Rule{{Name: "jwt", Pattern: "x"}}}, `"jwt" is a built-in rule class`},
		{"bad regexp", Options{ExtraRules: []Rule{{Name: "a", Pattern: "(unclosed"}}}, "extra_rules[0].pattern: does not compile"},
		{"empty regexp", Options{ExtraRules: []Rule{{Name: "a"}}}, "extra_rules[0].pattern: must not be empty"},
		{"too many rules", Options{ExtraRules: make([]Rule, maxExtraRules+1)}, "at most 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New() = %v, %v; want error containing %q", e, err, tc.want)
			}
		})
	}
}

func TestClassesSelectsBuiltins(t *testing.T) {
	e, err := New(Options{Classes: []string{"jwt", "password_fields"}})
	if err != nil {
		t.Fatal(err)
	}
	in := "AKIAIOSFODNN7EXAMPLE password=hunter2 " + testJWT
	out, hits := e.Redact(in)
	if want := "AKIAIOSFODNN7EXAMPLE password=[REDACTED] [REDACTED_JWT]"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if hits.Total() != 2 {
		t.Fatalf("hits %d, want 2", hits.Total())
	}
	none, err := New(Options{Classes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := none.Redact(in); out != in {
		t.Fatalf("no classes enabled, yet %q became %q", in, out)
	}
	// With bearer_token off, the JWT in the header is still caught by jwt.
	nob, err := New(Options{Classes: []string{"jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := nob.Redact("Authorization: Bearer " + testJWT); out != "Authorization: Bearer [REDACTED_JWT]" {
		t.Fatalf("got %q", out)
	}
}

func TestExtraRulesRunAfterBuiltins(t *testing.T) {
	e, err := New(Options{ExtraRules: []Rule{
		{Name: "employee_id", Pattern: `\bEMP-(\d{3})\d{3}\b`, Replacement: "EMP-${1}xxx"},
		{Name: "internal_host", Pattern: `[a-z0-9-]+\.corp\.example\.com`, Replacement: "[HOST]"},
		{Name: "redacted_word", Pattern: `\[REDACTED\]`, Replacement: "<gone>"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, hits := e.Redact("EMP-123456 and EMP-654321 on db1.corp.example.com with password=hunter2")
	if want := "EMP-123xxx and EMP-654xxx on [HOST] with password=<gone>"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	var got []string
	hits.ForEach(func(rule string, n int) { got = append(got, rule+"="+itoa(n)) })
	if want := []string{"password_fields=1", "employee_id=2", "internal_host=1", "redacted_word=1"}; !equalStrings(got, want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestUnchangedTextIsReturnedWithoutAllocating(t *testing.T) {
	clean := "The task-force reviewed commit 3f1c9e2b7a4d6f8e0c1b2a3d4e5f6a7b8c9d0e1f; password reset link sent. Bearer of bad news: (using password: YES)"
	out, hits := Default().Redact(clean)
	if out != clean || hits.Total() != 0 || hits.Truncated() {
		t.Fatalf("clean text changed: %q (hits %d)", out, hits.Total())
	}
	if unsafe.StringData(out) != unsafe.StringData(clean) {
		t.Fatal("unchanged text was copied")
	}
	if allocs := testing.AllocsPerRun(100, func() { Default().Redact(clean) }); allocs != 0 {
		t.Fatalf("Redact allocated %.1f times on clean text", allocs)
	}
}

func TestHits(t *testing.T) {
	_, a := Default().Redact("AKIAIOSFODNN7EXAMPLE password=hunter2 " + testJWT)
	_, b := Default().Redact("AKIAIOSFODNN7EXAMPLE " + strings.Repeat("y", 9000))
	if a.Total() != 3 || a.Truncated() || b.Total() != 1 || !b.Truncated() {
		t.Fatalf("a: %d %v, b: %d %v", a.Total(), a.Truncated(), b.Total(), b.Truncated())
	}
	e, err := New(Options{ExtraRules: []Rule{{Name: "zz", Pattern: "zz", Replacement: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, c := e.Redact("zz zz")
	sum := a
	sum.Add(b)
	sum.Add(c)
	sum.Add(c)
	var got []string
	sum.ForEach(func(rule string, n int) { got = append(got, rule+"="+itoa(n)) })
	if want := []string{"jwt=1", "aws_access_key_id=2", "password_fields=1", "zz=4"}; !equalStrings(got, want) {
		t.Fatalf("sum %v, want %v", got, want)
	}
	if !sum.Truncated() || sum.Total() != 8 {
		t.Fatalf("sum truncated %v total %d", sum.Truncated(), sum.Total())
	}
	// Add must not write through to a Hits value it was built from.
	var got2 []string
	c.ForEach(func(rule string, n int) { got2 = append(got2, rule+"="+itoa(n)) })
	if !equalStrings(got2, []string{"zz=2"}) {
		t.Fatalf("c changed to %v", got2)
	}
	var zero Hits
	zero.ForEach(func(string, int) { t.Fatal("zero Hits reported a rule") })
}

func TestConcurrentUse(t *testing.T) {
	cases := loadCases(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range cases {
				want := c.Want
				if want == "" {
					want = c.Text
				}
				if got, _ := Default().Redact(c.Text); got != want {
					t.Errorf("%s: got %q", c.Name, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

const testJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
