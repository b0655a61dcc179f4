package journalconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// Type is the component type of the connector: `journal`.
var Type = component.MustNewType("journal")

// NewFactory returns the factory of the `journal` connector (logs to logs).
func NewFactory() connector.Factory {
	return connector.NewFactory(Type, createDefaultConfig,
		connector.WithLogsToLogs(createLogsToLogs, component.StabilityLevelBeta))
}

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	return newConnector(set, cfg.(*Config), next)
}
