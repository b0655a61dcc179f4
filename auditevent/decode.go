package auditevent

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// envelopeTypeKey is the member name of the envelope tag.
const envelopeTypeKey = "type"

// DecodeEnvelope decodes one envelope: an event's members plus the `type` tag, which is required
// and must match the event_type. The returned Event does not contain the tag.
func DecodeEnvelope(data []byte) (*Event, error) {
	return decodeJSON(data, true)
}

// DecodeEvent decodes one bare event. A `type` member is tolerated as an envelope tag (it must then
// match the event_type) and dropped, so envelopes decode here too.
func DecodeEvent(data []byte) (*Event, error) {
	return decodeJSON(data, false)
}

func decodeJSON(data []byte, tagRequired bool) (*Event, error) {
	m, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	return decodeMap(m, tagRequired)
}

// decodeMap validates m strictly and takes ownership of it as the event's body.
func decodeMap(m pcommon.Map, tagRequired bool) (*Event, error) {
	st := &decodeState{}
	r := fields{m: m, st: st}
	var kind Kind
	if _, present := m.Get(envelopeTypeKey); present || tagRequired {
		kind = Kind(r.enum(envelopeTypeKey, true, string(KindTurn), string(KindMutation), string(KindDelete)))
	}
	eventType := EventType(r.enum("event_type", true, eventTypeNames()...))
	if st.err != nil {
		return nil, st.err
	}
	if kind != "" && kind != eventType.Kind() {
		return nil, &FieldError{Path: envelopeTypeKey, Reason: "envelope type " + string(kind) + " does not match event_type " + string(eventType) + " (expected " + string(eventType.Kind()) + ")"}
	}
	ev := &Event{body: m}
	ev.common = decodeCommon(r)
	switch eventType.Kind() {
	case KindTurn:
		ev.turn = decodeTurn(r, ev.common)
	case KindMutation:
		ev.mutation = &TurnMutationAuditEvent{
			Common:            ev.common,
			ActorUserID:       r.uuid("actor_user_id"),
			ChatID:            r.uuid("chat_id"),
			TurnID:            r.uuid("turn_id"),
			OriginalRequestID: r.uuid("original_request_id"),
			NewRequestID:      r.uuid("new_request_id"),
		}
	case KindDelete:
		ev.deletion = &TurnDeleteAuditEvent{
			Common:      ev.common,
			ActorUserID: r.uuid("actor_user_id"),
			ChatID:      r.uuid("chat_id"),
			TurnID:      r.uuid("turn_id"),
			RequestID:   r.uuid("request_id"),
		}
	}
	if st.err != nil {
		return nil, st.err
	}
	// Map.Remove moves the last member into the gap; RemoveIf keeps the order.
	m.RemoveIf(func(k string, _ pcommon.Value) bool { return k == envelopeTypeKey })
	return ev, nil
}

func eventTypeNames() []string {
	names := make([]string, 0, 5)
	for _, t := range EventTypes() {
		names = append(names, string(t))
	}
	return names
}

func decodeCommon(r fields) Common {
	return Common{
		EventType:     EventType(r.str("event_type")),
		Timestamp:     r.timestamp("timestamp"),
		TenantID:      r.uuid("tenant_id"),
		RequesterType: RequesterType(r.enum("requester_type", true, string(RequesterUser), string(RequesterSystem))),
		TraceID:       r.optStr("trace_id"),
	}
}

func decodeTurn(r fields, common Common) *TurnAuditEvent {
	t := &TurnAuditEvent{
		Common:               common,
		UserID:               r.uuid("user_id"),
		ChatID:               r.uuid("chat_id"),
		TurnID:               r.uuid("turn_id"),
		RequestID:            r.uuid("request_id"),
		SelectedModel:        r.str("selected_model"),
		EffectiveModel:       r.str("effective_model"),
		PolicyVersionApplied: r.optU64("policy_version_applied"),
	}
	if u, ok := r.object("usage", true); ok {
		t.Usage = Usage{
			InputTokens:           u.u64("input_tokens"),
			OutputTokens:          u.u64("output_tokens"),
			Model:                 u.optStr("model"),
			CacheReadInputTokens:  u.optU64("cache_read_input_tokens"),
			CacheWriteInputTokens: u.optU64("cache_write_input_tokens"),
			ReasoningTokens:       u.optU64("reasoning_tokens"),
		}
	}
	if l, ok := r.object("latency_ms", true); ok {
		t.LatencyMs = LatencyMs{TTFTMs: l.optU64("ttft_ms"), TotalMs: l.optU64("total_ms")}
	}
	if p, ok := r.object("policy_decisions", true); ok {
		if lic, ok := p.object("license", false); ok {
			t.PolicyDecisions.License = &LicenseDecision{Feature: lic.str("feature"), Decision: lic.str("decision")}
		}
		if q, ok := p.object("quota", true); ok {
			t.PolicyDecisions.Quota = QuotaDecision{
				Decision:        q.str("decision"),
				QuotaScope:      (*QuotaScope)(q.optEnum("quota_scope", string(QuotaScopeTokens), string(QuotaScopeWebSearch))),
				DowngradeFrom:   q.optStr("downgrade_from"),
				DowngradeReason: q.optStr("downgrade_reason"),
			}
		}
	}
	t.ErrorCode = r.optStr("error_code")
	t.Prompt = r.optStr("prompt")
	t.Response = r.optStr("response")
	r.eachObject("attachments", func(a fields) {
		t.Attachments = append(t.Attachments, Attachment{
			AttachmentID:    a.uuid("attachment_id"),
			AttachmentKind:  AttachmentKind(a.enum("attachment_kind", true, string(AttachmentDocument), string(AttachmentImage))),
			Filename:        a.optStr("filename"),
			ContentType:     a.optStr("content_type"),
			SizeBytes:       a.optU64("size_bytes"),
			ImageUsedInTurn: a.optBool("image_used_in_turn"),
			DocSummary:      a.optStr("doc_summary"),
		})
	})
	if tc, ok := r.object("tool_calls", false); ok {
		t.ToolCalls = &ToolCalls{FileSearchCalls: tc.optU64("file_search_calls"), WebSearchCalls: tc.optU64("web_search_calls")}
	}
	return t
}

// decodeState carries the first error of a decode; once set, every reader returns zero values so
// the decoding code can read straight through without checking after each field.
type decodeState struct {
	err *FieldError
}

// fields reads the members of one JSON object (a pcommon.Map) at a path.
type fields struct {
	m    pcommon.Map
	path string
	st   *decodeState
}

func (r fields) fail(key, reason string) {
	if r.st.err == nil {
		r.st.err = &FieldError{Path: joinPath(r.path, key), Reason: reason}
	}
}

// get returns the member's value; ok is false when it is absent (an error if required), null (always
// an error: the contract omits absent fields, it never writes null) or when an error is pending.
func (r fields) get(key string, required bool, want pcommon.ValueType) (pcommon.Value, bool) {
	if r.st.err != nil {
		return pcommon.Value{}, false
	}
	v, ok := r.m.Get(key)
	switch {
	case !ok:
		if required {
			r.fail(key, "required field is missing")
		}
		return v, false
	case v.Type() == pcommon.ValueTypeEmpty:
		r.fail(key, "must not be null (omit an absent field)")
		return v, false
	case v.Type() != want && !(want == pcommon.ValueTypeInt && v.Type() == pcommon.ValueTypeDouble):
		r.fail(key, "must be "+typeNoun(want)+", not "+typeNoun(v.Type()))
		return v, false
	}
	return v, true
}

func typeNoun(t pcommon.ValueType) string {
	switch t {
	case pcommon.ValueTypeStr:
		return "a string"
	case pcommon.ValueTypeInt, pcommon.ValueTypeDouble:
		return "a number"
	case pcommon.ValueTypeBool:
		return "a boolean"
	case pcommon.ValueTypeMap:
		return "an object"
	case pcommon.ValueTypeSlice:
		return "an array"
	case pcommon.ValueTypeBytes:
		return "bytes"
	}
	return "null"
}

func (r fields) str(key string) string {
	v, _ := r.get(key, true, pcommon.ValueTypeStr)
	return v.Str()
}

func (r fields) optStr(key string) *string {
	v, ok := r.get(key, false, pcommon.ValueTypeStr)
	if !ok {
		return nil
	}
	s := v.Str()
	return &s
}

func (r fields) optBool(key string) *bool {
	v, ok := r.get(key, false, pcommon.ValueTypeBool)
	if !ok {
		return nil
	}
	b := v.Bool()
	return &b
}

// enum reads a string that must be one of allowed. The message lists the allowed values and never
// the given one.
func (r fields) enum(key string, required bool, allowed ...string) string {
	v, ok := r.get(key, required, pcommon.ValueTypeStr)
	if !ok {
		return ""
	}
	for _, a := range allowed {
		if v.Str() == a {
			return a
		}
	}
	r.fail(key, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

func (r fields) optEnum(key string, allowed ...string) *string {
	s := r.enum(key, false, allowed...)
	if s == "" {
		return nil
	}
	return &s
}

func (r fields) uuid(key string) string {
	s := r.str(key)
	if r.st.err == nil && !isUUID(s) {
		r.fail(key, "must be a UUID string (8-4-4-4-12 hex digits)")
	}
	return s
}

func (r fields) timestamp(key string) Timestamp {
	s := r.str(key)
	if r.st.err != nil {
		return Timestamp{}
	}
	ts, err := ParseTimestamp(s)
	if err != nil {
		r.fail(key, err.Error())
	}
	return ts
}

// readU64 reads an unsigned integer. Values above math.MaxInt64 are rejected: an OTLP log
// record carries integers as int64, and turning them into strings or doubles would corrupt them
// silently.
func (r fields) readU64(key string, required bool) *uint64 {
	v, ok := r.get(key, required, pcommon.ValueTypeInt)
	if !ok {
		return nil
	}
	if v.Type() == pcommon.ValueTypeDouble {
		if f := v.Double(); f == math.Trunc(f) && f >= math.MaxInt64 {
			r.fail(key, "integer exceeds "+strconv.FormatInt(math.MaxInt64, 10)+", the largest an OTLP log record can carry")
		} else {
			r.fail(key, "must be an integer")
		}
		return nil
	}
	if v.Int() < 0 {
		r.fail(key, "must not be negative")
		return nil
	}
	u := uint64(v.Int())
	return &u
}

func (r fields) optU64(key string) *uint64 { return r.readU64(key, false) }

func (r fields) u64(key string) uint64 {
	if p := r.readU64(key, true); p != nil {
		return *p
	}
	return 0
}

func (r fields) object(key string, required bool) (fields, bool) {
	v, ok := r.get(key, required, pcommon.ValueTypeMap)
	if !ok {
		return fields{}, false
	}
	return fields{m: v.Map(), path: joinPath(r.path, key), st: r.st}, true
}

// eachObject calls fn for every element of an optional array of objects.
func (r fields) eachObject(key string, fn func(fields)) {
	v, ok := r.get(key, false, pcommon.ValueTypeSlice)
	if !ok {
		return
	}
	s := v.Slice()
	for i := 0; i < s.Len() && r.st.err == nil; i++ {
		elemPath := joinPath(r.path, key) + "[" + strconv.Itoa(i) + "]"
		if s.At(i).Type() != pcommon.ValueTypeMap {
			r.st.err = &FieldError{Path: elemPath, Reason: "must be an object, not " + typeNoun(s.At(i).Type())}
			return
		}
		fn(fields{m: s.At(i).Map(), path: elemPath, st: r.st})
	}
}

// isUUID accepts the hyphenated 8-4-4-4-12 form in either letter case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
