package loki

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelaudit/otelaudit/auditevent"
)

// Encoding is the wire format of the push request body.
type Encoding string

const (
	// EncodingProtobuf is Loki's native format: logproto.PushRequest, snappy block-compressed.
	EncodingProtobuf Encoding = "protobuf"
	// EncodingJSON is Loki's JSON push format (streams[].stream / streams[].values).
	EncodingJSON Encoding = "json"
)

// LineFormat is how one log record becomes one Loki log line.
type LineFormat string

const (
	// LineFormatJSON writes the (already redacted) event as compact JSON.
	LineFormatJSON LineFormat = "json"
	// LineFormatLogfmt writes the same content as flattened key="value" pairs.
	LineFormatLogfmt LineFormat = "logfmt"
)

// FieldSource says where a label or structured metadata value is read from.
type FieldSource string

const (
	// FromResource reads a resource attribute.
	FromResource FieldSource = "resource"
	// FromAttribute reads a log record attribute.
	FromAttribute FieldSource = "attribute"
	// FromRecord reads a log record field: one of the RecordField* keys.
	FromRecord FieldSource = "record"
)

// Record fields usable with `from: record`.
const (
	RecordFieldTraceID      = "trace_id"
	RecordFieldSpanID       = "span_id"
	RecordFieldEventName    = "event_name"
	RecordFieldSeverityText = "severity_text"
)

var recordFields = []string{RecordFieldTraceID, RecordFieldSpanID, RecordFieldEventName, RecordFieldSeverityText}

// FieldMapping copies one value of each record into a Loki label or a
// structured metadata entry.
type FieldMapping struct {
	// From is "resource", "attribute" (log record attribute) or "record" (a record field).
	From FieldSource `mapstructure:"from"`
	// Key is the attribute key, or the record field name for `from: record`.
	Key string `mapstructure:"key"`
	// Name is the Loki name; empty means Key, sanitised (dots and other
	// characters outside [a-zA-Z0-9_] become "_").
	Name string `mapstructure:"name"`
}

// TenantConfig selects the Loki tenant (X-Scope-OrgID) of each record.
// Exactly one of Static and FromAttribute applies; FromAttribute defaults to
// DefaultTenantAttribute when Static is empty.
type TenantConfig struct {
	// Static sends every push with this one tenant id.
	Static string `mapstructure:"static"`
	// FromAttribute names the record (then resource) attribute holding the tenant id.
	FromAttribute string `mapstructure:"from_attribute"`
	// Fallback is the tenant of records whose tenant attribute is missing or invalid.
	Fallback string `mapstructure:"fallback"`
	// Pattern is the regular expression (anchored at both ends) a record's
	// tenant value must match; empty means a UUID.
	Pattern string `mapstructure:"pattern"`
	// Prefix is prepended to every tenant id taken from a record (not to Fallback).
	Prefix string `mapstructure:"prefix"`
}

// Config is the configuration of the loki exporter.
type Config struct {
	// ClientConfig: `endpoint` is Loki's base URL (e.g. http://localhost:3100);
	// the exporter posts to <endpoint>/loki/api/v1/push.
	ClientConfig confighttp.ClientConfig                                  `mapstructure:",squash"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	Encoding   Encoding   `mapstructure:"encoding"`
	LineFormat LineFormat `mapstructure:"line_format"`

	// Labels become Loki stream labels: keep them few and of bounded values.
	Labels []FieldMapping `mapstructure:"labels"`
	// StructuredMetadata is attached to each entry without creating streams:
	// the place for ids.
	StructuredMetadata []FieldMapping `mapstructure:"structured_metadata"`
	// AllowHighCardinalityLabels lets Labels use keys known to be per-chat,
	// per-turn, per-request or per-user ids (or trace/span ids), which would
	// create one Loki stream per id.
	AllowHighCardinalityLabels bool `mapstructure:"allow_high_cardinality_labels"`

	// Tenant enables multi-tenancy; absent means no X-Scope-OrgID header.
	Tenant configoptional.Optional[TenantConfig] `mapstructure:"tenant"`
}

var _ component.Config = (*Config)(nil)

const (
	// DefaultTenantAttribute is the audit event's tenant id attribute.
	DefaultTenantAttribute = auditevent.AttrTenantID
	// DefaultFallbackTenant receives records without a valid tenant.
	DefaultFallbackTenant = "otelaudit-unassigned"

	headerTenant = "X-Scope-OrgID"
	// maxLabels is Loki's default max_label_names_per_series; a push over it is refused whole.
	maxLabels = 15
	// maxTenantIDLength is Loki's limit on X-Scope-OrgID.
	maxTenantIDLength = 150
	// uuidPattern is the default tenant pattern; any letter case (UUIDs are
	// case-insensitive), lower-cased before use.
	uuidPattern = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
)

// highCardinalityKeys are attribute keys and record fields whose values are
// (nearly) unique per event or per user: one Loki stream each if used as labels.
var highCardinalityKeys = map[string]bool{
	auditevent.AttrChatID:    true,
	auditevent.AttrTurnID:    true,
	auditevent.AttrRequestID: true,
	auditevent.AttrUserID:    true,
	auditevent.AttrTenantID:  true,
	"trace_id":               true,
	"span_id":                true,
}

// highCardinalityNames are label names (after sanitising) that denote such
// ids whatever key they were read from; a name ending in "_<one of these>" counts too.
var highCardinalityNames = []string{
	"chat_id", "turn_id", "request_id", "original_request_id", "new_request_id",
	"user_id", "actor_user_id", "tenant_id", "trace_id", "span_id",
}

// Validate checks the configuration; errors name the key and the reason.
func (cfg *Config) Validate() error {
	var errs []error
	if err := validateEndpoint(cfg.ClientConfig.Endpoint); err != nil {
		errs = append(errs, err)
	}
	switch cfg.Encoding {
	case EncodingProtobuf, EncodingJSON:
	default:
		errs = append(errs, fmt.Errorf("encoding: %q is not supported: use %q or %q", cfg.Encoding, EncodingProtobuf, EncodingJSON))
	}
	switch cfg.LineFormat {
	case LineFormatJSON, LineFormatLogfmt:
	default:
		errs = append(errs, fmt.Errorf("line_format: %q is not supported: use %q or %q", cfg.LineFormat, LineFormatJSON, LineFormatLogfmt))
	}

	if len(cfg.Labels) > maxLabels {
		errs = append(errs, fmt.Errorf("labels: %d labels configured, Loki accepts at most %d per stream (max_label_names_per_series): move the rest to structured_metadata", len(cfg.Labels), maxLabels))
	}
	labelNames := map[string]string{}
	for i, m := range cfg.Labels {
		field := fmt.Sprintf("labels[%d]", i)
		name, err := m.validate(field)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := labelNames[name]; dup {
			errs = append(errs, fmt.Errorf("%s: label name %q is already produced by %s", field, name, prev))
			continue
		}
		labelNames[name] = field
		if !cfg.AllowHighCardinalityLabels && isHighCardinality(m, name) {
			errs = append(errs, fmt.Errorf("%s: %q (label %q) is a per-chat/turn/request/user/trace id; as a label it makes one Loki stream per id: put it in structured_metadata, or set allow_high_cardinality_labels: true", field, m.Key, name))
		}
	}
	metaNames := map[string]string{}
	for i, m := range cfg.StructuredMetadata {
		field := fmt.Sprintf("structured_metadata[%d]", i)
		name, err := m.validate(field)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := metaNames[name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is already produced by %s", field, name, prev))
			continue
		}
		if prev, dup := labelNames[name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is already a label (%s)", field, name, prev))
			continue
		}
		metaNames[name] = field
	}

	if tc := cfg.Tenant.Get(); tc != nil {
		errs = append(errs, tc.validate()...)
		for k := range cfg.ClientConfig.Headers.Iter {
			if strings.EqualFold(k, headerTenant) {
				errs = append(errs, fmt.Errorf("headers: %s must not be set when tenant is configured: the exporter sets it per push (a fixed header would send every tenant's entries to one tenant)", headerTenant))
			}
		}
	}
	return errors.Join(errs...)
}

func validateEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("endpoint: must be set to Loki's base URL, e.g. http://localhost:3100")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint: not a valid URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint: %q must be an http:// or https:// URL with a host", endpoint)
	}
	return nil
}

// validate returns the Loki name the mapping produces.
func (m FieldMapping) validate(field string) (string, error) {
	if m.Key == "" {
		return "", fmt.Errorf("%s.key: must not be empty", field)
	}
	switch m.From {
	case FromResource, FromAttribute:
	case FromRecord:
		if !slices.Contains(recordFields, m.Key) {
			return "", fmt.Errorf("%s.key: %q is not a record field; with from: record use one of %s", field, m.Key, strings.Join(recordFields, ", "))
		}
	default:
		return "", fmt.Errorf("%s.from: %q is not supported: use %q, %q or %q", field, m.From, FromResource, FromAttribute, FromRecord)
	}
	name := m.lokiName()
	if name == "" {
		return "", fmt.Errorf("%s.name: %q gives an empty Loki name", field, m.Name)
	}
	if strings.HasPrefix(name, "__") {
		return "", fmt.Errorf("%s.name: %q starts with \"__\", which Loki reserves for internal labels", field, name)
	}
	return name, nil
}

// lokiName is the label or structured metadata name of the mapping.
func (m FieldMapping) lokiName() string {
	if m.Name != "" {
		return SanitizeLabelName(m.Name)
	}
	return SanitizeLabelName(m.Key)
}

func isHighCardinality(m FieldMapping, name string) bool {
	if highCardinalityKeys[m.Key] {
		return true
	}
	for _, id := range highCardinalityNames {
		if name == id || strings.HasSuffix(name, "_"+id) {
			return true
		}
	}
	return false
}

// SanitizeLabelName maps s to Loki's label name rule [a-zA-Z_][a-zA-Z0-9_]*:
// every other byte (dots included) becomes "_", and a leading digit gets a "_" prefix.
func SanitizeLabelName(s string) string {
	if s == "" {
		return ""
	}
	b := make([]byte, 0, len(s)+1)
	if s[0] >= '0' && s[0] <= '9' {
		b = append(b, '_')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b = append(b, c)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

func (tc *TenantConfig) validate() []error {
	var errs []error
	if tc.Static != "" {
		if tc.FromAttribute != "" {
			errs = append(errs, errors.New("tenant: static and from_attribute are mutually exclusive: set one"))
		}
		if tc.Fallback != "" || tc.Pattern != "" || tc.Prefix != "" {
			errs = append(errs, errors.New("tenant: fallback, pattern and prefix apply to from_attribute only, not to static"))
		}
		if err := checkTenantID(tc.Static); err != nil {
			errs = append(errs, fmt.Errorf("tenant.static: %w", err))
		}
		return errs
	}
	if err := checkTenantID(tc.fallback()); err != nil {
		errs = append(errs, fmt.Errorf("tenant.fallback: %w", err))
	}
	if tc.Pattern != "" {
		if _, err := compileTenantPattern(tc.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("tenant.pattern: not a valid regular expression: %w", err))
		}
	}
	if tc.Prefix != "" {
		if err := checkTenantID(tc.Prefix); err != nil {
			errs = append(errs, fmt.Errorf("tenant.prefix: %w", err))
		}
	}
	return errs
}

func (tc *TenantConfig) attribute() string {
	if tc.FromAttribute == "" {
		return DefaultTenantAttribute
	}
	return tc.FromAttribute
}

func (tc *TenantConfig) fallback() string {
	if tc.Fallback == "" {
		return DefaultFallbackTenant
	}
	return tc.Fallback
}

func compileTenantPattern(p string) (*regexp.Regexp, error) {
	if p == "" {
		p = uuidPattern
	}
	return regexp.Compile(`^(?:` + p + `)$`)
}

// checkTenantID applies Loki's tenant id rules: at most 150 bytes of
// [a-zA-Z0-9!-_.*'()], not "." or "..". The reason never repeats the value,
// which may come from a record.
func checkTenantID(id string) error {
	switch {
	case id == "":
		return errors.New("must not be empty")
	case len(id) > maxTenantIDLength:
		return fmt.Errorf("longer than Loki's %d-byte limit", maxTenantIDLength)
	case id == "." || id == "..":
		return errors.New(`"." and ".." are not valid Loki tenant ids`)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!-_.*'()", c) >= 0:
		default:
			return errors.New("contains a character Loki does not allow in tenant ids (allowed: letters, digits and !-_.*'())")
		}
	}
	return nil
}
