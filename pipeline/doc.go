// Package pipeline assembles the otelaudit collector distribution: the
// component factories, the build info and the embedded default config.
package pipeline
