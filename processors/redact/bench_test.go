package redact

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// BenchmarkProcessAuditRecords measures the processor over a batch of audit-event-shaped records
// (map bodies with a 4 KiB prompt and response, promoted attributes), clean and with secrets.
func BenchmarkProcessAuditRecords(b *testing.B) {
	prose := strings.Repeat("The quarterly report shows revenue growth in the EMEA region; please summarise it. ", 50)[:4096]
	for name, secret := range map[string]string{"clean": "", "secrets": " key " + testOpenAI + " jwt " + testJWT} {
		b.Run(name, func(b *testing.B) {
			p, err := newRedactProcessor(componenttest.NewNopTelemetrySettings(), createDefaultConfig())
			require.NoError(b, err)
			template := plog.NewLogs()
			lrs := template.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			for range 16 {
				lr := lrs.AppendEmpty()
				body := lr.Body().SetEmptyMap()
				for k, v := range map[string]string{"event_type": "turn_completed", "tenant_id": tenantID, "chat_id": chatID,
					"turn_id": turnID, "request_id": reqID, "user_id": userID, "selected_model": "gpt-4o", "effective_model": "gpt-4o"} {
					body.PutStr(k, v)
				}
				body.PutStr("prompt", prose+secret)
				body.PutStr("response", prose)
				usage := body.PutEmptyMap("usage")
				usage.PutInt("input_tokens", 1200)
				usage.PutInt("output_tokens", 300)
				lr.Attributes().PutStr("mini_chat.tenant_id", tenantID)
				lr.Attributes().PutStr("mini_chat.event_type", "turn_completed")
			}
			b.SetBytes(int64(16 * 2 * len(prose)))
			ld := plog.NewLogs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				template.CopyTo(ld)
				b.StartTimer()
				if _, err := p.processLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
