package chataudit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"

	"github.com/otelaudit/otelaudit/auditevent"
)

// Endpoints. /v1/audit/events takes envelopes (the outbox form, `type`-tagged); the other four take
// one bare event each and mirror the plugin interface's four methods.
const (
	PathEvents     = "/v1/audit/events"
	PathTurn       = "/v1/audit/turn"
	PathTurnRetry  = "/v1/audit/turn-retry"
	PathTurnEdit   = "/v1/audit/turn-edit"
	PathTurnDelete = "/v1/audit/turn-delete"
)

// singleEventPaths maps each one-event endpoint to the event types it takes.
var singleEventPaths = map[string][]auditevent.EventType{
	PathTurn:       {auditevent.TurnCompleted, auditevent.TurnFailed},
	PathTurnRetry:  {auditevent.TurnRetry},
	PathTurnEdit:   {auditevent.TurnEdit},
	PathTurnDelete: {auditevent.TurnDelete},
}

const (
	// scopeName is the instrumentation scope of every record this receiver makes.
	scopeName = "github.com/otelaudit/otelaudit/receivers/chataudit"
	// serviceName is the resource's service.name: the producer of the events, not otelaudit.
	serviceName = "mini-chat"

	mediaJSON   = "application/json"
	mediaNDJSON = "application/x-ndjson"
)

type auditReceiver struct {
	cfg      *Config
	settings receiver.Settings
	next     consumer.Logs
	obsrep   *receiverhelper.ObsReport

	server     *http.Server
	listenAddr net.Addr // the bound address, known after Start (tests listen on port 0)
	serving    sync.WaitGroup
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*auditReceiver, error) {
	obsrep, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	return &auditReceiver{cfg: cfg, settings: set, next: next, obsrep: obsrep}, nil
}

func (r *auditReceiver) Start(ctx context.Context, host component.Host) error {
	mux := http.NewServeMux()
	mux.HandleFunc(PathEvents, r.handle)
	for path := range singleEventPaths {
		mux.HandleFunc(path, r.handle)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found: the audit endpoints are POST " +
			strings.Join([]string{PathEvents, PathTurn, PathTurnRetry, PathTurnEdit, PathTurnDelete}, ", ")})
	})

	var err error
	r.server, err = r.cfg.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux,
		confighttp.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, msg string, status int) {
			// Decompression and authentication failures, answered in the receiver's JSON shape.
			writeJSON(w, status, errorBody{Error: msg})
		}))
	if err != nil {
		return err
	}
	ln, err := r.cfg.ToListener(ctx)
	if err != nil {
		return err
	}
	r.listenAddr = ln.Addr()
	r.settings.Logger.Info("Starting audit HTTP server", zap.String("endpoint", ln.Addr().String()))
	r.serving.Go(func() {
		if err := r.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

func (r *auditReceiver) Shutdown(ctx context.Context) error {
	var err error
	if r.server != nil {
		err = r.server.Shutdown(ctx)
	}
	r.serving.Wait()
	return err
}

// errorBody is the JSON body of every error response. Index and Field point at the offending record
// and field; no part of it ever repeats a value from the request (values may hold secrets).
type errorBody struct {
	Error  string `json:"error"`
	Index  *int   `json:"index,omitempty"`  // 0-based record index in the request
	Line   int    `json:"line,omitempty"`   // 1-based line, for NDJSON bodies
	Field  string `json:"field,omitempty"`  // JSON path in the record, e.g. usage.input_tokens
	Reason string `json:"reason,omitempty"` // what is wrong with the field
}

// handle serves every audit endpoint: method, media type, body, strict decode of every record,
// then one synchronous hand-off of the whole request to the pipeline.
func (r *auditReceiver) handle(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method not allowed: use POST"})
		return
	}
	ndjson, ok := r.mediaType(w, req)
	if !ok {
		return
	}
	body, ok := r.readBody(w, req)
	if !ok {
		return
	}
	events, bad := decodeRequest(req.URL.Path, ndjson, body)
	if bad != nil {
		r.settings.Logger.Debug("Rejected audit request", zap.String("path", req.URL.Path), zap.String("error", bad.Error))
		writeJSON(w, http.StatusBadRequest, *bad)
		return
	}
	r.forward(req.Context(), w, events)
}

// mediaType checks Content-Type: application/json everywhere, application/x-ndjson on the events
// endpoint; UTF-8 is the only charset. It reports whether the body is NDJSON.
func (r *auditReceiver) mediaType(w http.ResponseWriter, req *http.Request) (ndjson, ok bool) {
	accepted := mediaJSON
	if req.URL.Path == PathEvents {
		accepted += " or " + mediaNDJSON
	}
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	charset, hasCharset := params["charset"]
	if err == nil && (!hasCharset || strings.EqualFold(charset, "utf-8")) {
		switch {
		case mt == mediaJSON:
			return false, true
		case mt == mediaNDJSON && req.URL.Path == PathEvents:
			return true, true
		}
	}
	writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "unsupported content type: send " + accepted + " (UTF-8)"})
	return false, false
}

func (r *auditReceiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	limit := r.cfg.MaxRequestBodySize
	tooLarge := errorBody{Error: "request body exceeds max_request_body_size (" + strconv.FormatInt(limit, 10) + " bytes)"}
	if req.ContentLength > limit {
		writeJSON(w, http.StatusRequestEntityTooLarge, tooLarge)
		return nil, false
	}
	body, err := io.ReadAll(req.Body) // confighttp wraps Body in an http.MaxBytesReader
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			writeJSON(w, http.StatusRequestEntityTooLarge, tooLarge)
		} else {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "could not read the request body"})
		}
		return nil, false
	}
	return body, true
}

// forward hands all records of one request to the next consumer in one call and answers only
// after it returned: 202 once accepted, 503 + Retry-After for a refusal that may pass, 500 for a
// permanent one.
func (r *auditReceiver) forward(ctx context.Context, w http.ResponseWriter, events []*auditevent.Event) {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", serviceName)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scopeName)
	records := sl.LogRecords()
	records.EnsureCapacity(len(events))
	observed := time.Now()
	for _, ev := range events {
		auditevent.ToLogRecord(ev, records.AppendEmpty(), observed)
	}

	ctx = r.obsrep.StartLogsOp(ctx)
	err := r.next.ConsumeLogs(ctx, logs)
	r.obsrep.EndLogsOp(ctx, "json", len(events), err)
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(events)})
	case consumererror.IsPermanent(err):
		// The downstream error text is not passed on or logged: it may quote record content.
		r.settings.Logger.Warn("Pipeline rejected audit events permanently", zap.Int("records", len(events)))
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal error: the pipeline rejected the events; do not retry unchanged"})
	default:
		r.settings.Logger.Warn("Pipeline refused audit events; client told to retry", zap.Int("records", len(events)))
		w.Header().Set("Retry-After", strconv.FormatInt(int64(r.cfg.RetryAfter/time.Second), 10))
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the pipeline is temporarily unable to accept events; retry later"})
	}
}

// decodeRequest decodes every record of a request, stopping at the first bad one.
func decodeRequest(path string, ndjson bool, body []byte) ([]*auditevent.Event, *errorBody) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &errorBody{Error: "the request contains no audit events"}
	}
	var events []*auditevent.Event
	var bad *errorBody
	switch {
	case path != PathEvents:
		events, bad = decodeSingle(path, body)
	case ndjson:
		events, bad = decodeNDJSON(body)
	case bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("[")):
		events, bad = decodeArray(body)
	default:
		ev, err := auditevent.DecodeEnvelope(body)
		if err != nil {
			return nil, recordError(0, 0, err)
		}
		events = []*auditevent.Event{ev}
	}
	if bad == nil && len(events) == 0 {
		bad = &errorBody{Error: "the request contains no audit events"}
	}
	return events, bad
}

func decodeSingle(path string, body []byte) ([]*auditevent.Event, *errorBody) {
	ev, err := auditevent.DecodeEvent(body)
	if err != nil {
		return nil, recordError(0, 0, err)
	}
	allowed := singleEventPaths[path]
	for _, t := range allowed {
		if ev.Type() == t {
			return []*auditevent.Event{ev}, nil
		}
	}
	names := make([]string, len(allowed))
	for i, t := range allowed {
		names[i] = string(t)
	}
	return nil, recordError(0, 0, &auditevent.FieldError{Path: "event_type", Reason: string(ev.Type()) + " does not belong on " + path + " (expected " + strings.Join(names, " or ") + ")"})
}

func decodeArray(body []byte) ([]*auditevent.Event, *errorBody) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening bracket
		return nil, malformed(err)
	}
	var events []*auditevent.Event
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			bad := malformed(err)
			bad.Index = &i
			return nil, bad
		}
		ev, err := auditevent.DecodeEnvelope(raw)
		if err != nil {
			return nil, recordError(i, 0, err)
		}
		events = append(events, ev)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &errorBody{Error: "malformed JSON: unexpected data after the array"}
	}
	return events, nil
}

func decodeNDJSON(body []byte) ([]*auditevent.Event, *errorBody) {
	var events []*auditevent.Event
	for n, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		ev, err := auditevent.DecodeEnvelope(line)
		if err != nil {
			return nil, recordError(len(events), n+1, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

// recordError turns a record's decoding error into the 400 body.
func recordError(index, line int, err error) *errorBody {
	bad := &errorBody{Index: &index, Line: line}
	var fe *auditevent.FieldError
	if errors.As(err, &fe) {
		bad.Field, bad.Reason = fe.Path, fe.Reason
	}
	bad.Error = "record " + strconv.Itoa(index) + ": " + err.Error()
	return bad
}

func malformed(err error) *errorBody {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &errorBody{Error: "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()}
	}
	return &errorBody{Error: "malformed JSON: the body ends early or is not a JSON array"}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body) // only fixed shapes of strings and ints: cannot fail
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
