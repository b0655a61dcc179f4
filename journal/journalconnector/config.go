// Package journalconnector provides the `journal` connector: it writes each batch of a logs pipeline
// once to a NATS JetStream stream and feeds every downstream pipeline from its own durable consumer.
package journalconnector // import "github.com/otelaudit/otelaudit/journal/journalconnector"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/component"

	"github.com/otelaudit/otelaudit/journal/jetstreamextension"
)

// Defaults of the journal connector.
const (
	DefaultStream           = "OTELAUDIT"
	DefaultSubject          = "otelaudit.logs"
	DefaultDeadLetterStream = "OTELAUDIT_DEAD"
	DefaultDeadLetterPrefix = "otelaudit.dead"
	DefaultMaxBytes         = 1 << 30 // 1 GiB
)

// Config configures the journal connector.
type Config struct {
	// Extension is the ID of the jetstream extension that provides the NATS connection.
	Extension component.ID `mapstructure:"extension"`
	// Stream is the JetStream stream holding the journal.
	Stream string `mapstructure:"stream"`
	// Subject the batches are published on (the stream's only subject).
	Subject string `mapstructure:"subject"`
	// DuplicateWindow is how long JetStream remembers message ids: a client retry of the same
	// batch within the window is stored once.
	DuplicateWindow time.Duration `mapstructure:"duplicate_window"`
	// ReplayWindow 0 (default) uses interest retention: a batch leaves the journal as soon as
	// every destination has acknowledged it. A positive value uses limits retention instead:
	// every batch is kept for this long, delivered or not, so that a new destination can be
	// back-filled; a destination that is down for longer than the window loses what aged out.
	ReplayWindow time.Duration `mapstructure:"replay_window"`
	// MaxBytes caps the stream. When it is reached, ingestion is refused with a retryable error
	// (HTTP 503 / gRPC UNAVAILABLE) until destinations catch up. 0 means no cap.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// MaxMsgs caps the number of batches in the stream (same refusal as MaxBytes). 0 means no cap.
	MaxMsgs int64 `mapstructure:"max_msgs"`
	// Compression of the stored batches: "none" or "s2".
	Compression string `mapstructure:"compression"`
	// Replicas of the stream on an external NATS cluster (1 for the embedded server).
	Replicas int `mapstructure:"replicas"`

	// DeadLetter is where batches a destination refused permanently are kept for inspection.
	DeadLetter DeadLetterConfig `mapstructure:"dead_letter"`
	// Delivery tunes the per-destination consumers.
	Delivery DeliveryConfig `mapstructure:"delivery"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeadLetterConfig configures the dead-letter stream.
type DeadLetterConfig struct {
	// Stream name; subjects are "<subject_prefix>.<destination pipeline>".
	Stream        string `mapstructure:"stream"`
	SubjectPrefix string `mapstructure:"subject_prefix"`
	// MaxAge drops dead letters older than this; 0 keeps them until removed by an operator.
	MaxAge time.Duration `mapstructure:"max_age"`
	// MaxBytes caps the dead-letter stream; once full, permanent failures are retried instead
	// of dead-lettered (so nothing is dropped). 0 means no cap.
	MaxBytes int64 `mapstructure:"max_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeliveryConfig tunes the per-destination consumers.
type DeliveryConfig struct {
	// AckWait is how long the journal waits for a destination's verdict before redelivering
	// (to this or another otelaudit instance). A batch still being exported is kept alive.
	AckWait time.Duration `mapstructure:"ack_wait"`
	// MaxAckPending bounds the batches handed out but not yet acknowledged, per destination,
	// across all instances.
	MaxAckPending int `mapstructure:"max_ack_pending"`
	// FetchBatch is how many batches one instance takes from the journal at a time.
	FetchBatch int `mapstructure:"fetch_batch"`
	// RedeliveryBackoff paces retries of a destination that failed with a retryable error.
	RedeliveryBackoff BackoffConfig `mapstructure:"redelivery_backoff"`
	// PruneStaleConsumers deletes, at start, the durable consumers of destination pipelines that
	// are no longer configured. With interest retention such a consumer keeps every batch in the
	// journal until it fills. Off by default: with several instances sharing a journal, enable it
	// only once every instance runs the configuration without the removed destination.
	PruneStaleConsumers bool `mapstructure:"prune_stale_consumers"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// BackoffConfig is an exponential backoff without an end: the journal never gives up on a
// retryable failure.
type BackoffConfig struct {
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
	Multiplier      float64       `mapstructure:"multiplier"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// delay returns the wait after the given number of consecutive failures (1 = first).
func (b BackoffConfig) delay(failures int) time.Duration {
	d := float64(b.InitialInterval)
	for i := 1; i < failures && d < float64(b.MaxInterval); i++ {
		d *= b.Multiplier
	}
	return min(time.Duration(d), b.MaxInterval)
}

func createDefaultConfig() component.Config {
	return &Config{
		Extension:       component.NewID(jetstreamextension.Type),
		Stream:          DefaultStream,
		Subject:         DefaultSubject,
		DuplicateWindow: 2 * time.Minute,
		MaxBytes:        DefaultMaxBytes,
		Compression:     "none",
		Replicas:        1,
		DeadLetter: DeadLetterConfig{
			Stream:        DefaultDeadLetterStream,
			SubjectPrefix: DefaultDeadLetterPrefix,
		},
		Delivery: DeliveryConfig{
			AckWait:       30 * time.Second,
			MaxAckPending: 1000,
			FetchBatch:    16,
			RedeliveryBackoff: BackoffConfig{
				InitialInterval: time.Second,
				MaxInterval:     time.Minute,
				Multiplier:      2,
			},
		},
	}
}

// Validate checks the configuration; errors name the key and the reason.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := validName(c.Stream); err != nil {
		add("stream: %w", err)
	}
	if err := validSubject(c.Subject); err != nil {
		add("subject: %w", err)
	}
	if c.DuplicateWindow <= 0 {
		add("duplicate_window: must be positive")
	}
	if c.ReplayWindow < 0 {
		add("replay_window: must not be negative")
	}
	if c.ReplayWindow > 0 && c.ReplayWindow < c.DuplicateWindow {
		add("replay_window: must be at least duplicate_window (%s) when set", c.DuplicateWindow)
	}
	if c.MaxBytes < 0 {
		add("max_bytes: must not be negative")
	}
	if c.MaxMsgs < 0 {
		add("max_msgs: must not be negative")
	}
	if _, err := parseCompression(c.Compression); err != nil {
		add("compression: %w", err)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		add("replicas: must be between 1 and 5")
	}
	dl := c.DeadLetter
	if err := validName(dl.Stream); err != nil {
		add("dead_letter.stream: %w", err)
	} else if dl.Stream == c.Stream {
		add("dead_letter.stream: must differ from stream")
	}
	if err := validSubject(dl.SubjectPrefix); err != nil {
		add("dead_letter.subject_prefix: %w", err)
	} else if subjectsOverlap(dl.SubjectPrefix+".>", c.Subject) {
		add("dead_letter.subject_prefix: %q overlaps subject %q", dl.SubjectPrefix, c.Subject)
	}
	if dl.MaxAge < 0 {
		add("dead_letter.max_age: must not be negative")
	}
	if dl.MaxBytes < 0 {
		add("dead_letter.max_bytes: must not be negative")
	}
	d := c.Delivery
	if d.AckWait < time.Second {
		add("delivery.ack_wait: must be at least 1s")
	}
	if d.MaxAckPending < 1 {
		add("delivery.max_ack_pending: must be at least 1")
	}
	if d.FetchBatch < 1 {
		add("delivery.fetch_batch: must be at least 1")
	} else if d.FetchBatch > d.MaxAckPending {
		add("delivery.fetch_batch: must not exceed delivery.max_ack_pending (%d)", d.MaxAckPending)
	}
	b := d.RedeliveryBackoff
	if b.InitialInterval <= 0 {
		add("delivery.redelivery_backoff.initial_interval: must be positive")
	}
	if b.MaxInterval < b.InitialInterval {
		add("delivery.redelivery_backoff.max_interval: must be at least initial_interval")
	}
	if b.Multiplier < 1 {
		add("delivery.redelivery_backoff.multiplier: must be at least 1")
	}
	return errors.Join(errs...)
}

func validName(name string) error {
	if name == "" {
		return errors.New("must not be empty")
	}
	if strings.ContainsAny(name, " \t\r\n.*>/\\") {
		return fmt.Errorf("%q must not contain whitespace, '.', '*', '>', '/' or '\\'", name)
	}
	return nil
}

func validSubject(subject string) error {
	if subject == "" {
		return errors.New("must not be empty")
	}
	for _, tok := range strings.Split(subject, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return fmt.Errorf("%q must be dot-separated literal tokens (no wildcards, no empty tokens)", subject)
		}
	}
	return nil
}

// subjectsOverlap reports whether the literal subject matches the pattern (which may end in ">").
func subjectsOverlap(pattern, subject string) bool {
	prefix, wild := strings.CutSuffix(pattern, ">")
	if !wild {
		return pattern == subject
	}
	return strings.HasPrefix(subject, prefix)
}

func parseCompression(s string) (jetstream.StoreCompression, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return jetstream.NoCompression, nil
	case "s2":
		return jetstream.S2Compression, nil
	default:
		return jetstream.NoCompression, fmt.Errorf(`want "none" or "s2", got %q`, s)
	}
}
