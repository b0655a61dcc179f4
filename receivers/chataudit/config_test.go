package chataudit

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		name    string
		check   func(t *testing.T, cfg *Config)
		wantErr string
	}{
		{name: "", check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, "localhost:4319", cfg.NetAddr.Endpoint)
			assert.Equal(t, int64(4<<20), cfg.MaxRequestBodySize)
			assert.Equal(t, time.Second, cfg.RetryAfter)
			assert.False(t, cfg.TLS.HasValue())
		}},
		{name: "custom", check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, "127.0.0.1:14319", cfg.NetAddr.Endpoint)
			assert.Equal(t, int64(1<<20), cfg.MaxRequestBodySize)
			assert.Equal(t, 5*time.Second, cfg.RetryAfter)
			require.True(t, cfg.TLS.HasValue())
			assert.Equal(t, "/etc/otelaudit/tls/server.crt", cfg.TLS.Get().CertFile)
		}},
		{name: "zero_body_limit", wantErr: "max_request_body_size: must be a positive number of bytes"},
		{name: "fractional_retry_after", wantErr: "retry_after: must be a whole number of seconds"},
		{name: "no_endpoint", wantErr: "endpoint: is required"},
	}
	for _, tt := range tests {
		t.Run("chataudit/"+tt.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			sub, err := cm.Sub(component.NewIDWithName(componentType, tt.name).String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "chataudit", f.Type().String())
	assert.Equal(t, component.StabilityLevelAlpha, f.LogsStability())
	require.NoError(t, confmap.Validate(f.CreateDefaultConfig()))
}
