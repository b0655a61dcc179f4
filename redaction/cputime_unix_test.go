//go:build unix

package redaction

import "syscall"

// cpuSeconds is the CPU time this process has used, so the benchmark can
// report throughput per core even on a machine shared with other work.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
