package loki

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// This file is a stand-in for Loki's push endpoint: it decodes the real
// wire formats (snappy + logproto.PushRequest, and Loki's JSON) the way
// Loki's distributor does, and answers scripted statuses.

type gotEntry struct {
	UnixNano int64
	Line     string
	Metadata map[string]string
	// MetadataOrder keeps the names as sent, to see duplicates.
	MetadataOrder []string
}

type gotStream struct {
	LabelString string
	Labels      map[string]string
	Entries     []gotEntry
}

type gotPush struct {
	Tenant      string
	HasTenant   bool
	ContentType string
	Status      int // what the fake answered
	Streams     []gotStream
	At          time.Time
}

func (p gotPush) entryCount() int {
	n := 0
	for _, s := range p.Streams {
		n += len(s.Entries)
	}
	return n
}

type scriptedReply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration // before answering, or until the client gives up
}

type fakeLoki struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	script []scriptedReply // consumed in order; 204 once empty
	pushes []gotPush
}

func newFakeLoki(t *testing.T, script ...scriptedReply) *fakeLoki {
	t.Helper()
	f := &fakeLoki{t: t, script: script}
	// httptest listens on 127.0.0.1.
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLoki) endpoint() string { return f.srv.URL }

func (f *fakeLoki) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/loki/api/v1/push" {
		f.t.Errorf("fake Loki: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake Loki: reading body: %v", err)
		return
	}
	ct := r.Header.Get("Content-Type")
	var streams []gotStream
	switch ct {
	case "application/x-protobuf":
		streams, err = decodeProtobufPush(body)
	case "application/json":
		streams, err = decodeJSONPush(body)
	default:
		err = fmt.Errorf("unsupported Content-Type %q", ct)
	}
	if err != nil {
		f.t.Errorf("fake Loki: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tenantVals := r.Header.Values("X-Scope-OrgID")
	if len(tenantVals) > 1 {
		f.t.Errorf("fake Loki: %d X-Scope-OrgID headers", len(tenantVals))
	}

	f.mu.Lock()
	reply := scriptedReply{status: http.StatusNoContent}
	if len(f.script) > 0 {
		reply, f.script = f.script[0], f.script[1:]
	}
	f.pushes = append(f.pushes, gotPush{
		Tenant:      r.Header.Get("X-Scope-OrgID"),
		HasTenant:   len(tenantVals) > 0,
		ContentType: ct,
		Status:      reply.status,
		Streams:     streams,
		At:          time.Now(),
	})
	f.mu.Unlock()

	if reply.delay > 0 {
		select {
		case <-time.After(reply.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range reply.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(reply.status)
	_, _ = io.WriteString(w, reply.body)
}

func (f *fakeLoki) received() []gotPush {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gotPush(nil), f.pushes...)
}

// stored is what Loki kept: the entries of pushes answered 2xx.
func (f *fakeLoki) stored() []gotPush {
	var out []gotPush
	for _, p := range f.received() {
		if p.Status >= 200 && p.Status <= 299 {
			out = append(out, p)
		}
	}
	return out
}

var lokiLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// parseLabelString parses `{a="x", b="y"}` as Loki's stream selector parser
// does for push requests: names by the label rule, Go-quoted values.
func parseLabelString(s string) (map[string]string, error) {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("labels %q: not in braces", s)
	}
	rest := strings.TrimSpace(s[1 : len(s)-1])
	out := map[string]string{}
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("labels %q: missing '='", s)
		}
		name := strings.TrimSpace(rest[:eq])
		if !lokiLabelName.MatchString(name) {
			return nil, fmt.Errorf("labels %q: invalid label name %q", s, name)
		}
		quoted, err := strconv.QuotedPrefix(rest[eq+1:])
		if err != nil {
			return nil, fmt.Errorf("labels %q: value of %s: %v", s, name, err)
		}
		value, _ := strconv.Unquote(quoted)
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("labels %q: duplicate label %s", s, name)
		}
		out[name] = value
		rest = strings.TrimSpace(rest[eq+1+len(quoted):])
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("labels %q: expected ','", s)
			}
			rest = strings.TrimSpace(rest[1:])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("labels %q: at least one label pair is required per stream", s)
	}
	return out, nil
}

// decodeProtobufPush decodes a snappy block-compressed logproto.PushRequest,
// refusing unknown fields and wrong wire types.
func decodeProtobufPush(body []byte) ([]gotStream, error) {
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var streams []gotStream
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return fmt.Errorf("PushRequest: unexpected field %d type %d", num, typ)
		}
		s, err := decodeStream(v)
		if err != nil {
			return err
		}
		streams = append(streams, s)
		return nil
	})
	return streams, err
}

func decodeStream(b []byte) (gotStream, error) {
	var s gotStream
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			s.LabelString = string(v)
		case num == 2 && typ == protowire.BytesType:
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			s.Entries = append(s.Entries, e)
		case num == 3 && typ == protowire.VarintType:
		default:
			return fmt.Errorf("StreamAdapter: unexpected field %d type %d", num, typ)
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	s.Labels, err = parseLabelString(s.LabelString)
	return s, err
}

func decodeEntry(b []byte) (gotEntry, error) {
	e := gotEntry{Metadata: map[string]string{}}
	sawTimestamp := false
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			sawTimestamp = true
			var sec, nanos int64
			err := eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
				switch {
				case num == 1 && typ == protowire.VarintType:
					sec = int64(x)
				case num == 2 && typ == protowire.VarintType:
					nanos = int64(int32(x))
				default:
					return fmt.Errorf("Timestamp: unexpected field %d type %d", num, typ)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if nanos < 0 || nanos >= 1e9 {
				return fmt.Errorf("Timestamp: nanos %d out of range", nanos)
			}
			e.UnixNano = sec*1e9 + nanos
		case num == 2 && typ == protowire.BytesType:
			e.Line = string(v)
		case num == 3 && typ == protowire.BytesType:
			var name, value string
			err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					name = string(v)
				case num == 2 && typ == protowire.BytesType:
					value = string(v)
				default:
					return fmt.Errorf("LabelPairAdapter: unexpected field %d type %d", num, typ)
				}
				return nil
			})
			if err != nil {
				return err
			}
			e.Metadata[name] = value
			e.MetadataOrder = append(e.MetadataOrder, name)
		default:
			return fmt.Errorf("EntryAdapter: unexpected field %d type %d", num, typ)
		}
		return nil
	})
	if err == nil && !sawTimestamp {
		err = errors.New("EntryAdapter: no timestamp")
	}
	return e, err
}

// eachField walks a protobuf message: v holds bytes fields, x varints.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", num, typ)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSONPush decodes Loki's JSON push body; values are
// ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {structured metadata}].
func decodeJSONPush(body []byte) ([]gotStream, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	var out []gotStream
	for _, s := range req.Streams {
		if len(s.Stream) == 0 {
			return nil, errors.New("json: at least one label pair is required per stream")
		}
		gs := gotStream{Labels: s.Stream}
		for name := range s.Stream {
			if !lokiLabelName.MatchString(name) {
				return nil, fmt.Errorf("json: invalid label name %q", name)
			}
		}
		for _, v := range s.Values {
			if len(v) != 2 && len(v) != 3 {
				return nil, fmt.Errorf("json: value with %d elements", len(v))
			}
			var tsText string
			e := gotEntry{Metadata: map[string]string{}}
			if err := json.Unmarshal(v[0], &tsText); err != nil {
				return nil, fmt.Errorf("json: timestamp must be a string: %w", err)
			}
			ns, err := strconv.ParseInt(tsText, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("json: timestamp %q: %w", tsText, err)
			}
			e.UnixNano = ns
			if err := json.Unmarshal(v[1], &e.Line); err != nil {
				return nil, fmt.Errorf("json: line must be a string: %w", err)
			}
			if len(v) == 3 {
				if err := json.Unmarshal(v[2], &e.Metadata); err != nil {
					return nil, fmt.Errorf("json: structured metadata must be an object of strings: %w", err)
				}
			}
			gs.Entries = append(gs.Entries, e)
		}
		out = append(out, gs)
	}
	return out, nil
}
