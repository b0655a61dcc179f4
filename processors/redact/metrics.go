package redact

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names as the collector's Prometheus endpoint shows them. The collector's default internal
// telemetry uses no name translation (without_type_suffix and without_units), so the `_total` suffix is
// part of the instrument name; with suffix translation on, Prometheus keeps a single `_total`.
const (
	// MetricHits mirrors the contract's mini_chat_audit_redaction_hits_total{pattern}.
	MetricHits               = "otelaudit_redaction_hits_total"
	MetricAttachmentsRemoved = "otelaudit_redaction_attachments_removed_total"
	MetricTruncatedFields    = "otelaudit_redaction_truncated_fields_total"
	// PatternLabel is the label carrying the rule class (or extra rule name) of a hit.
	PatternLabel = "pattern"
)

const scopeName = "github.com/otelaudit/otelaudit/processors/redact"

type redactMetrics struct {
	hits               metric.Int64Counter
	attachmentsRemoved metric.Int64Counter
	truncatedFields    metric.Int64Counter
	// byRule holds one prebuilt label set per configured rule, which bounds the label values
	// and keeps recording free of allocations.
	byRule map[string]metric.AddOption
}

func newRedactMetrics(mp metric.MeterProvider, rules []string) (*redactMetrics, error) {
	meter := mp.Meter(scopeName)
	hits, err := meter.Int64Counter(MetricHits,
		metric.WithDescription("Secrets replaced by the redact processor, by rule class (the pattern label)."),
		metric.WithUnit("{hit}"))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", MetricHits, err)
	}
	attachments, err := meter.Int64Counter(MetricAttachmentsRemoved,
		metric.WithDescription("Attachment content (raw bytes, data: URIs, forbidden keys) removed by the redact processor."),
		metric.WithUnit("{value}"))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", MetricAttachmentsRemoved, err)
	}
	truncated, err := meter.Int64Counter(MetricTruncatedFields,
		metric.WithDescription("String fields cut to max_field_bytes by the redact processor."),
		metric.WithUnit("{field}"))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", MetricTruncatedFields, err)
	}
	m := &redactMetrics{hits: hits, attachmentsRemoved: attachments, truncatedFields: truncated, byRule: make(map[string]metric.AddOption, len(rules))}
	for _, r := range rules {
		m.byRule[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String(PatternLabel, r)))
	}
	return m, nil
}

func (m *redactMetrics) record(ctx context.Context, t *tally) {
	t.hits.ForEach(func(rule string, count int) {
		if opt, ok := m.byRule[rule]; ok {
			m.hits.Add(ctx, int64(count), opt)
		}
	})
	if t.attachments > 0 {
		m.attachmentsRemoved.Add(ctx, int64(t.attachments))
	}
	if t.truncated > 0 {
		m.truncatedFields.Add(ctx, int64(t.truncated))
	}
}
