// Package pdatajson writes pdata values (log bodies, attribute maps) as
// compact JSON, keeping map insertion order so an audit event reads as sent.
package pdatajson

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// AppendValue appends v as JSON to dst. Bytes become base64 strings;
// non-finite doubles, which JSON cannot carry, become strings ("NaN",
// "+Inf", "-Inf") rather than failing the whole line.
func AppendValue(dst []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return AppendString(dst, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f):
			return append(dst, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(dst, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(dst, `"-Inf"`...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeMap:
		return AppendMap(dst, v.Map())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		dst = append(dst, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendValue(dst, s.At(i))
		}
		return append(dst, ']')
	case pcommon.ValueTypeBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		return append(dst, '"')
	default:
		return append(dst, "null"...)
	}
}

// AppendMap appends m as a JSON object, keys in insertion order.
func AppendMap(dst []byte, m pcommon.Map) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range m.All() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendValue(dst, v)
	}
	return append(dst, '}')
}

// AppendString appends s as a JSON string without HTML escaping, so text
// such as "<b>" stays readable in the file.
func AppendString(dst []byte, s string) []byte {
	// json.Marshal of a string cannot fail; it replaces invalid UTF-8.
	b, _ := json.Marshal(s)
	return appendUnescapeHTML(dst, b)
}

// appendUnescapeHTML undoes encoding/json's \u003c, \u003e and \u0026.
func appendUnescapeHTML(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u' && b[i+2] == '0' && b[i+3] == '0' {
			switch string(b[i+4 : i+6]) {
			case "3c":
				dst = append(dst, '<')
				i += 5
				continue
			case "3e":
				dst = append(dst, '>')
				i += 5
				continue
			case "26":
				dst = append(dst, '&')
				i += 5
				continue
			}
		}
		if b[i] == '\\' && i+1 < len(b) {
			// Keep any other escape pair intact, including an escaped backslash
			// that precedes a literal "u003c".
			dst = append(dst, b[i], b[i+1])
			i++
			continue
		}
		dst = append(dst, b[i])
	}
	return dst
}
