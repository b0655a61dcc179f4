package auditevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

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
