package jetstreamextension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// Journal is what the extension offers to journal connectors, which find it with FromHost.
type Journal interface {
	component.Component
	// JetStream returns the shared JetStream context. It is valid between the extension's Start
	// and Shutdown; the underlying *nats.Conn is JetStream().Conn().
	JetStream() (jetstream.JetStream, error)
}

// FromHost returns the jetstream extension with the given ID from the host.
func FromHost(host component.Host, id component.ID) (Journal, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("extension %q is not configured (add it under `extensions:` and `service.extensions`)", id)
	}
	j, ok := ext.(Journal)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a %s extension", id, typeStr)
	}
	return j, nil
}

type jetStreamExtension struct {
	cfg    *Config
	logger *zap.Logger

	mu  sync.Mutex
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

var _ Journal = (*jetStreamExtension)(nil)

func newExtension(cfg *Config, logger *zap.Logger) *jetStreamExtension {
	return &jetStreamExtension{cfg: cfg, logger: logger}
}

func (e *jetStreamExtension) JetStream() (jetstream.JetStream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.js == nil {
		return nil, errors.New("jetstream extension is not running")
	}
	return e.js, nil
}

func (e *jetStreamExtension) Start(_ context.Context, _ component.Host) error {
	opts := []nats.Option{
		nats.Name("otelaudit"),
		nats.Timeout(e.cfg.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		// Fail publishes at once while disconnected, so ingestion answers "retry later"
		// instead of buffering acknowledged-looking data in memory.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				e.logger.Warn("Disconnected from NATS; reconnecting", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			e.logger.Info("Reconnected to NATS", zap.String("server", nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			e.logger.Warn("NATS asynchronous error", zap.Error(err))
		}),
	}
	opts = append(opts, e.authOptions()...)

	var srv *server.Server
	url := e.cfg.URL
	if e.cfg.embedded() {
		var err error
		if srv, err = e.startServer(); err != nil {
			return err
		}
		url = ""
		opts = append(opts, nats.InProcessServer(srv))
	} else {
		more, err := e.externalOptions()
		if err != nil {
			return err
		}
		opts = append(opts, more...)
	}

	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		return fmt.Errorf("connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(e.cfg.RequestTimeout))
	if err != nil {
		nc.Close()
		if srv != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		return fmt.Errorf("jetstream: %w", err)
	}
	e.mu.Lock()
	e.srv, e.nc, e.js = srv, nc, js
	e.mu.Unlock()
	if srv != nil {
		e.logger.Info("Embedded JetStream journal started",
			zap.String("store_dir", e.cfg.Embedded.StoreDir),
			zap.String("sync", e.cfg.Embedded.Sync.String()),
			zap.Bool("encrypted", e.cfg.Embedded.Encryption.Enabled()),
			zap.String("listen", listenAddr(srv)))
	} else {
		e.logger.Info("Connected to external NATS", zap.String("server", nc.ConnectedUrlRedacted()))
	}
	return nil
}

func listenAddr(srv *server.Server) string {
	if a := srv.Addr(); a != nil {
		return a.String()
	}
	return "none"
}

func (e *jetStreamExtension) Shutdown(context.Context) error {
	e.mu.Lock()
	srv, nc := e.srv, e.nc
	e.srv, e.nc, e.js = nil, nil, nil
	e.mu.Unlock()
	if nc != nil {
		// Flush pending acks so that delivered messages are not needlessly redelivered.
		_ = nc.FlushTimeout(2 * time.Second)
		nc.Close()
	}
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	return nil
}

func (e *jetStreamExtension) authOptions() []nats.Option {
	var opts []nats.Option
	if e.cfg.Username != "" {
		opts = append(opts, nats.UserInfo(e.cfg.Username, string(e.cfg.Password)))
	}
	if e.cfg.Token != "" {
		opts = append(opts, nats.Token(string(e.cfg.Token)))
	}
	return opts
}

func (e *jetStreamExtension) externalOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if e.cfg.CredentialsFile != "" {
		opts = append(opts, nats.UserCredentials(e.cfg.CredentialsFile))
	}
	if e.cfg.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(e.cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nkey_seed_file: %w", err)
		}
		opts = append(opts, o)
	}
	if tlsCfg := e.cfg.TLS.Get(); tlsCfg != nil {
		tc, err := tlsCfg.LoadTLSConfig(context.Background())
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if tc != nil {
			opts = append(opts, nats.Secure(tc))
		}
	}
	return opts, nil
}

// startServer runs the embedded NATS server and waits until it accepts clients with JetStream on.
func (e *jetStreamExtension) startServer() (*server.Server, error) {
	ec := e.cfg.Embedded
	storeDir, err := filepath.Abs(ec.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("embedded.store_dir: %w", err)
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded.store_dir: %w", err)
	}
	opts := &server.Options{
		ServerName:             "otelaudit",
		JetStream:              true,
		StoreDir:               storeDir,
		SyncAlways:             ec.Sync.Always,
		SyncInterval:           ec.Sync.Interval,
		JetStreamMaxStore:      ec.MaxStoreBytes,
		MaxPayload:             ec.MaxPayload,
		DontListen:             ec.Listen == "",
		NoSigs:                 true,
		DisableJetStreamBanner: true,
		Username:               e.cfg.Username,
		Password:               string(e.cfg.Password),
		Authorization:          string(e.cfg.Token),
	}
	if ec.Listen != "" {
		host, port, _ := splitListen(ec.Listen)
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, port
		if e.cfg.Username == "" && e.cfg.Token == "" {
			e.logger.Warn("embedded.listen is set without username/password or token: anyone who can reach the port can read the journal",
				zap.String("listen", ec.Listen))
		}
	}
	if ec.Encryption.Enabled() {
		key, err := loadKey(ec.Encryption, e.logger)
		if err != nil {
			return nil, err
		}
		cipher, _ := parseCipher(ec.Encryption.Cipher)
		opts.JetStreamKey, opts.JetStreamCipher = key, cipher
	}

	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	logger := &serverLogger{log: e.logger.With(zap.String("nats", "embedded"))}
	srv.SetLoggerV2(logger, false, false, false)
	go srv.Start()

	deadline := time.Now().Add(e.cfg.ConnectTimeout)
	for !srv.ReadyForConnections(50 * time.Millisecond) {
		if ferr := logger.fatalErr(); ferr != nil {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, ferr
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, fmt.Errorf("embedded NATS server not ready after %s (connect_timeout)", e.cfg.ConnectTimeout)
		}
	}
	if ferr := logger.fatalErr(); ferr != nil || !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		if ferr == nil {
			ferr = errors.New("embedded NATS server started without JetStream")
		}
		return nil, ferr
	}
	return srv, nil
}

func parseCipher(name string) (server.StoreCipher, error) {
	switch strings.ToLower(name) {
	case "", "chacha20", "chacha":
		return server.ChaCha, nil
	case "aes":
		return server.AES, nil
	default:
		return server.NoCipher, fmt.Errorf(`want "chacha20" or "aes", got %q`, name)
	}
}

// loadKey reads the store key from the environment or a file; errors never include the key.
func loadKey(enc EncryptionConfig, logger *zap.Logger) (string, error) {
	var key, source string
	if enc.KeyEnv != "" {
		source = "embedded.encryption.key_env: environment variable " + enc.KeyEnv
		v, ok := os.LookupEnv(enc.KeyEnv)
		if !ok {
			return "", fmt.Errorf("%s is not set", source)
		}
		key = v
	} else {
		source = "embedded.encryption.key_file: " + enc.KeyFile
		st, err := os.Stat(enc.KeyFile)
		if err != nil {
			return "", fmt.Errorf("%s: %w", source, err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			logger.Warn("Journal key file is readable by group or others; restrict it to the otelaudit user (chmod 600)",
				zap.String("key_file", enc.KeyFile))
		}
		b, err := os.ReadFile(enc.KeyFile)
		if err != nil {
			return "", fmt.Errorf("%s: %w", source, err)
		}
		key = string(b)
	}
	key = strings.TrimSpace(key)
	if len(key) < minKeyLength {
		return "", fmt.Errorf("%s: key is shorter than %d characters", source, minKeyLength)
	}
	return key, nil
}
