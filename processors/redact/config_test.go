package redact

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelaudit/otelaudit/redaction"
)

// loadConfig reads one processor section of testdata/config.yaml the way the collector does:
// defaults first, then the section on top.
func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewID(componentType)
	if name != "" {
		id = component.NewIDWithName(componentType, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmap.Validate(cfg)
}

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()))
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(t, "")
	require.NoError(t, err)
	assert.Equal(t, redaction.RuleClasses(), cfg.RuleClasses)
	assert.Len(t, cfg.RuleClasses, 9)
	assert.Empty(t, cfg.ExtraRules)
	assert.Equal(t, DefaultUntouchedKeys(), cfg.UntouchedKeys)
	assert.Equal(t, DefaultForbiddenKeys(), cfg.ForbiddenKeys)
	assert.Equal(t, 8192, cfg.MaxFieldBytes)
	for _, k := range []string{"tenant_id", "user_id", "actor_user_id", "chat_id", "turn_id", "request_id",
		"original_request_id", "new_request_id", "attachment_id", "trace_id", "mini_chat.tenant_id", "mini_chat.request_id"} {
		assert.Contains(t, cfg.UntouchedKeys, k)
	}
	for _, k := range []string{"image_content", "image_data", "image_base64", "ocr_text", "ocr_output", "image_text", "content_base64", "file_content", "raw_bytes"} {
		assert.Contains(t, cfg.ForbiddenKeys, k)
	}
}

func TestLoadConfigCustom(t *testing.T) {
	cfg, err := loadConfig(t, "custom")
	require.NoError(t, err)
	assert.Equal(t, []string{"jwt", "bearer_token", "pem_private_key"}, cfg.RuleClasses)
	assert.Equal(t, []ExtraRule{{Name: "internal_ticket", Pattern: "TICKET-[0-9]{6}", Replacement: "[REDACTED_TICKET]"}}, cfg.ExtraRules)
	assert.Equal(t, []string{"tenant_id", "session_ref"}, cfg.UntouchedKeys)
	assert.Equal(t, []string{"scan_text"}, cfg.ForbiddenKeys)
	assert.Equal(t, 1024, cfg.MaxFieldBytes)

	opts := cfg.EngineOptions()
	assert.Equal(t, redaction.Options{
		Classes:       []string{"jwt", "bearer_token", "pem_private_key"},
		ExtraRules:    []redaction.Rule{{Name: "internal_ticket", Pattern: "TICKET-[0-9]{6}", Replacement: "[REDACTED_TICKET]"}},
		MaxFieldBytes: 1024,
	}, opts)
	engine, err := cfg.NewEngine()
	require.NoError(t, err)
	out, hits := engine.Redact("see TICKET-123456 now")
	assert.Equal(t, "see [REDACTED_TICKET] now", out)
	assert.Equal(t, 1, hits.Total())
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		want []string // every fragment must appear in the error
	}{
		{"unknown_class", []string{"rule_classes[1]", `"credit_card"`, strings.Join(redaction.RuleClasses(), ", "), `rule_classes[2]: duplicate class "jwt"`}},
		{"empty_classes", []string{"rule_classes: empty"}},
		{"bad_pattern", []string{"extra_rules[1].pattern", "does not compile"}},
		{"bad_names", []string{
			`extra_rules[0].name: "jwt" is a built-in rule class name`,
			`extra_rules[1].name: "Upper-Case" must start with a-z and contain only a-z, 0-9 and _`,
			`extra_rules[3].name: duplicate name "dup"`,
			"extra_rules[4].name: empty",
			`extra_rules[5].name: "truncated_fields" is reserved`,
		}},
		{"zero_max", []string{"max_field_bytes: must be greater than 0, got 0"}},
		{"key_conflict", []string{`untouched_keys[0]: "image_data" is also in forbidden_keys`}},
		{"unknown_key", []string{"rule_class"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.name)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestValidateBounds(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.ExtraRules = []ExtraRule{{Name: strings.Repeat("a", maxRuleNameLen+1), Pattern: "x"}}
	assert.ErrorContains(t, cfg.Validate(), "extra_rules[0].name: longer than 64 characters")

	cfg.ExtraRules = nil
	for i := range MaxExtraRules + 1 {
		cfg.ExtraRules = append(cfg.ExtraRules, ExtraRule{Name: fmt.Sprintf("rule_%d", i), Pattern: "x"})
	}
	assert.ErrorContains(t, cfg.Validate(), "extra_rules: 33 rules, at most 32 allowed")

	cfg.ExtraRules = cfg.ExtraRules[:MaxExtraRules]
	assert.NoError(t, cfg.Validate())
}

func TestCreateLogsRejectsInvalidConfig(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.MaxFieldBytes = -1
	_, err := newRedactProcessor(componenttest.NewNopTelemetrySettings(), cfg)
	assert.ErrorContains(t, err, "max_field_bytes")
}
