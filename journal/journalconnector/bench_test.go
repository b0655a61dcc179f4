package journalconnector

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
)

// countingSink only counts records, so the benchmarks measure the journal, not a destination.
type countingSink struct{ n atomic.Int64 }

func (s *countingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *countingSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.n.Add(int64(ld.LogRecordCount()))
	return nil
}

// benchIngest sends b.N one-record batches with distinct content (so de-duplication does not
// short-cut the write) from parallel senders into next, and waits until the sink has them all.
func benchIngest(b *testing.B, next consumer.Logs, sink *countingSink) {
	var seq atomic.Int64
	b.SetParallelism(8) // like several concurrent HTTP senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := next.ConsumeLogs(context.Background(), makeLogs("bench", int(seq.Add(1)), 1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for sink.n.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkIngestThroughJournal: sender -> journal (embedded, stored, acknowledged) -> destination.
// Compare with BenchmarkIngestDirect for the cost of durability:
//
//	go test -run '^$' -bench Ingest ./journal/journalconnector/
func BenchmarkIngestThroughJournal(b *testing.B) {
	sink := &countingSink{}
	j := startJournal(b, embedded(b.TempDir()), testConfig(), map[pipeline.ID]consumer.Logs{fileID: sink})
	benchIngest(b, j.conn, sink)
}

// BenchmarkIngestDirect: sender -> destination, no journal.
func BenchmarkIngestDirect(b *testing.B) {
	sink := &countingSink{}
	benchIngest(b, sink, sink)
}
