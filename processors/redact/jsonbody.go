package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// jsonNode is a parsed JSON value that keeps object member order and number spelling, so that a
// re-encoded body differs from the original only where redaction changed it (and in whitespace).
type jsonNode struct {
	kind    byte   // '{' object, '[' array, '"' string, 'l' literal (number, true, false, null)
	text    string // decoded string, or the literal as written
	keys    []string
	members []*jsonNode // object values (parallel to keys) or array elements
}

// scrubJSONText redacts a string body that holds a JSON object or array. ok is false when s is not
// such JSON, and s is then treated as plain text.
func (p *redactProcessor) scrubJSONText(s string, t *tally) (out string, ok bool) {
	trimmed := strings.TrimLeft(s, " \t\r\n")
	if trimmed == "" || (trimmed[0] != '{' && trimmed[0] != '[') {
		return "", false
	}
	root, err := parseJSON(s)
	if err != nil {
		return "", false
	}
	before := t.events()
	p.scrubJSON(root, t, true)
	if t.events() == before {
		return s, true
	}
	var buf bytes.Buffer
	buf.Grow(len(s))
	root.encode(&buf)
	return buf.String(), true
}

func parseJSON(s string) (*jsonNode, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	root, err := parseJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	return root, nil
}

func parseJSONValue(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		n := &jsonNode{kind: byte(tok)}
		for dec.More() {
			if n.kind == '{' {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key.(string))
			}
			member, err := parseJSONValue(dec)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &jsonNode{kind: '"', text: tok}, nil
	case json.Number:
		return &jsonNode{kind: 'l', text: tok.String()}, nil
	case bool:
		if tok {
			return &jsonNode{kind: 'l', text: "true"}, nil
		}
		return &jsonNode{kind: 'l', text: "false"}, nil
	default: // nil
		return &jsonNode{kind: 'l', text: "null"}, nil
	}
}

// scrubJSON is scrubValue for parsed JSON: same key rules, same string rules.
func (p *redactProcessor) scrubJSON(n *jsonNode, t *tally, textRules bool) (remove bool) {
	switch n.kind {
	case '"':
		var out string
		out, remove = p.scrubString(n.text, t, textRules)
		n.text = out
	case '{':
		keys, members := n.keys[:0], n.members[:0]
		for i, k := range n.keys {
			removeKey, childTextRules := p.keyRule(k, t, textRules)
			if removeKey || p.scrubJSON(n.members[i], t, childTextRules) {
				continue
			}
			keys, members = append(keys, k), append(members, n.members[i])
		}
		n.keys, n.members = keys, members
	case '[':
		members := n.members[:0]
		for _, m := range n.members {
			if !p.scrubJSON(m, t, textRules) {
				members = append(members, m)
			}
		}
		n.members = members
	}
	return remove
}

func (n *jsonNode) encode(buf *bytes.Buffer) {
	switch n.kind {
	case '"':
		encodeJSONString(buf, n.text)
	case 'l':
		buf.WriteString(n.text)
	default:
		buf.WriteByte(n.kind)
		for i, m := range n.members {
			if i > 0 {
				buf.WriteByte(',')
			}
			if n.kind == '{' {
				encodeJSONString(buf, n.keys[i])
				buf.WriteByte(':')
			}
			m.encode(buf)
		}
		if n.kind == '{' {
			buf.WriteByte('}')
		} else {
			buf.WriteByte(']')
		}
	}
}

// encodeJSONString writes s as a JSON string without HTML escaping, which would only obscure the text.
func encodeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes; bytes.Buffer never fails
	buf.Truncate(buf.Len() - 1) // Encode's newline
}
