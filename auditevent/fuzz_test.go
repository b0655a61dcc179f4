package auditevent

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// FuzzDecodeEnvelope: no input panics, and whatever decodes re-encodes to JSON that decodes to the
// same bytes again, directly and through a log record.
func FuzzDecodeEnvelope(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"turn"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if _, envErr := DecodeEnvelope(data); envErr == nil && err != nil {
			t.Fatalf("envelope decodes but event does not: %v", err)
		}
		if err != nil {
			return
		}
		first, err := ev.MarshalJSON()
		if err != nil {
			return // a double that JSON cannot carry is impossible from JSON input, but stay total
		}
		again, err := DecodeEvent(first)
		if err != nil {
			t.Fatalf("re-decoding our own output failed: %v\n%s", err, first)
		}
		second, _ := again.MarshalJSON()
		if !bytes.Equal(first, second) {
			t.Fatalf("encoding not stable:\n%s\n%s", first, second)
		}
		lr := plog.NewLogRecord()
		ToLogRecord(again, lr, time.Unix(0, 0))
		third, err := EventJSONFromLogRecord(lr)
		if err != nil || !bytes.Equal(third, first) {
			t.Fatalf("record round trip: %v\n%s\n%s", err, first, third)
		}
	})
}
