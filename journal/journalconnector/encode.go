package journalconnector

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// encodedBatch is one journal message: an OTLP protobuf logs payload and its de-duplication id.
type encodedBatch struct {
	data    []byte
	msgID   string
	records int
}

var (
	marshaler   plog.ProtoMarshaler
	unmarshaler plog.ProtoUnmarshaler
)

// encodeBatches turns ld into as few journal messages as fit maxPayload bytes each: normally
// one; a batch too big for one message is halved until every part fits. The parts' ids are
// deterministic, so a retried request re-creates the same parts and JetStream drops repeats.
func encodeBatches(ld plog.Logs, maxPayload int) ([]encodedBatch, error) {
	data, err := marshaler.MarshalLogs(ld)
	if err != nil {
		return nil, consumererror.NewPermanent(fmt.Errorf("journal: encode batch: %w", err))
	}
	n := ld.LogRecordCount()
	if len(data) <= maxPayload {
		return []encodedBatch{{data: data, msgID: batchID(ld), records: n}}, nil
	}
	if n <= 1 {
		return nil, consumererror.NewPermanent(fmt.Errorf(
			"journal: a log record of %d bytes exceeds the journal's maximum message size of %d bytes (NATS max_payload)",
			len(data), maxPayload))
	}
	first, err := encodeBatches(sliceLogs(ld, 0, n/2), maxPayload)
	if err != nil {
		return nil, err
	}
	rest, err := encodeBatches(sliceLogs(ld, n/2, n), maxPayload)
	if err != nil {
		return nil, err
	}
	return append(first, rest...), nil
}

// sliceLogs copies the records with flat index in [from, to) together with their resource and scope.
func sliceLogs(ld plog.Logs, from, to int) plog.Logs {
	out := plog.NewLogs()
	idx := 0
	for _, rl := range ld.ResourceLogs().All() {
		var outRL plog.ResourceLogs
		haveRL := false
		for _, sl := range rl.ScopeLogs().All() {
			var outSL plog.ScopeLogs
			haveSL := false
			for _, lr := range sl.LogRecords().All() {
				if idx >= from && idx < to {
					if !haveRL {
						outRL, haveRL = out.ResourceLogs().AppendEmpty(), true
						rl.Resource().CopyTo(outRL.Resource())
						outRL.SetSchemaUrl(rl.SchemaUrl())
					}
					if !haveSL {
						outSL, haveSL = outRL.ScopeLogs().AppendEmpty(), true
						sl.Scope().CopyTo(outSL.Scope())
						outSL.SetSchemaUrl(sl.SchemaUrl())
					}
					lr.CopyTo(outSL.LogRecords().AppendEmpty())
				}
				idx++
			}
		}
	}
	return out
}

// batchID is the JetStream message id of a batch: a SHA-256 over everything in it except the
// records' observed timestamps, which a receiver sets anew when a client retries a request.
func batchID(ld plog.Logs) string {
	h := &hasher{h: sha256.New()}
	for _, rl := range ld.ResourceLogs().All() {
		h.str(rl.SchemaUrl())
		h.mapping(rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			h.str(sl.SchemaUrl())
			h.str(sl.Scope().Name())
			h.str(sl.Scope().Version())
			h.mapping(sl.Scope().Attributes())
			for _, lr := range sl.LogRecords().All() {
				h.tag('r')
				h.u64(uint64(lr.Timestamp()))
				h.str(lr.EventName())
				h.u64(uint64(lr.SeverityNumber()))
				h.str(lr.SeverityText())
				h.value(lr.Body())
				h.mapping(lr.Attributes())
				h.u64(uint64(lr.Flags()))
				tid, sid := lr.TraceID(), lr.SpanID()
				h.h.Write(tid[:])
				h.h.Write(sid[:])
			}
		}
	}
	return hex.EncodeToString(h.h.Sum(nil))
}

// hasher writes values unambiguously (type tag, length prefixes) into a hash.
type hasher struct {
	h   hash.Hash
	buf [9]byte
}

// tag and str write through h.buf and io.WriteString: converting to a fresh []byte for every
// value would allocate once per string of every record on the ingest path.
func (h *hasher) tag(t byte) {
	h.buf[0] = t
	h.h.Write(h.buf[:1])
}

func (h *hasher) u64(v uint64) {
	binary.BigEndian.PutUint64(h.buf[:8], v)
	h.h.Write(h.buf[:8])
}

func (h *hasher) str(s string) {
	h.u64(uint64(len(s)))
	_, _ = io.WriteString(h.h, s)
}

func (h *hasher) mapping(m pcommon.Map) {
	h.tag('m')
	h.u64(uint64(m.Len()))
	for k, v := range m.All() {
		h.str(k)
		h.value(v)
	}
}

func (h *hasher) value(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		h.tag('s')
		h.str(v.Str())
	case pcommon.ValueTypeInt:
		h.tag('i')
		h.u64(uint64(v.Int()))
	case pcommon.ValueTypeDouble:
		h.tag('d')
		h.u64(math.Float64bits(v.Double()))
	case pcommon.ValueTypeBool:
		h.tag('b')
		if v.Bool() {
			h.tag(1)
		} else {
			h.tag(0)
		}
	case pcommon.ValueTypeMap:
		h.mapping(v.Map())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		h.tag('a')
		h.u64(uint64(s.Len()))
		for _, e := range s.All() {
			h.value(e)
		}
	case pcommon.ValueTypeBytes:
		h.tag('y')
		b := v.Bytes().AsRaw()
		h.u64(uint64(len(b)))
		h.h.Write(b)
	default:
		h.tag('e')
	}
}
