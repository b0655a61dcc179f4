package redact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/otelaudit/otelaudit/redaction"
)

// MaxExtraRules bounds extra_rules because each rule name becomes a metric label value.
const MaxExtraRules = 32

// maxRuleNameLen bounds an extra rule name, which is used as a metric label value.
const maxRuleNameLen = 64

var ruleNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Record attribute keys other than rule names; extra rules may not take them.
const (
	attachmentsRemovedKey = "attachments_removed"
	truncatedFieldsKey    = "truncated_fields"
)

// Config is the configuration of the redact processor.
type Config struct {
	// RuleClasses lists the enabled built-in rule classes (default: all nine, see redaction.RuleClasses).
	RuleClasses []string `mapstructure:"rule_classes"`
	// ExtraRules are user regex rules applied after the built-in classes.
	ExtraRules []ExtraRule `mapstructure:"extra_rules"`
	// UntouchedKeys are map keys (attributes and body, at any depth, exact match) whose values the
	// text rules and the cut never change: ids must stay joinable. The attachment rule still applies.
	UntouchedKeys []string `mapstructure:"untouched_keys"`
	// ForbiddenKeys are map keys (case-insensitive, at any depth) whose values are removed outright:
	// they carry image content, OCR text or raw attachment bytes, which must never be stored.
	ForbiddenKeys []string `mapstructure:"forbidden_keys"`
	// MaxFieldBytes is the byte limit each string is cut to after redaction.
	MaxFieldBytes int `mapstructure:"max_field_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ExtraRule is a user-configured regex rule; Name is its label in metrics and in the record attribute.
type ExtraRule struct {
	Name        string `mapstructure:"name"`
	Pattern     string `mapstructure:"pattern"`
	Replacement string `mapstructure:"replacement"`
}

// DefaultUntouchedKeys are the id fields of the audit contract and the id attributes promoted from them.
func DefaultUntouchedKeys() []string {
	return []string{
		"tenant_id", "user_id", "actor_user_id", "chat_id", "turn_id", "request_id",
		"original_request_id", "new_request_id", "attachment_id", "trace_id",
		"mini_chat.tenant_id", "mini_chat.user_id", "mini_chat.chat_id", "mini_chat.turn_id", "mini_chat.request_id",
	}
}

// DefaultForbiddenKeys are keys that carry image content, OCR output, image-derived text or raw
// attachment bytes: the contract forbids all of them in stored events.
func DefaultForbiddenKeys() []string {
	return []string{
		"image_content", "image_data", "image_base64", "image_bytes", "image_text", "image_description",
		"ocr_text", "ocr_output", "ocr_result",
		"content_base64", "file_content", "file_data", "file_bytes", "attachment_content", "attachment_data",
		"raw_bytes",
	}
}

func createDefaultConfig() *Config {
	return &Config{
		RuleClasses:   redaction.RuleClasses(),
		UntouchedKeys: DefaultUntouchedKeys(),
		ForbiddenKeys: DefaultForbiddenKeys(),
		MaxFieldBytes: redaction.DefaultMaxFieldBytes,
	}
}

// Validate checks the configuration, naming the offending key and the reason.
func (cfg *Config) Validate() error {
	var errs []error
	classes := redaction.RuleClasses()
	if len(cfg.RuleClasses) == 0 {
		errs = append(errs, errors.New("rule_classes: empty; list at least one class or omit the key to enable all of "+strings.Join(classes, ", ")))
	}
	for i, c := range cfg.RuleClasses {
		switch {
		case !slices.Contains(classes, c):
			errs = append(errs, fmt.Errorf("rule_classes[%d]: unknown rule class %q; valid classes: %s", i, c, strings.Join(classes, ", ")))
		case slices.Contains(cfg.RuleClasses[:i], c):
			errs = append(errs, fmt.Errorf("rule_classes[%d]: duplicate class %q", i, c))
		}
	}
	if len(cfg.ExtraRules) > MaxExtraRules {
		errs = append(errs, fmt.Errorf("extra_rules: %d rules, at most %d allowed (each name is a metric label)", len(cfg.ExtraRules), MaxExtraRules))
	}
	seen := make(map[string]bool, len(cfg.ExtraRules))
	for i, r := range cfg.ExtraRules {
		errs = append(errs, validateExtraRule(i, r, classes, seen)...)
	}
	if cfg.MaxFieldBytes <= 0 {
		errs = append(errs, fmt.Errorf("max_field_bytes: must be greater than 0, got %d", cfg.MaxFieldBytes))
	}
	forbidden := make(map[string]bool, len(cfg.ForbiddenKeys))
	for i, k := range cfg.ForbiddenKeys {
		if k == "" {
			errs = append(errs, fmt.Errorf("forbidden_keys[%d]: empty key", i))
		}
		forbidden[strings.ToLower(k)] = true
	}
	for i, k := range cfg.UntouchedKeys {
		switch {
		case k == "":
			errs = append(errs, fmt.Errorf("untouched_keys[%d]: empty key", i))
		case forbidden[strings.ToLower(k)]:
			errs = append(errs, fmt.Errorf("untouched_keys[%d]: %q is also in forbidden_keys; a key cannot be both", i, k))
		}
	}
	return errors.Join(errs...)
}

func validateExtraRule(i int, r ExtraRule, classes []string, seen map[string]bool) []error {
	var errs []error
	field := fmt.Sprintf("extra_rules[%d]", i)
	switch {
	case r.Name == "":
		errs = append(errs, fmt.Errorf("%s.name: empty", field))
	case len(r.Name) > maxRuleNameLen:
		errs = append(errs, fmt.Errorf("%s.name: longer than %d characters", field, maxRuleNameLen))
	case !ruleNamePattern.MatchString(r.Name):
		errs = append(errs, fmt.Errorf("%s.name: %q must start with a-z and contain only a-z, 0-9 and _", field, r.Name))
	case slices.Contains(classes, r.Name):
		errs = append(errs, fmt.Errorf("%s.name: %q is a built-in rule class name", field, r.Name))
	case r.Name == attachmentsRemovedKey || r.Name == truncatedFieldsKey:
		errs = append(errs, fmt.Errorf("%s.name: %q is reserved for the %s record attribute", field, r.Name, RecordAttribute))
	case seen[r.Name]:
		errs = append(errs, fmt.Errorf("%s.name: duplicate name %q", field, r.Name))
	}
	seen[r.Name] = true
	if r.Pattern == "" {
		errs = append(errs, fmt.Errorf("%s.pattern: empty", field))
	} else if _, err := regexp.Compile(r.Pattern); err != nil {
		errs = append(errs, fmt.Errorf("%s.pattern: does not compile: %w", field, err))
	}
	return errs
}

// EngineOptions turns the configuration into the options of the redaction engine. The processor and
// the `otelaudit redact` command both build their engine through this one function.
func (cfg *Config) EngineOptions() redaction.Options {
	extra := make([]redaction.Rule, len(cfg.ExtraRules))
	for i, r := range cfg.ExtraRules {
		extra[i] = redaction.Rule{Name: r.Name, Pattern: r.Pattern, Replacement: r.Replacement}
	}
	return redaction.Options{
		Classes:       slices.Clone(cfg.RuleClasses),
		ExtraRules:    extra,
		MaxFieldBytes: cfg.MaxFieldBytes,
	}
}

// RuleNames lists the enabled built-in classes, then the extra rule names: every name a hit can carry,
// in metrics and in the record attribute.
func (cfg *Config) RuleNames() []string {
	names := make([]string, 0, len(cfg.RuleClasses)+len(cfg.ExtraRules))
	names = append(names, cfg.RuleClasses...)
	for _, r := range cfg.ExtraRules {
		names = append(names, r.Name)
	}
	return names
}

// NewEngine validates the configuration and builds its redaction engine.
func (cfg *Config) NewEngine() (*redaction.Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return redaction.New(cfg.EngineOptions())
}
