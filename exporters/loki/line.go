package loki

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelaudit/otelaudit/auditevent"
	"github.com/otelaudit/otelaudit/internal/pdatajson"
)

// recordJSON is the compact JSON a record's line is made from: the audit
// event itself when the record is one, otherwise an object carrying the
// record's event name, body and attributes, so nothing is dropped.
func recordJSON(lr plog.LogRecord) []byte {
	b := make([]byte, 0, 1024)
	if js, err := auditevent.AppendEventJSON(b, lr); err == nil {
		return js
	}
	b = append(b, '{')
	if name := lr.EventName(); name != "" {
		b = append(b, `"event_name":`...)
		b = pdatajson.AppendString(b, name)
		b = append(b, ',')
	}
	b = append(b, `"body":`...)
	b = pdatajson.AppendValue(b, lr.Body())
	b = append(b, `,"attributes":`...)
	b = pdatajson.AppendMap(b, lr.Attributes())
	return append(b, '}')
}

// formatLine renders one record as a Loki line in the configured format.
func formatLine(lr plog.LogRecord, format LineFormat) string {
	js := recordJSON(lr)
	if format == LineFormatLogfmt {
		if lf, err := jsonToLogfmt(js); err == nil {
			return lf
		}
		// recordJSON always yields a JSON object; should that ever fail,
		// the JSON line still carries the event.
	}
	return string(js)
}

// jsonToLogfmt flattens a JSON object into logfmt in document order: nested
// keys joined with ".", array elements by index ("attachments.0.filename"),
// strings always quoted and numbers, booleans and null bare, so the text
// still tells "12" from 12. Empty objects and arrays are kept as {} and [].
func jsonToLogfmt(js []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", errors.New("logfmt: line JSON is not an object")
	}
	w := logfmtWriter{out: make([]byte, 0, len(js)+len(js)/4)}
	if err := w.object(dec, nil); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("logfmt: trailing data after the JSON object")
	}
	return string(w.out), nil
}

const hexDigits = "0123456789abcdef"

type logfmtWriter struct {
	out []byte
}

// object writes the members of an object whose '{' was just read.
func (w *logfmtWriter) object(dec *json.Decoder, prefix []byte) error {
	empty := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("logfmt: unexpected object key %v", tok)
		}
		empty = false
		if err := w.value(dec, appendKey(prefix, key)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	if empty && prefix != nil {
		w.pair(prefix, "{}")
	}
	return nil
}

func (w *logfmtWriter) array(dec *json.Decoder, prefix []byte) error {
	i := 0
	for ; dec.More(); i++ {
		if err := w.value(dec, appendKey(prefix, strconv.Itoa(i))); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return err
	}
	if i == 0 {
		w.pair(prefix, "[]")
	}
	return nil
}

func (w *logfmtWriter) value(dec *json.Decoder, key []byte) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return w.object(dec, key)
		}
		return w.array(dec, key)
	case string:
		w.pair(key, "")
		w.out = appendLogfmtQuoted(w.out, v)
	case json.Number:
		w.pair(key, v.String())
	case bool:
		w.pair(key, strconv.FormatBool(v))
	case nil:
		w.pair(key, "null")
	}
	return nil
}

// pair writes ` key=raw`; a string value is appended right after by the caller.
func (w *logfmtWriter) pair(key []byte, raw string) {
	if len(w.out) > 0 {
		w.out = append(w.out, ' ')
	}
	w.out = append(w.out, key...)
	w.out = append(w.out, '=')
	w.out = append(w.out, raw...)
}

// appendKey joins a flattened key; characters logfmt uses as syntax
// (space, '=', '"') and control characters become '_'.
func appendKey(prefix []byte, key string) []byte {
	k := make([]byte, 0, len(prefix)+1+len(key))
	k = append(k, prefix...)
	if len(prefix) > 0 {
		k = append(k, '.')
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
			c = '_'
		}
		k = append(k, c)
	}
	return k
}

// appendLogfmtQuoted quotes s with the escapes logfmt parsers undo: \" \\ \n \r \t
// and \u00XX for other control characters.
func appendLogfmtQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				continue
			}
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
