package loki

import (
	"strconv"
	"strings"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

// labelPair is a label or a structured metadata entry.
type labelPair struct {
	name, value string
}

// entry is one Loki log entry.
type entry struct {
	unixNano int64
	line     string
	metadata []labelPair
}

// stream is one Loki stream of a push: a label set and its entries.
type stream struct {
	labels  []labelPair // sorted by name
	key     string      // labels in Loki's `{a="x", b="y"}` form
	entries []entry
}

// labelString renders sorted labels the way Loki (and Prometheus) print
// and parse them; strconv.Quote's escapes are the ones their parser reads.
func labelString(labels []labelPair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.value))
	}
	b.WriteByte('}')
	return b.String()
}

// Field numbers of Loki's push.proto (package logproto), encoded by hand so
// the exporter does not depend on Loki (AGPL):
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                   repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
const (
	fieldPushStreams      protowire.Number = 1
	fieldStreamLabels     protowire.Number = 1
	fieldStreamEntries    protowire.Number = 2
	fieldEntryTimestamp   protowire.Number = 1
	fieldEntryLine        protowire.Number = 2
	fieldEntryMetadata    protowire.Number = 3
	fieldLabelPairName    protowire.Number = 1
	fieldLabelPairValue   protowire.Number = 2
	fieldTimestampSeconds protowire.Number = 1
	fieldTimestampNanos   protowire.Number = 2
)

// All field numbers are below 16, so every tag is one byte.
const tagSize = 1

// encodeProtobufPush returns the snappy block-compressed PushRequest, the
// body Loki expects with Content-Type application/x-protobuf.
func encodeProtobufPush(streams []*stream) []byte {
	return snappy.Encode(nil, marshalPushRequest(nil, streams))
}

// marshalPushRequest appends the PushRequest protobuf encoding of streams to dst.
func marshalPushRequest(dst []byte, streams []*stream) []byte {
	size := 0
	for _, s := range streams {
		size += tagSize + protowire.SizeBytes(streamSize(s))
	}
	if cap(dst)-len(dst) < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	for _, s := range streams {
		dst = protowire.AppendTag(dst, fieldPushStreams, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(streamSize(s)))
		dst = appendString(dst, fieldStreamLabels, s.key)
		for i := range s.entries {
			e := &s.entries[i]
			dst = protowire.AppendTag(dst, fieldStreamEntries, protowire.BytesType)
			dst = protowire.AppendVarint(dst, uint64(entrySize(e)))
			dst = appendEntry(dst, e)
		}
	}
	return dst
}

func streamSize(s *stream) int {
	n := stringFieldSize(s.key)
	for i := range s.entries {
		n += tagSize + protowire.SizeBytes(entrySize(&s.entries[i]))
	}
	return n
}

func entrySize(e *entry) int {
	n := tagSize + protowire.SizeBytes(timestampSize(e.unixNano)) + stringFieldSize(e.line)
	for _, p := range e.metadata {
		n += tagSize + protowire.SizeBytes(labelPairSize(p))
	}
	return n
}

func appendEntry(dst []byte, e *entry) []byte {
	dst = protowire.AppendTag(dst, fieldEntryTimestamp, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(timestampSize(e.unixNano)))
	sec, nanos := splitUnixNano(e.unixNano)
	if sec != 0 {
		dst = protowire.AppendTag(dst, fieldTimestampSeconds, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(sec))
	}
	if nanos != 0 {
		dst = protowire.AppendTag(dst, fieldTimestampNanos, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(nanos))
	}
	dst = appendString(dst, fieldEntryLine, e.line)
	for _, p := range e.metadata {
		dst = protowire.AppendTag(dst, fieldEntryMetadata, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(labelPairSize(p)))
		dst = appendString(dst, fieldLabelPairName, p.name)
		dst = appendString(dst, fieldLabelPairValue, p.value)
	}
	return dst
}

// splitUnixNano gives google.protobuf.Timestamp's seconds and non-negative nanos.
func splitUnixNano(ns int64) (sec int64, nanos int32) {
	sec, rem := ns/1e9, ns%1e9
	if rem < 0 {
		sec--
		rem += 1e9
	}
	return sec, int32(rem)
}

func timestampSize(ns int64) int {
	sec, nanos := splitUnixNano(ns)
	n := 0
	if sec != 0 {
		n += tagSize + protowire.SizeVarint(uint64(sec))
	}
	if nanos != 0 {
		n += tagSize + protowire.SizeVarint(uint64(nanos))
	}
	return n
}

func labelPairSize(p labelPair) int {
	return stringFieldSize(p.name) + stringFieldSize(p.value)
}

// Proto3 leaves empty strings out of the encoding.
func stringFieldSize(s string) int {
	if s == "" {
		return 0
	}
	return tagSize + protowire.SizeBytes(len(s))
}

func appendString(dst []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

// encodeJSONPush appends Loki's JSON push body:
// {"streams":[{"stream":{labels},"values":[["<unix ns>","<line>",{metadata}]]}]}.
func encodeJSONPush(dst []byte, streams []*stream) []byte {
	dst = append(dst, `{"streams":[`...)
	for i, s := range streams {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"stream":`...)
		dst = appendJSONPairs(dst, s.labels)
		dst = append(dst, `,"values":[`...)
		for j := range s.entries {
			e := &s.entries[j]
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `["`...)
			dst = strconv.AppendInt(dst, e.unixNano, 10)
			dst = append(dst, `",`...)
			dst = pdatajson.AppendString(dst, e.line)
			if len(e.metadata) > 0 {
				dst = append(dst, ',')
				dst = appendJSONPairs(dst, e.metadata)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, "]}"...)
}

func appendJSONPairs(dst []byte, pairs []labelPair) []byte {
	dst = append(dst, '{')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = pdatajson.AppendString(dst, p.name)
		dst = append(dst, ':')
		dst = pdatajson.AppendString(dst, p.value)
	}
	return append(dst, '}')
}
