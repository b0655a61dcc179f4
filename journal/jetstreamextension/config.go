// Package jetstreamextension provides the `jetstream` extension: the NATS JetStream engine behind
// otelaudit's durable journal, embedded in-process (default) or reached at an external NATS URL.
package jetstreamextension // import "github.com/otelaudit/otelaudit/journal/jetstreamextension"

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
)

// DefaultStoreDir is where the embedded server keeps its JetStream file store.
const DefaultStoreDir = "./otelaudit-data/journal"

// Config configures the jetstream extension. With URL empty the extension runs an embedded NATS
// server with JetStream; otherwise it connects to the NATS server(s) at URL.
type Config struct {
	// URL of an external NATS server or cluster (comma-separated list allowed), e.g.
	// "nats://nats-1:4222,nats://nats-2:4222". Empty means embedded mode.
	URL string `mapstructure:"url"`

	// Embedded configures the in-process server; ignored when URL is set.
	Embedded EmbeddedConfig `mapstructure:"embedded"`

	// TLS for the connection to an external server; present means TLS is used.
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`
	// CredentialsFile is a NATS .creds file (JWT + nkey seed) for an external server.
	CredentialsFile string `mapstructure:"credentials_file"`
	// NKeySeedFile is a file holding an nkey user seed for an external server.
	NKeySeedFile string `mapstructure:"nkey_seed_file"`
	// Username and Password authenticate against an external server, or, in embedded mode with
	// `embedded.listen` set, are required from every client of the listening port.
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// Token authenticates with a bare token (same rules as Username/Password).
	Token configopaque.String `mapstructure:"token"`

	// ConnectTimeout bounds the initial connection (and, embedded, the server start-up wait).
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// RequestTimeout bounds each JetStream API request and publish acknowledgement.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// EmbeddedConfig configures the in-process NATS server.
type EmbeddedConfig struct {
	// StoreDir holds the JetStream file store. It survives restarts; keep it on a persistent disk.
	StoreDir string `mapstructure:"store_dir"`
	// Sync is "always" (fsync every write before it is acknowledged) or a duration: how often
	// written data is fsynced. Writes reach the OS before they are acknowledged either way, so a
	// process crash loses nothing; the interval only bounds what a power loss or kernel crash can take.
	Sync SyncPolicy `mapstructure:"sync"`
	// MaxStoreBytes caps the whole file store (all streams); 0 lets NATS pick (75% of free disk).
	MaxStoreBytes int64 `mapstructure:"max_store_bytes"`
	// MaxPayload is the largest message the server accepts; bigger batches are split by the
	// journal connector. 0 keeps the NATS default (1 MiB).
	MaxPayload int32 `mapstructure:"max_payload"`
	// Listen, when set (host:port, port 0 = any free port), opens a NATS client port so that
	// `nats` CLI tools can inspect the journal. Empty means no port at all.
	Listen string `mapstructure:"listen"`
	// Encryption encrypts the store at rest with JetStream's own store encryption.
	Encryption EncryptionConfig `mapstructure:"encryption"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// EncryptionConfig names where the store encryption key comes from. The key itself never appears
// in the configuration. Encryption is on when KeyEnv or KeyFile is set.
type EncryptionConfig struct {
	// KeyEnv is the name of an environment variable holding the key.
	KeyEnv string `mapstructure:"key_env"`
	// KeyFile is the path of a file holding the key (surrounding whitespace is ignored).
	KeyFile string `mapstructure:"key_file"`
	// Cipher is "chacha20" (ChaCha20-Poly1305, default) or "aes" (AES-GCM).
	Cipher string `mapstructure:"cipher"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Enabled reports whether store encryption is configured.
func (e EncryptionConfig) Enabled() bool { return e.KeyEnv != "" || e.KeyFile != "" }

// minKeyLength rejects keys too short to be anything but a placeholder.
const minKeyLength = 16

// SyncPolicy is the embedded store's fsync policy: Always, or every Interval.
// It is written in YAML as one scalar (see UnmarshalText), not as a map.
type SyncPolicy struct {
	Always   bool          `mapstructure:"-"`
	Interval time.Duration `mapstructure:"-"`
}

// UnmarshalText accepts "always" or a Go duration such as "1s".
func (p *SyncPolicy) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if strings.EqualFold(s, "always") {
		*p = SyncPolicy{Always: true}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`want "always" or a duration such as "1s", got %q`, s)
	}
	*p = SyncPolicy{Interval: d}
	return nil
}

// MarshalText is the inverse of UnmarshalText.
func (p SyncPolicy) MarshalText() ([]byte, error) {
	if p.Always {
		return []byte("always"), nil
	}
	return []byte(p.Interval.String()), nil
}

func (p SyncPolicy) String() string {
	b, _ := p.MarshalText()
	return string(b)
}

func createDefaultConfig() *Config {
	return &Config{
		Embedded: EmbeddedConfig{
			StoreDir: DefaultStoreDir,
			Sync:     SyncPolicy{Interval: time.Second},
		},
		TLS:            configoptional.Default(configtls.NewDefaultClientConfig()),
		ConnectTimeout: 30 * time.Second,
		RequestTimeout: 5 * time.Second,
	}
}

// Embedded reports whether the extension runs its own server.
func (c *Config) embedded() bool { return c.URL == "" }

// Validate checks the configuration; errors name the key and the reason.
func (c *Config) Validate() error {
	var errs []error
	if c.ConnectTimeout <= 0 {
		errs = append(errs, errors.New("connect_timeout: must be positive"))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, errors.New("request_timeout: must be positive"))
	}
	if c.Username == "" && c.Password != "" {
		errs = append(errs, errors.New("username: required when password is set"))
	}
	if c.Token != "" && c.Username != "" {
		errs = append(errs, errors.New("token: cannot be combined with username/password"))
	}
	if c.embedded() {
		errs = append(errs, c.validateEmbedded()...)
	} else {
		for _, u := range strings.Split(c.URL, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Host == "" {
				errs = append(errs, fmt.Errorf("url: %q is not a NATS URL such as nats://host:4222", strings.TrimSpace(u)))
			}
		}
		if c.CredentialsFile != "" && c.NKeySeedFile != "" {
			errs = append(errs, errors.New("credentials_file: cannot be combined with nkey_seed_file"))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateEmbedded() []error {
	var errs []error
	e := c.Embedded
	if e.StoreDir == "" {
		errs = append(errs, errors.New("embedded.store_dir: must not be empty"))
	}
	if !e.Sync.Always && e.Sync.Interval <= 0 {
		errs = append(errs, errors.New(`embedded.sync: must be "always" or a positive duration`))
	}
	if e.MaxStoreBytes < 0 {
		errs = append(errs, errors.New("embedded.max_store_bytes: must not be negative"))
	}
	if e.MaxPayload < 0 {
		errs = append(errs, errors.New("embedded.max_payload: must not be negative"))
	}
	if e.Listen != "" {
		if _, _, err := splitListen(e.Listen); err != nil {
			errs = append(errs, fmt.Errorf("embedded.listen: %w", err))
		}
	}
	if c.CredentialsFile != "" || c.NKeySeedFile != "" {
		errs = append(errs, errors.New("credentials_file/nkey_seed_file: only apply with url (an external server)"))
	}
	if c.TLS.HasValue() {
		errs = append(errs, errors.New("tls: only applies with url (an external server)"))
	}
	if (c.Username != "" || c.Token != "") && e.Listen == "" {
		errs = append(errs, errors.New("username/token: in embedded mode only apply with embedded.listen"))
	}
	enc := e.Encryption
	if enc.KeyEnv != "" && enc.KeyFile != "" {
		errs = append(errs, errors.New("embedded.encryption: set key_env or key_file, not both"))
	}
	if _, err := parseCipher(enc.Cipher); err != nil {
		errs = append(errs, fmt.Errorf("embedded.encryption.cipher: %w", err))
	}
	return errs
}

// splitListen parses host:port; port 0 means any free port.
func splitListen(listen string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("want host:port, got %q", listen)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number between 0 and 65535", portStr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("host is empty in %q; name the interface, e.g. 127.0.0.1", listen)
	}
	return host, port, nil
}
