// Package testbin builds the real otelaudit binary for tests that run it as
// a child process, so every such test exercises exactly what users run.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles the otelaudit command found at cmdDir into a fresh
// temporary directory and returns the binary's path and a cleanup function.
func Build(cmdDir string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "otelaudit-test-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	bin = filepath.Join(dir, "otelaudit")
	build := exec.Command("go", "build", "-o", bin, cmdDir)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building otelaudit: %w", err)
	}
	return bin, cleanup, nil
}

// Main is a TestMain body: it builds the binary into *bin, runs the tests
// and exits with their status.
func Main(run func() int, cmdDir string, bin *string) {
	path, cleanup, err := Build(cmdDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = path
	code := run()
	cleanup()
	os.Exit(code)
}
