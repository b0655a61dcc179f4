package pipeline

import (
	"context"
	_ "embed"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// Version is the otelaudit release, set at build time with
// -ldflags "-X github.com/otelaudit/otelaudit/pipeline.Version=…".
var Version = "0.1.0-dev"

// DefaultConfigURI names the embedded default config. It is the config the
// collector resolves when no --config flag is given, so that `otelaudit`
// alone, in an empty directory, runs a complete local pipeline.
const DefaultConfigURI = builtinScheme + ":default"

const builtinScheme = "otelaudit"

//go:embed default.yaml
var defaultConfig []byte

// DefaultConfig returns the YAML text of the embedded default config.
func DefaultConfig() []byte { return append([]byte(nil), defaultConfig...) }

// BuildInfo describes this distribution to the collector (version output,
// self-telemetry resource attributes).
func BuildInfo() component.BuildInfo {
	return component.BuildInfo{
		Command:     "otelaudit",
		Description: "otelaudit: audit events of the mini-chat service, redacted, to Loki, files and OpenTelemetry back ends",
		Version:     Version,
	}
}

// Settings returns the collector settings of the otelaudit distribution:
// its factories, the file/env/yaml config providers plus the embedded
// default, which --config replaces when given.
func Settings() otelcol.CollectorSettings {
	return otelcol.CollectorSettings{
		BuildInfo: BuildInfo(),
		Factories: Components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				URIs: []string{DefaultConfigURI},
				ProviderFactories: []confmap.ProviderFactory{
					fileprovider.NewFactory(),
					envprovider.NewFactory(),
					yamlprovider.NewFactory(),
					confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return builtinProvider{} }),
				},
				DefaultScheme: "env",
			},
		},
	}
}

// builtinProvider serves the configs compiled into the binary under the
// "otelaudit:" scheme.
type builtinProvider struct{}

func (builtinProvider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	if uri != DefaultConfigURI {
		return nil, fmt.Errorf("unknown built-in config %q: the only one is %q", uri, DefaultConfigURI)
	}
	return confmap.NewRetrievedFromYAML(defaultConfig)
}

func (builtinProvider) Scheme() string { return builtinScheme }

func (builtinProvider) Shutdown(context.Context) error { return nil }
