package auditevent

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

func BenchmarkDecodeEvent(b *testing.B) {
	data := readGolden(b, "turn_completed_unknown_fields.json")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogRecordRoundTrip(b *testing.B) {
	data := readGolden(b, "turn_completed_unknown_fields.json")
	ev, err := DecodeEvent(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		lr := plog.NewLogRecord()
		ToLogRecord(ev, lr, time.Unix(0, 0))
		if _, err := EventJSONFromLogRecord(lr); err != nil {
			b.Fatal(err)
		}
	}
}
