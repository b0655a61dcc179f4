package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbeddedDefaultConfigStarts runs `otelaudit` with no flags in an empty
// directory, as the README's first command does, sends one event and finds
// it in ./otelaudit-data/audit.jsonl. It uses the default ports, so it is
// the one test that must not run beside another otelaudit.
func TestEmbeddedDefaultConfigStarts(t *testing.T) {
	dir := t.TempDir()
	p := startOtelaudit(t, dir, nil, nil, "localhost:4317", "localhost:4318", "localhost:4319", "localhost:8888")

	ev, err := os.ReadFile(filepath.Join("..", "auditevent", "testdata", "turn_delete_full.json"))
	require.NoError(t, err)
	status, body := postJSON(t, "http://localhost:4319/v1/audit/turn-delete", "application/json", ev)
	require.Equal(t, http.StatusAccepted, status, body)

	lines := waitForLines(t, filepath.Join(dir, "otelaudit-data", "audit.jsonl"), 1, p)
	assert.Equal(t, "mini_chat.audit.turn_delete", lines[0]["event_name"])

	resp, err := http.Get("http://localhost:8888/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	st, err := os.Stat(filepath.Join(dir, "otelaudit-data"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
}

func TestValidateCommand(t *testing.T) {
	for name, args := range map[string][]string{
		"embedded default": {"validate"},
		"config.yaml":      {"validate", "--config", absPath(t, filepath.Join("..", "config.yaml"))},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(binary, args...)
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "%s", out)
		})
	}

	// The commented Loki destination of config.yaml is valid once switched on.
	raw, err := os.ReadFile(filepath.Join("..", "config.yaml"))
	require.NoError(t, err)
	withLoki := filepath.Join(t.TempDir(), "with-loki.yaml")
	writeFile(t, withLoki, uncommentLoki(t, string(raw)))
	out, err := exec.Command(binary, "validate", "--config", withLoki).CombinedOutput()
	require.NoError(t, err, "%s", out)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "exporters:\n  auditfile:\nservice:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [auditfile]\nreceivers:\n  otlp:\n    protocols:\n      http:\n")
	out, err = exec.Command(binary, "validate", "--config", bad).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "path: is required")
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

// uncommentLoki switches on config.yaml's commented loki exporter and its
// pipeline, leaving the alternatives inside the block commented.
func uncommentLoki(t *testing.T, cfg string) string {
	t.Helper()
	start := strings.Index(cfg, "  # loki:\n")
	end := strings.Index(cfg, "\nservice:")
	require.True(t, start > 0 && end > start, "config.yaml has no commented loki block")
	lines := strings.Split(cfg[start:end], "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "  # loki:"):
			lines[i] = "  loki:"
		case strings.HasPrefix(l, "  #   #"):
			lines[i] = "    #" + l[len("  #   #"):]
		case strings.HasPrefix(l, "  #   "):
			lines[i] = "    " + l[len("  #   "):]
		}
	}
	out := cfg[:start] + strings.Join(lines, "\n") + cfg[end:]
	pipeline := "    # logs/loki:\n    #   receivers: [journal]\n    #   exporters: [loki]"
	require.Contains(t, out, pipeline)
	return strings.Replace(out, pipeline, "    logs/loki:\n      receivers: [journal]\n      exporters: [loki]", 1)
}

// TestCollectorCommandLine checks that the collector's own command line works
// on the distribution: components, --set and ${env:X} expansion.
func TestCollectorCommandLine(t *testing.T) {
	out, err := exec.Command(binary, "components").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, name := range []string{"chataudit", "otlp", "redact", "memory_limiter", "batch", "auditfile", "loki", "debug", "otlp_http", "jetstream", "journal"} {
		assert.Contains(t, string(out), "name: "+name, "components lists %s", name)
	}

	cfg := filepath.Join(t.TempDir(), "env.yaml")
	writeFile(t, cfg, `
receivers:
  chataudit:
    endpoint: 127.0.0.1:0
exporters:
  auditfile:
    path: ${env:OTELAUDIT_TEST_PATH}
service:
  pipelines:
    logs:
      receivers: [chataudit]
      exporters: [auditfile]
`)
	cmd := exec.Command(binary, "validate", "--config", cfg)
	cmd.Env = append(os.Environ(), "OTELAUDIT_TEST_PATH=")
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "an empty path from the environment must fail validation")
	assert.Contains(t, string(out), "path: is required")

	cmd = exec.Command(binary, "validate", "--config", cfg)
	cmd.Env = append(os.Environ(), "OTELAUDIT_TEST_PATH=/tmp/x.jsonl")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd = exec.Command(binary, "validate", "--config", cfg, "--set", "exporters::auditfile::path=")
	cmd.Env = append(os.Environ(), "OTELAUDIT_TEST_PATH=/tmp/x.jsonl")
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "--set overrides the file")
	assert.Contains(t, string(out), "path: is required")
}
