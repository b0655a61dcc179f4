// Package e2e holds otelaudit's end-to-end tests: they build the real
// binary and run it as a child process against real listeners on 127.0.0.1.
package e2e
