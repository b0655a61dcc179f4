package auditevent

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// bareGoldens are the bare-event golden files: every event type, all optional fields present and
// all absent.
var bareGoldens = []struct {
	file string
	typ  EventType
}{
	{"turn_completed_full.json", TurnCompleted},
	{"turn_completed_min.json", TurnCompleted},
	{"turn_failed_full.json", TurnFailed},
	{"turn_failed_min.json", TurnFailed},
	{"turn_retry_full.json", TurnRetry},
	{"turn_retry_min.json", TurnRetry},
	{"turn_edit_full.json", TurnEdit},
	{"turn_edit_min.json", TurnEdit},
	{"turn_delete_full.json", TurnDelete},
	{"turn_delete_min.json", TurnDelete},
}

func TestGoldenEventRoundTrip(t *testing.T) {
	for _, g := range bareGoldens {
		t.Run(g.file, func(t *testing.T) {
			golden := readGolden(t, g.file)
			ev, err := DecodeEvent(golden)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if ev.Type() != g.typ || ev.Kind() != g.typ.Kind() {
				t.Fatalf("type %q kind %q, want %q", ev.Type(), ev.Kind(), g.typ)
			}
			got, err := ev.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "decode/encode", got, golden)

			// The typed structs alone must reproduce the contract's member order and omissions.
			rebuilt, err := New(ev.Payload())
			if err != nil {
				t.Fatalf("New from typed payload: %v", err)
			}
			got, err = rebuilt.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "typed payload", got, golden)

			// encoding/json integration.
			var viaStd Event
			if err := json.Unmarshal(golden, &viaStd); err != nil {
				t.Fatal(err)
			}
			// json.Marshal would re-escape <, >, & and U+2028 in a Marshaler's output.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(&viaStd); err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, "encoding/json", bytes.TrimSuffix(buf.Bytes(), []byte("\n")), golden)
		})
	}
}

func TestGoldenEnvelopeRoundTrip(t *testing.T) {
	for _, kind := range []Kind{KindTurn, KindMutation, KindDelete} {
		for _, variant := range []string{"full", "min"} {
			file := "envelope_" + string(kind) + "_" + variant + ".json"
			t.Run(file, func(t *testing.T) {
				golden := readGolden(t, file)
				ev, err := DecodeEnvelope(golden)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if ev.Kind() != kind {
					t.Fatalf("kind %q, want %q", ev.Kind(), kind)
				}
				got, err := ev.MarshalEnvelope()
				if err != nil {
					t.Fatal(err)
				}
				assertSameJSON(t, "envelope", got, golden)

				// The bare event is the envelope without its tag.
				bare, err := ev.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				want := bytes.Replace(golden, []byte(`"type":"`+string(kind)+`",`), nil, 1)
				assertSameJSON(t, "bare", bare, want)

				// DecodeEvent tolerates a matching tag.
				ev2, err := DecodeEvent(golden)
				if err != nil {
					t.Fatalf("DecodeEvent of an envelope: %v", err)
				}
				got, _ = ev2.MarshalJSON()
				assertSameJSON(t, "DecodeEvent", got, want)
			})
		}
	}
}

func TestUnknownFieldsRoundTrip(t *testing.T) {
	golden := readGolden(t, "turn_completed_unknown_fields.json")
	ev, err := DecodeEvent(golden)
	if err != nil {
		t.Fatalf("a newer producer's fields must be kept, not rejected: %v", err)
	}
	got, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	assertSameJSON(t, "unknown fields", got, golden)
	if ev.Turn().Usage.InputTokens != 1234 || len(ev.Turn().Attachments) != 2 {
		t.Fatalf("typed view wrong: %+v", ev.Turn().Usage)
	}
}

func TestTypedFields(t *testing.T) {
	ev, err := DecodeEvent(readGolden(t, "turn_completed_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	turn := ev.Turn()
	if turn == nil || ev.Mutation() != nil || ev.Delete() != nil {
		t.Fatal("wrong kind accessors")
	}
	wantTime := time.Date(2026, 3, 2, 10, 15, 0, 123456000, time.UTC)
	switch {
	case !ev.Timestamp().Equal(wantTime):
		t.Errorf("timestamp %v", ev.Timestamp())
	case turn.TenantID != "7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10", turn.RequesterType != RequesterUser:
		t.Errorf("common fields %+v", turn.Common)
	case *turn.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736", *turn.PolicyVersionApplied != 42:
		t.Errorf("trace/policy %v %v", *turn.TraceID, *turn.PolicyVersionApplied)
	case turn.Usage.OutputTokens != 567, *turn.Usage.ReasoningTokens != 64, *turn.Usage.Model != "gpt-4.1-mini-2025-04-14":
		t.Errorf("usage %+v", turn.Usage)
	case *turn.LatencyMs.TTFTMs != 350, *turn.LatencyMs.TotalMs != 2100:
		t.Errorf("latency %+v", turn.LatencyMs)
	case turn.PolicyDecisions.License.Feature != "mini_chat", *turn.PolicyDecisions.Quota.QuotaScope != QuotaScopeTokens:
		t.Errorf("policy %+v", turn.PolicyDecisions)
	case turn.Attachments[1].AttachmentKind != AttachmentImage, !*turn.Attachments[1].ImageUsedInTurn, *turn.Attachments[0].SizeBytes != 482133:
		t.Errorf("attachments %+v", turn.Attachments)
	case *turn.ToolCalls.WebSearchCalls != 1:
		t.Errorf("tool calls %+v", turn.ToolCalls)
	case !strings.Contains(*turn.Prompt, "<b>Q1 & Q2</b>\n"):
		t.Errorf("prompt %q", *turn.Prompt)
	}

	del, err := DecodeEvent(readGolden(t, "turn_delete_min.json"))
	if err != nil {
		t.Fatal(err)
	}
	if del.Delete() == nil || del.Delete().RequestID != "9e44d3c2-b1a0-4f9e-8d7c-6b5a4e3d2c1b" || del.Common().TraceID != nil {
		t.Fatalf("delete: %+v", del.Delete())
	}
}

// A typed event built in Go gets the contract's encoding: absent optionals and an empty attachment
// list are omitted, HTML characters are not escaped.
func TestNewFromTyped(t *testing.T) {
	prompt := "a < b && c > d"
	ev, err := New(&TurnAuditEvent{
		Common: Common{
			EventType: TurnFailed, Timestamp: NewTimestamp(time.Date(2026, 3, 2, 10, 15, 0, 5, time.UTC)),
			TenantID: "7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10", RequesterType: RequesterUser,
		},
		UserID: "0b8f5e2a-6c1d-4f7e-8a3b-9d2c1e0f4a5b", ChatID: "5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e",
		TurnID: "c3d2a1b0-9e8f-4d7c-6b5a-4e3d2c1b0a9f", RequestID: "9e44d3c2-b1a0-4f9e-8d7c-6b5a4e3d2c1b",
		SelectedModel: "m", EffectiveModel: "m",
		PolicyDecisions: PolicyDecisions{Quota: QuotaDecision{Decision: "allow"}},
		Prompt:          &prompt,
		Attachments:     []Attachment{},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ev.MarshalJSON()
	want := `{"event_type":"turn_failed","timestamp":"2026-03-02T10:15:00.000000005Z","tenant_id":"7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10","requester_type":"user",` +
		`"user_id":"0b8f5e2a-6c1d-4f7e-8a3b-9d2c1e0f4a5b","chat_id":"5a1c9e3d-2b4f-4a6c-8e1d-3f5a7b9c0d2e","turn_id":"c3d2a1b0-9e8f-4d7c-6b5a-4e3d2c1b0a9f","request_id":"9e44d3c2-b1a0-4f9e-8d7c-6b5a4e3d2c1b",` +
		`"selected_model":"m","effective_model":"m","usage":{"input_tokens":0,"output_tokens":0},"latency_ms":{},"policy_decisions":{"quota":{"decision":"allow"}},"prompt":"a < b && c > d"}`
	assertSameJSON(t, "typed", got, []byte(want))

	if _, err := New(&TurnDeleteAuditEvent{Common: Common{EventType: TurnDelete}}); err == nil {
		t.Fatal("New must validate: a zero timestamp and empty ids are not an event")
	}
}

// Whitespace in the input is not kept; everything else is.
func TestDecodeCompactsWhitespace(t *testing.T) {
	golden := readGolden(t, "turn_delete_full.json")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, golden, "", "  "); err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeEvent(pretty.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ev.MarshalJSON()
	assertSameJSON(t, "indented input", got, golden)
}

func assertSameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: bytes differ at offset %d\n got: %s\nwant: %s", what, i, got, want)
	}
}
