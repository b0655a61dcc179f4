// Package auditfile is the otelaudit file sink: a collector exporter that
// appends each log record as one JSON line to a private, append-only file.
//
// Line format (version 1), one object per log record, keys in this order and
// omitted when empty: "timestamp" and "observed_timestamp" (RFC 3339 with
// nanoseconds, UTC), "event_name", "severity_text", "severity_number",
// "trace_id", "span_id", "attributes", "resource", "scope" {"name",
// "version"}, and "body" (for an audit event, the event itself as a JSON
// object). Later additions (rotation, compression, a hash chain) only add
// keys; they never change the meaning of these.
package auditfile
