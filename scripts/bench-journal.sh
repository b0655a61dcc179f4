#!/usr/bin/env bash
# Measures what the journal costs: records/s and otelaudit's CPU per record from the native
# receiver to the file sink, with the JetStream journal in between (journal) and without it
# (direct), one event per request and NDJSON batches of 50, then prints journal/direct ratios.
# Usage: scripts/bench-journal.sh [records per run, default 20000] [runs, default 3]
# The raw `go test -bench` output is kept in $BENCH_OUT (default: a temp file) for benchstat.
set -euo pipefail
cd "$(dirname "$0")/.."

records=${1:-20000}
runs=${2:-3}
out=${BENCH_OUT:-$(mktemp -t otelaudit-bench.XXXXXX)}

# One `go test` per run rather than -count: -count would do every journal run before every direct
# run, and on a shared machine the load drifts in between; interleaving spreads the drift evenly.
: >"$out"
for ((run = 1; run <= runs; run++)); do
	go test -run '^$' -bench '^BenchmarkPipeline' -benchtime="${records}x" -count=1 -timeout 30m ./e2e/ | tee -a "$out"
done

awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)           # drop the GOMAXPROCS suffix
	split(name, part, "/"); group = part[1]; variant = part[2]
	if (!(group in seen)) { seen[group] = 1; order[++ngroups] = group }
	for (i = 3; i < NF; i += 2) {
		key = group SUBSEP variant SUBSEP $(i + 1)
		val[key, ++n[key]] = $i
	}
}
# The median, not the mean: on a shared machine one run caught in a load spike says little.
function median(g, v, u,   k, m, i, j, x, a) {
	k = g SUBSEP v SUBSEP u; m = n[k]
	if (!m) return 0
	for (i = 1; i <= m; i++) {
		x = val[k, i]
		for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
		a[j + 1] = x
	}
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "\n%-26s %12s %12s %8s  %s\n", "benchmark (median of runs)", "journal", "direct", "ratio", "metric"
	for (gi = 1; gi <= ngroups; gi++) {
		g = order[gi]
		split("records/s cpu-µs/record", units, " ")
		for (u = 1; u <= 2; u++) {
			j = median(g, "journal", units[u]); d = median(g, "direct", units[u])
			printf "%-26s %12.1f %12.1f %8s  %s\n", g, j, d, d ? sprintf("%.2f", j / d) : "n/a", units[u]
		}
	}
	print "ratio = journal / direct: below 1 for records/s and above 1 for cpu-µs/record is the journal'"'"'s cost."
}' "$out"
echo "raw output: $out"
