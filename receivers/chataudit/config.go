package chataudit

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
)

const (
	defaultEndpoint           = "localhost:4319"
	defaultMaxRequestBodySize = 4 << 20 // 4 MiB
	defaultRetryAfter         = time.Second
)

// Config is the chataudit receiver's configuration: the standard collector HTTP server settings
// (endpoint, tls, auth, cors, max_request_body_size, ...) plus the Retry-After it advertises.
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`

	// RetryAfter is sent as the Retry-After header of a 503, when the pipeline refuses a request
	// for a reason that may pass (memory limiter, full journal). Whole seconds, at least 1s.
	RetryAfter time.Duration `mapstructure:"retry_after"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func createDefaultConfig() *Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultEndpoint
	server.MaxRequestBodySize = defaultMaxRequestBodySize
	return &Config{ServerConfig: server, RetryAfter: defaultRetryAfter}
}

// Validate checks the receiver's own settings; the collector validates the embedded server ones.
func (c *Config) Validate() error {
	var errs []error
	if c.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: is required (host:port, e.g. localhost:4319)"))
	}
	if c.MaxRequestBodySize <= 0 {
		// confighttp would silently replace a non-positive limit with its own 20 MiB default.
		errs = append(errs, fmt.Errorf("max_request_body_size: must be a positive number of bytes, got %d", c.MaxRequestBodySize))
	}
	if c.RetryAfter < time.Second || c.RetryAfter%time.Second != 0 {
		errs = append(errs, fmt.Errorf("retry_after: must be a whole number of seconds, at least 1s (the Retry-After header carries seconds), got %s", c.RetryAfter))
	}
	return errors.Join(errs...)
}
