// Package journaltest holds test helpers shared by the journal extension and connector tests:
// a host that serves extensions and a reader for the components' own metrics.
package journaltest // import "github.com/otelaudit/otelaudit/journal/internal/journaltest"

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Host is a component.Host that serves the given extensions.
type Host map[component.ID]component.Component

// GetExtensions implements component.Host.
func (h Host) GetExtensions() map[component.ID]component.Component { return h }

// Metrics collects metrics from a MeterProvider on demand.
type Metrics struct {
	Reader   *sdkmetric.ManualReader
	Provider *sdkmetric.MeterProvider
}

// NewMetrics returns a MeterProvider backed by a manual reader.
func NewMetrics() *Metrics {
	r := sdkmetric.NewManualReader()
	return &Metrics{Reader: r, Provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))}
}

// Value sums the int64 data points of the named metric whose attributes include all of want
// (key, value pairs). found is false when no such point exists.
func (m *Metrics) Value(t testing.TB, name string, want ...string) (sum int64, found bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collect metrics: %v", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if md.Name != name {
				continue
			}
			var points []metricdata.DataPoint[int64]
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			}
			for _, p := range points {
				if hasAll(p.Attributes, want) {
					sum += p.Value
					found = true
				}
			}
		}
	}
	return sum, found
}

func hasAll(set attribute.Set, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := set.Value(attribute.Key(kv[i]))
		if !ok || v.AsString() != kv[i+1] {
			return false
		}
	}
	return true
}

// NATSServer starts a real NATS server with JetStream on 127.0.0.1 (random port), storing in a
// temporary directory, and returns it with its client URL. It stops when the test ends.
func NATSServer(t testing.TB, user, password string) (*server.Server, string) {
	t.Helper()
	srv := StartNATSServer(t, &server.Options{
		ServerName:             "test-nats",
		Host:                   "127.0.0.1",
		Port:                   server.RANDOM_PORT,
		JetStream:              true,
		StoreDir:               t.TempDir(),
		NoSigs:                 true,
		NoLog:                  true,
		DisableJetStreamBanner: true,
		Username:               user,
		Password:               password,
	})
	return srv, srv.ClientURL()
}

// StartNATSServer starts a NATS server with opts and stops it when the test ends.
func StartNATSServer(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}
