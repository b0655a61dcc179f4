package chataudit

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeRequest: no body panics, and a request either yields at least one event and no error
// or an error and no events (all-or-nothing).
func FuzzDecodeRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "auditevent", "testdata", "envelope_*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(append(append([]byte("["), b...), ']'), uint8(0))
		f.Add(append(append([]byte{}, b...), b...), uint8(1))
	}
	paths := []string{PathEvents, PathEvents, PathTurn, PathTurnRetry, PathTurnEdit, PathTurnDelete}
	f.Fuzz(func(t *testing.T, body []byte, route uint8) {
		path := paths[int(route)%len(paths)]
		ndjson := int(route)%len(paths) == 1
		events, bad := decodeRequest(path, ndjson, body)
		if (bad == nil) == (len(events) == 0) {
			t.Fatalf("events %d, error %+v", len(events), bad)
		}
	})
}
