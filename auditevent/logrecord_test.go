package auditevent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var observed = time.Date(2026, 3, 2, 10, 15, 1, 0, time.UTC)

func recordFor(t *testing.T, file string) (*Event, plog.LogRecord) {
	t.Helper()
	ev, err := DecodeEvent(readGolden(t, file))
	if err != nil {
		t.Fatal(err)
	}
	lr := plog.NewLogRecord()
	ToLogRecord(ev, lr, observed)
	return ev, lr
}

// otlpRoundTrip sends lr through OTLP protobuf encoding and back, as an exporter/receiver pair would.
func otlpRoundTrip(t *testing.T, lr plog.LogRecord) plog.LogRecord {
	t.Helper()
	logs := plog.NewLogs()
	lr.CopyTo(logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
	data, err := (&plog.ProtoMarshaler{}).MarshalLogs(logs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(data)
	if err != nil {
		t.Fatal(err)
	}
	return back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func TestLogRecordRoundTrip(t *testing.T) {
	files := []string{"turn_completed_unknown_fields.json"}
	for _, g := range bareGoldens {
		files = append(files, g.file)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			golden := readGolden(t, file)
			_, lr := recordFor(t, file)
			if lr.Body().Type() != pcommon.ValueTypeMap {
				t.Fatalf("body is %v, want a map", lr.Body().Type())
			}
			got, err := EventJSONFromLogRecord(lr)
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "record", got, golden)

			got, err = EventJSONFromLogRecord(otlpRoundTrip(t, lr))
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "record after OTLP protobuf", got, golden)

			rendered, err := AppendEventJSON([]byte("prefix:"), lr)
			if err != nil {
				t.Fatal(err)
			}
			if string(rendered) != "prefix:"+string(golden) {
				t.Errorf("AppendEventJSON gave %s, want the golden bytes after the prefix", rendered)
			}

			ev, err := FromLogRecord(lr)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := ev.MarshalJSON(); string(got) != string(golden) {
				t.Fatal("FromLogRecord lost bytes")
			}
		})
	}
}

func TestLogRecordMapping(t *testing.T) {
	const (
		tenant  = "7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10"
		user    = "0b8f5e2a-6c1d-4f7e-8a3b-9d2c1e0f4a5b"
		chat    = "5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e"
		turn    = "c3d2a1b0-9e8f-4d7c-6b5a-4e3d2c1b0a9f"
		request = "9e44d3c2-b1a0-4f9e-8d7c-6b5a4e3d2c1b"
		newReq  = "1f2e3d4c-5b6a-4798-a6b5-c4d3e2f1a0b9"
	)
	common := map[string]any{AttrTenantID: tenant, AttrUserID: user, AttrChatID: chat, AttrTurnID: turn}
	tests := []struct {
		file     string
		severity plog.SeverityNumber
		sevText  string
		traced   bool
		attrs    map[string]any
	}{
		{"turn_completed_full.json", plog.SeverityNumberInfo, "INFO", true, map[string]any{
			AttrEventType: "turn_completed", AttrRequestID: request, AttrRequesterType: "user",
			AttrGenAIRequestModel: "gpt-4.1", AttrGenAIResponseModel: "gpt-4.1-mini",
			AttrGenAIUsageInputTokens: int64(1234), AttrGenAIUsageOutputTokens: int64(567),
		}},
		{"turn_failed_min.json", plog.SeverityNumberError, "ERROR", false, map[string]any{
			AttrEventType: "turn_failed", AttrRequestID: request, AttrRequesterType: "system",
			AttrGenAIRequestModel: "gpt-4.1", AttrGenAIResponseModel: "gpt-4.1",
			AttrGenAIUsageInputTokens: int64(1234), AttrGenAIUsageOutputTokens: int64(0),
		}},
		{"turn_edit_full.json", plog.SeverityNumberInfo, "INFO", true, map[string]any{
			AttrEventType: "turn_edit", AttrRequestID: newReq, AttrRequesterType: "user",
		}},
		{"turn_delete_min.json", plog.SeverityNumberInfo, "INFO", false, map[string]any{
			AttrEventType: "turn_delete", AttrRequestID: request, AttrRequesterType: "system",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ev, lr := recordFor(t, tc.file)
			if want := "mini_chat.audit." + string(ev.Type()); lr.EventName() != want {
				t.Errorf("event name %q, want %q", lr.EventName(), want)
			}
			if !lr.Timestamp().AsTime().Equal(ev.Timestamp()) || lr.Timestamp() == 0 {
				t.Errorf("timestamp %v, want %v", lr.Timestamp().AsTime(), ev.Timestamp())
			}
			if !lr.ObservedTimestamp().AsTime().Equal(observed) {
				t.Errorf("observed %v", lr.ObservedTimestamp().AsTime())
			}
			if lr.SeverityNumber() != tc.severity || lr.SeverityText() != tc.sevText {
				t.Errorf("severity %v %q", lr.SeverityNumber(), lr.SeverityText())
			}
			if got := lr.TraceID().String(); tc.traced != (got == "4bf92f3577b34da6a3ce929d0e0e4736") || !tc.traced && !lr.TraceID().IsEmpty() {
				t.Errorf("trace id %q (traced=%v)", got, tc.traced)
			}
			want := map[string]any{}
			for k, v := range common {
				want[k] = v
			}
			for k, v := range tc.attrs {
				want[k] = v
			}
			got := lr.Attributes().AsRaw()
			if len(got) != len(want) {
				t.Errorf("attributes %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("attribute %s = %#v, want %#v", k, got[k], v)
				}
			}
			if _, tagged := lr.Body().Map().Get("type"); tagged {
				t.Error("the envelope tag must not be in the body")
			}
		})
	}
}

func TestTraceIDRule(t *testing.T) {
	base := string(readGolden(t, "turn_delete_full.json"))
	for traceID, want := range map[string]string{
		"4bf92f3577b34da6a3ce929d0e0e4736":    "4bf92f3577b34da6a3ce929d0e0e4736",
		"4BF92F3577B34DA6A3CE929D0E0E4736":    "4bf92f3577b34da6a3ce929d0e0e4736",
		"00000000000000000000000000000000":    "",
		"4bf92f3577b34da6a3ce929d0e0e473":     "",
		"4bf92f3577b34da6a3ce929d0e0e4736aa":  "",
		"zzf92f3577b34da6a3ce929d0e0e4736":    "",
		"00-4bf92f3577b34da6a3ce929d0e0e4736": "",
	} {
		in := strings.Replace(base, "4bf92f3577b34da6a3ce929d0e0e4736", traceID, 1)
		ev, err := DecodeEvent([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		lr := plog.NewLogRecord()
		ToLogRecord(ev, lr, observed)
		got := ""
		if !lr.TraceID().IsEmpty() {
			got = lr.TraceID().String()
		}
		if got != want {
			t.Errorf("trace_id %q: record trace id %q, want %q", traceID, got, want)
		}
		if v, _ := lr.Body().Map().Get("trace_id"); v.Str() != traceID {
			t.Errorf("trace_id %q not kept in the body", traceID)
		}
	}
}

// The redact processor rewrites strings inside the body; the event must still come back as
// valid event JSON carrying the new values.
func TestEventJSONAfterBodyRewrite(t *testing.T) {
	_, lr := recordFor(t, "turn_completed_unknown_fields.json")
	body := lr.Body().Map()
	body.PutStr("prompt", "key [REDACTED_OPENAI_KEY] here")
	att, _ := body.Get("attachments")
	att.Slice().At(0).Map().PutStr("doc_summary", "password=[REDACTED]")
	signal, _ := body.Get("completion_signal")
	signal.Map().PutStr("finish_reason", "Bearer [REDACTED]")

	got, err := EventJSONFromLogRecord(otlpRoundTrip(t, lr))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeEvent(got)
	if err != nil {
		t.Fatalf("rewritten record gave invalid event JSON: %v", err)
	}
	if *ev.Turn().Prompt != "key [REDACTED_OPENAI_KEY] here" || *ev.Turn().Attachments[0].DocSummary != "password=[REDACTED]" {
		t.Fatalf("rewrites lost: %s", got)
	}
	if !strings.Contains(string(got), `"finish_reason":"Bearer [REDACTED]"`) {
		t.Fatalf("unknown member rewrite lost: %s", got)
	}
	want := strings.NewReplacer(
		`"prompt":"Summarise the attached report <b>Q1 & Q2</b>\n\t\"quoted\" back\\slash é ü 中文 `+"\u2028"+` line-sep \u0001 ctrl 🙂"`, `"prompt":"key [REDACTED_OPENAI_KEY] here"`,
		`"doc_summary":"Quarterly report, revenue and costs."`, `"doc_summary":"password=[REDACTED]"`,
		`"finish_reason":"end_turn"`, `"finish_reason":"Bearer [REDACTED]"`,
	).Replace(string(readGolden(t, "turn_completed_unknown_fields.json")))
	assertSameJSON(t, "rewritten", got, []byte(want))
}

func TestFromLogRecordRejects(t *testing.T) {
	t.Run("string body", func(t *testing.T) {
		lr := plog.NewLogRecord()
		lr.Body().SetStr(`{"event_type":"turn_delete"}`)
		if _, err := EventJSONFromLogRecord(lr); !errors.Is(err, ErrNotAuditEvent) {
			t.Fatalf("err %v, want ErrNotAuditEvent", err)
		}
	})
	t.Run("foreign event name", func(t *testing.T) {
		_, lr := recordFor(t, "turn_delete_min.json")
		lr.SetEventName("browser.page_view")
		if _, err := EventJSONFromLogRecord(lr); !errors.Is(err, ErrNotAuditEvent) {
			t.Fatalf("err %v, want ErrNotAuditEvent", err)
		}
	})
	t.Run("event name mismatch", func(t *testing.T) {
		_, lr := recordFor(t, "turn_delete_min.json")
		lr.SetEventName(EventName(TurnCompleted))
		if _, err := EventJSONFromLogRecord(lr); !errors.Is(err, ErrNotAuditEvent) {
			t.Fatalf("err %v, want ErrNotAuditEvent", err)
		}
	})
	t.Run("no event name is fine", func(t *testing.T) {
		_, lr := recordFor(t, "turn_delete_min.json")
		lr.SetEventName("")
		if _, err := EventJSONFromLogRecord(lr); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad body field", func(t *testing.T) {
		_, lr := recordFor(t, "turn_completed_min.json")
		usage, _ := lr.Body().Map().Get("usage")
		usage.Map().PutDouble("input_tokens", 1.5)
		_, err := EventJSONFromLogRecord(lr)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != "usage.input_tokens" {
			t.Fatalf("err %v, want a FieldError for usage.input_tokens", err)
		}
	})
	t.Run("non-finite double", func(t *testing.T) {
		_, lr := recordFor(t, "turn_completed_min.json")
		lr.Body().Map().PutEmptyMap("future").PutDouble("x", posInf())
		if _, err := EventJSONFromLogRecord(lr); err == nil {
			t.Fatal("an infinite number cannot become JSON")
		}
	})
}

func TestAppendEventJSONRejectsNonAuditRecords(t *testing.T) {
	cases := map[string]func(lr plog.LogRecord){
		"string body":         func(lr plog.LogRecord) { lr.Body().SetStr(`{"event_type":"turn_delete"}`) },
		"no event_type":       func(lr plog.LogRecord) { lr.Body().Map().Remove("event_type") },
		"unknown event_type":  func(lr plog.LogRecord) { lr.Body().Map().PutStr("event_type", "page_view") },
		"event name mismatch": func(lr plog.LogRecord) { lr.SetEventName(EventName(TurnCompleted)) },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			_, lr := recordFor(t, "turn_delete_min.json")
			spoil(lr)
			if out, err := AppendEventJSON(nil, lr); !errors.Is(err, ErrNotAuditEvent) || len(out) != 0 {
				t.Fatalf("got %q, %v; want nothing and ErrNotAuditEvent", out, err)
			}
		})
	}
	t.Run("non-finite double", func(t *testing.T) {
		_, lr := recordFor(t, "turn_completed_min.json")
		lr.Body().Map().PutEmptyMap("future").PutDouble("x", posInf())
		if out, err := AppendEventJSON([]byte("keep"), lr); err == nil || string(out) != "keep" {
			t.Fatalf("got %q, %v; want dst unchanged and an error", out, err)
		}
	})
}

func posInf() float64 { var zero float64; return 1 / zero }

func TestBytesInBodyEncodeAsBase64(t *testing.T) {
	_, lr := recordFor(t, "turn_delete_min.json")
	lr.Body().Map().PutEmptyBytes("blob").FromRaw([]byte{0xde, 0xad})
	got, err := EventJSONFromLogRecord(lr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(got), `,"blob":"3q0="}`) {
		t.Fatalf("got %s", got)
	}
}

func TestInvalidUTF8BecomesReplacementChar(t *testing.T) {
	_, lr := recordFor(t, "turn_delete_min.json")
	lr.Body().Map().PutStr("note", "a\xffb")
	got, err := EventJSONFromLogRecord(lr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(got), `,"note":"a`+"\ufffd"+`b"}`) {
		t.Fatalf("got %s", got)
	}
}
