#!/usr/bin/env bash
# Compiles the CUDA kernels (kernels/src/main/cuda/*.cu) into the module images the engine loads:
#   advinterp_kernels.ptx           PTX for compute_80, JIT-compiled by the driver on other GPUs
#   advinterp_kernels.sm_80.cubin   machine code for compute capability 8.x (A100, RTX 30xx/40xx)
#   advinterp_kernels.sm_90.cubin   machine code for 9.x (H100, H200)
#   ptxas-report.txt                registers, stack, spill stores/loads of every kernel on sm_80 and sm_90
# all in kernels/src/main/resources/dev/advinterp/kernels/, committed, so that a machine without
# nvcc builds from them.
#
#   kernels/build.sh           rebuild when a source is newer than the images (what `mvn install` runs)
#   kernels/build.sh --force   rebuild unconditionally
#   kernels/build.sh --check   build into a temporary folder; fail if the committed files differ from
#                              that fresh build or if any kernel spills; skipped (exit 0) without nvcc
#
# Compiler flags, and why:
#   -O3                      the default optimisation level for device code, stated.
#   no --use_fast_math       it would flush denormals to zero, use approximate division, sqrt and
#                            expf/logf, and allow contraction: results would drift from the CPU
#                            reference, which is the engine's definition of every kernel.
#   --fmad=false             no contraction of a·b + c into one fused multiply-add: the CPU (Java)
#                            rounds the product and the sum separately, and so does the GPU then, so
#                            the elementwise kernels are bit-identical to the CPU's. The kernels are
#                            memory-bound, so the lost FMAs cost nothing measurable. (Explicit fma()
#                            inside the float64 exp/log library routines is kept; it makes them exact.)
#   -prec-div, -prec-sqrt, -ftz=false are the defaults without fast math: IEEE division and square
#                            root, denormals kept, as in Java.
#   --Werror all-warnings, -Xptxas -warn-spills,-warn-lmem-usage,-Werror:
#                            any compiler warning, any register spill and any use of local memory
#                            (a stack array) fails the build.
#
# Determinism: nvcc 13.0 writes byte-identical PTX and cubins for the same sources and flags, also
# from different folders (checked by compiling twice), so --check compares the images byte for
# byte. The report drops ptxas's "Compile time" lines, the only part that varies between runs.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/src/main/cuda"
DEST="$HERE/src/main/resources/dev/advinterp/kernels"
NAME=advinterp_kernels
OUTPUTS=("$NAME.ptx" "$NAME.sm_80.cubin" "$NAME.sm_90.cubin" "ptxas-report.txt")
FLAGS=(-std=c++17 -O3 --fmad=false -prec-div=true -prec-sqrt=true -ftz=false --Werror all-warnings)
PTXAS=(-Xptxas -v,-warn-spills,-warn-lmem-usage,-Werror)

mode=build
case "${1:-}" in
  "") ;;
  --force) mode=force ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "kernels/build.sh: unknown option '$1' (use --force, --check or --help)" >&2; exit 2 ;;
esac

find_nvcc() {
  if [ "${NVCC:-}" = none ]; then return; fi   # NVCC=none: behave as on a machine without CUDA
  if [ -n "${NVCC:-}" ] && [ -x "$NVCC" ]; then echo "$NVCC"; return; fi
  if [ -x /usr/local/cuda/bin/nvcc ]; then echo /usr/local/cuda/bin/nvcc; return; fi
  command -v nvcc 2>/dev/null || true
}
NVCC_BIN="$(find_nvcc)"
if [ -z "$NVCC_BIN" ]; then
  if [ "$mode" = check ]; then
    echo "kernels/build.sh --check: skipped, no nvcc found (looked at \$NVCC, /usr/local/cuda/bin/nvcc and PATH);" \
         "the committed PTX/cubin images in $DEST were not compared with a fresh build"
  else
    echo "kernels/build.sh: no nvcc found (looked at \$NVCC, /usr/local/cuda/bin/nvcc and PATH);" \
         "using the committed PTX/cubin images in $DEST"
  fi
  exit 0
fi

# Compiles every .cu of SRC as one translation unit into folder $1.
compile_into() {
  local out="$1" work="$1/.work"
  mkdir -p "$work"
  (cd "$SRC" && for f in $(LC_ALL=C ls -1 -- *.cu); do echo "#include \"$f\""; done) > "$work/$NAME.cu"
  "$NVCC_BIN" "${FLAGS[@]}" -I"$SRC" -ptx -arch=compute_80 -o "$out/$NAME.ptx" "$work/$NAME.cu"
  local arch log="$work/ptxas.log"
  {
    echo "# ptxas resource usage of every kernel in $NAME (written by kernels/build.sh; do not edit)."
    echo "# $("$NVCC_BIN" --version | grep -E '^Cuda compilation tools')"
    echo "# flags: ${FLAGS[*]} ${PTXAS[*]}"
    echo "# A kernel with spill stores or loads above 0 fails kernels/build.sh --check."
  } > "$out/ptxas-report.txt"
  for arch in sm_80 sm_90; do
    "$NVCC_BIN" "${FLAGS[@]}" "${PTXAS[@]}" -I"$SRC" -cubin -arch="$arch" -o "$out/$NAME.$arch.cubin" "$work/$NAME.cu" \
      > "$log" 2>&1 || { cat "$log" >&2; return 1; }
    {
      echo
      echo "## $arch"
      echo
      summarize "$log"
      echo
      echo "### ptxas -v"
      grep -v 'Compile time' "$log"
    } >> "$out/ptxas-report.txt"
  done
  rm -rf "$work"
}

# One line per kernel: name, registers, stack frame, spill stores, spill loads, shared memory.
summarize() {
  awk '
    /Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); name = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { stack[name] = $1; st[name] = $5; ld[name] = $9 }
    /Used [0-9]+ registers/ {
      match($0, /Used [0-9]+ registers/); regs[name] = substr($0, RSTART + 5, RLENGTH - 15)
      smem[name] = 0; if (match($0, /[0-9]+ bytes smem/)) smem[name] = substr($0, RSTART, RLENGTH - 11)
      order[++count] = name
    }
    END {
      printf "%-34s %9s %12s %12s %12s %10s\n", "kernel", "registers", "stack bytes", "spill stores", "spill loads", "smem bytes"
      for (i = 1; i <= count; i++) {
        k = order[i]
        printf "%-34s %9s %12s %12s %12s %10s\n", k, regs[k], stack[k], st[k], ld[k], smem[k]
      }
    }' "$1" | { read -r header; echo "$header"; LC_ALL=C sort; }
}

# Kernels whose spill stores or loads are above 0, from a report's summary tables.
spilling() {
  awk '$1 ~ /_f(32|64)$/ && NF == 6 && ($4 > 0 || $5 > 0) { print $1 " (" $4 " bytes spill stores, " $5 " bytes spill loads)" }' "$1"
}

case "$mode" in
  build|force)
    if [ "$mode" = build ]; then
      stale=0
      for o in "${OUTPUTS[@]}"; do [ -f "$DEST/$o" ] || stale=1; done
      if [ "$stale" = 0 ] && [ -z "$(find "$SRC" "${BASH_SOURCE[0]}" -newer "$DEST/ptxas-report.txt" -print -quit)" ]; then
        echo "kernels/build.sh: images are newer than the sources, nothing to do (--force rebuilds)"
        exit 0
      fi
    fi
    mkdir -p "$DEST"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    compile_into "$tmp"
    bad="$(spilling "$tmp/ptxas-report.txt")"
    # Rename into place, so that a concurrent build never reads a half-written image.
    for o in "${OUTPUTS[@]}"; do
      if ! cmp -s "$tmp/$o" "$DEST/$o"; then cp "$tmp/$o" "$DEST/.$o.tmp" && mv -f "$DEST/.$o.tmp" "$DEST/$o"; fi
    done
    touch "$DEST/ptxas-report.txt"
    echo "kernels/build.sh: wrote ${OUTPUTS[*]} to $DEST"
    if [ -n "$bad" ]; then echo "kernels/build.sh: kernels spill registers: $bad" >&2; exit 1; fi
    ;;
  check)
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    compile_into "$tmp"
    status=0
    for o in "${OUTPUTS[@]}"; do
      if [ ! -f "$DEST/$o" ]; then
        echo "kernels/build.sh --check: $DEST/$o is missing; run kernels/build.sh --force and commit it" >&2
        status=1
      elif ! cmp -s "$tmp/$o" "$DEST/$o"; then
        echo "kernels/build.sh --check: $o differs from a fresh build of $SRC; run kernels/build.sh --force and commit it" >&2
        [ "$o" = ptxas-report.txt ] && diff "$DEST/$o" "$tmp/$o" | head -n 20 >&2
        status=1
      fi
    done
    bad="$(spilling "$tmp/ptxas-report.txt")"
    if [ -n "$bad" ]; then
      echo "kernels/build.sh --check: kernels spill registers: $bad" >&2
      status=1
    fi
    [ "$status" = 0 ] && echo "kernels/build.sh --check: committed images match a fresh build with $("$NVCC_BIN" --version | grep -oE 'release [0-9.]+'), no kernel spills"
    exit "$status"
    ;;
esac
