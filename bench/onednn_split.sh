#!/usr/bin/env bash
# Where one model step's time goes on each side, oneDNN primitive by primitive: the engine
# (ModelProfile, its own kernels timed by its profiler) and PyTorch (bench/onednn_split.py) run the
# same step with ONEDNN_VERBOSE=1, and the primitive executions are summed per kind and pass.
# Both sides call oneDNN for their convolutions, so the table separates what the library costs
# each side from what the rest of the step (each side's own kernels) costs.
#
#   bench/onednn_split.sh resnet18-32-b64 consistent     # forward | train | consistent
#   bench/onednn_split.sh resnet18-224-b8 train 3        # steps measured (default 2), after 4 warm-up steps (PyTorch: 2)
#
# Results go to bench/results/<time>-onednn-split/ (ours.log, torch.log, report.md).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
native=0
if [[ $# -lt 2 || "$1" == -h || "$1" == --help ]]; then sed -n '2,11p' "$0"; exit 2; fi
workload="$1" step="$2" steps="${3:-2}"

tool=onednn_split.sh
. "$here/common.sh"

out="$here/results/$(date +%Y%m%d-%H%M%S)-onednn-split"
mkdir -p "$out"
echo "$tool: $workload $step, $steps steps: ours"
ONEDNN_VERBOSE=1 "$java" "${flags[@]}" -Dadvinterp.profile=true -cp "$jar" dev.advinterp.bench.ModelProfile \
  "$workload" "$step" "$steps" > "$out/ours.log" 2>&1
echo "$tool: $workload $step, $steps steps: PyTorch"
"$python" "$here/onednn_split.py" run "$workload" "$step" "$steps" > "$out/torch.log" 2>&1
"$python" "$here/onednn_split.py" report "$out/ours.log" "$out/torch.log" "$steps" \
  --title "$workload $step, $(openblas_env), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/report.md"
