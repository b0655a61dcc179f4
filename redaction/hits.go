package redaction

// Hits counts what one or more Redact calls replaced, per rule. It is a small
// value: counting built-in classes never allocates; only hits of extra
// (user-configured) rules use a slice.
type Hits struct {
	builtin   [numClasses]uint32
	truncated bool
	extra     []ruleCount
}

type ruleCount struct {
	name  string
	count int
}

// Total is the number of replacements made (the cut is not a replacement).
func (h Hits) Total() int {
	t := 0
	for _, c := range h.builtin {
		t += int(c)
	}
	for _, x := range h.extra {
		t += x.count
	}
	return t
}

// Truncated reports whether a text was cut to the field limit.
func (h Hits) Truncated() bool { return h.truncated }

// ForEach calls fn for every rule with a non-zero count: the built-in classes
// in precedence order (see RuleClasses), then extra rules in configured order.
func (h Hits) ForEach(fn func(rule string, count int)) {
	for c, n := range h.builtin {
		if n != 0 {
			fn(classNames[c], int(n))
		}
	}
	for _, x := range h.extra {
		if x.count != 0 {
			fn(x.name, x.count)
		}
	}
}

// Add accumulates other into h.
func (h *Hits) Add(other Hits) {
	for c, n := range other.builtin {
		h.builtin[c] += n
	}
	h.truncated = h.truncated || other.truncated
	if len(other.extra) == 0 {
		return
	}
	// Copy before changing counts: h.extra may share its array with a Hits
	// value the caller still holds.
	merged := make([]ruleCount, len(h.extra), len(h.extra)+len(other.extra))
	copy(merged, h.extra)
	for _, x := range other.extra {
		found := false
		for i := range merged {
			if merged[i].name == x.name {
				merged[i].count += x.count
				found = true
				break
			}
		}
		if !found {
			merged = append(merged, x)
		}
	}
	h.extra = merged
}
