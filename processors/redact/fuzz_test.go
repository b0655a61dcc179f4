package redact

import (
	"encoding/json"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// FuzzStringBody: any string body is processed without panic; a JSON object or array body stays valid
// JSON; a second pass changes nothing.
func FuzzStringBody(f *testing.F) {
	for _, seed := range []string{
		`{"prompt":"key ` + testOpenAI + `","n":1.50,"a":[true,null,"` + testPNG + `"]}`,
		`[{"ocr_text":"x"},"` + testJWT + `"]`,
		`{"tenant_id":"` + tenantID + `","x":"\u00e9\n"}`,
		"plain " + testAWSKey,
		`{"broken": `,
		testPNG,
	} {
		f.Add(seed)
	}
	cfg := createDefaultConfig()
	cfg.MaxFieldBytes = 64
	p, err := newRedactProcessor(componenttest.NewNopTelemetrySettings(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Body().SetStr(body)
		var first tally
		p.scrubRecord(lr, &first)
		out := lr.Body().AsString()
		trimmed := strings.TrimLeft(body, " \t\r\n")
		if json.Valid([]byte(body)) && trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') && !json.Valid([]byte(out)) {
			t.Fatalf("valid JSON body became invalid: %q -> %q", body, out)
		}
		var second tally
		p.scrubRecord(lr, &second)
		if again := lr.Body().AsString(); again != out {
			t.Fatalf("second pass changed the body: %q -> %q", out, again)
		}
	})
}
