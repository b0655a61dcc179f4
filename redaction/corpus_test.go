package redaction

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// corpusCase is one line of testdata/cases.jsonl: the engine (with all
// classes, default cut) must turn Text into Want exactly. Want "" means the
// text must come through unchanged (a look-alike). Rules lists the classes
// expected to fire, in precedence order.
type corpusCase struct {
	Name  string   `json:"name"`
	Text  string   `json:"text"`
	Want  string   `json:"want"`
	Rules []string `json:"rules"`
}

func loadCases(tb testing.TB) []corpusCase {
	tb.Helper()
	f, err := os.Open("testdata/cases.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 || sc.Bytes()[0] == '#' {
			continue
		}
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatalf("testdata/cases.jsonl:%d: %v", line, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return cases
}

func TestCorpus(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 150 {
		t.Fatalf("corpus has %d cases, want at least 150", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := c.Want
			if want == "" {
				want = c.Text
			}
			got, hits := Default().Redact(c.Text)
			if got != want {
				t.Errorf("redacted\n text: %q\n got:  %q\n want: %q", c.Text, got, want)
			}
			var fired []string
			hits.ForEach(func(rule string, _ int) { fired = append(fired, rule) })
			if !equalStrings(fired, c.Rules) {
				t.Errorf("rules fired %v, want %v", fired, c.Rules)
			}
			if again, _ := Default().Redact(got); again != got {
				t.Errorf("second pass changed %q to %q", got, again)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Every class has its own positive cases in several forms, and look-alikes
// that must survive make up a good part of the corpus.
func TestCorpusCoversEveryClass(t *testing.T) {
	positives := map[string]int{}
	negatives := 0
	for _, c := range loadCases(t) {
		if c.Want == "" {
			negatives++
		}
		for _, r := range c.Rules {
			positives[r]++
		}
	}
	for _, class := range RuleClasses() {
		if positives[class] < 8 {
			t.Errorf("%s: %d positive cases, want at least 8", class, positives[class])
		}
	}
	if negatives < 80 {
		t.Errorf("%d look-alike cases, want at least 80", negatives)
	}
	t.Logf("positives per class %v, look-alikes %d", positives, negatives)
}
