package auditfile

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func startExporter(t *testing.T, cfg *Config) exporter.Logs {
	t.Helper()
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(componentType), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

func sampleLogs(n int, body string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "mini-chat")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("otelaudit/test")
	sl.Scope().SetVersion("1.2.3")
	for i := 0; i < n; i++ {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 3, 2, 10, 15, 0, 123456789, time.UTC)))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 3, 2, 10, 15, 1, 0, time.UTC)))
		lr.SetEventName("mini_chat.audit.turn_delete")
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
		lr.SetTraceID(pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36})
		lr.Attributes().PutStr("mini_chat.event_type", "turn_delete")
		lr.Attributes().PutInt("index", int64(i))
		m := lr.Body().SetEmptyMap()
		m.PutStr("event_type", "turn_delete")
		m.PutStr("text", body)
		m.PutEmptySlice("list").AppendEmpty().SetDouble(1.5)
		m.PutEmptyMap("nested").PutBool("ok", true)
	}
	return ld
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestWritesOneJSONLinePerRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "audit.jsonl")
	exp := startExporter(t, &Config{Path: path})
	require.NoError(t, exp.ConsumeLogs(context.Background(), sampleLogs(3, `<script>&"quoted"</script>`)))
	require.NoError(t, exp.Shutdown(context.Background()))

	lines := readLines(t, path)
	require.Len(t, lines, 3)
	for i, l := range lines {
		assert.Equal(t, "2026-03-02T10:15:00.123456789Z", l["timestamp"])
		assert.Equal(t, "2026-03-02T10:15:01Z", l["observed_timestamp"])
		assert.Equal(t, "mini_chat.audit.turn_delete", l["event_name"])
		assert.Equal(t, "INFO", l["severity_text"])
		assert.EqualValues(t, 9, l["severity_number"])
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", l["trace_id"])
		assert.NotContains(t, l, "span_id")
		assert.Equal(t, map[string]any{"mini_chat.event_type": "turn_delete", "index": float64(i)}, l["attributes"])
		assert.Equal(t, map[string]any{"service.name": "mini-chat"}, l["resource"])
		assert.Equal(t, map[string]any{"name": "otelaudit/test", "version": "1.2.3"}, l["scope"])
		assert.Equal(t, map[string]any{
			"event_type": "turn_delete",
			"text":       `<script>&"quoted"</script>`,
			"list":       []any{1.5},
			"nested":     map[string]any{"ok": true},
		}, l["body"], "the body is a JSON object, not an escaped string")
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"text":"<script>&\"quoted\"</script>"`, "no HTML escaping in the file")
}

func TestCreatesPrivateDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "audit.jsonl")
	exp := startExporter(t, &Config{Path: path})
	require.NoError(t, exp.Shutdown(context.Background()))

	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	st, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestAppendsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for round := 0; round < 2; round++ {
		exp := startExporter(t, &Config{Path: path, FsyncEveryBatch: round == 1})
		require.NoError(t, exp.ConsumeLogs(context.Background(), sampleLogs(2, "x")))
		require.NoError(t, exp.ConsumeLogs(context.Background(), sampleLogs(1, "y")))
		require.NoError(t, exp.Shutdown(context.Background()))
	}
	assert.Len(t, readLines(t, path), 6)
}

func TestEachBatchIsOnDiskWhenConsumeReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	exp := startExporter(t, &Config{Path: path})
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	for i := 1; i <= 3; i++ {
		require.NoError(t, exp.ConsumeLogs(context.Background(), sampleLogs(1, "z")))
		assert.Len(t, readLines(t, path), i, "a batch must be flushed before ConsumeLogs returns")
	}
}

func TestUnwritableDirectoryFailsAtStart(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores directory permissions; use a path under a regular file instead.
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(componentType), &Config{Path: filepath.Join(file, "audit.jsonl")})
		require.NoError(t, err)
		err = exp.Start(context.Background(), componenttest.NewNopHost())
		require.ErrorContains(t, err, "path: cannot")
		return
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(componentType), &Config{Path: filepath.Join(dir, "x", "audit.jsonl")})
	require.NoError(t, err)
	require.ErrorContains(t, exp.Start(context.Background(), componenttest.NewNopHost()), "path: cannot")
}

func TestEmptyFieldsAreOmitted(t *testing.T) {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("plain")
	line := string(AppendLines(nil, ld))
	assert.Equal(t, `{"body":"plain"}`+"\n", line)
}

func BenchmarkAppendLines(b *testing.B) {
	ld := sampleLogs(100, "The quarterly report is attached; please summarise the key risks for the board.")
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendLines(buf[:0], ld)
	}
	b.SetBytes(int64(len(buf)))
}

func TestStartDropsALineCutShortByACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	whole := `{"body":"complete"}` + "\n"
	require.NoError(t, os.WriteFile(path, []byte(whole+`{"body":"half wri`), 0o600))

	exp := startExporter(t, &Config{Path: path})
	require.NoError(t, exp.ConsumeLogs(context.Background(), sampleLogs(1, "after restart")))
	require.NoError(t, exp.Shutdown(context.Background()))

	lines := readLines(t, path)
	require.Len(t, lines, 2, "the fragment is gone and the new line is whole")
	assert.Equal(t, "complete", lines[0]["body"])
	assert.Equal(t, "after restart", lines[1]["body"].(map[string]any)["text"])
}

func TestStartKeepsAFileWithoutNewlineEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(`{"partial`), 0o600))
	exp := startExporter(t, &Config{Path: path})
	require.NoError(t, exp.Shutdown(context.Background()))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, raw)
}
