package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchSenders is how many clients post concurrently, like a small fleet of
// chat-service replicas draining their outboxes.
const benchSenders = 8

// BenchmarkPipeline measures records/s and the otelaudit process's CPU per
// record from the native receiver to the file sink, one event per request,
// with the journal in between and without it. scripts/bench-journal.sh
// reports the journal/direct ratios.
func BenchmarkPipeline(b *testing.B) { benchJournalAgainstDirect(b, 1) }

// BenchmarkPipelineBatched is BenchmarkPipeline with NDJSON requests of 50
// envelopes, so that HTTP handling no longer dominates the cost of a record.
func BenchmarkPipelineBatched(b *testing.B) { benchJournalAgainstDirect(b, 50) }

func benchJournalAgainstDirect(b *testing.B, batch int) {
	b.Run("journal", func(b *testing.B) { benchPipeline(b, false, batch) })
	b.Run("direct", func(b *testing.B) { benchPipeline(b, true, batch) })
}

// benchPipeline starts one otelaudit process, with the journal or direct
// (the same receiver, processor, file sink and telemetry, no journal), sends b.N events in requests of batch events, and times them until
// the file sink holds every one. Start-up is neither timed nor counted as CPU.
func benchPipeline(b *testing.B, direct bool, batch int) {
	s := newJournalSetup(b)
	s.direct = direct
	p := s.start(b)
	startCPU, err := processCPU(p.cmd.Process.Pid)
	if err != nil {
		b.Fatalf("reading otelaudit's CPU time at start: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	snd := &sender{url: "http://" + s.nativeAddr, run: newRunTag()}
	sink := &lineCounter{path: s.dir + "/" + s.filePath}

	b.ResetTimer()
	if err := snd.sendAll(ctx, 0, b.N, batch, benchSenders); err != nil {
		b.Fatalf("sending: %v\n%s", err, p.stderr.String())
	}
	for sink.lines(b) < b.N {
		if ctx.Err() != nil {
			b.Fatalf("the file sink has %d lines, want %d:\n%s", sink.n, b.N, p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()

	p.stop()
	usage := p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	if seen := len(requestIDs(b, s.dir+"/"+s.filePath)); seen != b.N {
		b.Fatalf("the file sink holds %d distinct request_ids, want %d", seen, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64((usage-startCPU).Microseconds())/float64(b.N), "cpu-µs/record")
	b.ReportMetric(0, "ns/op") // the inverse of records/s, and not per operation
}

// lineCounter counts the complete lines of a growing file, reading only what
// was appended since the last call: the benchmark polls it while otelaudit
// works, so it must cost little CPU.
type lineCounter struct {
	path string
	off  int64
	n    int
}

func (c *lineCounter) lines(b *testing.B) int {
	f, err := os.Open(c.path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		n, err := f.ReadAt(buf, c.off)
		chunk := buf[:n]
		if last := bytes.LastIndexByte(chunk, '\n'); last >= 0 {
			c.n += bytes.Count(chunk[:last+1], []byte{'\n'})
			c.off += int64(last + 1)
		}
		if err != nil && err != io.EOF {
			b.Fatal(err)
		}
		if n < len(buf) {
			return c.n
		}
	}
}

// processCPU is the user+system CPU time a running process has used so far,
// from /proc/<pid>/stat (Linux), in the clock ticks of USER_HZ = 100.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses; the fields after
	// its closing parenthesis start at field 3 (state).
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100), nil
}
