package pdatajson

import (
	"encoding/json"
	"math"
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
	m.PutBool("b", false)
	m.PutEmptyBytes("raw").FromRaw([]byte{0, 1, 2})
	s := m.PutEmptySlice("s")
	s.AppendEmpty().SetStr("<&>")
	s.AppendEmpty()
	m.PutEmptyMap("empty")
	m.PutDouble("nan", math.NaN())
	m.PutDouble("inf", math.Inf(-1))

	got := string(AppendValue(nil, v))
	assert.Equal(t, `{"z":"last-inserted-first","a":-42,"d":0.25,"b":false,"raw":"AAEC","s":["<&>",null],"empty":{},"nan":"NaN","inf":"-Inf"}`, got)
	assert.True(t, json.Valid([]byte(got)))
}

func TestAppendStringEscapes(t *testing.T) {
	for _, s := range []string{"plain", "quote\"back\\slash", "ctl\x01\n\t", `\u003c literally`, "<tag>&amp;", "bad utf8 \xff", "line\u2028sep"} {
		out := AppendString(nil, s)
		require.True(t, json.Valid(out), "%q -> %s", s, out)
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		if s == "bad utf8 \xff" {
			assert.Equal(t, "bad utf8 \uFFFD", back)
			continue
		}
		assert.Equal(t, s, back)
	}
}
