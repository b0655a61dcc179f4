package auditfile

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// TypeStr is the exporter's type in a collector config.
const TypeStr = "auditfile"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the factory of the auditfile exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		componentType,
		createDefaultConfig,
		exporter.WithLogs(createLogsExporter, component.StabilityLevelAlpha),
	)
}

func createDefaultConfig() component.Config {
	return &Config{}
}

func createLogsExporter(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	fe := newFileExporter(cfg.(*Config))
	// No queue on purpose: success must mean "written to the file", so that
	// an acknowledgement upstream (HTTP 202, a journal ack) is never early.
	return exporterhelper.NewLogs(ctx, set, cfg, fe.consumeLogs,
		exporterhelper.WithStart(fe.start),
		exporterhelper.WithShutdown(fe.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
}
