#!/usr/bin/env bash
# rounds.sh: ns/op, B/op and allocs/op of Go benchmarks measured in
# interleaved rounds, with each one's ratio to baselines of the same round.
#
# Usage (from any folder):
#
#   benchmarks/rounds.sh PKG REGEX ROUNDS [BASE...]
#   benchmarks/rounds.sh ./benchmarks 'BenchmarkEvent$|BenchmarkDisabled$' 7 floor zerolog
#
# PKG is built once into a test binary. Each of the ROUNDS rounds runs every
# benchmark REGEX selects once, back to back (-test.count 1, -test.benchtime
# $BENCHTIME, default 1s), so the benchmarks of one round see about the same
# load from the rest of the machine; running one benchmark ROUNDS times and
# then the next (-test.count) does not. `uptime` is recorded before every
# round and after the last.
#
# Each BASE names a baseline by its last path element: for
# BenchmarkEvent/pipelog and BASE floor, the baseline is BenchmarkEvent/floor
# of the same round. The ratio column gives the median and the range over
# the rounds of (benchmark's ns/op / baseline's ns/op), round by round; "–"
# where the group has no such baseline. B/op and allocs/op are the largest
# of any round.
#
# Prints the load lines and a Markdown table; the raw output of every round
# is kept in $OUT (default: a file in /tmp, named at the end). ROUNDS 0
# runs nothing and summarises an existing $OUT again, with other BASEs:
#
#   OUT=/tmp/rounds.txt benchmarks/rounds.sh . - 0 zerolog pipelog-build-only
#
# METRIC (default ns/op) names the unit the medians and ratios are of, for
# a benchmark that reports one of its own (b.ReportMetric), such as
# METRIC=cpu-ns/op for sink/kafka's BenchmarkProduce.
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
fi
pkg=$1 re=$2 rounds=$3
shift 3
BENCHTIME=${BENCHTIME:-1s}
[ "$rounds" -eq 0 ] || OUT=${OUT:-$(mktemp /tmp/rounds.XXXXXX.txt)}
OUT=${OUT:-}

if [ "$rounds" -eq 0 ]; then
	# Summarise an earlier $OUT again (other baselines, say); REGEX is not used.
	[ -s "$OUT" ] || { echo "rounds.sh: ROUNDS 0 needs OUT=an earlier output file" >&2; exit 2; }
	grep '^# ' "$OUT"
else
	dir=$(go list -f '{{.Dir}}' "$pkg")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	bin=$tmp/bench.test
	go test -c -o "$bin" "$pkg"

	: >"$OUT"
	for i in $(seq 1 "$rounds"); do
		echo "# round $i: $(uptime)" | tee -a "$OUT"
		(cd "$dir" && "$bin" -test.run '^$' -test.bench "$re" -test.benchmem -test.count 1 \
			-test.benchtime "$BENCHTIME") >>"$OUT"
	done
	echo "# end: $(uptime)" | tee -a "$OUT"
fi
echo

awk -v bases="$*" -v metric="${METRIC:-ns/op}" '
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
function median(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function num(x) { return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x) }
/^# round / { r = $3 + 0; if (r > nr) nr = r; next }
/^Benchmark/ && $4 == "ns/op" {
	# Columns by unit: a benchmark may report metrics of its own.
	val = ""; bv = ""; av = ""
	for (j = 4; j <= NF; j++) { if ($j == metric) val = $(j - 1); if ($j == "B/op") bv = $(j - 1); if ($j == "allocs/op") av = $(j - 1) }
	if (val == "") next
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; names[++nn] = name; bytes[name] = bv; allocs[name] = av }
	ns[name, r] = val
	if (bv + 0 > bytes[name] + 0) bytes[name] = bv
	if (av + 0 > allocs[name] + 0) allocs[name] = av
}
END {
	nb = split(bases, base, " ")
	printf "| benchmark | median %s | min–max | B/op | allocs/op |", metric
	for (b = 1; b <= nb; b++) printf " ratio to %s: median (min–max) |", base[b]
	printf "\n|---|---|---|---|---|"
	for (b = 1; b <= nb; b++) printf "---|"
	printf "\n"
	for (k = 1; k <= nn; k++) {
		name = names[k]; n = 0
		for (i = 1; i <= nr; i++) if ((name, i) in ns) v[++n] = ns[name, i]
		if (n == 0) continue
		m = median(v, n)
		printf "| %s | %s | %s–%s | %s | %s |", name, num(m), num(v[1]), num(v[n]), bytes[name], allocs[name]
		parent = name; sub(/\/[^\/]*$/, "", parent)
		for (b = 1; b <= nb; b++) {
			ref = parent "/" base[b]; n = 0
			for (i = 1; i <= nr; i++) if ((name, i) in ns && (ref, i) in ns) q[++n] = ns[name, i] / ns[ref, i]
			if (n == 0) { printf " – |"; continue }
			qm = median(q, n)
			printf " %.2f× (%.2f–%.2f) |", qm, q[1], q[n]
		}
		printf "\n"
	}
}' "$OUT"
echo
echo "raw output: $OUT"
