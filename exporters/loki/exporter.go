package loki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
)

const (
	pushPath            = "/loki/api/v1/push"
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeJSON     = "application/json"
	headerRetryAfter    = "Retry-After"

	// maxResponseBytes bounds what is read of a Loki response body.
	maxResponseBytes = 64 * 1024
	// maxReasonBytes bounds Loki's reason as quoted in logs and errors.
	maxReasonBytes = 512
	// linePrefixBytes is how much of each pushed line is looked for in a
	// reason before quoting it, so no event content reaches our logs.
	linePrefixBytes = 64
)

type lokiExporter struct {
	cfg       *Config
	settings  component.TelemetrySettings
	logger    *zap.Logger
	pushURL   string
	userAgent string
	builder   batchBuilder
	metrics   *exporterMetrics
	client    *http.Client
}

func newLokiExporter(cfg *Config, set exporter.Settings) (*lokiExporter, error) {
	tenants, err := newTenantResolver(cfg.Tenant.Get())
	if err != nil {
		return nil, fmt.Errorf("tenant.pattern: %w", err)
	}
	metrics, err := newExporterMetrics(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &lokiExporter{
		cfg:       cfg,
		settings:  set.TelemetrySettings,
		logger:    set.Logger,
		pushURL:   strings.TrimRight(cfg.ClientConfig.Endpoint, "/") + pushPath,
		userAgent: fmt.Sprintf("%s/%s (%s/%s)", set.BuildInfo.Description, set.BuildInfo.Version, runtime.GOOS, runtime.GOARCH),
		builder: batchBuilder{
			labels:     compileMappings(cfg.Labels),
			metadata:   compileMappings(cfg.StructuredMetadata),
			tenants:    tenants,
			lineFormat: cfg.LineFormat,
		},
		metrics: metrics,
	}, nil
}

// start builds the HTTP client here, where auth extensions are reachable.
func (e *lokiExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.settings)
	if err != nil {
		return err
	}
	e.client = client
	return nil
}

func (e *lokiExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	return nil
}

// pushLogs sends one push per tenant. Only the records of pushes that failed
// with a retryable error are handed back for retry (consumererror.Logs), so
// a retry never duplicates what another tenant's push already delivered.
func (e *lokiExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	pushes, fallbacks := e.builder.build(ld, time.Now())
	if len(fallbacks) > 0 {
		e.metrics.addFallbacks(ctx, fallbacks)
		// Counts only: the offending values come from records.
		e.logger.Warn("Records without a valid tenant id were sent to the fallback tenant",
			zap.Int("missing", fallbacks[fallbackMissing]),
			zap.Int("invalid", fallbacks[fallbackInvalid]),
			zap.String("fallback_tenant", e.builder.tenants.fallback),
			zap.String("tenant_attribute", e.builder.tenants.attribute))
	}

	var retryErrs, permanentErrs []error
	var retryRefs []recordRef
	var throttle time.Duration
	for _, tp := range pushes {
		delay, err := e.send(ctx, tp)
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanentErrs = append(permanentErrs, err)
		default:
			retryErrs = append(retryErrs, err)
			retryRefs = append(retryRefs, tp.refs...)
			throttle = max(throttle, delay)
		}
	}

	if len(retryErrs) == 0 {
		if len(permanentErrs) == 0 {
			return nil
		}
		return consumererror.NewPermanent(errors.Join(permanentErrs...))
	}
	// The error returned must stay retryable for the records that can still
	// be delivered, so the permanent failures are reported here instead.
	for _, perr := range permanentErrs {
		e.logger.Error("Dropping entries Loki refused; other tenants' pushes will be retried", zap.Error(perr))
	}
	err := errors.Join(retryErrs...)
	if throttle > 0 {
		err = exporterhelper.NewThrottleRetry(err, throttle)
	}
	if len(retryRefs) == ld.LogRecordCount() {
		return err
	}
	return consumererror.NewLogs(err, subsetLogs(ld, retryRefs))
}

// send pushes one tenant's streams. A retryable error may come with the
// delay Loki asked for in Retry-After.
func (e *lokiExporter) send(ctx context.Context, tp *tenantPush) (time.Duration, error) {
	var body []byte
	contentType := contentTypeProtobuf
	if e.cfg.Encoding == EncodingJSON {
		body = encodeJSONPush(nil, tp.streams)
		contentType = contentTypeJSON
	} else {
		body = encodeProtobufPush(tp.streams)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.pushURL, bytes.NewReader(body))
	if err != nil {
		return 0, consumererror.NewPermanent(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", e.userAgent)
	if tp.tenant != "" {
		req.Header.Set(headerTenant, tp.tenant)
	}

	resp, err := e.client.Do(req)
	if err != nil {
		// Network errors and client timeouts are worth retrying.
		return 0, fmt.Errorf("push to Loki at %s failed: %w", req.URL.Redacted(), err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		_ = resp.Body.Close()
	}()

	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		e.metrics.addSent(ctx, tp.nEntries)
		return 0, nil
	}

	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	reason := safeReason(respBody, tp)
	where := req.URL.Redacted()

	switch code := resp.StatusCode; {
	case code == http.StatusBadRequest:
		rejected := rejectedEntries(respBody, tp.nEntries)
		e.metrics.addRejected(ctx, rejected, rejectBadRequest)
		e.metrics.addSent(ctx, tp.nEntries-rejected)
		e.logger.Warn("Loki rejected entries (HTTP 400); they are not retried",
			zap.String("tenant", tp.tenant),
			zap.Int("rejected_entries", rejected),
			zap.Int("pushed_entries", tp.nEntries),
			zap.String("reason", reason))
		return 0, consumererror.NewPermanent(fmt.Errorf(
			"Loki at %s rejected %d of %d entries (HTTP 400, not retried): %s", where, rejected, tp.nEntries, reason))

	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.metrics.addRejected(ctx, tp.nEntries, rejectAuth)
		return 0, consumererror.NewPermanent(fmt.Errorf(
			"Loki at %s refused the push with HTTP %d: check the exporter's credentials (auth extension, headers, TLS client certificate) and that the tenant may write: %s",
			where, code, reason))

	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		err := fmt.Errorf("Loki at %s answered HTTP %d (will retry): %s", where, code, reason)
		return retryAfter(resp.Header, time.Now()), err

	default:
		e.metrics.addRejected(ctx, tp.nEntries, rejectOther)
		return 0, consumererror.NewPermanent(fmt.Errorf(
			"Loki at %s answered HTTP %d (not retried): %s", where, code, reason))
	}
}

// retryAfter reads Retry-After as delay-seconds or an HTTP date (RFC 9110).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get(headerRetryAfter))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// totalIgnored is how Loki ends a 400 listing refused entries, once per stream.
var totalIgnored = regexp.MustCompile(`total ignored: (\d+) out of (\d+)`)

// rejectedEntries counts the entries a 400 body says Loki refused: the sum
// of its "total ignored: N out of M" parts, or all of the push when the body
// does not say (the whole request was refused).
func rejectedEntries(body []byte, pushed int) int {
	matches := totalIgnored.FindAllSubmatch(body, -1)
	if len(matches) == 0 {
		return pushed
	}
	n := 0
	for _, m := range matches {
		if v, err := strconv.Atoi(string(m[1])); err == nil {
			n += v
		}
	}
	return min(n, pushed)
}

// safeReason reduces a Loki response body to a short one-line reason fit
// for our logs: first line only, control characters dropped, cut to
// maxReasonBytes, and withheld entirely if it quotes any pushed line.
func safeReason(body []byte, tp *tenantPush) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" {
		return "(no reason given)"
	}
	// Before cutting, so a line cannot hide behind the cut.
	for _, st := range tp.streams {
		for i := range st.entries {
			line := st.entries[i].line
			if len(line) > linePrefixBytes {
				line = line[:linePrefixBytes]
			}
			if line != "" && strings.Contains(s, line) {
				return "(reason withheld: it quotes log line content)"
			}
		}
	}
	if len(s) > maxReasonBytes {
		cut := maxReasonBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
