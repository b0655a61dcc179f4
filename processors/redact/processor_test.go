package redact

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelaudit/otelaudit/auditevent"
	"github.com/otelaudit/otelaudit/redaction"
)

// Secrets of unambiguous shape, each caught by exactly one rule class.
const (
	testJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	testAWSKey = "AKIAZ7Q3LMNB4XK2PW5R"
	testOpenAI = "sk-proj-4fQ9xT2bL7mN1pR8sV3wY6zA0cE5gH2jK9uD"
	testPNG    = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

	redactedJWT = "[REDACTED_JWT]"
	redactedAWS = "[REDACTED_AWS_ACCESS_KEY_ID]"
	redactedOAI = "[REDACTED_OPENAI_KEY]"

	tenantID = "7d0e3f5c-3f6b-4c1e-9a51-2f0c7b1e9a10"
	chatID   = "5a1c0f4e-8b2d-4c6a-9e1f-3d7b2a9c4e11"
	turnID   = "c3d2a1b0-9f8e-4d7c-8b6a-5f4e3d2c1b00"
	userID   = "0b8f6e2a-1c3d-4e5f-8a9b-7c6d5e4f3a21"
	reqID    = "9e44b7c1-2d3e-4f5a-8b6c-1d2e3f4a5b69"
)

func newTestProcessor(t *testing.T, mutate func(*Config)) (*redactProcessor, *componenttest.Telemetry) {
	t.Helper()
	cfg := createDefaultConfig()
	if mutate != nil {
		mutate(cfg)
	}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	p, err := newRedactProcessor(tel.NewTelemetrySettings(), cfg)
	require.NoError(t, err)
	return p, tel
}

// oneRecord returns logs holding a single record and that record.
func oneRecord() (plog.Logs, plog.LogRecord) {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	return ld, lr
}

func process(t *testing.T, p *redactProcessor, ld plog.Logs) {
	t.Helper()
	out, err := p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	require.Equal(t, ld, out)
}

func recordAttr(t *testing.T, lr plog.LogRecord) map[string]any {
	t.Helper()
	v, ok := lr.Attributes().Get(RecordAttribute)
	require.True(t, ok, "record has no %s attribute", RecordAttribute)
	require.Equal(t, pcommon.ValueTypeMap, v.Type())
	return v.Map().AsRaw()
}

func TestStringBody(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	lr.Body().SetStr("token " + testJWT + " and key " + testAWSKey + ", twice " + testAWSKey)
	process(t, p, ld)

	assert.Equal(t, "token "+redactedJWT+" and key "+redactedAWS+", twice "+redactedAWS, lr.Body().Str())
	assert.Equal(t, map[string]any{"jwt": int64(1), "aws_access_key_id": int64(2)}, recordAttr(t, lr))
}

func TestCleanRecordUnchanged(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	text := "The task-force met; Bearer of bad news was " + chatID + " at commit 3f9c2b7e1d4a6f8c0b2e4d6f8a1c3e5b7d9f0a2c."
	lr.Body().SetStr(text)
	lr.Attributes().PutStr("note", "nothing secret here")
	want := plog.NewLogs()
	ld.CopyTo(want)

	process(t, p, ld)
	assert.Equal(t, want, ld)
	_, has := lr.Attributes().Get(RecordAttribute)
	assert.False(t, has)
}

func TestMapBodyNestedArrays(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	require.NoError(t, lr.Body().SetEmptyMap().FromRaw(map[string]any{
		"prompt": "use " + testOpenAI,
		"count":  int64(3),
		"nested": map[string]any{
			"list": []any{
				"plain",
				[]any{"deep " + testAWSKey, []any{testJWT}},
				map[string]any{"inner": "Authorization: Bearer " + testJWT},
				true,
				1.5,
			},
		},
	}))
	process(t, p, ld)

	body := lr.Body().Map().AsRaw()
	assert.Equal(t, "use "+redactedOAI, body["prompt"])
	assert.Equal(t, int64(3), body["count"])
	list := body["nested"].(map[string]any)["list"].([]any)
	require.Len(t, list, 5)
	assert.Equal(t, "plain", list[0])
	assert.Equal(t, []any{"deep " + redactedAWS, []any{redactedJWT}}, list[1])
	inner := list[2].(map[string]any)["inner"].(string)
	assert.NotContains(t, inner, "eyJ")
	assert.True(t, strings.HasPrefix(inner, "Authorization: Bearer "), inner)
	assert.Equal(t, true, list[3])
	assert.Equal(t, 1.5, list[4])

	attr := recordAttr(t, lr)
	assert.Equal(t, int64(1), attr["openai_api_key"])
	assert.Equal(t, int64(1), attr["aws_access_key_id"])
	assert.Equal(t, 2, int(attr["jwt"].(int64)+attr["bearer_token"].(int64)), "one hit per JWT, whichever class wins: %v", attr)
	_, ok := lr.Body().Map().Get(RecordAttribute)
	assert.False(t, ok, "the record attribute must not go into the body")
}

func TestJSONStringBody(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	in := `{"z_first":"key ` + testOpenAI + `","big":18446744073709551615,"price":1.50,"flags":[true,false,null],` +
		`"tenant_id":"` + tenantID + `","Image_Base64":"iVBORw0KGgo=","items":["<b>&</b>","` + testPNG + `",{"ocr_text":"hello"}],` +
		`"esc":"line\nnext \"q\" \u00e9"}`
	lr.Body().SetStr(in)
	process(t, p, ld)

	out := lr.Body().Str()
	require.True(t, json.Valid([]byte(out)), out)
	assert.Equal(t, `{"z_first":"key `+redactedOAI+`","big":18446744073709551615,"price":1.50,"flags":[true,false,null],`+
		`"tenant_id":"`+tenantID+`","items":["<b>&</b>",{}],"esc":"line\nnext \"q\" é"}`, out)
	assert.Equal(t, map[string]any{"openai_api_key": int64(1), attachmentsRemovedKey: int64(3)}, recordAttr(t, lr))
}

func TestJSONStringBodyUnchangedKeepsBytes(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	in := "{ \"a\" : \"clean text\",\n  \"b\": [1, 2.0] }"
	lr.Body().SetStr(in)
	process(t, p, ld)
	assert.Equal(t, in, lr.Body().Str())
}

func TestJSONLikeTextIsPlainText(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	for _, in := range []string{
		`{"unterminated": "` + testAWSKey,
		`{"a":1} trailing ` + testAWSKey,
		`[` + testAWSKey + `]`,
	} {
		ld, lr := oneRecord()
		lr.Body().SetStr(in)
		process(t, p, ld)
		assert.Equal(t, strings.Replace(in, testAWSKey, redactedAWS, 1), lr.Body().Str())
	}
}

func TestAttributesAtDepth(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	rl := ld.ResourceLogs().At(0)
	rl.Resource().Attributes().PutStr("deployment.note", "key "+testAWSKey)
	require.NoError(t, lr.Attributes().FromRaw(map[string]any{
		"http.request.header.authorization": []any{"Bearer " + testJWT},
		"config":                            map[string]any{"env": map[string]any{"OPENAI_API_KEY": testOpenAI}},
		"level":                             "info",
	}))
	process(t, p, ld)

	assert.Equal(t, "key "+redactedAWS, rl.Resource().Attributes().AsRaw()["deployment.note"])
	attrs := lr.Attributes().AsRaw()
	auth := attrs["http.request.header.authorization"].([]any)[0].(string)
	assert.NotContains(t, auth, "eyJ")
	assert.NotContains(t, attrs["config"].(map[string]any)["env"].(map[string]any)["OPENAI_API_KEY"], "sk-proj")
	assert.Equal(t, "info", attrs["level"])
	// Resource attributes are shared by the records of the resource, so they are not in the record attribute.
	_, awsCounted := recordAttr(t, lr)["aws_access_key_id"]
	assert.False(t, awsCounted)
}

func TestUntouchedKeys(t *testing.T) {
	uuidRule := ExtraRule{Name: "uuid_like", Pattern: `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, Replacement: "[UUID]"}
	p, _ := newTestProcessor(t, func(cfg *Config) { cfg.ExtraRules = []ExtraRule{uuidRule} })
	ld, lr := oneRecord()
	require.NoError(t, lr.Body().SetEmptyMap().FromRaw(map[string]any{
		"tenant_id":   tenantID,
		"chat_id":     chatID,
		"note":        "chat " + chatID,
		"attachments": []any{map[string]any{"attachment_id": turnID, "filename": turnID + ".pdf"}},
	}))
	lr.Attributes().PutStr(auditevent.AttrTenantID, tenantID)
	lr.Attributes().PutStr(auditevent.AttrRequestID, reqID)
	lr.Attributes().PutStr("other", reqID)
	process(t, p, ld)

	body := lr.Body().Map().AsRaw()
	assert.Equal(t, tenantID, body["tenant_id"])
	assert.Equal(t, chatID, body["chat_id"])
	assert.Equal(t, "chat [UUID]", body["note"])
	att := body["attachments"].([]any)[0].(map[string]any)
	assert.Equal(t, turnID, att["attachment_id"])
	assert.Equal(t, "[UUID].pdf", att["filename"])
	attrs := lr.Attributes().AsRaw()
	assert.Equal(t, tenantID, attrs[auditevent.AttrTenantID])
	assert.Equal(t, reqID, attrs[auditevent.AttrRequestID])
	assert.Equal(t, "[UUID]", attrs["other"])
	assert.Equal(t, int64(3), recordAttr(t, lr)["uuid_like"])
}

func TestUntouchedKeyKeepsLongToken(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	random := make([]byte, 180)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(random)
	long := base64.StdEncoding.EncodeToString(random) // 240 base64 characters
	lr.Attributes().PutStr("request_id", long)
	lr.Attributes().PutStr("blob", long)
	process(t, p, ld)
	assert.Equal(t, long, lr.Attributes().AsRaw()["request_id"])
	assert.NotContains(t, lr.Attributes().AsRaw()["blob"], long)
	assert.Equal(t, int64(1), recordAttr(t, lr)["long_base64_like"])
}

func TestAttachmentRule(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	body := lr.Body().SetEmptyMap()
	body.PutStr("prompt", "describe the image")
	body.PutEmptyBytes("raw").FromRaw([]byte{0x89, 'P', 'N', 'G'})
	body.PutStr("image_url", testPNG)
	body.PutStr("not_a_data_uri", "data: the numbers below, base64 not used")
	body.PutStr("OCR_Output", "text read from the image")
	atts := body.PutEmptySlice("attachments")
	att := atts.AppendEmpty().SetEmptyMap()
	att.PutStr("attachment_id", turnID)
	att.PutStr("content_type", "image/png")
	att.PutInt("size_bytes", 70)
	att.PutBool("image_used_in_turn", true)
	att.PutStr("image_content", "AAAA")
	atts.AppendEmpty().SetEmptyBytes().FromRaw([]byte("pdf bytes"))
	lr.Attributes().PutEmptyBytes("upload").FromRaw([]byte("x"))
	lr.Attributes().PutStr("chat_id", " "+testPNG) // the attachment rule applies under untouched keys too
	lr.Attributes().PutEmptyMap("meta").PutStr("file_content", "%PDF-1.7")
	process(t, p, ld)

	assert.Equal(t, map[string]any{
		"prompt":         "describe the image",
		"not_a_data_uri": "data: the numbers below, base64 not used",
		"attachments": []any{map[string]any{
			"attachment_id": turnID, "content_type": "image/png", "size_bytes": int64(70), "image_used_in_turn": true,
		}},
	}, lr.Body().Map().AsRaw())
	attrs := lr.Attributes().AsRaw()
	assert.NotContains(t, attrs, "upload")
	assert.NotContains(t, attrs, "chat_id")
	assert.Equal(t, map[string]any{}, attrs["meta"])
	assert.Equal(t, map[string]any{attachmentsRemovedKey: int64(8)}, recordAttr(t, lr))
}

func TestWholeBodyRemoved(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	for _, set := range []func(pcommon.Value){
		func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte("raw image")) },
		func(v pcommon.Value) { v.SetStr(testPNG) },
	} {
		ld, lr := oneRecord()
		set(lr.Body())
		process(t, p, ld)
		assert.Equal(t, pcommon.ValueTypeEmpty, lr.Body().Type())
		assert.Equal(t, map[string]any{attachmentsRemovedKey: int64(1)}, recordAttr(t, lr))
	}
}

func TestTruncation(t *testing.T) {
	p, _ := newTestProcessor(t, func(cfg *Config) { cfg.MaxFieldBytes = 16 })
	ld, lr := oneRecord()
	lr.Body().SetStr(`{"prompt":"` + strings.Repeat("é", 20) + `","short":"ok"}`)
	lr.Attributes().PutStr("a", "0123456789abcdefXYZ")
	process(t, p, ld)

	out := lr.Body().Str()
	require.True(t, json.Valid([]byte(out)), out)
	assert.Equal(t, `{"prompt":"`+strings.Repeat("é", 8)+redaction.TruncationMarker+`","short":"ok"}`, out)
	assert.Equal(t, "0123456789abcdef"+redaction.TruncationMarker, lr.Attributes().AsRaw()["a"])
	assert.Equal(t, map[string]any{truncatedFieldsKey: int64(2)}, recordAttr(t, lr))
}

func TestIdempotentAndAnnotationMerges(t *testing.T) {
	p, _ := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	lr.Body().SetStr("a " + testAWSKey)
	process(t, p, ld)
	once := plog.NewLogs()
	ld.CopyTo(once)
	process(t, p, ld)
	assert.Equal(t, once, ld, "a second pass changes nothing")

	lr.Attributes().PutStr("late", testJWT)
	process(t, p, ld)
	assert.Equal(t, map[string]any{"aws_access_key_id": int64(1), "jwt": int64(1)}, recordAttr(t, lr))
}

func sumByPattern(t *testing.T, tel *componenttest.Telemetry) map[string]int64 {
	t.Helper()
	m, err := tel.GetMetric(MetricHits)
	require.NoError(t, err)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%T", m.Data)
	assert.True(t, sum.IsMonotonic)
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		v, ok := dp.Attributes.Value(PatternLabel)
		require.True(t, ok)
		got[v.AsString()] += dp.Value
	}
	return got
}

func counterValue(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err)
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

func TestCounters(t *testing.T) {
	p, tel := newTestProcessor(t, func(cfg *Config) {
		cfg.MaxFieldBytes = 64
		cfg.ExtraRules = []ExtraRule{{Name: "ticket", Pattern: `TICKET-[0-9]{4}`, Replacement: "[TICKET]"}}
	})
	for range 2 {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("r", testAWSKey)
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		lrs.AppendEmpty().Body().SetStr(testJWT + " " + testAWSKey)
		lr := lrs.AppendEmpty()
		lr.Body().SetStr("TICKET-1234 " + strings.Repeat("x", 100))
		lr.Attributes().PutEmptyBytes("img")
		process(t, p, ld)
	}
	assert.Equal(t, map[string]int64{"jwt": 2, "aws_access_key_id": 4, "ticket": 2}, sumByPattern(t, tel))
	assert.Equal(t, int64(2), counterValue(t, tel, MetricAttachmentsRemoved))
	assert.Equal(t, int64(2), counterValue(t, tel, MetricTruncatedFields))
}

func TestFactoryPipeline(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, TypeStr, f.Type().String())
	sink := new(consumertest.LogsSink)
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := processortest.NewNopSettings(f.Type())
	set.TelemetrySettings = tel.NewTelemetrySettings()
	proc, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig(), sink)
	require.NoError(t, err)
	assert.True(t, proc.Capabilities().MutatesData)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))

	ld, lr := oneRecord()
	lr.Body().SetStr("password=hunter2hunter2 and " + testAWSKey)
	require.NoError(t, proc.ConsumeLogs(context.Background(), ld))
	require.NoError(t, proc.Shutdown(context.Background()))

	require.Len(t, sink.AllLogs(), 1)
	got := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, "password=[REDACTED] and "+redactedAWS, got.Body().Str())
	assert.Equal(t, map[string]int64{"password_fields": 1, "aws_access_key_id": 1}, sumByPattern(t, tel))
}

func TestAuditEventRecord(t *testing.T) {
	event := `{"event_type":"turn_completed","timestamp":"2026-03-02T10:15:00Z","tenant_id":"` + tenantID + `",` +
		`"requester_type":"user","user_id":"` + userID + `","chat_id":"` + chatID + `","turn_id":"` + turnID + `",` +
		`"request_id":"` + reqID + `","selected_model":"gpt-4o","effective_model":"gpt-4o-mini",` +
		`"usage":{"input_tokens":1200,"output_tokens":300},"latency_ms":{"ttft_ms":420,"total_ms":2900},` +
		`"policy_decisions":{"quota":{"decision":"downgrade","quota_scope":"tokens","downgrade_from":"gpt-4o"}},` +
		`"prompt":"My key is ` + testOpenAI + ` and AWS ` + testAWSKey + `, fix the call",` +
		`"response":"Never paste ` + testJWT + ` into chats.",` +
		`"attachments":[{"attachment_id":"` + turnID + `","attachment_kind":"image","filename":"shot.png",` +
		`"content_type":"image/png","size_bytes":2048,"image_used_in_turn":true,"ocr_text":"Sign-in: admin"}]}`
	ev, err := auditevent.DecodeEvent([]byte(event))
	require.NoError(t, err)
	p, tel := newTestProcessor(t, nil)
	ld, lr := oneRecord()
	auditevent.ToLogRecord(ev, lr, time.Date(2026, 3, 2, 10, 15, 1, 0, time.UTC))
	attrsBefore := lr.Attributes().AsRaw()
	process(t, p, ld)

	out, err := auditevent.EventJSONFromLogRecord(lr)
	require.NoError(t, err, "the redacted body must stay a valid audit event")
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, "My key is "+redactedOAI+" and AWS "+redactedAWS+", fix the call", got["prompt"])
	assert.Equal(t, "Never paste "+redactedJWT+" into chats.", got["response"])
	for _, k := range []string{"tenant_id", "user_id", "chat_id", "turn_id", "request_id", "selected_model", "effective_model"} {
		var want map[string]any
		require.NoError(t, json.Unmarshal([]byte(event), &want))
		assert.Equal(t, want[k], got[k], k)
	}
	assert.Equal(t, map[string]any{"attachment_id": turnID, "attachment_kind": "image", "filename": "shot.png",
		"content_type": "image/png", "size_bytes": float64(2048), "image_used_in_turn": true}, got["attachments"].([]any)[0])
	assert.Equal(t, auditevent.EventName(auditevent.TurnCompleted), lr.EventName())

	attrs := lr.Attributes().AsRaw()
	for k, v := range attrsBefore {
		assert.Equal(t, v, attrs[k], k)
	}
	assert.Equal(t, map[string]any{"openai_api_key": int64(1), "aws_access_key_id": int64(1), "jwt": int64(1),
		attachmentsRemovedKey: int64(1)}, attrs[RecordAttribute])
	assert.Equal(t, map[string]int64{"openai_api_key": 1, "aws_access_key_id": 1, "jwt": 1}, sumByPattern(t, tel))
}

func TestIsBase64DataURI(t *testing.T) {
	for s, want := range map[string]bool{
		testPNG:                               true,
		"DATA:application/pdf;base64,JVBERi0": true,
		"\n data:;base64,AAAA":                true,
		"data:image/png;name=a.png;base64,x":  true,
		"data:text/plain,hello":               false,
		"data: image/png;base64,AAAA":         false,
		"see data:image/png;base64,AAAA":      false,
		"data:image/png;base64":               false,
		"metadata:x;base64,AAAA":              false,
		"":                                    false,
	} {
		assert.Equal(t, want, isBase64DataURI(s), s)
	}
}
