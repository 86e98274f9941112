#!/usr/bin/env bash
# Images/s of whole models, the engine (JMH: ModelBenchmark, ConsistentStepBenchmark) beside
# PyTorch eager float32 (bench/torch_models.py), then the Markdown table with ratios and targets.
#
#   bench/models.sh                      # the environment as it is (OPENBLAS_* included)
#   bench/models.sh --native-coretype    # unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides
#   bench/models.sh --quick              # one short iteration each: checks the plumbing, not the speed
#   bench/models.sh --workloads resnet18-32-b64,vgg16-224-b8   # a subset
#   bench/models.sh --rounds 3           # each workload 3 times, the sides in alternating order; median ratio
#   bench/models.sh --conv-measure       # the engine with -Dadvinterp.conv.measure=true (each 3x3 pass by
#                                        # the faster of oneDNN and Winograd; 12 JMH warm-up iterations, not 2)
#   bench/models.sh --channels-last on   # the engine with -Dadvinterp.channels.last=on (activations NHWC between
#                                        # the CPU kernels that read it; or inference: in forwards without autograd)
#
# Each workload runs on our side and then at once on PyTorch's, so that both see about the same
# load from whatever else shares the machine; the load averages go into the report. With --rounds N
# the whole list runs N times, PyTorch first in the even rounds, and the report gives each round's
# ratio and their median: on a shared machine two runs minutes apart differ by more than the
# iterations within one.
# Results go to bench/results/<time>-models/ (jmh-*.json, jmh-*.log, torch-*.json, torch-*.log, rss-*.txt, report.md).
# The whole run takes about 15 minutes on an idle 2-core machine, longer on a busy one.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
native=0
quick=0
measure=0
channels_last=""
rounds=1
only=""
model_workloads=(alexnet-224-b8 vgg16-224-b8 resnet18-224-b8 alexnet-64-b64 vgg16-32-b64 resnet18-32-b64)
consistent_workloads=(resnet18-32-b64 resnet18-224-b8)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --native-coretype) native=1 ;;
    --quick) quick=1 ;;
    --conv-measure) measure=1 ;;
    --channels-last)
      channels_last="${2:-}"; shift
      [[ "$channels_last" =~ ^(off|inference|on)$ ]] || { echo "models.sh: --channels-last needs off, inference or on, got '$channels_last'" >&2; exit 2; } ;;
    --workloads) only=",$2,"; shift ;;
    --rounds)
      rounds="${2:-}"; shift
      [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "models.sh: --rounds needs a whole number of at least 1, got '$rounds'" >&2; exit 2; } ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "models.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

tool=models.sh
. "$here/common.sh"

out="$here/results/$(date +%Y%m%d-%H%M%S)-models"
mkdir -p "$out"
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
started=$(date +%s)

jmh_args=()
torch_args=()
if [[ $measure == 1 ]]; then
  # JMH's forks inherit the launcher's JVM flags. The choice is made over the first 12 calls of each
  # pass and shape; VGG-16 at 224 px runs about one step per 2-s iteration and has shapes that occur
  # once a step, so 12 warm-up iterations end every trial before the measurement starts.
  flags+=(-Dadvinterp.conv.measure=true)
  jmh_args=(-wi 12)
fi
if [[ -n $channels_last ]]; then
  flags+=(-Dadvinterp.channels.last="$channels_last")
fi
if [[ $quick == 1 ]]; then
  jmh_args=(-wi 0 -i 1 -r 1s)
  torch_args=(--warmup 0 --iterations 1 --time 1)
fi

wanted() { [[ -z "$only" || "$only" == *",$1,"* ]]; }

# run_ours CLASS WORKLOAD TAG
run_ours() {
  local cls="$1" w="$2" tag="$3"
  echo "models.sh: $w: ours ($cls)$round_label"
  # JMH refuses to start while another JMH run holds its lock; two runs at once would measure
  # each other, so wait for the other one to end rather than override the lock.
  local waited=0
  while :; do
    # GNU time's peak RSS of the JMH process includes its forked benchmark JVM (the largest waited-for descendant)
    /usr/bin/time -f "%M" -o "$out/rss-ours-$tag.txt" \
      "$java" "${flags[@]}" -jar "$jar" "dev\.advinterp\.bench\.$cls\." -p workload="$w" -rf json -rff "$out/jmh-$tag.json" \
      "${jmh_args[@]}" 2>&1 | tee "$out/jmh-$tag.log" \
      | grep --line-buffered -E "^# (Run progress|Benchmark:)|^$cls\\.|Exception|ERROR" | grep -v 'JMH lock' || true
    grep -q 'Unable to acquire the JMH lock' "$out/jmh-$tag.log" || break
    if (( waited >= 3600 )); then
      echo "models.sh: another JMH run has held the lock for an hour; giving up" >&2
      exit 1
    fi
    (( waited == 0 )) && echo "models.sh: another JMH run is in progress; waiting for it to end"
    sleep 20
    waited=$((waited + 20))
  done
  if [[ ! -s "$out/jmh-$tag.json" ]]; then
    echo "models.sh: JMH wrote no results for $tag; see $out/jmh-$tag.log" >&2
    exit 1
  fi
}

# run_torch WORKLOAD TORCH_METHODS TAG
run_torch() {
  local w="$1" methods="$2" tag="$3"
  echo "models.sh: $w: PyTorch$round_label"
  # The script writes its results to the JSON file and its progress to stderr.
  /usr/bin/time -f "%M" -o "$out/rss-torch-$tag.txt" \
    "$python" "$here/torch_models.py" --threads 2 --workloads "$w" --only "$methods" --json "$out/torch-$tag.json" \
    "${torch_args[@]}" 2>&1 | tee "$out/torch-$tag.log" | { grep -vE '^(ATen|\s|OpenMP|MKL|Intel|std::|Environment|$)' || true; }
}

# run_pair CLASS WORKLOAD TORCH_METHODS ROUND: the two sides back to back, PyTorch first in even rounds
run_pair() {
  local cls="$1" w="$2" methods="$3" tag="$1-$2"
  (( rounds > 1 )) && tag="$tag-r$4"
  if (( $4 % 2 == 1 )); then
    run_ours "$cls" "$w" "$tag"; run_torch "$w" "$methods" "$tag"
  else
    run_torch "$w" "$methods" "$tag"; run_ours "$cls" "$w" "$tag"
  fi
}

round_label=""
for ((r = 1; r <= rounds; r++)); do
  (( rounds > 1 )) && round_label=", round $r of $rounds"
  for w in "${model_workloads[@]}"; do
    if wanted "$w"; then run_pair ModelBenchmark "$w" forward,trainStep "$r"; fi
  done
  for w in "${consistent_workloads[@]}"; do
    if wanted "$w"; then run_pair ConsistentStepBenchmark "$w" consistentStep,plainStep "$r"; fi
  done
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
elapsed=$(( $(date +%s) - started ))
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores)"
jvm="$("$java" -version 2>&1 | grep -m1 -E 'Runtime|VM' | sed 's/^ *//')"
notes=(--note "run $(date -u +%Y-%m-%dT%H:%MZ), $((elapsed / 60)) min $((elapsed % 60)) s; load average before ${load_before}, after ${load_after}")
if [[ $native == 1 ]]; then
  notes+=(--note "--native-coretype: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were unset for the engine and PyTorch")
fi
if (( rounds > 1 )); then
  notes+=(--note "--rounds $rounds: each workload $rounds times, PyTorch first in the even rounds; ratios are the median of the rounds'")
fi
if [[ $measure == 1 ]]; then
  notes+=(--note "--conv-measure: the engine ran with -Dadvinterp.conv.measure=true and 12 warm-up iterations (PyTorch as always)")
fi
if [[ -n $channels_last ]]; then
  notes+=(--note "--channels-last $channels_last: the engine ran with -Dadvinterp.channels.last=$channels_last")
fi
if [[ $quick == 1 ]]; then
  notes+=(--note "--quick: one short iteration per benchmark; not a measurement to quote")
fi

shopt -s nullglob
report_args=()
for f in "$out"/jmh-*.json; do report_args+=(--jmh "$f"); done
for f in "$out"/torch-*.json; do report_args+=(--torch "$f"); done
"$python" "$here/models_report.py" "${report_args[@]}" "${notes[@]}" \
  --machine "CPU=$cpu" --machine "JVM=$jvm; engine threads $(nproc)" --machine "OpenBLAS environment=$(openblas_env)" \
  | tee "$out/report.md"

# Whole-process peak memory of each run (the benchmark's steps, warm-up included), both sides.
{
  echo
  echo "### Whole-process peak RSS (MiB; GNU time, each side's whole run of the benchmark class)"
  echo
  echo "| benchmark | workload | engine | PyTorch | engine/PyTorch |"
  echo "|---|---|---:|---:|---:|"
  for f in "$out"/rss-ours-*.txt; do
    tag="${f##*/rss-ours-}"; tag="${tag%.txt}"
    ours=$(tail -1 "$f"); theirs=$(tail -1 "$out/rss-torch-$tag.txt" 2>/dev/null || echo "")
    if [[ "$ours" =~ ^[0-9]+$ && "$theirs" =~ ^[0-9]+$ ]]; then
      printf '| %s | %s | %d | %d | %.2f |\n' "${tag%%-*}" "${tag#*-}" $((ours / 1024)) $((theirs / 1024)) \
        "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print a / b }')"
    fi
  done
} | tee -a "$out/report.md"
echo
echo "models.sh: report saved to $out/report.md"
