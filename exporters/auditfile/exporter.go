package auditfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

type fileExporter struct {
	cfg *Config

	mu   sync.Mutex
	file *os.File
	size int64 // bytes known to end in a complete line
	buf  []byte
}

func newFileExporter(cfg *Config) *fileExporter {
	return &fileExporter{cfg: cfg}
}

func (e *fileExporter) start(context.Context, component.Host) error {
	if err := os.MkdirAll(filepath.Dir(e.cfg.Path), 0o700); err != nil {
		return fmt.Errorf("path: cannot create directory: %w", err)
	}
	f, err := os.OpenFile(e.cfg.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("path: cannot open file: %w", err)
	}
	size, err := dropPartialLine(f)
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("path: %w", err)
	}
	e.mu.Lock()
	e.file, e.size = f, size
	e.mu.Unlock()
	return nil
}

// dropPartialLine cuts a last line that has no newline, left by a crash in
// the middle of a write, and returns the file's new size. That batch was
// never reported written, so it is delivered again; keeping the fragment
// would glue it onto the next line and corrupt both.
func dropPartialLine(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	keep := int64(0) // bytes up to and including the last newline
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if n < int(end-start) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep = start + int64(i) + 1
			break
		}
		end = start
	}
	if keep == size {
		return size, nil
	}
	end := keep
	return end, f.Truncate(end)
}

func (e *fileExporter) shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.file == nil {
		return nil
	}
	err := errors.Join(e.file.Sync(), e.file.Close())
	e.file = nil
	return err
}

func (e *fileExporter) consumeLogs(_ context.Context, ld plog.Logs) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.file == nil {
		return errors.New("auditfile: exporter is not started")
	}
	e.buf = AppendLines(e.buf[:0], ld)
	if len(e.buf) == 0 {
		return nil
	}
	if _, err := e.file.Write(e.buf); err != nil {
		// A short write would leave half a line that the next batch glues
		// onto; cut the file back so every line stays whole.
		_ = e.file.Truncate(e.size)
		return fmt.Errorf("auditfile: write: %w", err)
	}
	if e.cfg.FsyncEveryBatch {
		if err := e.file.Sync(); err != nil {
			return fmt.Errorf("auditfile: fsync: %w", err)
		}
	}
	e.size += int64(len(e.buf))
	if cap(e.buf) > 4<<20 {
		e.buf = nil // do not pin one huge batch's buffer forever
	}
	return nil
}

// AppendLines appends one JSON line per log record in ld to dst.
func AppendLines(dst []byte, ld plog.Logs) []byte {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				dst = AppendLine(dst, rl.Resource(), sl.Scope(), sl.LogRecords().At(k))
				dst = append(dst, '\n')
			}
		}
	}
	return dst
}

// AppendLine appends the JSON object of one log record (without newline).
func AppendLine(dst []byte, res pcommon.Resource, scope pcommon.InstrumentationScope, lr plog.LogRecord) []byte {
	dst = append(dst, '{')
	w := fieldWriter{dst: dst}
	if ts := lr.Timestamp(); ts != 0 {
		w.key("timestamp")
		w.dst = appendTime(w.dst, ts)
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		w.key("observed_timestamp")
		w.dst = appendTime(w.dst, ts)
	}
	if name := lr.EventName(); name != "" {
		w.key("event_name")
		w.dst = pdatajson.AppendString(w.dst, name)
	}
	if st := lr.SeverityText(); st != "" {
		w.key("severity_text")
		w.dst = pdatajson.AppendString(w.dst, st)
	}
	if sn := lr.SeverityNumber(); sn != plog.SeverityNumberUnspecified {
		w.key("severity_number")
		w.dst = strconv.AppendInt(w.dst, int64(sn), 10)
	}
	if tid := lr.TraceID(); !tid.IsEmpty() {
		w.key("trace_id")
		w.dst = pdatajson.AppendString(w.dst, tid.String())
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		w.key("span_id")
		w.dst = pdatajson.AppendString(w.dst, sid.String())
	}
	if lr.Attributes().Len() > 0 {
		w.key("attributes")
		w.dst = pdatajson.AppendMap(w.dst, lr.Attributes())
	}
	if res.Attributes().Len() > 0 {
		w.key("resource")
		w.dst = pdatajson.AppendMap(w.dst, res.Attributes())
	}
	if scope.Name() != "" || scope.Version() != "" {
		w.key("scope")
		w.dst = append(w.dst, `{"name":`...)
		w.dst = pdatajson.AppendString(w.dst, scope.Name())
		w.dst = append(w.dst, `,"version":`...)
		w.dst = pdatajson.AppendString(w.dst, scope.Version())
		w.dst = append(w.dst, '}')
	}
	if lr.Body().Type() != pcommon.ValueTypeEmpty {
		w.key("body")
		w.dst = pdatajson.AppendValue(w.dst, lr.Body())
	}
	return append(w.dst, '}')
}

type fieldWriter struct {
	dst []byte
	n   int
}

func (w *fieldWriter) key(k string) {
	if w.n > 0 {
		w.dst = append(w.dst, ',')
	}
	w.n++
	w.dst = append(w.dst, '"')
	w.dst = append(w.dst, k...)
	w.dst = append(w.dst, '"', ':')
}

func appendTime(dst []byte, ts pcommon.Timestamp) []byte {
	dst = append(dst, '"')
	dst = ts.AsTime().UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
