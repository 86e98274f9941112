#!/usr/bin/env bash
# The one GPU check: packed here, run on a GPU machine that has a CUDA driver and Python with
# PyTorch but no Maven and no JDK.
#
#   bench/gpu-check.sh pack             # here: shaded jars, engine test classes, JUnit console
#                                       # launcher and a jlinked Java 25 runtime into bench/gpu-pack/
#   bench/gpu-check.sh remote           # on the GPU machine, from the repository root (bench/gpu-pack/ beside it)
#   bench/gpu-check.sh remote --dry-run # here: the whole flow on the CPU with tiny sizes (plumbing only)
#
# remote prints what it relies on (nvidia-smi, driver, the cuBLAS/cuDNN files of the Python
# site-packages, torch), sets ADVINTERP_CUDA_PATH from them, runs the doctor's CUDA section
# (libraries found, whether the CUDA backend opens), the conformance suite
# (CudaConformanceTest: every Backend primitive on CUDA against the CPU), the engine's op tests with
# -Dadvinterp.device=cuda, the engine benchmark (dev.advinterp.bench.GpuCheck) and PyTorch's
# (bench/torch_gpu.py), and prints the table LAST. Each phase has its own time limit so that the
# whole run ends within 8 minutes and the table always prints. The table and the full log go to
# $OUT/ when OUT is set, and to bench/results/<time>-gpu-check/.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
pack="$here/gpu-pack"
# The JDK modules the check uses. jdeps --print-module-deps on the jars lists more, for code it
# never loads: java.sql and jdk.management (JMH, picocli's optional converters) and java.desktop
# (ImageIO), which alone would add 12 MB to the runtime's 20. Without java.desktop the command line
# cannot start (picocli reflects over commands whose methods name AWT types), so the check runs
# the doctor's CUDA section through GpuCheck --doctor. jdk.zipfs lets the JUnit launcher scan the
# test jar for a package. The dry run runs the whole flow on this runtime.
modules=java.base,java.logging,jdk.incubator.vector,jdk.unsupported,jdk.zipfs
junit_console_version=1.14.1
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)

usage() { sed -n '2,17p' "$0"; }

# ---------------------------------------------------------------------------------------- pack
do_pack() {
  local jdk="${GPU_CHECK_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
  [[ -x "$jdk/bin/jlink" ]] || { echo "gpu-check: no jlink in $jdk (set GPU_CHECK_JDK to a JDK 25)" >&2; exit 1; }
  export JAVA_HOME="$jdk" PATH="$jdk/bin:$PATH"
  echo "gpu-check pack: building the jars (mvn install -DskipTests; the test classes are compiled too)"
  (cd "$root" && mvn -B -o -q install -DskipTests) || { echo "gpu-check pack: the build failed" >&2; exit 1; }
  local console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$junit_console_version/junit-platform-console-standalone-$junit_console_version.jar"
  if [[ ! -f "$console" ]]; then
    echo "gpu-check pack: fetching the JUnit console launcher $junit_console_version"
    (cd "$root" && mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_console_version") \
      || { echo "gpu-check pack: could not fetch the JUnit console launcher" >&2; exit 1; }
  fi
  rm -rf "$pack"
  mkdir -p "$pack"
  cp "$root/bench/target/benchmarks.jar" "$pack/benchmarks.jar"
  cp "$console" "$pack/junit-console.jar"
  "$jdk/bin/jar" --create --file "$pack/engine-tests.jar" -C "$root/engine/target/test-classes" .
  echo "gpu-check pack: jlink $modules"
  local tmp
  tmp="$(mktemp -d)"
  # The image's own compression off (zip-0): gzip of the whole runtime is then smaller than
  # jlink's zip-9 followed by gzip (20 MB against 23.5 MB when measured).
  "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
    --output "$tmp/jre" 2> >(grep -v 'incubator modules' >&2) || { echo "gpu-check pack: jlink failed" >&2; exit 1; }
  tar czf "$pack/jre.tgz" -C "$tmp" jre
  rm -rf "$tmp"
  {
    echo "packed $(date -u +%Y-%m-%dT%H:%MZ) from $(cd "$root" && git describe --always --dirty 2>/dev/null || echo '?')"
    echo "runtime: $("$jdk/bin/java" -version 2>&1 | head -1), modules $modules"
    (cd "$pack" && ls -l --time-style=+ | awk 'NR>1 {printf "%10d  %s\n", $5, $NF}')
  } > "$pack/MANIFEST.txt"
  local pack_bytes tree_bytes
  pack_bytes=$(du -cb "$pack" | tail -1 | cut -f1)
  tree_bytes=$(cd "$root" && { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 du -cb 2>/dev/null \
    | awk '$2 == "total" {s += $1} END {print s + 0}')
  cat "$pack/MANIFEST.txt"
  awk -v p="$pack_bytes" -v t="$tree_bytes" -v dir="$pack" 'BEGIN {
    printf "gpu-check pack: %s = %.1f MiB; with the working tree (%.1f MiB) %.1f MiB of the 64 MiB that travel\n",
      dir, p / 1048576, t / 1048576, (p + t) / 1048576 }'
  if (( pack_bytes + tree_bytes > 64 * 1048576 )); then
    echo "gpu-check pack: over 64 MiB: the GPU machine would not receive it" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------------------------------- remote
log() { echo "gpu-check: $*" >&2; }

# run_phase NAME SECONDS LOG COMMAND...: the command under a time limit, its output also into LOG
# ('-' for none); its exit status and duration are kept in phase_status for the report.
declare -A phase_status
run_phase() {
  local name="$1" limit="$2" logfile="$3"
  shift 3
  local t0=$SECONDS rc
  log "── $name (limit ${limit} s)"
  if [[ "$logfile" == - ]]; then
    timeout --kill-after=10 "$limit" "$@"
    rc=$?
  else
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$logfile"
    rc=${PIPESTATUS[0]}
  fi
  phase_status[$name]="exit $rc after $((SECONDS - t0)) s$( (( rc == 124 || rc == 137 )) && echo ', stopped at its time limit')"
  log "── $name: ${phase_status[$name]}"
  return $rc
}

# The console launcher's summary lines (tests found/successful/skipped/failed/aborted), one line.
junit_summary() {
  grep -E '^\[ *[0-9]+ (tests (successful|failed|skipped|aborted|found)|containers failed) *\]' "$1" \
    | sed -E 's/^\[ *([0-9]+) tests ([a-z]+) *\]/\1 \2/; s/^\[ *([0-9]+) containers failed *\]/\1 classes failed/' \
    | paste -sd, - | sed 's/,/, /g'
}

do_remote() {
  local dry=0
  [[ "${1:-}" == "--dry-run" ]] && dry=1
  local started=$SECONDS
  local stamp
  stamp="$(date -u +%Y%m%d-%H%M%S)"
  # a dry run's results stay in the ignored pack folder: they measure nothing worth keeping
  local res="$root/bench/results/$stamp-gpu-check"
  [[ $dry == 1 ]] && res="$pack/dry-run-$stamp"
  mkdir -p "$res"
  local out="${OUT:-}"
  local logf="$res/gpu-check.log"
  exec > >(tee "$logf") 2>&1
  [[ -f "$pack/MANIFEST.txt" ]] || { log "no $pack/MANIFEST.txt: run 'bench/gpu-check.sh pack' first (on a machine with Maven and a JDK 25)"; exit 1; }
  cat "$pack/MANIFEST.txt"

  log "── what this check relies on"
  local lines=()
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi || true
    local gpu
    gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
    lines+=("GPU (nvidia-smi: name, driver, memory)=${gpu:-nvidia-smi gave no answer}")
  else
    log "nvidia-smi: not found"
    lines+=("GPU=no nvidia-smi on this machine")
  fi
  local driver_lib
  driver_lib="$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 / {print $NF; exit}')"
  log "libcuda.so.1 in the loader cache: ${driver_lib:-none}"
  local py="${PYTHON:-}"
  if [[ -z "$py" ]]; then
    if [[ $dry == 1 ]]; then py=/usr/bin/python3
    elif [[ -x /opt/torch/.venv/bin/python3 ]]; then py=/opt/torch/.venv/bin/python3
    else py="$(command -v python3 || true)"; fi
  fi
  local cuda_dirs=()
  if [[ -n "$py" ]]; then
    local site
    for site in $("$py" -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null); do
      for d in "$site"/nvidia/*/lib; do [[ -d "$d" ]] && cuda_dirs+=("$d"); done
    done
    local tv
    tv="$("$py" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tail -1)"
    log "python $py: torch $tv"
    lines+=("PyTorch ($py)=$tv")
  else
    log "no python3 found: the PyTorch side will be missing"
  fi
  [[ -n "$driver_lib" ]] && cuda_dirs=("$(dirname "$driver_lib")" "${cuda_dirs[@]}")
  if (( ${#cuda_dirs[@]} > 0 )); then
    ADVINTERP_CUDA_PATH="$(IFS=:; echo "${cuda_dirs[*]}")${ADVINTERP_CUDA_PATH:+:$ADVINTERP_CUDA_PATH}"
    export ADVINTERP_CUDA_PATH
    log "ADVINTERP_CUDA_PATH=$ADVINTERP_CUDA_PATH"
    local d
    for d in "${cuda_dirs[@]}"; do ls "$d" 2>/dev/null | grep -E '^lib(cublas|cublasLt|cudnn|nvrtc|cuda)[^/]*\.so' | sed "s|^|  $d/|"; done
  else
    log "no nvidia/*/lib folders in $py's site-packages"
  fi

  log "── unpacking the Java runtime"
  local jre_dir
  jre_dir="$(mktemp -d)"
  tar xzf "$pack/jre.tgz" -C "$jre_dir" || { log "cannot unpack $pack/jre.tgz"; exit 1; }
  local java="$jre_dir/jre/bin/java"
  "$java" -version 2>&1 | head -1
  local jar="$pack/benchmarks.jar"
  local heap=-Xmx16g
  [[ $dry == 1 ]] && heap=-Xmx3g

  local device=cuda
  local gpucheck_args=(--workloads alexnet-224-b64,vgg16-224-b64,resnet18-224-b64 --consistent resnet18-224-b64
                       --warmup 2 --min-iterations 3 --max-iterations 20 --seconds 2 --elements 67108864)
  local torch_args=(--workloads alexnet-224-b64,vgg16-224-b64,resnet18-224-b64 --consistent resnet18-224-b64
                    --warmup 3 --min-iterations 3 --max-iterations 20 --seconds 2 --elements 67108864)
  # the conformance class has run already; the rest of the engine's tests with the default backend on
  # CUDA, less the ones that stand the CPU in for the GPU (the kernels on the host, the stand-in driver),
  # which only spend the GPU machine's time
  local suite=(--select-package dev.advinterp.engine
               --exclude-classname '.*(CudaConformanceTest|OnHostTest|OnFakeDriverTest|DriverOnFakeTest|HostKernelRuntimeTest)')
  if [[ $dry == 1 ]]; then
    device=cpu
    gpucheck_args=(--workloads alexnet-32-b2,resnet18-32-b2 --consistent resnet18-32-b2 --warmup 1 --min-iterations 2
                   --max-iterations 2 --seconds 0 --elements 100003)
    torch_args=("${gpucheck_args[@]}")
    suite=(--select-package dev.advinterp.engine --include-classname '.*(SmokeTest|OpsForwardTest)')
  fi

  run_phase doctor 30 - "$java" "${flags[@]}" "$heap" -cp "$jar" dev.advinterp.bench.GpuCheck --doctor

  local conf_log="$res/conformance.log" suite_log="$res/engine-suite.log"
  # Conformance: CUDA against the CPU, whatever the default device (skipped with the reason without a GPU).
  run_phase conformance 90 "$conf_log" "$java" "${flags[@]}" "$heap" -jar "$pack/junit-console.jar" execute \
    --class-path "$pack/engine-tests.jar:$jar" --select-class dev.advinterp.engine.CudaConformanceTest \
    --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
  # The engine's own op tests with the default backend on CUDA (on the CPU in the dry run).
  run_phase "engine tests (advinterp.device=$device)" 100 "$suite_log" "$java" "${flags[@]}" "$heap" \
    -Dadvinterp.device="$device" -jar "$pack/junit-console.jar" execute --class-path "$pack/engine-tests.jar:$jar" \
    "${suite[@]}" --details=summary --disable-banner --disable-ansi-colors --fail-if-no-tests
  lines+=("conformance (CudaConformanceTest, CUDA against the CPU)=$(junit_summary "$conf_log"); ${phase_status[conformance]}")
  lines+=("engine op tests, default backend $device (-Dadvinterp.device)=$(junit_summary "$suite_log"); ${phase_status["engine tests (advinterp.device=$device)"]}")
  local suite_reason
  suite_reason="$(grep -m1 -oE 'asks for CUDA, but it cannot be used here: .*' "$suite_log" | head -1)"
  [[ -n "$suite_reason" ]] && lines+=("engine op tests stopped because=-Dadvinterp.device=cuda $suite_reason")
  local skipped_reason
  skipped_reason="$(grep -m1 -oE 'CUDA unavailable: .*' "$conf_log" | head -1)"
  [[ -n "$skipped_reason" ]] && lines+=("conformance skipped because=$skipped_reason")

  run_phase "engine benchmark" 140 - "$java" "${flags[@]}" "$heap" -cp "$jar" dev.advinterp.bench.GpuCheck --device "$device" \
    "${gpucheck_args[@]}" --json "$res/ours.json"
  if [[ -n "$py" ]]; then
    export PYTHONUNBUFFERED=1
    run_phase "PyTorch benchmark" 80 - "$py" "$here/torch_gpu.py" --device "$device" "${torch_args[@]}" \
      --json "$res/torch.json"
  fi

  local notes=(--note "gpu-check.sh remote$([[ $dry == 1 ]] && echo ' --dry-run: the CPU with tiny sizes, a plumbing check, not a measurement'), $((SECONDS - started)) s in all")
  local report_lines=()
  local l
  for l in "${lines[@]}"; do report_lines+=(--line "$l"); done
  for l in "engine benchmark" "PyTorch benchmark" doctor; do
    [[ -n "${phase_status[$l]:-}" ]] && notes+=(--note "$l: ${phase_status[$l]}")
  done
  rm -rf "$jre_dir"
  local report="$res/gpu-check.md"
  "${py:-python3}" "$here/gpu_report.py" --ours "$res/ours.json" --torch "$res/torch.json" "${report_lines[@]}" "${notes[@]}" > "$report"
  if [[ -n "$out" ]]; then
    mkdir -p "$out"
    cp "$report" "$res/ours.json" "$res/torch.json" "$conf_log" "$suite_log" "$out/" 2>/dev/null || true
    log "table, JSON and test logs copied to $out (the full log is $logf)"
  fi
  log "results in $res"
  echo
  cat "$report"
  if [[ -n "$out" ]]; then sync; cp "$logf" "$out/" 2>/dev/null || true; fi
}

case "${1:-}" in
  pack) do_pack ;;
  remote) shift; do_remote "$@" ;;
  -h|--help|"") usage ;;
  *) echo "gpu-check.sh: unknown mode '$1' (pack or remote; --help)" >&2; exit 2 ;;
esac
