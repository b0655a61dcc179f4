package loki

import (
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// maxLabelValueBytes keeps a label value under Loki's default
// max_label_value_length (2048), which would otherwise reject the whole
// stream; the full value is still in the line.
const maxLabelValueBytes = 1024

// unknownServiceLabel is the label set of records no label mapping matched:
// Loki refuses streams without labels.
var unknownServiceLabel = []labelPair{{name: "service_name", value: "unknown_service"}}

// recordRef locates a log record in a plog.Logs, to rebuild the records of
// a failed push for retry.
type recordRef struct {
	resource, scope, record int
}

// tenantPush is everything one push request carries: one tenant's streams.
type tenantPush struct {
	tenant   string // "" when tenancy is off
	streams  []*stream
	byKey    map[string]*stream
	refs     []recordRef
	nEntries int
}

// fieldMapping is a validated FieldMapping with its Loki name resolved.
type fieldMapping struct {
	from FieldSource
	key  string
	name string
}

func compileMappings(ms []FieldMapping) []fieldMapping {
	out := make([]fieldMapping, len(ms))
	for i, m := range ms {
		out[i] = fieldMapping{from: m.From, key: m.Key, name: m.lokiName()}
	}
	return out
}

// value reads the mapping's value from a record; absent and empty values
// give ok == false (Loki drops empty labels anyway).
func (m fieldMapping) value(resource pcommon.Map, lr plog.LogRecord) (string, bool) {
	var s string
	switch m.from {
	case FromResource, FromAttribute:
		attrs := resource
		if m.from == FromAttribute {
			attrs = lr.Attributes()
		}
		v, ok := attrs.Get(m.key)
		if !ok {
			return "", false
		}
		s = v.AsString()
	case FromRecord:
		switch m.key {
		case RecordFieldTraceID:
			if id := lr.TraceID(); !id.IsEmpty() {
				s = id.String()
			}
		case RecordFieldSpanID:
			if id := lr.SpanID(); !id.IsEmpty() {
				s = id.String()
			}
		case RecordFieldEventName:
			s = lr.EventName()
		case RecordFieldSeverityText:
			s = lr.SeverityText()
		}
	}
	return s, s != ""
}

// batchBuilder turns a plog.Logs into one push per tenant.
type batchBuilder struct {
	labels     []fieldMapping
	metadata   []fieldMapping
	tenants    *tenantResolver // nil: tenancy off
	lineFormat LineFormat
}

// fallbackCounts counts records sent to the fallback tenant, by reason.
type fallbackCounts map[string]int

// build groups ld's records by tenant then stream, each stream's entries
// in timestamp order. Records without Timestamp use ObservedTimestamp,
// then now. Tenants come out sorted, so pushes go out in a stable order.
func (b *batchBuilder) build(ld plog.Logs, now time.Time) ([]*tenantPush, fallbackCounts) {
	byTenant := map[string]*tenantPush{}
	var fallbacks fallbackCounts
	var labelBuf []labelPair
	for ri, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		for si, sl := range rl.ScopeLogs().All() {
			for li, lr := range sl.LogRecords().All() {
				tenant := ""
				if b.tenants != nil {
					var reason string
					tenant, reason = b.tenants.resolve(res, lr)
					if reason != "" {
						if fallbacks == nil {
							fallbacks = fallbackCounts{}
						}
						fallbacks[reason]++
					}
				}
				tp := byTenant[tenant]
				if tp == nil {
					tp = &tenantPush{tenant: tenant, byKey: map[string]*stream{}}
					byTenant[tenant] = tp
				}

				labelBuf = b.labelPairs(labelBuf[:0], res, lr)
				key := labelString(labelBuf)
				s := tp.byKey[key]
				if s == nil {
					s = &stream{labels: slices.Clone(labelBuf), key: key}
					tp.byKey[key] = s
					tp.streams = append(tp.streams, s)
				}
				s.entries = append(s.entries, entry{
					unixNano: entryTime(lr, now),
					line:     formatLine(lr, b.lineFormat),
					metadata: b.metadataPairs(res, lr),
				})
				tp.refs = append(tp.refs, recordRef{ri, si, li})
				tp.nEntries++
			}
		}
	}

	pushes := make([]*tenantPush, 0, len(byTenant))
	for _, tp := range byTenant {
		for _, s := range tp.streams {
			slices.SortStableFunc(s.entries, func(x, y entry) int {
				switch {
				case x.unixNano < y.unixNano:
					return -1
				case x.unixNano > y.unixNano:
					return 1
				}
				return 0
			})
		}
		pushes = append(pushes, tp)
	}
	slices.SortFunc(pushes, func(x, y *tenantPush) int { return strings.Compare(x.tenant, y.tenant) })
	return pushes, fallbacks
}

func (b *batchBuilder) labelPairs(dst []labelPair, res pcommon.Map, lr plog.LogRecord) []labelPair {
	for _, m := range b.labels {
		if v, ok := m.value(res, lr); ok {
			dst = append(dst, labelPair{name: m.name, value: labelValue(v)})
		}
	}
	if len(dst) == 0 {
		return append(dst, unknownServiceLabel...)
	}
	slices.SortFunc(dst, func(x, y labelPair) int { return strings.Compare(x.name, y.name) })
	return dst
}

func (b *batchBuilder) metadataPairs(res pcommon.Map, lr plog.LogRecord) []labelPair {
	var out []labelPair
	for _, m := range b.metadata {
		if v, ok := m.value(res, lr); ok {
			if out == nil {
				out = make([]labelPair, 0, len(b.metadata))
			}
			out = append(out, labelPair{name: m.name, value: strings.ToValidUTF8(v, "\uFFFD")})
		}
	}
	return out
}

// labelValue makes v a valid Loki label value: valid UTF-8, cut to
// maxLabelValueBytes on a character boundary.
func labelValue(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) <= maxLabelValueBytes {
		return v
	}
	cut := maxLabelValueBytes
	for cut > 0 && !isRuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func entryTime(lr plog.LogRecord, now time.Time) int64 {
	if ts := lr.Timestamp(); ts != 0 {
		return int64(ts)
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return int64(ts)
	}
	return now.UnixNano()
}

// subsetLogs copies the referenced records of ld, with their resources and
// scopes, into a new plog.Logs (the part of a batch to retry).
func subsetLogs(ld plog.Logs, refs []recordRef) plog.Logs {
	refs = slices.Clone(refs)
	slices.SortFunc(refs, func(x, y recordRef) int {
		if x.resource != y.resource {
			return x.resource - y.resource
		}
		if x.scope != y.scope {
			return x.scope - y.scope
		}
		return x.record - y.record
	})
	out := plog.NewLogs()
	var rlOut plog.ResourceLogs
	var slOut plog.ScopeLogs
	lastRes, lastScope := -1, -1
	for _, r := range refs {
		rl := ld.ResourceLogs().At(r.resource)
		if r.resource != lastRes {
			rlOut = out.ResourceLogs().AppendEmpty()
			rl.Resource().CopyTo(rlOut.Resource())
			rlOut.SetSchemaUrl(rl.SchemaUrl())
			lastRes, lastScope = r.resource, -1
		}
		sl := rl.ScopeLogs().At(r.scope)
		if r.scope != lastScope {
			slOut = rlOut.ScopeLogs().AppendEmpty()
			sl.Scope().CopyTo(slOut.Scope())
			slOut.SetSchemaUrl(sl.SchemaUrl())
			lastScope = r.scope
		}
		sl.LogRecords().At(r.record).CopyTo(slOut.LogRecords().AppendEmpty())
	}
	return out
}
