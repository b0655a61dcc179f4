package auditevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

// Event is one decoded audit event. It keeps every member of the JSON object it came from, in the
// original order and including members this package does not know (a newer producer's fields),
// next to the typed view of the known ones. Encoding writes the kept members, so an event
// round-trips byte for byte (for compact input escaped the way serde_json escapes). An Event is
// immutable once decoded.
type Event struct {
	body     pcommon.Map // every member except the envelope tag, in input order
	common   Common
	turn     *TurnAuditEvent
	mutation *TurnMutationAuditEvent
	deletion *TurnDeleteAuditEvent
}

// New builds an Event from a typed payload, validating it like a decoded one. Its JSON has the
// contract's member order with absent optional fields (and an empty attachments list) left out.
func New(p Payload) (*Event, error) {
	if p == nil {
		return nil, errors.New("auditevent.New: nil payload")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return DecodeEvent(buf.Bytes())
}

// Type returns the event_type.
func (e *Event) Type() EventType { return e.common.EventType }

// Kind returns the envelope tag of the event's shape.
func (e *Event) Kind() Kind { return e.common.EventType.Kind() }

// Common returns the members every event has.
func (e *Event) Common() Common { return e.common }

// Timestamp returns the event's timestamp.
func (e *Event) Timestamp() time.Time { return e.common.Timestamp.Time() }

// Turn returns the typed turn_completed / turn_failed event, or nil for other kinds.
func (e *Event) Turn() *TurnAuditEvent { return e.turn }

// Mutation returns the typed turn_retry / turn_edit event, or nil for other kinds.
func (e *Event) Mutation() *TurnMutationAuditEvent { return e.mutation }

// Delete returns the typed turn_delete event, or nil for other kinds.
func (e *Event) Delete() *TurnDeleteAuditEvent { return e.deletion }

// Payload returns the typed event, whichever kind it is.
func (e *Event) Payload() Payload {
	switch {
	case e.turn != nil:
		return e.turn
	case e.mutation != nil:
		return e.mutation
	default:
		return e.deletion
	}
}

// CopyBodyTo replaces dest's contents with every member of the event (unknown ones included, the
// envelope tag excluded) in original order.
func (e *Event) CopyBodyTo(dest pcommon.Map) { e.body.CopyTo(dest) }

// MarshalJSON returns the bare event as compact JSON.
func (e *Event) MarshalJSON() ([]byte, error) {
	return pdatajson.AppendMapStrict(nil, e.body)
}

// MarshalEnvelope returns the event wrapped in the envelope: the `type` tag first (where serde
// puts an internally tagged enum's tag), then the event's members.
func (e *Event) MarshalEnvelope() ([]byte, error) {
	b := pdatajson.AppendString([]byte(`{"type":`), string(e.Kind()))
	brace := len(b)
	b, err := pdatajson.AppendMapStrict(b, e.body)
	if err != nil {
		return nil, err
	}
	if e.body.Len() == 0 {
		return append(b[:brace], '}'), nil
	}
	b[brace] = ','
	return b, nil
}

// UnmarshalJSON decodes like DecodeEvent, so Event works with encoding/json.
func (e *Event) UnmarshalJSON(data []byte) error {
	ev, err := DecodeEvent(data)
	if err != nil {
		return err
	}
	*e = *ev
	return nil
}
