//go:build !unix

package redaction

func cpuSeconds() float64 { return 0 }
