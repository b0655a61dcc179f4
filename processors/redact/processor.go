package redact

import (
	"context"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/redaction"
)

// RecordAttribute is the log record attribute added to every record the processor changed: a map from
// rule class (or extra rule name) to hit count, plus attachments_removed and truncated_fields when
// non-zero. It goes to the attributes, never the body, so the body stays a valid audit event.
const RecordAttribute = "otelaudit.redaction"

type redactProcessor struct {
	engine    *redaction.Engine
	untouched map[string]bool
	forbidden map[string]bool // lower-cased
	metrics   *redactMetrics
}

// tally counts what redaction did, for one record or for a whole batch.
type tally struct {
	hits        redaction.Hits
	attachments int
	truncated   int
}

func (t *tally) add(o *tally) {
	t.hits.Add(o.hits)
	t.attachments += o.attachments
	t.truncated += o.truncated
}

// events grows whenever the text rules, the cut or the attachment rule act.
func (t *tally) events() int { return t.hits.Total() + t.attachments + t.truncated }

func newRedactProcessor(set component.TelemetrySettings, cfg *Config) (*redactProcessor, error) {
	engine, err := cfg.NewEngine()
	if err != nil {
		return nil, err
	}
	metrics, err := newRedactMetrics(set.MeterProvider, cfg.RuleNames())
	if err != nil {
		return nil, err
	}
	p := &redactProcessor{
		engine:    engine,
		untouched: make(map[string]bool, len(cfg.UntouchedKeys)),
		forbidden: make(map[string]bool, len(cfg.ForbiddenKeys)),
		metrics:   metrics,
	}
	for _, k := range cfg.UntouchedKeys {
		p.untouched[k] = true
	}
	for _, k := range cfg.ForbiddenKeys {
		p.forbidden[strings.ToLower(k)] = true
	}
	return p, nil
}

func (p *redactProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var batch tally
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		// Resource and scope attributes are shared by many records: they count in the metrics but do
		// not annotate any single record.
		p.scrubMap(rl.Resource().Attributes(), &batch, true)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			p.scrubMap(sl.Scope().Attributes(), &batch, true)
			lrs := sl.LogRecords()
			for k := range lrs.Len() {
				var t tally
				p.scrubRecord(lrs.At(k), &t)
				batch.add(&t)
			}
		}
	}
	p.metrics.record(ctx, &batch)
	return ld, nil
}

func (p *redactProcessor) scrubRecord(lr plog.LogRecord, t *tally) {
	body := lr.Body()
	if body.Type() == pcommon.ValueTypeStr {
		p.scrubStringBody(body, t)
	} else if p.scrubValue(body, t, true) {
		pcommon.NewValueEmpty().CopyTo(body)
	}
	p.scrubMap(lr.Attributes(), t, true)
	if t.events() > 0 {
		t.annotate(lr.Attributes())
	}
}

// scrubStringBody redacts a string body; JSON text is parsed so that the key rules apply inside it and
// it stays valid JSON after redaction and cutting.
func (p *redactProcessor) scrubStringBody(body pcommon.Value, t *tally) {
	s := body.Str()
	if out, ok := p.scrubJSONText(s, t); ok {
		if out != s {
			body.SetStr(out)
		}
		return
	}
	out, remove := p.scrubString(s, t, true)
	switch {
	case remove:
		pcommon.NewValueEmpty().CopyTo(body)
	case out != s:
		body.SetStr(out)
	}
}

// scrubValue scrubs v in place at any depth and reports whether v itself must be removed.
// textRules is false under untouched keys, where only the attachment rule applies.
func (p *redactProcessor) scrubValue(v pcommon.Value, t *tally, textRules bool) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s := v.Str()
		out, remove := p.scrubString(s, t, textRules)
		if !remove && out != s {
			v.SetStr(out)
		}
		return remove
	case pcommon.ValueTypeBytes:
		t.attachments++
		return true
	case pcommon.ValueTypeMap:
		p.scrubMap(v.Map(), t, textRules)
	case pcommon.ValueTypeSlice:
		v.Slice().RemoveIf(func(e pcommon.Value) bool { return p.scrubValue(e, t, textRules) })
	}
	return false
}

func (p *redactProcessor) scrubMap(m pcommon.Map, t *tally, textRules bool) {
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		remove, childTextRules := p.keyRule(k, t, textRules)
		return remove || p.scrubValue(v, t, childTextRules)
	})
}

// keyRule decides for the value under key k: remove it outright (forbidden key, counted), or scrub it
// with or without the text rules (untouched keys keep their value apart from attachment content).
func (p *redactProcessor) keyRule(k string, t *tally, textRules bool) (remove, childTextRules bool) {
	if p.isForbidden(k) {
		t.attachments++
		return true, false
	}
	return false, textRules && !p.untouched[k]
}

func (p *redactProcessor) isForbidden(k string) bool {
	if p.forbidden[k] {
		return true
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return p.forbidden[strings.ToLower(k)]
		}
	}
	return false
}

// scrubString applies the attachment rule and, when textRules is set, the redaction engine to one string.
func (p *redactProcessor) scrubString(s string, t *tally, textRules bool) (out string, remove bool) {
	if isBase64DataURI(s) {
		t.attachments++
		return "", true
	}
	if !textRules {
		return s, false
	}
	out, hits := p.engine.Redact(s)
	t.hits.Add(hits)
	if hits.Truncated() {
		t.truncated++
	}
	return out, false
}

// isBase64DataURI reports whether s is a whole `data:[<mediatype>][;params];base64,<data>` URI, the way
// images and files get inlined; such a value is attachment content, not text.
func isBase64DataURI(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n")
	const scheme = "data:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return false
	}
	meta, _, found := strings.Cut(s[len(scheme):], ",")
	if !found || strings.ContainsAny(meta, " \t\r\n") {
		return false
	}
	const marker = ";base64"
	return len(meta) >= len(marker) && strings.EqualFold(meta[len(meta)-len(marker):], marker)
}

// annotate adds the tally to the record attribute, summing with counts left by an earlier pass.
func (t *tally) annotate(attrs pcommon.Map) {
	var m pcommon.Map
	if v, ok := attrs.Get(RecordAttribute); ok && v.Type() == pcommon.ValueTypeMap {
		m = v.Map()
	} else {
		m = attrs.PutEmptyMap(RecordAttribute)
	}
	add := func(key string, n int) {
		if n == 0 {
			return
		}
		if cur, ok := m.Get(key); ok && cur.Type() == pcommon.ValueTypeInt {
			cur.SetInt(cur.Int() + int64(n))
			return
		}
		m.PutInt(key, int64(n))
	}
	t.hits.ForEach(add)
	add(attachmentsRemovedKey, t.attachments)
	add(truncatedFieldsKey, t.truncated)
}
