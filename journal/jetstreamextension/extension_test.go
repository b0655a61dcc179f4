package jetstreamextension

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/journal/internal/journaltest"
)

const marker = "PLAINTEXT-MARKER-7f3a9c"

func embeddedConfig(dir string) *Config {
	cfg := createDefaultConfig()
	cfg.Embedded.StoreDir = dir
	cfg.ConnectTimeout = 20 * time.Second
	return cfg
}

func start(t *testing.T, cfg *Config) *jetStreamExtension {
	t.Helper()
	require(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
	require(t, err)
	require(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	return ext.(*jetStreamExtension)
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// roundTrip stores one message in a fresh stream and reads it back through a consumer.
func roundTrip(t *testing.T, js jetstream.JetStream, payload string) {
	t.Helper()
	ctx := context.Background()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.x"}})
	require(t, err)
	_, err = js.Publish(ctx, "t.x", []byte(payload))
	require(t, err)
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
	require(t, err)
	m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	require(t, err)
	if string(m.Data()) != payload {
		t.Fatalf("read back %q, want %q", m.Data(), payload)
	}
}

func TestEmbeddedOpensNoPortByDefault(t *testing.T) {
	ext := start(t, embeddedConfig(t.TempDir()))
	if a := ext.srv.Addr(); a != nil {
		t.Fatalf("embedded server listens on %s; want no listener", a)
	}
	js, err := ext.JetStream()
	require(t, err)
	roundTrip(t, js, "hello")
}

func TestEmbeddedStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := embeddedConfig(dir)
	ext := start(t, cfg)
	js, _ := ext.JetStream()
	roundTrip(t, js, "kept")
	require(t, ext.Shutdown(context.Background()))
	if _, err := ext.JetStream(); err == nil {
		t.Fatal("JetStream() after Shutdown returned no error")
	}

	ext2 := start(t, cfg)
	js2, _ := ext2.JetStream()
	s, err := js2.Stream(context.Background(), "T")
	require(t, err)
	if n := s.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("stream holds %d messages after restart, want 1", n)
	}
}

// storeContains reports whether any file under dir contains needle.
func storeContains(t *testing.T, dir, needle string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			found = true
		}
		return nil
	})
	require(t, err)
	return found
}

func TestEncryptionAtRest(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypted], func(t *testing.T) {
			dir := t.TempDir()
			cfg := embeddedConfig(dir)
			if encrypted {
				t.Setenv("OTELAUDIT_TEST_JOURNAL_KEY", "a-test-key-of-sufficient-length-123")
				cfg.Embedded.Encryption.KeyEnv = "OTELAUDIT_TEST_JOURNAL_KEY"
			}
			ext := start(t, cfg)
			js, _ := ext.JetStream()
			roundTrip(t, js, "event body "+marker)
			require(t, ext.Shutdown(context.Background()))
			if got := storeContains(t, dir, marker); got == encrypted {
				t.Fatalf("store files contain the plaintext marker: %v; want %v", got, !encrypted)
			}
		})
	}
}

func TestEncryptionKeyFromFileAndWrongKey(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "journal.key")
	require(t, os.WriteFile(keyFile, []byte("the-right-key-0123456789\n"), 0o600))
	cfg := embeddedConfig(dir)
	cfg.Embedded.Encryption.KeyFile = keyFile
	ext := start(t, cfg)
	js, _ := ext.JetStream()
	roundTrip(t, js, marker)
	require(t, ext.Shutdown(context.Background()))
	if storeContains(t, dir, marker) {
		t.Fatal("store files contain the plaintext marker with key_file encryption")
	}

	// The same key (file rewritten without the newline) opens the store again.
	require(t, os.WriteFile(keyFile, []byte("the-right-key-0123456789"), 0o600))
	ext = start(t, cfg)
	js, _ = ext.JetStream()
	s, err := js.Stream(context.Background(), "T")
	require(t, err)
	if n := s.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("encrypted stream holds %d messages after restart, want 1", n)
	}
	require(t, ext.Shutdown(context.Background()))

	// A wrong key, or none, must not silently yield an empty journal.
	const wrong = "a-wrong-key-0123456789"
	require(t, os.WriteFile(keyFile, []byte(wrong), 0o600))
	noKey := embeddedConfig(dir)
	for name, c := range map[string]*Config{"wrong key": cfg, "no key": noKey} {
		ext := newExtension(c, zap.NewNop())
		err := ext.Start(context.Background(), componenttest.NewNopHost())
		if err == nil {
			_ = ext.Shutdown(context.Background())
			t.Fatalf("%s: the encrypted store opened", name)
		}
		if !strings.Contains(err.Error(), "decrypt") || strings.Contains(err.Error(), wrong) {
			t.Fatalf("%s: error %q should say the store cannot be decrypted, without the key", name, err)
		}
	}
}

func TestEncryptionKeyProblemsAreClear(t *testing.T) {
	cfg := embeddedConfig(t.TempDir())
	cfg.Embedded.Encryption.KeyEnv = "OTELAUDIT_TEST_UNSET_KEY_VAR"
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
	require(t, err)
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "OTELAUDIT_TEST_UNSET_KEY_VAR") {
		t.Fatalf("Start with an unset key variable: %v; want an error naming the variable", err)
	}

	t.Setenv("OTELAUDIT_TEST_SHORT_KEY", "short")
	cfg.Embedded.Encryption.KeyEnv = "OTELAUDIT_TEST_SHORT_KEY"
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "shorter than") || strings.Contains(err.Error(), "short\"") {
		t.Fatalf("Start with a short key: %v; want a length error that does not quote the key", err)
	}
}

func TestEmbeddedListenRequiresCredentials(t *testing.T) {
	cfg := embeddedConfig(t.TempDir())
	cfg.Embedded.Listen = "127.0.0.1:0"
	cfg.Username, cfg.Password = "auditor", configopaque.String("s3cret-pass")
	ext := start(t, cfg)
	addr := ext.srv.Addr().String()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listening on %s, want 127.0.0.1", addr)
	}
	// The extension's own in-process connection works with the credentials.
	js, _ := ext.JetStream()
	roundTrip(t, js, "in-process")

	if nc, err := nats.Connect("nats://"+addr, nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Fatal("anonymous client connected to the listening embedded server")
	}
	nc, err := nats.Connect("nats://"+addr, nats.UserInfo("auditor", "s3cret-pass"), nats.Timeout(5*time.Second))
	require(t, err)
	nc.Close()
}

func TestExternalServer(t *testing.T) {
	_, url := journaltest.NATSServer(t, "otelaudit", "ext-pass-123")
	cfg := createDefaultConfig()
	cfg.URL = url
	cfg.Username, cfg.Password = "otelaudit", "ext-pass-123"
	cfg.ConnectTimeout = 5 * time.Second
	ext := start(t, cfg)
	if ext.srv != nil {
		t.Fatal("external mode started an embedded server")
	}
	js, _ := ext.JetStream()
	roundTrip(t, js, "external")

	bad := createDefaultConfig()
	bad.URL = url
	bad.Username, bad.Password = "otelaudit", "wrong-pass-456"
	bad.ConnectTimeout = 5 * time.Second
	ext2 := newExtension(bad, zap.NewNop())
	err := ext2.Start(context.Background(), componenttest.NewNopHost())
	if err == nil {
		_ = ext2.Shutdown(context.Background())
		t.Fatal("connected with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-pass-456") {
		t.Fatalf("error reveals the password: %v", err)
	}
}

func TestFromHost(t *testing.T) {
	id := component.NewID(Type)
	if _, err := FromHost(journaltest.Host{}, id); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("missing extension: %v", err)
	}
	other := component.NewIDWithName(Type, "other")
	host := journaltest.Host{other: nopComponent{}}
	if _, err := FromHost(host, other); err == nil || !strings.Contains(err.Error(), "is not a jetstream extension") {
		t.Fatalf("wrong extension type: %v", err)
	}
	ext := newExtension(createDefaultConfig(), zap.NewNop())
	j, err := FromHost(journaltest.Host{id: ext}, id)
	require(t, err)
	if _, err := j.JetStream(); err == nil {
		t.Fatal("JetStream() before Start returned no error")
	}
}

type nopComponent struct{}

func (nopComponent) Start(context.Context, component.Host) error { return nil }
func (nopComponent) Shutdown(context.Context) error              { return nil }
