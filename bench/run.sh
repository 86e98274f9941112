#!/usr/bin/env bash
# Runs the engine's benchmarks (JMH) and numpy's SGEMM in the same environment, then prints the
# Markdown report: GFLOP/s, fraction of the measured FP32 peak, engine/numpy, and the targets.
#
#   bench/run.sh                      # the environment as it is (OPENBLAS_* included)
#   bench/run.sh --native-coretype    # unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides
#   bench/run.sh --quick              # one short iteration each: checks the plumbing, not the speed
#   bench/run.sh --filter 'Sgemm|Peak' # only the JMH benchmarks matching a regular expression
#   bench/run.sh --wait-idle 600      # first wait up to 600 s for the machine to go quiet
#
# Results go to bench/results/<time>-<mode>/ (JMH JSON and logs, numpy.json, report.md).
# The whole run takes about 10 minutes on a 2-core machine; anything else running on the
# machine at the same time lowers the numbers (the load averages are printed in the report).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
native=0
quick=0
wait_idle=0
# empty: the kernel benchmarks (the model benchmarks and the fused ops have their own drivers, models.sh and fused.sh)
user_filter=''
while [[ $# -gt 0 ]]; do
  case "$1" in
    --native-coretype) native=1 ;;
    --quick) quick=1 ;;
    --filter) user_filter="$2"; shift ;;
    --wait-idle) wait_idle="$2"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
python="${PYTHON:-python3}"
. "$root/scripts/java25.sh"
flags=("${advinterp_jvm_flags[@]}")
jar="$here/target/benchmarks.jar"

mode=env
if [[ $native == 1 ]]; then
  echo "run.sh: --native-coretype: unsetting OPENBLAS_CORETYPE (was '${OPENBLAS_CORETYPE:-unset}') and" \
       "OPENBLAS_L2_SIZE (was '${OPENBLAS_L2_SIZE:-unset}') for the engine and numpy; OpenBLAS picks its own kernels"
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
  mode=native
else
  echo "run.sh: environment as it is: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
fi

# Build when the jar is missing or older than any source of the engine or the benchmarks.
if [[ ! -f "$jar" ]] || [[ -n "$(find "$root/engine/src/main" "$here/src/main" "$here/pom.xml" "$root/engine/pom.xml" \
      -newer "$jar" -type f -print -quit)" ]]; then
  echo "run.sh: building $jar"
  if ! (cd "$root" && mvn -B -o -q -pl bench -am package -Dmaven.test.skip=true); then
    echo "run.sh: the build failed; fix it or build bench/target/benchmarks.jar by hand" >&2
    exit 1
  fi
fi

# One run of this script at a time on the machine: two would measure each other.
exec 9>"${TMPDIR:-/tmp}/advinterp-bench.lock"
if ! flock -n 9; then
  echo "run.sh: another run.sh holds ${TMPDIR:-/tmp}/advinterp-bench.lock; waiting for it"
  flock 9
fi

# Other processes on the machine lower every number; wait (bounded) for the load to drop.
if [[ $wait_idle -gt 0 ]]; then
  deadline=$(( $(date +%s) + wait_idle ))
  while awk '{exit !($1 >= 0.5)}' /proc/loadavg && [[ $(date +%s) -lt $deadline ]]; do sleep 10; done
  echo "run.sh: load average now $(cut -d' ' -f1-3 /proc/loadavg)"
fi

out="$here/results/$(date +%Y%m%d-%H%M%S)-$mode"
mkdir -p "$out"
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
started=$(date +%s)

np_args=()
jmh_args=()
if [[ $quick == 1 ]]; then
  np_args=(--warmup 1 --iterations 2 --time 0.3)
  jmh_args=(-wi 1 -w 300ms -i 1 -r 500ms)
fi

run_jmh() { # run_jmh NAME REGEX: JMH into $out/NAME.json
  local name="$1" regex="$2"
  echo "run.sh: JMH $regex → $out/$name.json (full log: $out/$name.log)"
  # JMH allows one instance per machine (/tmp/jmh.lock); another benchmark's JMH is waited for, not broken.
  for attempt in $(seq 1 120); do
    "$java" "${flags[@]}" -jar "$jar" -rf json -rff "$out/$name.json" "${jmh_args[@]}" "$regex" 2>&1 \
      | tee "$out/$name.log" | grep --line-buffered -E '^# (Run progress|Benchmark:|Parameters)|^Result|Exception|Error' \
      | grep -v 'Unable to acquire the JMH lock' || true
    grep -q 'Unable to acquire the JMH lock' "$out/$name.log" || break
    [[ $attempt == 1 ]] && echo "run.sh: another JMH run holds /tmp/jmh.lock; retrying every 30 s"
    sleep 30
  done
  if [[ ! -s "$out/$name.json" ]]; then
    echo "run.sh: JMH wrote no results; see $out/$name.log" >&2
    exit 1
  fi
  jmh_files+=(--jmh "$out/$name.json")
}

run_numpy() {
  echo "run.sh: numpy float32 matmul (2 threads) → $out/numpy.json"
  "$python" "$here/numpy_sgemm.py" --threads 2 --json "$out/numpy.json" "${np_args[@]}"
}

# numpy runs right after the engine's SGEMM, so that the two see about the same machine.
jmh_files=()
if [[ -n "$user_filter" ]]; then
  run_jmh jmh "$user_filter"
  run_numpy
else
  run_jmh jmh-sgemm 'dev\.advinterp\.bench\.(PeakFlops|SgemmBenchmark)\.'
  run_numpy
  # the peak again at the end (JMH runs it after the convolutions): the best of both is the limit
  run_jmh jmh-conv 'dev\.advinterp\.bench\.(ConvBenchmark|PeakFlops)\.'
fi

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
elapsed=$(( $(date +%s) - started ))
notes=(--note "run $(date -u +%Y-%m-%dT%H:%MZ), $((elapsed / 60)) min $((elapsed % 60)) s; load average before ${load_before}, after ${load_after}")
if [[ $native == 1 ]]; then
  notes+=(--note "--native-coretype: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were unset for the engine and numpy")
fi
if [[ $quick == 1 ]]; then
  notes+=(--note "--quick: one short iteration per benchmark; not a measurement to quote")
fi

"$java" "${flags[@]}" -cp "$jar" dev.advinterp.bench.Report "${jmh_files[@]}" --numpy "$out/numpy.json" "${notes[@]}" \
  2> >(grep -v '^WARNING' >&2) | tee "$out/report.md"
echo
echo "run.sh: report saved to $out/report.md"
