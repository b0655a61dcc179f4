package auditevent

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

// EventNamePrefix starts the EventName of every audit log record; the event_type follows.
const EventNamePrefix = "mini_chat.audit."

// Attributes promoted from the event body onto the log record for indexing. The body stays the
// source of truth; these are copies.
const (
	AttrEventType     = "mini_chat.event_type"
	AttrTenantID      = "mini_chat.tenant_id"
	AttrChatID        = "mini_chat.chat_id"
	AttrTurnID        = "mini_chat.turn_id"
	AttrRequestID     = "mini_chat.request_id" // request_id; new_request_id for turn_retry/turn_edit
	AttrUserID        = "mini_chat.user_id"    // user_id, or actor_user_id for mutations and deletes
	AttrRequesterType = "mini_chat.requester_type"

	// OpenTelemetry GenAI semantic conventions, set on turn events only.
	AttrGenAIRequestModel      = "gen_ai.request.model"       // selected_model
	AttrGenAIResponseModel     = "gen_ai.response.model"      // effective_model
	AttrGenAIUsageInputTokens  = "gen_ai.usage.input_tokens"  // usage.input_tokens
	AttrGenAIUsageOutputTokens = "gen_ai.usage.output_tokens" // usage.output_tokens
)

// EventName returns the log record EventName for an event type, e.g. mini_chat.audit.turn_completed.
func EventName(t EventType) string { return EventNamePrefix + string(t) }

// Severity returns the log severity of an event type: ERROR for turn_failed, INFO otherwise.
func Severity(t EventType) (plog.SeverityNumber, string) {
	if t == TurnFailed {
		return plog.SeverityNumberError, "ERROR"
	}
	return plog.SeverityNumberInfo, "INFO"
}

// TraceID returns the event's trace_id as an OTLP trace id when it is 32 hex digits and not all
// zero (the W3C rule); otherwise ok is false and the id lives only in the body.
func (e *Event) TraceID() (id pcommon.TraceID, ok bool) {
	if e.common.TraceID == nil || len(*e.common.TraceID) != 32 {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(*e.common.TraceID)); err != nil || id.IsEmpty() {
		return pcommon.TraceID{}, false
	}
	return id, true
}

// ToLogRecord writes ev into lr (normally a fresh record): event name, timestamp, observed
// timestamp, severity, trace id, the whole event as a map body, and the promoted attributes
// (overwriting attributes of the same names, keeping others).
func ToLogRecord(ev *Event, lr plog.LogRecord, observed time.Time) {
	lr.SetEventName(EventName(ev.Type()))
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.Timestamp()))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	num, text := Severity(ev.Type())
	lr.SetSeverityNumber(num)
	lr.SetSeverityText(text)
	if id, ok := ev.TraceID(); ok {
		lr.SetTraceID(id)
	}
	ev.body.CopyTo(lr.Body().SetEmptyMap())

	attrs := lr.Attributes()
	c := ev.common
	attrs.PutStr(AttrEventType, string(c.EventType))
	attrs.PutStr(AttrTenantID, c.TenantID)
	switch {
	case ev.turn != nil:
		t := ev.turn
		putIDs(attrs, t.ChatID, t.TurnID, t.RequestID, t.UserID)
		attrs.PutStr(AttrGenAIRequestModel, t.SelectedModel)
		attrs.PutStr(AttrGenAIResponseModel, t.EffectiveModel)
		// Decoding rejects values above MaxInt64, so the conversions are exact.
		attrs.PutInt(AttrGenAIUsageInputTokens, int64(t.Usage.InputTokens))
		attrs.PutInt(AttrGenAIUsageOutputTokens, int64(t.Usage.OutputTokens))
	case ev.mutation != nil:
		m := ev.mutation
		putIDs(attrs, m.ChatID, m.TurnID, m.NewRequestID, m.ActorUserID)
	case ev.deletion != nil:
		d := ev.deletion
		putIDs(attrs, d.ChatID, d.TurnID, d.RequestID, d.ActorUserID)
	}
	attrs.PutStr(AttrRequesterType, string(c.RequesterType))
}

func putIDs(attrs pcommon.Map, chatID, turnID, requestID, userID string) {
	attrs.PutStr(AttrChatID, chatID)
	attrs.PutStr(AttrTurnID, turnID)
	attrs.PutStr(AttrRequestID, requestID)
	attrs.PutStr(AttrUserID, userID)
}

// FromLogRecord decodes the audit event carried by lr's body, validating it as strictly as
// DecodeEvent (a *FieldError for a bad body). Only the body is read: attributes are derived copies
// that a processor may have changed or dropped. An empty EventName is accepted (some SDKs cannot
// set it); a non-empty one must be EventName(event_type). Errors not about the body wrap
// ErrNotAuditEvent.
func FromLogRecord(lr plog.LogRecord) (*Event, error) {
	if lr.Body().Type() != pcommon.ValueTypeMap {
		return nil, fmt.Errorf("%w: body is %s, not a map", ErrNotAuditEvent, strings.ToLower(lr.Body().Type().String()))
	}
	name := lr.EventName()
	if name != "" && !strings.HasPrefix(name, EventNamePrefix) {
		return nil, fmt.Errorf("%w: event name does not start with %s", ErrNotAuditEvent, EventNamePrefix)
	}
	body := pcommon.NewMap()
	lr.Body().Map().CopyTo(body)
	ev, err := decodeMap(body, false)
	if err != nil {
		return nil, err
	}
	if name != "" && name != EventName(ev.Type()) {
		return nil, fmt.Errorf("%w: event name does not match the body's event_type %s", ErrNotAuditEvent, ev.Type())
	}
	return ev, nil
}

// EventJSONFromLogRecord returns the compact event JSON carried by lr's body: for a record made by
// ToLogRecord, the original event bytes (see Event). It works on bodies changed by redaction as
// long as they still form a valid event, and on records that went through OTLP encoding.
func EventJSONFromLogRecord(lr plog.LogRecord) ([]byte, error) {
	ev, err := FromLogRecord(lr)
	if err != nil {
		return nil, err
	}
	return ev.MarshalJSON()
}

// AppendEventJSON appends the compact event JSON carried by lr's body to dst, like
// EventJSONFromLogRecord, but only checks that the record is an audit event (a map body whose
// event_type is a known type, matching a non-empty EventName) instead of validating every field
// again: it is for exporters rendering records that were validated when they entered. The bytes
// are the same as EventJSONFromLogRecord's for a valid event.
func AppendEventJSON(dst []byte, lr plog.LogRecord) ([]byte, error) {
	if lr.Body().Type() != pcommon.ValueTypeMap {
		return dst, fmt.Errorf("%w: body is %s, not a map", ErrNotAuditEvent, strings.ToLower(lr.Body().Type().String()))
	}
	body := lr.Body().Map()
	v, ok := body.Get("event_type")
	if !ok || v.Type() != pcommon.ValueTypeStr || EventType(v.Str()).Kind() == "" {
		return dst, fmt.Errorf("%w: body has no known event_type", ErrNotAuditEvent)
	}
	if name := lr.EventName(); name != "" && name != EventName(EventType(v.Str())) {
		return dst, fmt.Errorf("%w: event name does not match the body's event_type", ErrNotAuditEvent)
	}
	out, err := pdatajson.AppendMapStrict(dst, body)
	if err != nil {
		return dst, err
	}
	return out, nil
}
