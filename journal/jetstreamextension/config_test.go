package jetstreamextension

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require(t, err)
	sub, err := cm.Sub(component.NewIDWithName(Type, name).String())
	require(t, err)
	cfg := createDefaultConfig()
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigDefaults(t *testing.T) {
	require(t, componenttest.CheckConfigStruct(createDefaultConfig()))
	cfg, err := loadConfig(t, "")
	require(t, err)
	if cfg.URL != "" || cfg.Embedded.StoreDir != DefaultStoreDir || cfg.Embedded.Listen != "" {
		t.Fatalf("defaults: want embedded mode in %s without a port, got %+v", DefaultStoreDir, cfg)
	}
	if cfg.Embedded.Sync != (SyncPolicy{Interval: time.Second}) {
		t.Fatalf("default sync = %s, want 1s", cfg.Embedded.Sync)
	}
	if cfg.Embedded.Encryption.Enabled() || cfg.TLS.HasValue() {
		t.Fatal("encryption and TLS must be off by default")
	}
}

func TestConfigLoads(t *testing.T) {
	full, err := loadConfig(t, "full")
	require(t, err)
	e := full.Embedded
	if !e.Sync.Always || e.MaxStoreBytes != 10737418240 || e.MaxPayload != 4194304 ||
		e.Listen != "127.0.0.1:4222" || e.Encryption.KeyEnv != "OTELAUDIT_JOURNAL_KEY" || e.Encryption.Cipher != "aes" ||
		full.Username != "inspector" || full.Password != "not-a-real-password" {
		t.Fatalf("full: unexpected %+v", full)
	}

	interval, err := loadConfig(t, "interval")
	require(t, err)
	if interval.Embedded.Sync != (SyncPolicy{Interval: 250 * time.Millisecond}) || interval.Embedded.Encryption.KeyFile != "/etc/otelaudit/journal.key" {
		t.Fatalf("interval: unexpected %+v", interval.Embedded)
	}

	ext, err := loadConfig(t, "external")
	require(t, err)
	tls := ext.TLS.Get()
	if ext.URL != "nats://nats-1:4222,nats://nats-2:4222" || ext.CredentialsFile != "/etc/otelaudit/nats.creds" ||
		tls == nil || tls.CAFile != "/etc/otelaudit/ca.pem" || ext.RequestTimeout != 10*time.Second {
		t.Fatalf("external: unexpected %+v", ext)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for name, want := range map[string]string{
		"bad_sync":                `want "always" or a duration`,
		"bad_zero_sync":           "embedded.sync",
		"bad_both_keys":           "embedded.encryption: set key_env or key_file, not both",
		"bad_cipher":              "embedded.encryption.cipher",
		"bad_listen":              "embedded.listen",
		"bad_tls_embedded":        "tls: only applies with url",
		"bad_url":                 "url:",
		"bad_creds_and_nkey":      "credentials_file: cannot be combined with nkey_seed_file",
		"bad_user_without_listen": "embedded.listen",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(t, name)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want an error containing %q", err, want)
			}
		})
	}
}
