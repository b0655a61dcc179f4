package redact_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/otelaudit/otelaudit/processors/redact"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCollectorPrometheusEndpoint runs a real collector (OTLP/HTTP in, redact, debug out) and reads the
// processor's counters from the collector's own Prometheus endpoint, as an operator would.
func TestCollectorPrometheusEndpoint(t *testing.T) {
	otlpPort, metricsPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  redact:
exporters:
  debug:
service:
  telemetry:
    logs:
      level: error
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    logs:
      receivers: [otlp]
      processors: [redact]
      exporters: [debug]
`, otlpPort, metricsPort)
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo:               component.NewDefaultBuildInfo(),
		DisableGracefulShutdown: true,
		Factories: func() (otelcol.Factories, error) {
			var f otelcol.Factories
			var err error
			f.Telemetry = otelconftelemetry.NewFactory()
			if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
				return f, err
			}
			if f.Processors, err = otelcol.MakeFactoryMap[processor.Factory](redact.NewFactory()); err != nil {
				return f, err
			}
			f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](debugexporter.NewFactory())
			return f, err
		},
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"yaml:" + cfg},
			ProviderFactories: []confmap.ProviderFactory{yamlprovider.NewFactory()},
		}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- col.Run(ctx) }()
	defer func() {
		col.Shutdown()
		require.NoError(t, <-done)
	}()
	require.Eventually(t, func() bool { return col.GetState() == otelcol.StateRunning }, 30*time.Second, 10*time.Millisecond)

	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	logs := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[
		{"body":{"stringValue":"token ` + jwt + ` and AKIAZ7Q3LMNB4XK2PW5R"}},
		{"body":{"stringValue":"another ` + jwt + `"},"attributes":[{"key":"img","value":{"bytesValue":"iVBORw0K"}}]}]}]}]}`
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/logs", otlpPort), "application/json", strings.NewReader(logs))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	got := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "otelaudit_redaction_") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		t.Log(line)
		if _, rest, ok := strings.Cut(line, `pattern="`); ok {
			pattern, _, _ := strings.Cut(rest, `"`)
			name += "/" + pattern
		}
		got[name] = line[strings.LastIndexByte(line, ' ')+1:]
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, map[string]string{
		redact.MetricHits + "/jwt":               "2",
		redact.MetricHits + "/aws_access_key_id": "1",
		redact.MetricAttachmentsRemoved:          "1",
	}, got)
}
