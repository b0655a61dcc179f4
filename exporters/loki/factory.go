package loki

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelaudit/otelaudit/auditevent"
)

// TypeStr is the exporter's type in a collector config.
const TypeStr = "loki"

var componentType = component.MustNewType(TypeStr)

// scopeName names the exporter's own meter.
const scopeName = "github.com/otelaudit/otelaudit/exporters/loki"

// NewFactory returns the factory of the loki exporter (logs only).
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		componentType,
		createDefaultConfig,
		exporter.WithLogs(createLogsExporter, component.StabilityLevelAlpha),
	)
}

// DefaultLabels are the stream labels when `labels` is not configured:
// the emitting service and the audit event type, both of bounded cardinality.
func DefaultLabels() []FieldMapping {
	return []FieldMapping{
		{From: FromResource, Key: "service.name", Name: "service_name"},
		{From: FromAttribute, Key: auditevent.AttrEventType, Name: "event_type"},
	}
}

// DefaultStructuredMetadata are the per-entry ids when `structured_metadata`
// is not configured: searchable in Loki without one stream per id.
func DefaultStructuredMetadata() []FieldMapping {
	return []FieldMapping{
		{From: FromAttribute, Key: auditevent.AttrTenantID, Name: "tenant_id"},
		{From: FromAttribute, Key: auditevent.AttrChatID, Name: "chat_id"},
		{From: FromAttribute, Key: auditevent.AttrTurnID, Name: "turn_id"},
		{From: FromAttribute, Key: auditevent.AttrRequestID, Name: "request_id"},
		{From: FromAttribute, Key: auditevent.AttrUserID, Name: "user_id"},
		{From: FromRecord, Key: RecordFieldTraceID, Name: "trace_id"},
		{From: FromRecord, Key: RecordFieldSpanID, Name: "span_id"},
	}
}

func createDefaultConfig() component.Config {
	clientConfig := confighttp.NewDefaultClientConfig()
	clientConfig.Timeout = 30 * time.Second
	clientConfig.WriteBufferSize = 512 * 1024
	return &Config{
		ClientConfig:       clientConfig,
		QueueConfig:        configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:        configretry.NewDefaultBackOffConfig(),
		Encoding:           EncodingProtobuf,
		LineFormat:         LineFormatJSON,
		Labels:             DefaultLabels(),
		StructuredMetadata: DefaultStructuredMetadata(),
		// Absent: no tenancy. `tenant:` alone or `tenant: {}` enables it with
		// the defaults (tenant id attribute, UUIDs, fallback tenant).
		Tenant: configoptional.Default(TenantConfig{}),
	}
}

func createLogsExporter(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	le, err := newLokiExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, le.pushLogs,
		exporterhelper.WithStart(le.start),
		exporterhelper.WithShutdown(le.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// Disabled as in otlphttp: the HTTP client's `timeout` bounds each push.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
