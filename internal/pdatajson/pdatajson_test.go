package pdatajson

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAppendValueKeepsOrderAndTypes(t *testing.T) {
	v := pcommon.NewValueMap()
	m := v.Map()
	m.PutStr("z", "last-inserted-first")
	m.PutInt("a", -42)
	m.PutDouble("d", 0.25)
	m.PutDouble("whole", 3)
	m.PutBool("b", false)
	m.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 2})
	s := m.PutEmptySlice("s")
	s.AppendEmpty().SetStr("<&>")
	s.AppendEmpty()
	m.PutEmptyMap("empty")
	m.PutDouble("nan", math.NaN())
	m.PutDouble("inf", math.Inf(-1))
	m.PutDouble("pinf", math.Inf(1))

	got := string(AppendValue(nil, v))
	assert.Equal(t, `{"z":"last-inserted-first","a":-42,"d":0.25,"whole":3.0,"b":false,"raw":"AAEC","s":["<&>",null],"empty":{},"nan":"NaN","inf":"-Inf","pinf":"+Inf"}`, got)
	assert.True(t, json.Valid([]byte(got)))
	assert.Equal(t, got, string(AppendMap(nil, m)))
}

func TestAppendAppendsToExistingBuffer(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("k", "v")
	assert.Equal(t, `prefix{"k":"v"}`, string(AppendMap([]byte("prefix"), m)))
	out, err := AppendMapStrict([]byte("prefix"), m)
	require.NoError(t, err)
	assert.Equal(t, `prefix{"k":"v"}`, string(out))
}

// The exact bytes serde_json writes: only '"', '\\' and control characters escaped, short forms
// where JSON has them, everything else (HTML characters, U+2028/U+2029, non-ASCII) literal.
func TestAppendStringEscapesLikeSerde(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`quote"back\slash`, `"quote\"back\\slash"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"ctl\x00\x01\x1f\x7f", `"ctl\u0000\u0001\u001f` + "\x7f\""},
		{`\u003c literally`, `"\\u003c literally"`},
		{"<tag>&amp;", `"<tag>&amp;"`},
		{"line\u2028sep\u2029par", "\"line\u2028sep\u2029par\""},
		{"héllo ✓ 😀", `"héllo ✓ 😀"`},
		{"bad utf8 \xff end", "\"bad utf8 \ufffd end\""},
		{"cut \xe2\x9c", "\"cut \ufffd\ufffd\""},
	} {
		got := AppendString(nil, tc.in)
		assert.Equal(t, tc.want, string(got), "%q", tc.in)
		assert.True(t, json.Valid(got), "%q -> %s", tc.in, got)
	}
}

func TestAppendFloatLikeSerde(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2.5, "-2.5"},
		{0.1, "0.1"},
		{1e-5, "0.00001"},
		{1.5e-7, "1.5e-7"},
		{-1e-300, "-1e-300"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e16"},
		{1.2345e21, "1.2345e21"},
		{math.MaxFloat64, "1.7976931348623157e308"},
		{5e-324, "5e-324"},
	} {
		got := AppendFloat([]byte("x"), tc.in)
		assert.Equal(t, "x"+tc.want, string(got), "%v", tc.in)
		back, err := strconv.ParseFloat(tc.want, 64)
		require.NoError(t, err)
		assert.Equal(t, math.Float64bits(tc.in), math.Float64bits(back), "%s must read back exactly", tc.want)
	}
}

func TestAppendMapStrictNamesNonFiniteNumber(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr("ok", "fine")
	m.PutEmptyBytes("blob").FromRaw([]byte{0xde, 0xad})
	out, err := AppendMapStrict(nil, m)
	require.NoError(t, err, "bytes are not an error: they have a faithful base64 form")
	assert.Equal(t, `{"ok":"fine","blob":"3q0="}`, string(out))

	list := m.PutEmptyMap("usage").PutEmptySlice("steps")
	list.AppendEmpty().SetDouble(1)
	list.AppendEmpty().SetEmptyMap().PutDouble("cost", math.NaN())
	out, err = AppendMapStrict(nil, m)
	assert.Nil(t, out)
	var ne *NonFiniteError
	require.True(t, errors.As(err, &ne), "err %v", err)
	assert.Equal(t, "usage.steps[1].cost", ne.Path)
	assert.Contains(t, err.Error(), `"usage.steps[1].cost"`)

	top := pcommon.NewMap()
	top.PutEmptySlice("xs").AppendEmpty().SetDouble(math.Inf(1))
	_, err = AppendMapStrict(nil, top)
	require.True(t, errors.As(err, &ne))
	assert.Equal(t, "xs[0]", ne.Path)
}

// Whatever the string, the output is valid JSON that decodes to the input (invalid UTF-8 aside,
// which encoding/json and AppendString both turn into U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "\u2028<>&", "\xff\xfe", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		if err := json.Unmarshal(want, &wantBack); err != nil {
			t.Fatal(err)
		}
		if back != wantBack {
			t.Fatalf("%q -> %s decodes to %q, want %q", s, out, back, wantBack)
		}
	})
}

func BenchmarkAppendMap(b *testing.B) {
	m := pcommon.NewMap()
	m.PutStr("event_type", "turn_completed")
	m.PutStr("tenant_id", "7f8c1a52-3c1e-4d3b-9a8e-0c6f3b2a1d90")
	m.PutStr("content", "Here is the summary you asked for:\n\t- \"quoted\" <b>text</b> & more ✓\n")
	m.PutInt("latency_ms", 1234)
	m.PutDouble("cost", 0.00042)
	m.PutBool("streamed", true)
	usage := m.PutEmptyMap("usage")
	usage.PutInt("input_tokens", 512)
	usage.PutInt("output_tokens", 128)
	att := m.PutEmptySlice("attachments")
	for i := range 3 {
		a := att.AppendEmpty().SetEmptyMap()
		a.PutStr("filename", "report-"+strconv.Itoa(i)+".pdf")
		a.PutInt("size_bytes", int64(1000*i))
	}
	buf := AppendMap(nil, m)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMap(buf[:0], m)
	}
}
