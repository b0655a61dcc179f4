package jetstreamextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

const typeStr = "jetstream"

// Type is the component type of the extension: `jetstream`.
var Type = component.MustNewType(typeStr)

// NewFactory returns the factory of the `jetstream` extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, func() component.Config { return createDefaultConfig() }, create, component.StabilityLevelBeta)
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set.Logger), nil
}
