package journalconnector

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/otelaudit/otelaudit/journal/journalconnector"

// Metric names as they appear on the Prometheus endpoint (counters carry their _total suffix in
// the instrument name, so the name is the same whichever Prometheus translation is in use).
const (
	MetricIngested       = "otelaudit_journal_ingested_records_total"
	MetricDuplicates     = "otelaudit_journal_duplicate_records_total"
	MetricRefused        = "otelaudit_journal_refused_records_total"
	MetricDelivered      = "otelaudit_journal_delivered_records_total"
	MetricRedelivered    = "otelaudit_journal_redelivered_records_total"
	MetricFailed         = "otelaudit_journal_failed_records_total"
	MetricDeadLettered   = "otelaudit_journal_dead_lettered_records_total"
	MetricPending        = "otelaudit_journal_pending_messages"
	MetricStreamMessages = "otelaudit_journal_stream_messages"
	MetricStreamBytes    = "otelaudit_journal_stream_bytes"
	MetricStreamMaxBytes = "otelaudit_journal_stream_max_bytes"
	MetricDeadMessages   = "otelaudit_journal_dead_letter_messages"
)

// Attribute keys.
const (
	attrPipeline = "pipeline" // destination pipeline ID, e.g. "logs/file"
	attrReason   = "reason"   // why ingestion was refused: full | unavailable | too_large
	attrStream   = "stream"
)

// Refusal reasons.
const (
	reasonFull        = "full"
	reasonUnavailable = "unavailable"
	reasonTooLarge    = "too_large"
)

type telemetry struct {
	meter metric.Meter

	ingested, duplicates, refused                metric.Int64Counter
	delivered, redelivered, failed, deadLettered metric.Int64Counter

	pending, streamMsgs, streamBytes, streamMaxBytes, deadMsgs metric.Int64ObservableGauge
}

func newTelemetry(mp metric.MeterProvider) (*telemetry, error) {
	m := mp.Meter(scopeName)
	t := &telemetry{meter: m}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{record}"))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, desc, unit string) metric.Int64ObservableGauge {
		g, err := m.Int64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return g
	}
	t.ingested = counter(MetricIngested, "Log records stored in the journal (acknowledged to the sender).")
	t.duplicates = counter(MetricDuplicates, "Log records the journal recognised as a retry of an already stored batch and stored no second time.")
	t.refused = counter(MetricRefused, "Log records refused by the journal with a retryable error (reason: full, unavailable) or as too large.")
	t.delivered = counter(MetricDelivered, "Log records a destination pipeline accepted.")
	t.redelivered = counter(MetricRedelivered, "Log records handed to a destination pipeline again after an earlier attempt failed, timed out or was interrupted.")
	t.failed = counter(MetricFailed, "Log records a destination pipeline failed with a retryable error (each attempt counts).")
	t.deadLettered = counter(MetricDeadLettered, "Log records a destination pipeline refused permanently, moved to the dead-letter stream.")
	t.pending = gauge(MetricPending, "Journal messages (batches) not yet acknowledged by a destination pipeline: waiting plus in flight.", "{message}")
	t.streamMsgs = gauge(MetricStreamMessages, "Messages (batches) held in the journal stream.", "{message}")
	t.streamBytes = gauge(MetricStreamBytes, "Bytes held in the journal stream.", "By")
	t.streamMaxBytes = gauge(MetricStreamMaxBytes, "Configured byte limit of the journal stream (absent when unlimited).", "By")
	t.deadMsgs = gauge(MetricDeadMessages, "Messages held in the dead-letter stream.", "{message}")
	return t, errors.Join(errs...)
}

func pipelineAttr(id string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String(attrPipeline, id)))
}

func (t *telemetry) refusedAdd(ctx context.Context, n int, reason string) {
	t.refused.Add(ctx, int64(n), metric.WithAttributeSet(attribute.NewSet(attribute.String(attrReason, reason))))
}
