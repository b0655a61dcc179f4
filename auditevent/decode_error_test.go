package auditevent

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// secret is planted in bad values: no error message may repeat a field's value.
const secret = "sk-proj-SECRETSECRETSECRET"

func TestDecodeErrors(t *testing.T) {
	turn := string(readGolden(t, "turn_completed_full.json"))
	envelope := string(readGolden(t, "envelope_delete_full.json"))
	mutation := string(readGolden(t, "turn_retry_min.json"))
	minTurn := string(readGolden(t, "turn_completed_min.json"))

	tests := []struct {
		name     string
		base     string
		old, new string // replaced once in base; old must occur
		envelope bool   // decode with DecodeEnvelope
		path     string
		reason   string // substring of FieldError.Reason
	}{
		{"unknown event_type", turn, `"event_type":"turn_completed"`, `"event_type":"` + secret + `"`, false, "event_type", "must be one of turn_completed, turn_failed, turn_retry, turn_edit, turn_delete"},
		{"unknown envelope type", envelope, `"type":"delete"`, `"type":"` + secret + `"`, true, "type", "must be one of turn, mutation, delete"},
		{"envelope type mismatch", envelope, `"type":"delete"`, `"type":"turn"`, true, "type", "envelope type turn does not match event_type turn_delete"},
		{"envelope type missing", envelope, `"type":"delete",`, ``, true, "type", "required field is missing"},
		{"bare event with wrong tag", turn, `{"event_type"`, `{"type":"mutation","event_type"`, false, "type", "does not match"},
		{"missing required field", turn, `"input_tokens":1234,`, ``, false, "usage.input_tokens", "required field is missing"},
		{"missing required object", turn, `,"quota":{"decision":"downgrade","quota_scope":"tokens","downgrade_from":"gpt-4.1","downgrade_reason":"daily token quota reached"}`, ``, false, "policy_decisions.quota", "required field is missing"},
		{"missing mutation id", mutation, `,"new_request_id":"1f2e3d4c-5b6a-4798-a6b5-c4d3e2f1a0b9"`, ``, false, "new_request_id", "required field is missing"},
		{"wrong type string for number", turn, `"output_tokens":567`, `"output_tokens":"567"`, false, "usage.output_tokens", "must be a number, not a string"},
		{"wrong type number for string", turn, `"selected_model":"gpt-4.1"`, `"selected_model":41`, false, "selected_model", "must be a string, not a number"},
		{"wrong type object", turn, `"latency_ms":{"ttft_ms":350,"total_ms":2100}`, `"latency_ms":[350]`, false, "latency_ms", "must be an object, not an array"},
		{"wrong type array", minTurn, `"latency_ms"`, `"attachments":{},"latency_ms"`, false, "attachments", "must be an array, not an object"},
		{"wrong type array element", turn, `},{"attachment_id":"b2c3d4e5`, `},"` + secret + `",{"attachment_id":"b2c3d4e5`, false, "attachments[1]", "must be an object, not a string"},
		{"wrong type boolean", turn, `"image_used_in_turn":true`, `"image_used_in_turn":"yes"`, false, "attachments[1].image_used_in_turn", "must be a boolean"},
		{"bad UUID", turn, `"attachment_id":"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"`, `"attachment_id":"` + secret + `"`, false, "attachments[1].attachment_id", "must be a UUID"},
		{"bad UUID top level", turn, `"tenant_id":"7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10"`, `"tenant_id":"7d0e3f5c3f6b4c1e9a512f0c7b1e9a10xxxx"`, false, "tenant_id", "must be a UUID"},
		{"bad timestamp", turn, `"timestamp":"2026-03-02T10:15:00.123456Z"`, `"timestamp":"` + secret + `"`, false, "timestamp", "must be an RFC 3339 timestamp"},
		{"timestamp without zone", turn, `"timestamp":"2026-03-02T10:15:00.123456Z"`, `"timestamp":"2026-03-02T10:15:00"`, false, "timestamp", "must be an RFC 3339 timestamp"},
		{"timestamp before 1970", turn, `"timestamp":"2026-03-02T10:15:00.123456Z"`, `"timestamp":"1969-12-31T23:59:59Z"`, false, "timestamp", "OTLP time range"},
		{"bad requester_type", turn, `"requester_type":"user"`, `"requester_type":"` + secret + `"`, false, "requester_type", "must be one of user, system"},
		{"bad attachment_kind", turn, `"attachment_kind":"document"`, `"attachment_kind":"video"`, false, "attachments[0].attachment_kind", "must be one of document, image"},
		{"bad quota_scope", turn, `"quota_scope":"tokens"`, `"quota_scope":"seats"`, false, "policy_decisions.quota.quota_scope", "must be one of tokens, web_search"},
		{"negative u64", turn, `"input_tokens":1234`, `"input_tokens":-1`, false, "usage.input_tokens", "must not be negative"},
		{"fractional u64", turn, `"size_bytes":91022`, `"size_bytes":91022.5`, false, "attachments[1].size_bytes", "must be an integer"},
		{"u64 written as float", turn, `"ttft_ms":350`, `"ttft_ms":350.0`, false, "latency_ms.ttft_ms", "must be an integer"},
		{"u64 with exponent", turn, `"reasoning_tokens":64`, `"reasoning_tokens":6.4e1`, false, "usage.reasoning_tokens", "must be an integer"},
		{"u64 above int64", turn, `"policy_version_applied":42`, `"policy_version_applied":9223372036854775808`, false, "policy_version_applied", "exceeds 9223372036854775807"},
		{"u64 above uint64", turn, `"web_search_calls":1`, `"web_search_calls":18446744073709551616`, false, "tool_calls.web_search_calls", "exceeds 9223372036854775807"},
		{"null required", turn, `"chat_id":"5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e"`, `"chat_id":null`, false, "chat_id", "must not be null"},
		{"null optional", turn, `"prompt":"Summarise`, `"prompt":null,"x":"Summarise`, false, "prompt", "must not be null"},
		{"null nested", turn, `"decision":"allow"`, `"decision":null`, false, "policy_decisions.license.decision", "must not be null"},
		{"duplicate member", turn, `"prompt":"`, `"prompt":"` + secret + `","prompt":"`, false, "prompt", "duplicate member"},
		{"duplicate nested member", turn, `"total_ms":2100`, `"total_ms":2100,"total_ms":1`, false, "latency_ms.total_ms", "duplicate member"},
		{"number out of range in unknown field", turn, `"tool_calls"`, `"future":1e400,"tool_calls"`, false, "future", "number is out of range"},
		{"malformed JSON", turn, `"prompt":"`, `"prompt":`, false, "", "malformed JSON"},
		{"truncated JSON", turn, `"tool_calls":{"file_search_calls":2,"web_search_calls":1}}`, `"tool_calls":{`, false, "", "malformed JSON"},
		{"not an object", turn, turn, `[` + turn + `]`, false, "", "must be a JSON object"},
		{"trailing data", turn, turn, turn + ` {}`, false, "", "unexpected data after the JSON object"},
		{"too deep", turn, `"tool_calls"`, `"deep":` + strings.Repeat("[", MaxNestingDepth) + strings.Repeat("]", MaxNestingDepth) + `,"tool_calls"`, false, "deep" + strings.Repeat("[0]", MaxNestingDepth-1), "nested deeper than 64 levels"},
		{"too many members", turn, `"tool_calls"`, manyMembers(MaxObjectMembers) + `"tool_calls"`, false, "", "more than 1000 members"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.base, tc.old) {
				t.Fatalf("test setup: %q not in base", tc.old)
			}
			input := []byte(strings.Replace(tc.base, tc.old, tc.new, 1))
			decode := DecodeEvent
			if tc.envelope {
				decode = DecodeEnvelope
			}
			ev, err := decode(input)
			if err == nil {
				t.Fatalf("decoded %v, want an error", ev.Type())
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FieldError", err, err)
			}
			if fe.Path != tc.path || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("got path %q reason %q; want path %q reason containing %q", fe.Path, fe.Reason, tc.path, tc.reason)
			}
			if tc.path != "" && !strings.Contains(err.Error(), tc.path+": ") {
				t.Fatalf("message %q does not name the path", err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("message echoes a field value: %q", err)
			}
		})
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`"extra_` + strconv.Itoa(i) + `":0,`)
	}
	return b.String()
}

// Values that are merely unusual stay accepted.
func TestDecodeAcceptsEdgeValues(t *testing.T) {
	turn := string(readGolden(t, "turn_completed_full.json"))
	for name, repl := range map[string][2]string{
		"u64 max int64":        {`"input_tokens":1234`, `"input_tokens":9223372036854775807`},
		"zero":                 {`"input_tokens":1234`, `"input_tokens":0`},
		"upper-case UUID":      {`"chat_id":"5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e"`, `"chat_id":"5A1C9E3D-2B4F-4A6C-8E1D-3F5A7B9C0D2E"`},
		"timestamp offset":     {`"timestamp":"2026-03-02T10:15:00.123456Z"`, `"timestamp":"2026-03-02T12:15:00.123456789+02:00"`},
		"empty attachments":    {`"attachments":[`, `"attachments":[],"x":[`},
		"unknown null member":  {`"tool_calls"`, `"future":null,"tool_calls"`},
		"trace id not hex":     {`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`, `"trace_id":"not-a-trace"`},
		"empty prompt":         {`"prompt":"Summarise`, `"prompt":"","was_prompt":"Summarise`},
		"escaped unicode text": {`"response":"Here`, `"response":"\u00e9\ud83d\ude42 Here`},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeEvent([]byte(strings.Replace(turn, repl[0], repl[1], 1))); err != nil {
				t.Fatal(err)
			}
		})
	}
}
