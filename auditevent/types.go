package auditevent

import (
	"encoding/json"
	"time"

	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

// EventType is the contract's `event_type` value.
type EventType string

// The five event types of the contract.
const (
	TurnCompleted EventType = "turn_completed"
	TurnFailed    EventType = "turn_failed"
	TurnRetry     EventType = "turn_retry"
	TurnEdit      EventType = "turn_edit"
	TurnDelete    EventType = "turn_delete"
)

// EventTypes lists every known event type in contract order.
func EventTypes() []EventType {
	return []EventType{TurnCompleted, TurnFailed, TurnRetry, TurnEdit, TurnDelete}
}

// Kind is the envelope's `type` tag: which of the three event shapes an event has.
type Kind string

// The envelope tags of the contract.
const (
	KindTurn     Kind = "turn"     // TurnAuditEvent: turn_completed, turn_failed
	KindMutation Kind = "mutation" // TurnRetryAuditEvent / TurnEditAuditEvent: turn_retry, turn_edit
	KindDelete   Kind = "delete"   // TurnDeleteAuditEvent: turn_delete
)

// Kind returns the envelope tag that goes with the event type, or "" for an unknown type.
func (t EventType) Kind() Kind {
	switch t {
	case TurnCompleted, TurnFailed:
		return KindTurn
	case TurnRetry, TurnEdit:
		return KindMutation
	case TurnDelete:
		return KindDelete
	}
	return ""
}

// RequesterType is the contract's `requester_type`.
type RequesterType string

// Requester types.
const (
	RequesterUser   RequesterType = "user"
	RequesterSystem RequesterType = "system"
)

// AttachmentKind is the contract's `attachment_kind`.
type AttachmentKind string

// Attachment kinds.
const (
	AttachmentDocument AttachmentKind = "document"
	AttachmentImage    AttachmentKind = "image"
)

// QuotaScope is the contract's `policy_decisions.quota.quota_scope`.
type QuotaScope string

// Quota scopes.
const (
	QuotaScopeTokens    QuotaScope = "tokens"
	QuotaScopeWebSearch QuotaScope = "web_search"
)

// Timestamp is an RFC 3339 instant that remembers the exact text it was decoded from, so that
// encoding gives back the producer's bytes (fraction digits, offset) rather than Go's rendering.
type Timestamp struct {
	t    time.Time
	text string
}

// NewTimestamp returns t as a Timestamp rendered in UTC with RFC 3339 and nanosecond precision.
func NewTimestamp(t time.Time) Timestamp {
	return Timestamp{t: t, text: t.UTC().Format(time.RFC3339Nano)}
}

// ParseTimestamp parses an RFC 3339 timestamp, keeping its text. Instants outside the range an
// OTLP log record can carry (1970-01-01 to 2262-04-11, nanoseconds in an int64) are rejected.
func ParseTimestamp(s string) (Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Timestamp{}, errNotRFC3339
	}
	if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, 1<<63-1)) {
		return Timestamp{}, errTimestampRange
	}
	return Timestamp{t: t, text: s}, nil
}

// Time returns the instant.
func (ts Timestamp) Time() time.Time { return ts.t }

// String returns the RFC 3339 text.
func (ts Timestamp) String() string { return ts.text }

// IsZero reports whether the timestamp is unset.
func (ts Timestamp) IsZero() bool { return ts.text == "" }

// MarshalJSON writes the kept text.
func (ts Timestamp) MarshalJSON() ([]byte, error) {
	if ts.IsZero() {
		return nil, errTimestampUnset
	}
	return pdatajson.AppendString(nil, ts.text), nil
}

// UnmarshalJSON parses an RFC 3339 string.
func (ts *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parsed, err := ParseTimestamp(s)
	if err != nil {
		return err
	}
	*ts = parsed
	return nil
}

// Common holds the fields every event has. Field order is the contract's, which is the encoding order.
type Common struct {
	EventType     EventType     `json:"event_type"`
	Timestamp     Timestamp     `json:"timestamp"`
	TenantID      string        `json:"tenant_id"`
	RequesterType RequesterType `json:"requester_type"`
	TraceID       *string       `json:"trace_id,omitempty"`
}

// TurnAuditEvent is a completed or failed chat turn (`event_type` turn_completed | turn_failed).
type TurnAuditEvent struct {
	Common
	UserID               string          `json:"user_id"`
	ChatID               string          `json:"chat_id"`
	TurnID               string          `json:"turn_id"`
	RequestID            string          `json:"request_id"`
	SelectedModel        string          `json:"selected_model"`
	EffectiveModel       string          `json:"effective_model"`
	PolicyVersionApplied *uint64         `json:"policy_version_applied,omitempty"`
	Usage                Usage           `json:"usage"`
	LatencyMs            LatencyMs       `json:"latency_ms"`
	PolicyDecisions      PolicyDecisions `json:"policy_decisions"`
	ErrorCode            *string         `json:"error_code,omitempty"`
	Prompt               *string         `json:"prompt,omitempty"`
	Response             *string         `json:"response,omitempty"`
	Attachments          []Attachment    `json:"attachments,omitempty"`
	ToolCalls            *ToolCalls      `json:"tool_calls,omitempty"`
}

// Usage is the token accounting of a turn.
type Usage struct {
	InputTokens           uint64  `json:"input_tokens"`
	OutputTokens          uint64  `json:"output_tokens"`
	Model                 *string `json:"model,omitempty"`
	CacheReadInputTokens  *uint64 `json:"cache_read_input_tokens,omitempty"`
	CacheWriteInputTokens *uint64 `json:"cache_write_input_tokens,omitempty"`
	ReasoningTokens       *uint64 `json:"reasoning_tokens,omitempty"`
}

// LatencyMs holds the turn's latencies in milliseconds.
type LatencyMs struct {
	TTFTMs  *uint64 `json:"ttft_ms,omitempty"`
	TotalMs *uint64 `json:"total_ms,omitempty"`
}

// PolicyDecisions records the license and quota decisions applied to a turn.
type PolicyDecisions struct {
	License *LicenseDecision `json:"license,omitempty"`
	Quota   QuotaDecision    `json:"quota"`
}

// LicenseDecision is the license check applied to a turn.
type LicenseDecision struct {
	Feature  string `json:"feature"`
	Decision string `json:"decision"`
}

// QuotaDecision is the quota check applied to a turn; a downgrade explains why
// effective_model differs from selected_model.
type QuotaDecision struct {
	Decision        string      `json:"decision"`
	QuotaScope      *QuotaScope `json:"quota_scope,omitempty"`
	DowngradeFrom   *string     `json:"downgrade_from,omitempty"`
	DowngradeReason *string     `json:"downgrade_reason,omitempty"`
}

// Attachment is attachment metadata (never content) of a turn.
type Attachment struct {
	AttachmentID    string         `json:"attachment_id"`
	AttachmentKind  AttachmentKind `json:"attachment_kind"`
	Filename        *string        `json:"filename,omitempty"`
	ContentType     *string        `json:"content_type,omitempty"`
	SizeBytes       *uint64        `json:"size_bytes,omitempty"`
	ImageUsedInTurn *bool          `json:"image_used_in_turn,omitempty"`
	DocSummary      *string        `json:"doc_summary,omitempty"`
}

// ToolCalls counts the tool calls made during a turn.
type ToolCalls struct {
	FileSearchCalls *uint64 `json:"file_search_calls,omitempty"`
	WebSearchCalls  *uint64 `json:"web_search_calls,omitempty"`
}

// TurnMutationAuditEvent is the shape shared by turn_retry and turn_edit events.
type TurnMutationAuditEvent struct {
	Common
	ActorUserID       string `json:"actor_user_id"`
	ChatID            string `json:"chat_id"`
	TurnID            string `json:"turn_id"`
	OriginalRequestID string `json:"original_request_id"`
	NewRequestID      string `json:"new_request_id"`
}

// TurnRetryAuditEvent is the contract's name for a turn_retry event.
type TurnRetryAuditEvent = TurnMutationAuditEvent

// TurnEditAuditEvent is the contract's name for a turn_edit event.
type TurnEditAuditEvent = TurnMutationAuditEvent

// TurnDeleteAuditEvent is a turn_delete event.
type TurnDeleteAuditEvent struct {
	Common
	ActorUserID string `json:"actor_user_id"`
	ChatID      string `json:"chat_id"`
	TurnID      string `json:"turn_id"`
	RequestID   string `json:"request_id"`
}

// Payload is one of *TurnAuditEvent, *TurnMutationAuditEvent, *TurnDeleteAuditEvent.
type Payload interface {
	commonFields() *Common
}

func (e *TurnAuditEvent) commonFields() *Common         { return &e.Common }
func (e *TurnMutationAuditEvent) commonFields() *Common { return &e.Common }
func (e *TurnDeleteAuditEvent) commonFields() *Common   { return &e.Common }
