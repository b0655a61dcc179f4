package loki

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Type().String() != "loki" {
		t.Errorf("type %q, want loki", f.Type())
	}
	if f.LogsStability().String() == "Undefined" {
		t.Error("logs are not supported")
	}
	cfg := f.CreateDefaultConfig().(*Config)
	if err := componenttest.CheckConfigStruct(cfg); err != nil {
		t.Error(err)
	}
	if err := cfg.Validate(); err == nil {
		t.Error("default config without endpoint validated")
	}
	cfg.ClientConfig.Endpoint = "http://127.0.0.1:3100"
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config with endpoint: %v", err)
	}

	set := exportertest.NewNopSettings(componentType)
	if _, err := f.CreateTraces(context.Background(), set, cfg); err == nil {
		t.Error("a traces exporter was created; loki is logs only")
	}
	exp, err := f.CreateLogs(context.Background(), set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Shutdown without Start must be safe, as the collector may do it.
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}
