#!/usr/bin/env bash
# bench/run.sh <build dir> [sluice-bench options...]
#
# Runs every workload against Sluice (A = <build dir>/sluice-server, or $SLUICE_SERVER)
# and nats-server (B = $NATS_SERVER or nats-server on PATH), 5 rounds each, and writes
# BENCHMARKS.md at the repo root plus raw per-round numbers in bench/results/.
# With extra options (e.g. --only pubsub16 --rounds 3) the summary goes to stdout
# instead and BENCHMARKS.md is left alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
case "$build" in /*) ;; *) build="$root/$build" ;; esac

bench="$build/bench/sluice-bench"
if [ ! -x "$bench" ]; then
  cmake --build "$build" --target sluice-bench
fi
a_server=${SLUICE_SERVER:-$build/sluice-server}
b_server=${NATS_SERVER:-nats-server}
if [ ! -x "$a_server" ]; then
  echo "bench/run.sh: $a_server is missing; build it first (or set SLUICE_SERVER)" >&2
  exit 1
fi
command -v "$b_server" >/dev/null || { echo "bench/run.sh: $b_server not found" >&2; exit 1; }

if [ -n "${MAKELEVEL:-}" ]; then
  what="make bench"
else
  what="bench/run.sh ${build#$root/}${*:+ $*}"
fi

args=(--a-server "$a_server" --b-server "$b_server" --results-dir bench/results --command "$what")
if [ $# -eq 0 ]; then
  args+=(--md "$root/BENCHMARKS.md")
fi
cd "$root"
"$bench" "${args[@]}" "$@"

# The log store's own benchmark (no nats-server counterpart: the physical
# limits of the disk, measured in the same run, are its reference).
if [ $# -eq 0 ]; then
  store_bench="$build/bench/store/store_bench"
  [ -x "$store_bench" ] || cmake --build "$build" --target store_bench
  tmp=$(mktemp -d "$build/store-bench.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  {
    echo
    echo "## Log store (\`src/store\`)"
    echo
    echo "Command: \`$store_bench --dir <temp dir>\` (run by \`make bench\` after the table above). Raw disk figures"
    echo "are measured in the same run; 'sync always' appends are acknowledged only after the fsync covering them."
    echo
    "$store_bench" --dir "$tmp"
  } >> "$root/BENCHMARKS.md"
fi
