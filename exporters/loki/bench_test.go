package loki

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// benchRecords is a batch of n audit records cycling through the event
// types, with distinct ids, in one resource.
func benchRecords(b *testing.B, n int) plog.Logs {
	events := testEvents(b)
	ld, sl := newLogs("mini-chat")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		appendEvent(b, sl, withFields(b, events[i%len(events)], map[string]any{"chat_id": id, "turn_id": id}))
	}
	return ld
}

func benchBuilder() *batchBuilder {
	cfg := createDefaultConfig().(*Config)
	return &batchBuilder{
		labels:     compileMappings(cfg.Labels),
		metadata:   compileMappings(cfg.StructuredMetadata),
		lineFormat: LineFormatJSON,
	}
}

// BenchmarkEncodePush measures the wire encoding alone, per record, of a
// 1000-record push: protobuf + snappy against Loki's JSON.
func BenchmarkEncodePush(b *testing.B) {
	const n = 1000
	pushes, _ := benchBuilder().build(benchRecords(b, n), time.Now())
	streams := pushes[0].streams
	encoders := []struct {
		name string
		fn   func() []byte
	}{
		{"protobuf+snappy", func() []byte { return encodeProtobufPush(streams) }},
		{"json", func() []byte { return encodeJSONPush(nil, streams) }},
	}
	for _, enc := range encoders {
		b.Run(enc.name, func(b *testing.B) {
			size := 0
			b.ReportAllocs()
			for b.Loop() {
				size = len(enc.fn())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			b.ReportMetric(float64(size)/n, "bytes/record")
		})
	}
}

// BenchmarkBuildAndEncode adds what precedes encoding: tenant, labels,
// structured metadata and the JSON line of each record.
func BenchmarkBuildAndEncode(b *testing.B) {
	const n = 1000
	ld := benchRecords(b, n)
	for _, enc := range []Encoding{EncodingProtobuf, EncodingJSON} {
		for _, lf := range []LineFormat{LineFormatJSON, LineFormatLogfmt} {
			b.Run(string(enc)+"/line="+string(lf), func(b *testing.B) {
				bb := benchBuilder()
				bb.lineFormat = lf
				b.ReportAllocs()
				for b.Loop() {
					pushes, _ := bb.build(ld, time.Now())
					for _, tp := range pushes {
						if enc == EncodingJSON {
							encodeJSONPush(nil, tp.streams)
						} else {
							encodeProtobufPush(tp.streams)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			})
		}
	}
}
