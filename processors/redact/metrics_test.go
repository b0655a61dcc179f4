package redact

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// TestPrometheusNames checks the names the collector's Prometheus endpoint shows, both with the
// collector's default internal telemetry (no translation: without_units and without_type_suffix) and
// with suffix translation turned on.
func TestPrometheusNames(t *testing.T) {
	for _, strategy := range []otlptranslator.TranslationStrategyOption{otlptranslator.NoTranslation, otlptranslator.NoUTF8EscapingWithSuffixes} {
		t.Run(string(strategy), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithTranslationStrategy(strategy))
			require.NoError(t, err)
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
			defer func() { require.NoError(t, mp.Shutdown(context.Background())) }()

			m, err := newRedactMetrics(mp, []string{"jwt", "aws_access_key_id", "ticket"})
			require.NoError(t, err)
			var tl tally
			p, _ := newTestProcessor(t, nil)
			p.scrubString(testJWT+" "+testAWSKey+" "+testAWSKey, &tl, true)
			tl.attachments, tl.truncated = 3, 1
			m.record(context.Background(), &tl)

			families, err := reg.Gather()
			require.NoError(t, err)
			got := map[string]map[string]float64{}
			for _, f := range families {
				byPattern := map[string]float64{}
				for _, metric := range f.GetMetric() {
					pattern := ""
					for _, l := range metric.GetLabel() {
						if l.GetName() == PatternLabel {
							pattern = l.GetValue()
						}
					}
					byPattern[pattern] += metric.GetCounter().GetValue()
				}
				got[f.GetName()] = byPattern
			}
			assert.Equal(t, map[string]float64{"jwt": 1, "aws_access_key_id": 2}, got["otelaudit_redaction_hits_total"])
			assert.Equal(t, map[string]float64{"": 3}, got["otelaudit_redaction_attachments_removed_total"])
			assert.Equal(t, map[string]float64{"": 1}, got["otelaudit_redaction_truncated_fields_total"])
		})
	}
}
