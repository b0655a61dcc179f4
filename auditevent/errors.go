package auditevent

import "errors"

// FieldError is a decoding error. Path names the offending field as a JSON path
// (`usage.input_tokens`, `attachments[1].attachment_id`; empty for the document itself) and
// Reason says what is wrong. Neither ever contains a field's value: values may hold secrets.
type FieldError struct {
	Path   string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return "invalid audit event: " + e.Reason
	}
	return "invalid audit event: " + e.Path + ": " + e.Reason
}

// ErrNotAuditEvent is returned (wrapped) by FromLogRecord and EventJSONFromLogRecord for a log
// record that is not an audit event: its body is not a map or its event name is not an audit one.
var ErrNotAuditEvent = errors.New("log record is not a mini-chat audit event")

var (
	errNotRFC3339     = errors.New("must be an RFC 3339 timestamp")
	errTimestampRange = errors.New("must lie between 1970-01-01T00:00:00Z and 2262-04-11T23:47:16Z (the OTLP time range)")
	errTimestampUnset = errors.New("timestamp is not set")
)
