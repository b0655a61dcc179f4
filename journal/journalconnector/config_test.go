package journalconnector

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelaudit/otelaudit/journal/jetstreamextension"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require(t, err)
	sub, err := cm.Sub(component.NewIDWithName(Type, name).String())
	require(t, err)
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigDefaults(t *testing.T) {
	require(t, componenttest.CheckConfigStruct(createDefaultConfig()))
	cfg, err := loadConfig(t, "")
	require(t, err)
	if cfg.Extension != component.NewID(jetstreamextension.Type) || cfg.Stream != "OTELAUDIT" || cfg.Subject != "otelaudit.logs" ||
		cfg.DuplicateWindow != 2*time.Minute || cfg.ReplayWindow != 0 || cfg.MaxBytes != 1<<30 || cfg.MaxMsgs != 0 ||
		cfg.DeadLetter.Stream != "OTELAUDIT_DEAD" || cfg.DeadLetter.SubjectPrefix != "otelaudit.dead" {
		t.Fatalf("unexpected defaults %+v", cfg)
	}
	d := cfg.Delivery
	if d.AckWait != 30*time.Second || d.MaxAckPending != 1000 || d.FetchBatch != 16 ||
		d.RedeliveryBackoff.InitialInterval != time.Second || d.RedeliveryBackoff.MaxInterval != time.Minute {
		t.Fatalf("unexpected delivery defaults %+v", d)
	}
	sc := (&journalConnector{cfg: cfg}).streamConfig()
	if sc.Retention.String() != "Interest" || sc.Discard.String() != "DiscardNew" || sc.MaxMsgs != -1 {
		t.Fatalf("default stream: retention %s, discard %s, max_msgs %d; want Interest, DiscardNew, unlimited",
			sc.Retention, sc.Discard, sc.MaxMsgs)
	}
}

func TestConfigLoads(t *testing.T) {
	cfg, err := loadConfig(t, "tuned")
	require(t, err)
	if cfg.Extension != component.MustNewIDWithName("jetstream", "shared") || cfg.Stream != "AUDIT_EU" ||
		cfg.ReplayWindow != 168*time.Hour || cfg.Compression != "s2" || cfg.Replicas != 3 ||
		cfg.DeadLetter.MaxAge != 2160*time.Hour || cfg.Delivery.FetchBatch != 8 ||
		cfg.Delivery.RedeliveryBackoff.Multiplier != 3 || !cfg.Delivery.PruneStaleConsumers {
		t.Fatalf("unexpected %+v", cfg)
	}
	sc := (&journalConnector{cfg: cfg}).streamConfig()
	if sc.Retention.String() != "Limits" || sc.MaxAge != 168*time.Hour {
		t.Fatalf("replay_window stream: retention %s, max age %s; want Limits, 168h", sc.Retention, sc.MaxAge)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for name, want := range map[string][]string{
		"bad_stream":           {"stream:"},
		"bad_subject":          {"subject:"},
		"bad_replay":           {"replay_window: must be at least duplicate_window"},
		"bad_dead_same_stream": {"dead_letter.stream: must differ"},
		"bad_dead_overlap":     {"dead_letter.subject_prefix", "overlaps"},
		"bad_compression":      {"compression:"},
		"bad_delivery":         {"delivery.ack_wait", "delivery.fetch_batch"},
		"bad_backoff":          {"redelivery_backoff.max_interval", "redelivery_backoff.multiplier"},
		"bad_limits":           {"max_bytes: must not be negative", "replicas:"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			for _, w := range want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("got %v, want an error containing %q", err, w)
				}
			}
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	b := BackoffConfig{InitialInterval: time.Second, MaxInterval: 10 * time.Second, Multiplier: 2}
	for failures, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		if got := b.delay(failures); got != want {
			t.Errorf("delay(%d) = %s, want %s", failures, got, want)
		}
	}
}
