package loki

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Exporter metrics, recorded through the collector's telemetry MeterProvider.
const (
	metricEntriesSent     = "otelaudit_loki_entries_sent_total"
	metricEntriesRejected = "otelaudit_loki_entries_rejected_total"
	metricTenantFallbacks = "otelaudit_loki_tenant_fallbacks_total"
)

// Values of the `reason` attribute of metricEntriesRejected (bounded).
const (
	rejectBadRequest = "bad_request" // 400: Loki refused these entries
	rejectAuth       = "auth"        // 401/403: credentials or tenant not accepted
	rejectOther      = "other"       // any other non-retryable status
)

type exporterMetrics struct {
	sent      metric.Int64Counter
	rejected  metric.Int64Counter
	fallbacks metric.Int64Counter
}

func newExporterMetrics(set component.TelemetrySettings) (*exporterMetrics, error) {
	meter := set.MeterProvider.Meter(scopeName)
	sent, err := meter.Int64Counter(metricEntriesSent,
		metric.WithDescription("Log entries Loki accepted."),
		metric.WithUnit("{entry}"))
	if err != nil {
		return nil, err
	}
	rejected, err := meter.Int64Counter(metricEntriesRejected,
		metric.WithDescription("Log entries Loki refused with a non-retryable status (not retried), by reason."),
		metric.WithUnit("{entry}"))
	if err != nil {
		return nil, err
	}
	fallbacks, err := meter.Int64Counter(metricTenantFallbacks,
		metric.WithDescription("Log records sent to the fallback tenant because their tenant attribute was missing or invalid, by reason."),
		metric.WithUnit("{record}"))
	if err != nil {
		return nil, err
	}
	return &exporterMetrics{sent: sent, rejected: rejected, fallbacks: fallbacks}, nil
}

func reasonAttr(reason string) metric.AddOption {
	return metric.WithAttributes(attribute.String("reason", reason))
}

func (m *exporterMetrics) addSent(ctx context.Context, n int) {
	if n > 0 {
		m.sent.Add(ctx, int64(n))
	}
}

func (m *exporterMetrics) addRejected(ctx context.Context, n int, reason string) {
	if n > 0 {
		m.rejected.Add(ctx, int64(n), reasonAttr(reason))
	}
}

func (m *exporterMetrics) addFallbacks(ctx context.Context, counts fallbackCounts) {
	for reason, n := range counts {
		m.fallbacks.Add(ctx, int64(n), reasonAttr(reason))
	}
}
