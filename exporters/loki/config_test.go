package loki

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cm.Sub(component.MustNewIDWithName(TypeStr, name).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		t.Fatalf("unmarshal %s: %v", name, err)
	}
	return cfg
}

func TestLoadConfig(t *testing.T) {
	def := loadConfig(t, "")
	if err := confmap.Validate(def); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	if def.Encoding != EncodingProtobuf || def.LineFormat != LineFormatJSON || def.Tenant.HasValue() ||
		len(def.Labels) != 2 || len(def.StructuredMetadata) != 7 || !def.QueueConfig.HasValue() ||
		def.ClientConfig.Timeout != 30*time.Second || !def.RetryConfig.Enabled {
		t.Errorf("defaults not applied: %+v", def)
	}

	full := loadConfig(t, "full")
	if err := confmap.Validate(full); err != nil {
		t.Fatalf("full config: %v", err)
	}
	tc := full.Tenant.Get()
	if full.Encoding != EncodingJSON || full.LineFormat != LineFormatLogfmt || tc == nil ||
		tc.Prefix != "chat-" || tc.Fallback != "chat-unassigned" || full.ClientConfig.Timeout != 5*time.Second ||
		full.RetryConfig.InitialInterval != time.Second || full.QueueConfig.Get().QueueSize != 5000 {
		t.Errorf("full config not loaded as written: %+v tenant %+v", full, tc)
	}
	// A configured list replaces the default one.
	if len(full.Labels) != 3 || full.Labels[1].lokiName() != "deployment_environment_name" || full.Labels[2].lokiName() != "requester" {
		t.Errorf("labels %+v", full.Labels)
	}
	if len(full.StructuredMetadata) != 2 {
		t.Errorf("structured_metadata %+v", full.StructuredMetadata)
	}

	static := loadConfig(t, "static_tenant")
	if err := confmap.Validate(static); err != nil || static.Tenant.Get().Static != "audit" || static.QueueConfig.HasValue() {
		t.Errorf("static tenant: %v %+v", err, static.Tenant.Get())
	}
	if loadConfig(t, "tenant_null").Tenant.Get() == nil {
		t.Errorf("`tenant:` alone must enable tenancy")
	}
	dt := loadConfig(t, "default_tenant")
	if err := confmap.Validate(dt); err != nil || !dt.Tenant.HasValue() {
		t.Fatalf("tenant: {} must enable tenancy: %v", err)
	}
	if r, _ := newTenantResolver(dt.Tenant.Get()); r.attribute != "mini_chat.tenant_id" || r.fallback != DefaultFallbackTenant {
		t.Errorf("tenant defaults: attribute %q fallback %q", r.attribute, r.fallback)
	}
	if err := confmap.Validate(loadConfig(t, "high_cardinality_allowed")); err != nil {
		t.Errorf("allow_high_cardinality_labels: true must allow id labels: %v", err)
	}
}

func TestConfigRefusals(t *testing.T) {
	cases := map[string][]string{
		"high_cardinality": {
			`labels[0]: "mini_chat.chat_id" (label "chat")`, "allow_high_cardinality_labels: true",
			`labels[1]: "my.request_id" (label "my_request_id")`,
			`labels[2]: "trace_id" (label "trace_id")`,
		},
		"static_and_attribute": {"tenant: static and from_attribute are mutually exclusive"},
		"too_many_labels":      {"labels: 16 labels configured, Loki accepts at most 15 per stream"},
		"tenant_header":        {"headers: X-Scope-OrgID must not be set when tenant is configured"},
		"bad_values": {
			`endpoint: "localhost:3100" must be an http:// or https:// URL`,
			`encoding: "proto" is not supported`,
			`line_format: "text" is not supported`,
			`labels[0].from: "body" is not supported`,
			`labels[1].key: "body" is not a record field`,
			`labels[2].key: must not be empty`,
			`labels[3].name: "__internal" starts with "__"`,
			`labels[5]: label name "a_b" is already produced by labels[4]`,
			`structured_metadata[0]: name "a_b" is already a label`,
			"tenant.pattern: not a valid regular expression",
			"tenant.fallback: contains a character Loki does not allow",
			"tenant.prefix: contains a character Loki does not allow",
		},
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			if err == nil {
				t.Fatal("config accepted")
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
