package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelaudit/otelaudit/internal/testbin"
	"github.com/otelaudit/otelaudit/processors/redact"
	"github.com/otelaudit/otelaudit/redaction"
)

// otelauditBin is the real binary, built once by TestMain.
var otelauditBin string

func TestMain(m *testing.M) { testbin.Main(m.Run, ".", &otelauditBin) }

const (
	cliJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	cliAWSKey = "AKIAZ7Q3LMNB4XK2PW5R"
	cliOpenAI = "sk-proj-4fQ9xT2bL7mN1pR8sV3wY6zA0cE5gH2jK9uD"
)

type runResult struct {
	stdout, stderr string
	exitCode       int
}

// runCLI runs the built binary with stdin and returns what it wrote and its exit code.
func runCLI(t *testing.T, stdin string, env []string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, otelauditBin, append([]string{"redact"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		require.True(t, ok, "running otelaudit redact: %v", err)
		res.exitCode = exitErr.ExitCode()
	}
	return res
}

// sampleTexts are prompts in the shapes the processor meets, secrets and look-alikes mixed.
func sampleTexts() []string {
	return []string{
		"",
		"nothing to see here, the task-force met on Monday.\n",
		"curl -H 'Authorization: Bearer " + cliJWT + "' https://api.example.com\n",
		"OPENAI_API_KEY=" + cliOpenAI + "\nAWS_ACCESS_KEY_ID=" + cliAWSKey + "\n",
		`{"api_key": "` + cliOpenAI + `", "note": "héllo wörld"}`,
		"password=Tr0ub4dor3x and more",
		strings.Repeat("long chat text é ", 700) + cliAWSKey, // over 8 KiB: cut, and the key is beyond the cut
	}
}

// processorOutput runs text through the real redact processor as a string attribute (a string body
// would be parsed when it holds JSON; the command treats all input as text).
func processorOutput(t *testing.T, text string) string {
	t.Helper()
	f := redact.NewFactory()
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	require.NoError(t, err)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes().PutStr("text", text)
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	require.NoError(t, p.Shutdown(context.Background()))
	v, ok := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("text")
	require.True(t, ok)
	return v.Str()
}

func TestRedactPlain(t *testing.T) {
	res := runCLI(t, "key "+cliAWSKey+" and jwt "+cliJWT+"\n", nil)
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, "key [REDACTED_AWS_ACCESS_KEY_ID] and jwt [REDACTED_JWT]\n", res.stdout)
	assert.Empty(t, res.stderr)
}

func TestRedactPlainMatchesProcessor(t *testing.T) {
	for i, text := range sampleTexts() {
		res := runCLI(t, text, nil)
		require.Equal(t, 0, res.exitCode, res.stderr)
		assert.Equal(t, processorOutput(t, text), res.stdout, "sample %d", i)
		assert.NotContains(t, res.stdout, cliAWSKey, "sample %d", i)
		assert.NotContains(t, res.stdout, cliOpenAI, "sample %d", i)
		assert.NotContains(t, res.stdout, cliJWT, "sample %d", i)
		if len(text) > redaction.DefaultMaxFieldBytes {
			assert.True(t, strings.HasSuffix(res.stdout, redaction.TruncationMarker))
			assert.LessOrEqual(t, len(res.stdout), redaction.DefaultMaxFieldBytes+len(redaction.TruncationMarker))
		}
	}
	clean := sampleTexts()[1]
	assert.Equal(t, clean, runCLI(t, clean, nil).stdout, "clean text passes byte for byte")
}

type jsonlLine struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
}

func parseJSONLOutput(t *testing.T, out string) []jsonlLine {
	t.Helper()
	var lines []jsonlLine
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		require.True(t, json.Valid([]byte(l)), l)
		var jl jsonlLine
		require.NoError(t, json.Unmarshal([]byte(l), &jl))
		lines = append(lines, jl)
	}
	return lines
}

func TestRedactJSONL(t *testing.T) {
	ids := []string{`1`, `"a-string"`, `{"case": [1, 2], "k": "v"}`, `null`, `[3,"x"]`, `-2.5e3`, `true`}
	texts := sampleTexts()
	var in strings.Builder
	for i, text := range texts {
		enc, err := json.Marshal(text)
		require.NoError(t, err)
		fmt.Fprintf(&in, `{"text": %s, "id": %s}`, enc, ids[i%len(ids)])
		if i == 2 {
			in.WriteString("\r\n\n   \n") // CRLF, then blank lines to skip
		} else {
			in.WriteString("\n")
		}
	}
	in.WriteString(`{"id":"last","text":"no newline at the end ` + cliAWSKey + `"}`)

	res := runCLI(t, in.String(), nil, "--jsonl")
	require.Equal(t, 0, res.exitCode, res.stderr)
	lines := parseJSONLOutput(t, res.stdout)
	require.Len(t, lines, len(texts)+1)
	for i, text := range texts {
		assert.Equal(t, ids[i%len(ids)], string(lines[i].ID), "the id is kept as written")
		assert.Equal(t, processorOutput(t, text), lines[i].Text, "line %d", i+1)
	}
	assert.Equal(t, `"last"`, string(lines[len(texts)].ID))
	assert.Equal(t, "no newline at the end [REDACTED_AWS_ACCESS_KEY_ID]", lines[len(texts)].Text)
	assert.NotContains(t, res.stdout, `\u003c`, "no HTML escaping")
}

func TestRedactJSONLLongLine(t *testing.T) {
	big := strings.Repeat("word ", 2<<20) + cliOpenAI // 10 MiB text, the key at the very end
	res := runCLI(t, `{"id":7,"text":"`+big+`"}`+"\n"+`{"id":8,"text":"`+cliAWSKey+`"}`+"\n", nil, "--jsonl")
	require.Equal(t, 0, res.exitCode, res.stderr)
	lines := parseJSONLOutput(t, res.stdout)
	require.Len(t, lines, 2)
	assert.Equal(t, strings.Repeat("word ", 8192/5)+"wo"+redaction.TruncationMarker, lines[0].Text)
	assert.Equal(t, "[REDACTED_AWS_ACCESS_KEY_ID]", lines[1].Text)
}

func TestRedactJSONLTooLongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	res := runCLI(t, `{"id":1,"text":"ok"}`+"\n"+`{"id":2,"text":"`+strings.Repeat("a", maxJSONLLineBytes)+`"}`+"\n", nil, "--jsonl")
	assert.NotEqual(t, 0, res.exitCode)
	assert.Contains(t, res.stderr, fmt.Sprintf("line 2: longer than %d bytes", maxJSONLLineBytes))
	assert.Equal(t, `{"id":1,"text":"ok"}`+"\n", res.stdout, "lines before the bad one are written")
}

func TestRedactJSONLBadInput(t *testing.T) {
	good := `{"id":1,"text":"fine"}` + "\n"
	tests := []struct{ line, want string }{
		{`{"id":2,"text":"` + cliAWSKey, `line 2: invalid JSON`},
		{`not json ` + cliAWSKey, `line 2: invalid JSON`},
		{`{"id":2}`, `line 2: missing "text"`},
		{`{"text":"` + cliAWSKey + `"}`, `line 2: missing "id"`},
		{`{"id":2,"text":42}`, `line 2: "text" is not a string but a number`},
		{`{"id":2,"text":null}`, `line 2: "text" is not a string but null`},
		{`{"id":2,"text":["` + cliAWSKey + `"]}`, `line 2: "text" is not a string but an array`},
		{`["` + cliAWSKey + `"]`, `line 2: not a JSON object but an array`},
		{`"` + cliAWSKey + `"`, `line 2: not a JSON object but a string`},
		{`null`, `line 2: not a JSON object but null`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			res := runCLI(t, good+tt.line+"\n"+good, nil, "--jsonl")
			assert.NotEqual(t, 0, res.exitCode)
			assert.Contains(t, res.stderr, tt.want)
			assert.NotContains(t, res.stderr, cliAWSKey, "errors never echo input")
			assert.Equal(t, good, res.stdout, "lines before the bad one are written, none after")
		})
	}
}

// TestRedactJSONLStreams checks that each answer comes out while stdin is still open.
func TestRedactJSONLStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, otelauditBin, "redact", "--jsonl")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	out := bufio.NewReader(stdout)
	for i := range 3 {
		_, err := fmt.Fprintf(stdin, `{"id":%d,"text":"k %s"}`+"\n", i, cliAWSKey)
		require.NoError(t, err)
		line, err := out.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf(`{"id":%d,"text":"k [REDACTED_AWS_ACCESS_KEY_ID]"}`+"\n", i), line)
	}
	require.NoError(t, stdin.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.Empty(t, rest)
	require.NoError(t, cmd.Wait())
}

func TestRedactListRules(t *testing.T) {
	res := runCLI(t, "", nil, "--list-rules")
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, strings.Join(redaction.RuleClasses(), "\n")+"\n", res.stdout)
	assert.Len(t, strings.Fields(res.stdout), 9)
}

const testCollectorConfig = `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
processors:
  batch:
  redact/strict:
    max_field_bytes: ${env:TEST_REDACT_MAX}
    extra_rules:
      - name: ticket
        pattern: 'TICKET-[0-9]{4}'
        replacement: '[TICKET]'
  redact/jwt_only:
    rule_classes: [jwt]
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [redact/strict, batch]
      exporters: [debug]
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestRedactConfig(t *testing.T) {
	cfgPath := writeFile(t, "config.yaml", testCollectorConfig)
	env := []string{"TEST_REDACT_MAX=40"}
	text := "TICKET-1234 " + cliAWSKey + " " + strings.Repeat("x", 60)

	res := runCLI(t, text, env, "--config", cfgPath, "--processor", "redact/strict")
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, "[TICKET] [REDACTED_AWS_ACCESS_KEY_ID] xx"+redaction.TruncationMarker, res.stdout)

	res = runCLI(t, text+" "+cliJWT, env, "--config", cfgPath, "--processor", "jwt_only")
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, text+" [REDACTED_JWT]", res.stdout, "only the jwt class is on")

	res = runCLI(t, `{"id":"a","text":"TICKET-9999"}`+"\n", env, "--jsonl", "--config", cfgPath, "--processor", "strict")
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, `{"id":"a","text":"[TICKET]"}`+"\n", res.stdout)

	res = runCLI(t, "", env, "--list-rules", "--config", cfgPath, "--processor", "redact/strict")
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, strings.Join(append(redaction.RuleClasses(), "ticket"), "\n")+"\n", res.stdout)

	single := writeFile(t, "single.yaml", "processors:\n  redact:\n    rule_classes: [aws_access_key_id]\n")
	res = runCLI(t, cliAWSKey+" "+cliJWT, nil, "--config", single)
	require.Equal(t, 0, res.exitCode, res.stderr)
	assert.Equal(t, "[REDACTED_AWS_ACCESS_KEY_ID] "+cliJWT, res.stdout, "the only redact processor is picked")
}

func TestRedactConfigErrors(t *testing.T) {
	cfgPath := writeFile(t, "config.yaml", testCollectorConfig)
	none := writeFile(t, "none.yaml", "processors:\n  batch:\n")
	badPattern := writeFile(t, "bad.yaml", "processors:\n  redact:\n    extra_rules:\n      - name: x\n        pattern: '(unclosed'\n")
	tests := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--config", cfgPath}, []string{"TEST_REDACT_MAX=40"}, "several redact processors (redact/jwt_only, redact/strict): pick one with --processor"},
		{[]string{"--config", cfgPath, "--processor", "redact/nope"}, []string{"TEST_REDACT_MAX=40"}, `--processor "redact/nope": no such redact processor`},
		{[]string{"--config", cfgPath, "--processor", "strict"}, []string{"TEST_REDACT_MAX=0"}, "processors::redact/strict: max_field_bytes: must be greater than 0"},
		{[]string{"--config", none}, nil, "no redact processor in the processors section"},
		{[]string{"--config", badPattern}, nil, "extra_rules[0].pattern: does not compile"},
		{[]string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, nil, "missing.yaml"},
		{[]string{"--processor", "strict"}, nil, "--processor needs --config"},
		{[]string{"extra-arg"}, nil, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			res := runCLI(t, "text", tt.env, tt.args...)
			assert.NotEqual(t, 0, res.exitCode)
			assert.Contains(t, res.stderr, tt.want)
			assert.Empty(t, res.stdout)
		})
	}
}

// TestRedactCommandInProcess covers the command as main wires it, without a child process.
func TestRedactCommandInProcess(t *testing.T) {
	cmd := newRedactCommand()
	var out bytes.Buffer
	cmd.SetIn(strings.NewReader(`{"id":1,"text":"` + cliOpenAI + `"}` + "\n"))
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--jsonl"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, `{"id":1,"text":"[REDACTED_OPENAI_KEY]"}`+"\n", out.String())
}

// TestRedactConfigEmbeddedDefault reads the redact settings of the config compiled into the binary,
// through the distribution's own config providers.
func TestRedactConfigEmbeddedDefault(t *testing.T) {
	res := runCLI(t, "", nil, "--list-rules", "--config", "otelaudit:default")
	require.Equal(t, 0, res.exitCode, res.stderr)
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 1)
	for _, class := range lines[:min(len(lines), 9)] {
		assert.Contains(t, redaction.RuleClasses(), class)
	}
}
