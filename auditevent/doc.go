// Package auditevent is the audit event model of the mini-chat contract: typed events, strict JSON
// decoding with field-path errors, byte-exact encoding, and the event <-> OTLP log record mapping.
package auditevent
