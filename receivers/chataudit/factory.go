package chataudit

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

// componentType is the receiver's name in collector configuration.
var componentType = component.MustNewType("chataudit")

// NewFactory returns the factory of the chataudit receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		componentType,
		func() component.Config { return createDefaultConfig() },
		receiver.WithLogs(createLogs, component.StabilityLevelAlpha),
	)
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(cfg.(*Config), set, next)
}
