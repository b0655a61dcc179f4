package loki

import (
	"regexp"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Why a record went to the fallback tenant (bounded: a metric attribute).
const (
	fallbackMissing = "missing"
	fallbackInvalid = "invalid"
)

// tenantResolver picks the Loki tenant of a record. Record data is
// untrusted: a value taken from a record only becomes a tenant id after it
// matches the configured pattern and Loki's tenant id rules, so a record
// cannot steer its entries, or anyone else's, into an arbitrary tenant.
type tenantResolver struct {
	static    string
	attribute string
	fallback  string
	pattern   *regexp.Regexp
	// lowerCase maps UUIDs to one spelling, so one chat tenant is one Loki tenant.
	lowerCase bool
	prefix    string
}

// newTenantResolver returns nil when tenancy is off.
func newTenantResolver(tc *TenantConfig) (*tenantResolver, error) {
	if tc == nil {
		return nil, nil
	}
	if tc.Static != "" {
		return &tenantResolver{static: tc.Static}, nil
	}
	re, err := compileTenantPattern(tc.Pattern)
	if err != nil {
		return nil, err
	}
	return &tenantResolver{
		attribute: tc.attribute(),
		fallback:  tc.fallback(),
		pattern:   re,
		lowerCase: tc.Pattern == "",
		prefix:    tc.Prefix,
	}, nil
}

// resolve returns the record's tenant and, when the fallback tenant was
// used, why (fallbackMissing or fallbackInvalid); "" otherwise.
func (r *tenantResolver) resolve(resource pcommon.Map, lr plog.LogRecord) (tenant, fallbackReason string) {
	if r.static != "" {
		return r.static, ""
	}
	v, ok := lr.Attributes().Get(r.attribute)
	if !ok {
		v, ok = resource.Get(r.attribute)
	}
	if !ok {
		return r.fallback, fallbackMissing
	}
	if v.Type() != pcommon.ValueTypeStr || v.Str() == "" {
		return r.fallback, fallbackInvalid
	}
	id := v.Str()
	if !r.pattern.MatchString(id) {
		return r.fallback, fallbackInvalid
	}
	if r.lowerCase {
		id = strings.ToLower(id)
	}
	id = r.prefix + id
	if checkTenantID(id) != nil {
		return r.fallback, fallbackInvalid
	}
	return id, ""
}
