// Package pdatajson writes pdata values (log bodies, attribute maps) as compact JSON, keeping map
// insertion order and serde_json's formatting so an audit event reads, and round-trips, as sent.
package pdatajson

import (
	"bytes"
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// NonFiniteError reports a NaN or infinite double, which JSON cannot carry, met by AppendMapStrict.
type NonFiniteError struct {
	// Path locates the number: member names joined with ".", slice indexes as "[i]".
	Path string
}

func (e *NonFiniteError) Error() string {
	return "pdatajson: the number at " + strconv.Quote(e.Path) + " is NaN or infinite, which JSON cannot carry"
}

// AppendValue appends v as JSON to dst. Bytes become base64 strings (as in OTLP/JSON); non-finite
// doubles become the strings "NaN", "+Inf" and "-Inf" rather than failing the whole line.
func AppendValue(dst []byte, v pcommon.Value) []byte {
	dst, _ = appendValue(dst, v, false)
	return dst
}

// AppendMap appends m as a JSON object, members in insertion order, like AppendValue.
func AppendMap(dst []byte, m pcommon.Map) []byte {
	dst, _ = appendMap(dst, m, false)
	return dst
}

// AppendMapStrict is AppendMap for output that must decode back to the same values (an audit
// event): a non-finite double is a *NonFiniteError instead of a string standing in for it.
func AppendMapStrict(dst []byte, m pcommon.Map) ([]byte, error) {
	out, err := appendMap(dst, m, true)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendValue returns an error only when strict; the error's Path is filled in on the way out,
// so the common case builds no paths.
func appendValue(dst []byte, v pcommon.Value, strict bool) ([]byte, error) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return AppendString(dst, v.Str()), nil
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			if strict {
				return dst, &NonFiniteError{}
			}
			return strconv.AppendQuote(dst, nonFiniteName(f)), nil
		}
		return AppendFloat(dst, f), nil
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case pcommon.ValueTypeMap:
		return appendMap(dst, v.Map(), strict)
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		dst = append(dst, '[')
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, s.At(i), strict); err != nil {
				return dst, within(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return append(dst, ']'), nil
	case pcommon.ValueTypeBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		return append(dst, '"'), nil
	default:
		return append(dst, "null"...), nil
	}
}

func appendMap(dst []byte, m pcommon.Map, strict bool) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	for k, v := range m.All() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, v, strict); err != nil {
			return dst, within(err, k)
		}
	}
	return append(dst, '}'), nil
}

// within places err's path under step, a member name or "[i]".
func within(err error, step string) error {
	ne := err.(*NonFiniteError) // the only error appendValue returns
	switch {
	case ne.Path == "":
		ne.Path = step
	case ne.Path[0] == '[':
		ne.Path = step + ne.Path
	default:
		ne.Path = step + "." + ne.Path
	}
	return err
}

func nonFiniteName(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "+Inf"
	default:
		return "-Inf"
	}
}

// AppendFloat appends a finite double the way serde_json (ryu) prints it: shortest round-trip
// digits, integral values keep a ".0" so they stay doubles, magnitudes below 1e-5 or from 1e16
// up use an exponent without "+" or leading zeros ("1e16", "1.5e-7"). NaN and infinities are the
// caller's business (see AppendValue and AppendMapStrict).
func AppendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-5 || abs >= 1e16) {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64) // e.g. "-1.5e-07", "1e+16"
		e := start + bytes.IndexByte(dst[start:], 'e')
		exp := dst[e+1:]
		neg := exp[0] == '-'
		digits := bytes.TrimLeft(exp[1:], "0") // Go always writes a sign and at least two digits
		n := e + 1
		if neg {
			dst[n] = '-'
			n++
		}
		n += copy(dst[n:], digits)
		return dst[:n]
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if bytes.IndexByte(dst[start:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// AppendString appends s as a JSON string escaped like serde_json, the chat service's serialiser:
// only '"', '\\' and control characters are escaped (\b \f \n \r \t, else \u00xx); '<', '>', '&',
// U+2028 and U+2029 stay literal, which is valid JSON and keeps events byte-identical. Invalid
// UTF-8 becomes U+FFFD so the output is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				start = i + 1
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
