// Package loki is the `loki` exporter: it pushes audit log records to Grafana
// Loki's push API, one push per tenant, with few labels and ids as structured metadata.
package loki
