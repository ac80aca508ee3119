#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a fuzz build, each for a bounded time on a copy of its
# seed corpus (the committed corpus is never written to), and prints per harness the
# executions, coverage and crashes. Exits 1 if any harness found a crash, leak or timeout;
# the reproducers are kept under the output directory it prints.
#
# usage: tests/fuzz/run.sh [-t SECONDS] [-b BUILD_DIR] [-o OUT_DIR] [HARNESS...]
#                          [-- LIBFUZZER_ARGS...]
#   -t SECONDS   per harness (default 20)
#   -b DIR       the fuzz build (default: build-fuzz in the source tree; configure it with
#                CC=clang-19 cmake -B build-fuzz -DNNC_FUZZ=ON)
#   -o DIR       where corpora, logs and crash reproducers go (default: a new temp dir)
#   HARNESS      frontend, csv, idx, npy, checkpoint (default: all of them, one after another)
# Anything after -- goes to every harness (e.g. -- -fork=2 -ignore_crashes=1 for long runs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=20
build=$root/build-fuzz
out=""
harnesses=()
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) secs=$2; shift 2 ;;
    -b) build=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(frontend csv idx npy checkpoint)
bin=$build/tests/fuzz
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/nnc-fuzz.XXXXXX")
mkdir -p "$out"

# The front end also starts from every model file of the lit suite (read only).
seed_dirs() {
  if [ "$1" = frontend ]; then
    for d in lang sema graph interp codegen; do echo "$root/tests/$d"; done
    echo "$root/examples"
  fi
}

status=0
for h in "${harnesses[@]}"; do
  exe=$bin/fuzz_$h
  if [ ! -x "$exe" ]; then
    echo "run.sh: no harness $exe (build the fuzz build first)" >&2
    exit 2
  fi
  work=$out/$h
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$here/corpus/$h/"* "$work/corpus/"
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")
  [ -f "$here/$h.dict" ] && args+=(-dict="$here/$h.dict")
  mapfile -t seeds < <(seed_dirs "$h")
  rc=0
  start=$(date +%s)
  "$exe" "${args[@]}" ${extra[@]+"${extra[@]}"} "$work/corpus" ${seeds[@]+"${seeds[@]}"} \
    > "$work/log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  cov=$( (grep -o 'cov: [0-9]*' "$work/log" || true) | tail -1 | cut -d' ' -f2)
  ft=$( (grep -o 'ft: [0-9]*' "$work/log" || true) | tail -1 | cut -d' ' -f2)
  ncorpus=$(find "$work/corpus" -type f | wc -l)
  crashes=$(find "$work/artifacts" -type f | wc -l)
  [ "$rc" -eq 0 ] || [ "$crashes" -gt 0 ] || crashes=1 # died without leaving an input
  echo "fuzz $h: ${took}s, ${execs:-0} execs (${rate:-0}/s), cov ${cov:-0}, ft ${ft:-0}," \
       "corpus $ncorpus, crashes $crashes"
  if [ "$crashes" -gt 0 ]; then
    status=1
    find "$work/artifacts" -type f | sed 's/^/  reproducer: /'
    grep -E -m1 -A12 'ERROR: |runtime error:|fuzz: |deadly signal' "$work/log" | sed 's/^/  | /' || true
    echo "  log: $work/log"
  fi
done
echo "fuzz output: $out"
exit $status
