#!/usr/bin/env bash
# instructions.sh: instructions per operation of Go benchmarks, counted by
# valgrind's callgrind. Wall time on a shared machine moves with everyone
# else's load; the number of instructions an operation executes does not.
#
# Usage (from any folder):
#
#   benchmarks/instructions.sh PKG REGEX...
#   N1=20000 N2=40000 benchmarks/instructions.sh ./benchmarks 'BenchmarkEvent$/floor$' 'BenchmarkEvent$/pipelog$'
#
# PKG is a Go package (a folder such as ./benchmarks, or an import path),
# built once into a test binary. Each REGEX is a -test.bench pattern that
# must select exactly one benchmark: anchor every level with $
# ('BenchmarkEvent$/floor$'; 'BenchmarkEvent/floor' would also select
# BenchmarkEventParallel/floor), with ^ too where one name ends another
# ('BenchmarkEvent$/^zap$', since 'zap$' also matches zap+ecszap), and
# escape + as \+. The script fails when a pattern selects none or several.
#
# For each REGEX the binary runs twice under callgrind, with -test.benchtime
# N1x and N2x (defaults 20000 and 40000), and the script prints one Markdown
# table row:
#
#   | benchmark | instructions/op | Ir at N1 | Ir at N2 |
#
# where instructions/op = (Ir(N2) - Ir(N1)) / (N2 - N1): start-up, the
# benchmark's set-up and the one-iteration run the testing package always
# makes first are the same in both runs and cancel out.
#
# Environment of every run:
#
#   GOMAXPROCS=1          valgrind runs one thread at a time. With more Ps,
#                         the idle ones spin looking for work while the
#                         benchmark's goroutine runs, and every instruction
#                         they spin is counted: an amount proportional to wall
#                         time (which valgrind stretches 20-50x), not to the
#                         operations, that makes the figures drift from run
#                         to run. With one P nothing spins.
#   GODEBUG=asyncpreemptoff=1
#                         no preemption signals from sysmon every 10 ms of
#                         wall time: their handling is also wall-time work.
#   GODEBUG_EXTRA         more GODEBUG settings, appended. For benchmarks
#                         that allocate, GODEBUG_EXTRA=gcstoptheworld=1 makes
#                         the figures repeatable: the concurrent collector
#                         paces part of its work by wall time (its
#                         fractional mark worker, assists, how long write
#                         barriers stay on), so such benchmarks vary by up to 25%
#                         from run to run without it (BenchmarkEvent/zap:
#                         16.5k-20.5k in six runs), and by 0.3% with it. The stop-the-world
#                         figure counts the marking but not the write
#                         barriers and assists a concurrent cycle adds: a
#                         lower bound of the collector's share. Benchmarks that
#                         do not allocate are the same either way.
#
# Without allocation the remaining noise is a few hundred thousand
# instructions a run (the runtime's own timers and start-up), i.e. about
# +-15 instructions/op at the default counts: raise N1 and N2 for cheap
# operations (BenchmarkDisabled: N1=200000 N2=400000).
#
# What is counted is everything the process executes per operation: the
# benchmark's own code and, for peers that allocate, the garbage
# collector's share. Instruction counts are not time: they do not see cache
# misses, branch mispredictions or lock contention, and an instruction can
# cost anything from a fraction of a cycle to hundreds. Read them next to
# ns/op, not instead of it.
#
# Requires valgrind (3.19 here) and go on PATH.
set -euo pipefail

if [ $# -lt 2 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
fi
N1=${N1:-20000}
N2=${N2:-40000}
if ! [ "$N1" -gt 0 ] 2>/dev/null || ! [ "$N2" -gt "$N1" ] 2>/dev/null; then
	echo "instructions.sh: need 0 < N1 < N2 (N1=$N1 N2=$N2)" >&2
	exit 2
fi
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found" >&2; exit 1; }

pkg=$1
shift
dir=$(go list -f '{{.Dir}}' "$pkg")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bench.test
go test -c -o "$bin" "$pkg"

# count REGEX N: prints "NAME IR" for the one benchmark REGEX selects.
count() {
	local out=$tmp/out.txt
	(cd "$dir" && GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1${GODEBUG_EXTRA:+,$GODEBUG_EXTRA} valgrind --tool=callgrind \
		--callgrind-out-file=/dev/null "$bin" -test.run '^$' -test.bench "$1" -test.benchtime "$2x") >"$out" 2>&1 || {
		cat "$out" >&2
		echo "instructions.sh: the run of '$1' at $2x failed" >&2
		return 1
	}
	local names ir
	names=$(awk '/^Benchmark/ && / ns\/op/ {print $1}' "$out")
	if [ "$(printf '%s\n' "$names" | grep -c .)" -ne 1 ]; then
		echo "instructions.sh: '$1' must select exactly one benchmark; it ran: ${names:-none}" >&2
		return 1
	fi
	ir=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$out")
	if [ -z "$ir" ]; then
		cat "$out" >&2
		echo "instructions.sh: no instruction count in callgrind's output" >&2
		return 1
	fi
	echo "$names $ir"
}

echo "| benchmark | instructions/op | Ir at ${N1}x | Ir at ${N2}x |"
echo "|---|---|---|---|"
for re in "$@"; do
	r1=$(count "$re" "$N1")
	r2=$(count "$re" "$N2")
	read -r name1 ir1 <<<"$r1"
	read -r name2 ir2 <<<"$r2"
	if [ "$name1" != "$name2" ]; then
		echo "instructions.sh: '$re' ran $name1 then $name2" >&2
		exit 1
	fi
	awk -v n="$name1" -v a="$ir1" -v b="$ir2" -v n1="$N1" -v n2="$N2" \
		'BEGIN { printf "| %s | %.0f | %.0f | %.0f |\n", n, (b - a) / (n2 - n1), a, b }'
done
