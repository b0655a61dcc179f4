package pipeline

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/otelcol"
)

func TestComponentsListsEveryShippedFactory(t *testing.T) {
	f, err := Components()
	require.NoError(t, err)
	for _, name := range []string{"otlp", "chataudit"} {
		assert.Contains(t, f.Receivers, component.MustNewType(name), "receiver %s", name)
	}
	for _, name := range []string{"batch", "memory_limiter", "redact"} {
		assert.Contains(t, f.Processors, component.MustNewType(name), "processor %s", name)
	}
	for _, name := range []string{"auditfile", "loki", "debug", "otlp", "otlp_http"} {
		assert.Contains(t, f.Exporters, component.MustNewType(name), "exporter %s", name)
	}
	assert.Contains(t, f.Extensions, component.MustNewType("jetstream"))
	assert.Contains(t, f.Connectors, component.MustNewType("journal"))
	assert.NotNil(t, f.Telemetry, "otelcol refuses to start without a telemetry factory")
}

func TestBuiltinProviderServesOnlyTheDefault(t *testing.T) {
	p := builtinProvider{}
	ret, err := p.Retrieve(context.Background(), DefaultConfigURI, nil)
	require.NoError(t, err)
	conf, err := ret.AsConf()
	require.NoError(t, err)
	assert.True(t, conf.IsSet("service::pipelines"))

	_, err = p.Retrieve(context.Background(), "otelaudit:other", nil)
	assert.ErrorContains(t, err, `unknown built-in config "otelaudit:other"`)
}

func TestDefaultConfigValidates(t *testing.T) {
	col, err := otelcol.NewCollector(Settings())
	require.NoError(t, err)
	require.NoError(t, col.DryRun(context.Background()))
}
