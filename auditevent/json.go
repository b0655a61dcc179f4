package auditevent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Limits on the JSON accepted, far above anything the contract produces. They bound the work a
// hostile body can cause: pcommon.Map insertion checks for duplicates linearly, so a single object
// with millions of members would cost quadratic time.
const (
	MaxObjectMembers = 1000
	MaxNestingDepth  = 64
)

// parseObject parses one JSON object into an ordered pcommon.Map. Integers that fit an int64
// become Int values, every other number a Double; null becomes an empty value. Duplicate member
// names, trailing data and the limits above are errors.
func parseObject(data []byte) (pcommon.Map, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := &jsonParser{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return pcommon.Map{}, p.syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return pcommon.Map{}, &FieldError{Reason: "must be a JSON object"}
	}
	m := pcommon.NewMap()
	if err := p.object(m, "", 1); err != nil {
		return pcommon.Map{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return pcommon.Map{}, &FieldError{Reason: "unexpected data after the JSON object"}
	}
	return m, nil
}

type jsonParser struct {
	dec *json.Decoder
}

func (p *jsonParser) syntaxError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FieldError{Reason: "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()}
	}
	return &FieldError{Reason: "malformed JSON: " + err.Error()}
}

// object reads members up to the closing brace (the opening one is consumed).
func (p *jsonParser) object(m pcommon.Map, path string, depth int) error {
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return p.syntaxError(err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key, _ := tok.(string) // the decoder only yields strings in key position
		memberPath := joinPath(path, key)
		if m.Len() >= MaxObjectMembers {
			return &FieldError{Path: path, Reason: "object has more than " + strconv.Itoa(MaxObjectMembers) + " members"}
		}
		v, existed := m.GetOrPutEmpty(key)
		if existed {
			return &FieldError{Path: memberPath, Reason: "duplicate member"}
		}
		if err := p.value(v, memberPath, depth); err != nil {
			return err
		}
	}
}

func (p *jsonParser) value(v pcommon.Value, path string, depth int) error {
	tok, err := p.dec.Token()
	if err != nil {
		return p.syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxNestingDepth {
			return &FieldError{Path: path, Reason: "nested deeper than " + strconv.Itoa(MaxNestingDepth) + " levels"}
		}
		if t == '{' {
			return p.object(v.SetEmptyMap(), path, depth+1)
		}
		s := v.SetEmptySlice()
		for i := 0; ; i++ {
			if !p.dec.More() {
				if _, err := p.dec.Token(); err != nil { // the closing bracket
					return p.syntaxError(err)
				}
				return nil
			}
			if err := p.value(s.AppendEmpty(), path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case string:
		v.SetStr(t)
	case bool:
		v.SetBool(t)
	case nil:
		// stays empty: JSON null
	case json.Number:
		return setNumber(v, string(t), path)
	}
	return nil
}

func setNumber(v pcommon.Value, text, path string) error {
	if !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			v.SetInt(i)
			return nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return &FieldError{Path: path, Reason: "number is out of range"}
	}
	v.SetDouble(f)
	return nil
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// appendMapJSON writes m as a compact JSON object, members in map order.
func appendMapJSON(b []byte, m pcommon.Map) ([]byte, error) {
	b = append(b, '{')
	first := true
	var err error
	m.Range(func(k string, v pcommon.Value) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b, err = appendValueJSON(b, v)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendValueJSON(b []byte, v pcommon.Value) ([]byte, error) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendJSONString(b, v.Str()), nil
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case pcommon.ValueTypeDouble:
		return appendJSONFloat(b, v.Double())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool()), nil
	case pcommon.ValueTypeMap:
		return appendMapJSON(b, v.Map())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		b = append(b, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValueJSON(b, s.At(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case pcommon.ValueTypeBytes:
		// Only reachable for records built by other producers; mirror OTLP/JSON's base64 rendering.
		return appendJSONString(b, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw())), nil
	default:
		return append(b, "null"...), nil
	}
}

// appendJSONFloat renders a double like serde_json (ryu): integral values keep a ".0", very large
// or small magnitudes use an exponent without "+" or leading zeros.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("a number is NaN or infinite, which JSON cannot carry")
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-5 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		exp = strings.TrimPrefix(exp, "+")
		neg := strings.HasPrefix(exp, "-")
		exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
		b = append(b, mant...)
		b = append(b, 'e')
		if neg {
			b = append(b, '-')
		}
		return append(b, exp...), nil
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	if !bytes.ContainsRune(b[start:], '.') {
		b = append(b, ".0"...)
	}
	return b, nil
}

// appendJSONString escapes like serde_json, the chat service's serialiser: only '"', '\\' and
// control characters are escaped (\b \f \n \r \t, else \u00xx); '<', '>', '&', U+2028 and U+2029
// stay literal. Invalid UTF-8 becomes U+FFFD so the output is always valid JSON.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
