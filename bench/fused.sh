#!/usr/bin/env bash
# The fused ops and elementwise kernels of the CPU backend as a fraction of a copy's bandwidth
# (JMH: FusedOpsBenchmark) beside PyTorch eager float32 doing the same formulas (bench/torch_fused.py),
# then the Markdown table with both sides' fractions, their speed ratio and the issue's targets.
#
#   bench/fused.sh                      # the environment as it is (OPENBLAS_* included)
#   bench/fused.sh --native-coretype    # unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides
#   bench/fused.sh --quick              # 3 × 0.5 s warm-up, 1 × 0.5 s measured: the plumbing, not the speed
#   bench/fused.sh --workloads fgsm,sgd # a subset of copy,fgsm,sgd,fm,ce,add,relu (copy always runs)
#   bench/fused.sh --threads 2          # engine and PyTorch threads (default 2)
#   bench/fused.sh --warmup 3 --iterations 5 --time 1   # both sides' counts (default: these)
#
# These ops do not call OpenBLAS; --native-coretype is kept so that the environment is handled as
# in models.sh. Each group runs on our side and then at once on PyTorch's, so that both see about
# the same load; the load averages go into the report. MAVEN_REPO_LOCAL, when set, is passed to
# the build as -Dmaven.repo.local. Results go to bench/results/<time>-fused/ (jmh-*.json, jmh-*.log,
# torch-*.json, torch-*.log, report.md). About 6 minutes on an idle 2-core machine, 2 with --quick.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
native=0
quick=0
only=""
threads=2
warmup="" iterations="" seconds=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --native-coretype) native=1 ;;
    --quick) quick=1 ;;
    --workloads) only=",$2,"; shift ;;
    --threads) threads="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --iterations) iterations="$2"; shift ;;
    --time) seconds="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "fused.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# group name, JMH methods (a regex alternative), torch_fused.py workloads
groups=(
  "copy|copy|copyParallel|copy"
  "fgsm|fgsmStep|fgsm"
  "sgd|sgdResNet18|sgdFlat|sgd-resnet18,sgd-flat"
  "fm|featureMatching|fm-64x512,fm-64x512x7x7"
  "ce|softmaxCrossEntropy|ce-64x1000,ce-256x1000"
  "add|addFresh|addInto|add-fresh,add-into"
  "relu|reluFresh|reluInto|relu-fresh,relu-into"
)

if [[ -n "$only" ]]; then
  known=",$(printf '%s\n' "${groups[@]}" | cut -d'|' -f1 | paste -sd,),"
  for w in ${only//,/ }; do
    [[ "$known" == *",$w,"* ]] || { echo "fused.sh: unknown workload group '$w'; known: ${known:1:-1}" >&2; exit 2; }
  done
fi

tool=fused.sh
. "$here/common.sh"

out="$here/results/$(date +%Y%m%d-%H%M%S)-fused"
mkdir -p "$out"
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
echo "fused.sh: $cpu; load average ${load_before}; engine and PyTorch on $threads threads"
started=$(date +%s)

# The counts: the benchmark's own (3 × 1 s warm-up, 5 × 1 s measurement) unless given; --quick
# shortens them, and an explicit count still wins over it. The first call of a Vector API kernel
# runs for a second or two before C2 compiles it, so even --quick keeps three warm-up iterations.
if [[ $quick == 1 ]]; then
  warmup="${warmup:-3}" iterations="${iterations:-1}" seconds="${seconds:-0.5}"
fi
jmh_args=(-jvmArgsPrepend "-Dadvinterp.threads=$threads")
torch_args=(--threads "$threads")
if [[ -n "$warmup" ]]; then jmh_args+=(-wi "$warmup"); torch_args+=(--warmup "$warmup"); fi
if [[ -n "$iterations" ]]; then jmh_args+=(-i "$iterations"); torch_args+=(--iterations "$iterations"); fi
if [[ -n "$seconds" ]]; then
  ms="$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000 }')"
  jmh_args+=(-w "${ms}ms" -r "${ms}ms")
  torch_args+=(--time "$seconds")
fi

# run_group NAME METHODS TORCH_WORKLOADS
run_group() {
  local name="$1" methods="$2" workloads="$3"
  echo "fused.sh: $name: ours (FusedOpsBenchmark.{${methods//|/,}})"
  # JMH refuses to start while another JMH run holds its lock; two runs at once would measure
  # each other, so wait for the other one to end rather than override the lock.
  local waited=0
  while :; do
    "$java" "${flags[@]}" -jar "$jar" "dev\.advinterp\.bench\.FusedOpsBenchmark\.($methods)\$" -rf json -rff "$out/jmh-$name.json" \
      "${jmh_args[@]}" 2>&1 | tee "$out/jmh-$name.log" \
      | grep --line-buffered -E "^# (Run progress|Benchmark:)|^FusedOpsBenchmark\.|Exception|ERROR" | grep -v 'JMH lock' || true
    grep -q 'Unable to acquire the JMH lock' "$out/jmh-$name.log" || break
    if (( waited >= 3600 )); then
      echo "fused.sh: another JMH run has held the lock for an hour; giving up" >&2
      exit 1
    fi
    (( waited == 0 )) && echo "fused.sh: another JMH run is in progress; waiting for it to end"
    sleep 20
    waited=$((waited + 20))
  done
  if [[ ! -s "$out/jmh-$name.json" ]]; then
    echo "fused.sh: JMH wrote no results for $name; see $out/jmh-$name.log" >&2
    exit 1
  fi
  echo "fused.sh: $name: PyTorch ($workloads)"
  # The script writes its results to the JSON file and its progress to stderr.
  "$python" "$here/torch_fused.py" --workloads "$workloads" --json "$out/torch-$name.json" "${torch_args[@]}" \
    2>&1 | tee "$out/torch-$name.log"
}

for g in "${groups[@]}"; do
  name="${g%%|*}" rest="${g#*|}"
  methods="${rest%|*}" workloads="${rest##*|}"
  # The copy is every fraction's denominator: it always runs.
  if [[ "$name" == copy || -z "$only" || "$only" == *",$name,"* ]]; then
    run_group "$name" "$methods" "$workloads"
  fi
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
elapsed=$(( $(date +%s) - started ))
jvm="$("$java" -version 2>&1 | grep -m1 -E 'Runtime|VM' | sed 's/^ *//')"
notes=(--note "run $(date -u +%Y-%m-%dT%H:%MZ), $((elapsed / 60)) min $((elapsed % 60)) s; load average before ${load_before}, after ${load_after}")
if [[ $native == 1 ]]; then
  notes+=(--note "--native-coretype: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were unset for the engine and PyTorch")
fi
if [[ $quick == 1 ]]; then
  notes+=(--note "--quick: one short measured iteration per benchmark; not a measurement to quote")
fi
counts="warm-up ${warmup:-3} × ${seconds:-1} s, measurement ${iterations:-5} × ${seconds:-1} s, each side"
notes+=(--note "$counts")

shopt -s nullglob
report_args=()
for f in "$out"/jmh-*.json; do report_args+=(--jmh "$f"); done
for f in "$out"/torch-*.json; do report_args+=(--torch "$f"); done
"$python" "$here/fused_report.py" "${report_args[@]}" "${notes[@]}" \
  --machine "CPU=$cpu" --machine "JVM=$jvm; engine threads $threads (advinterp.threads)" \
  --machine "OpenBLAS environment=$(openblas_env) (not called by these ops)" \
  | tee "$out/report.md"
echo
echo "fused.sh: report saved to $out/report.md"
