#!/usr/bin/env bash
# Checks the cuDNN and cuBLAS bindings against the real libraries on a machine without a GPU.
#
# Fetches cuDNN 9 and cuBLAS 12 for linux-x86_64 from Maven Central (JavaCPP's CUDA redistributable
# jar, about 2 GB, kept in the local Maven repository), unpacks the two libraries' files into
# target/cuda-host-libs (about 1.4 GB), and runs CudaHostLibrariesTest with ADVINTERP_CUDA_PATH
# pointing there: descriptors made as the backend makes them and read back through cuDNN's getters,
# and the failure of cudnnCreate / cublasCreate_v2 without a GPU reported with the libraries' own
# status names. No driver (libcuda.so.1) is involved.
#
#   tools/cuda-host-libraries.sh            fetch if needed, then test
#   tools/cuda-host-libraries.sh --if-fetchable
#                                           as above, but exit 0 with a message when the jar cannot
#                                           be fetched (used by .ci/run: the check needs the network)
#
# Exits non-zero when the test fails or is skipped although the libraries are there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java25.sh"
find_java25 || exit 1
cd "$root"

# CUDA 12.6 with cuDNN 9.5.1: the newest build of this jar that holds cuDNN and cuBLAS in one file.
VERSION=12.6-9.5-1.5.11
ARTIFACT="org.bytedeco:cuda:$VERSION:jar:linux-x86_64-redist"
repo="${MAVEN_LOCAL_REPOSITORY:-$HOME/.m2/repository}"
jar="$repo/org/bytedeco/cuda/$VERSION/cuda-$VERSION-linux-x86_64-redist.jar"
dest="$root/target/cuda-host-libs"

if [ ! -f "$jar" ]; then
  echo "cuda-host-libraries: fetching $ARTIFACT (about 2 GB)"
  if ! mvn -B -q dependency:get -Dartifact="$ARTIFACT" -Dtransitive=false >/tmp/cuda-host-fetch.$$ 2>&1 || [ ! -f "$jar" ]; then
    grep -E 'ERROR' /tmp/cuda-host-fetch.$$ | head -n 3 >&2 || true
    rm -f /tmp/cuda-host-fetch.$$
    if [ "${1:-}" = "--if-fetchable" ]; then
      echo "cuda-host-libraries: NOT RUN: $ARTIFACT could not be fetched"
      exit 0
    fi
    echo "cuda-host-libraries: $ARTIFACT could not be fetched" >&2
    exit 1
  fi
  rm -f /tmp/cuda-host-fetch.$$
fi

# unzip keeps the archive's file dates, so a stamp records which jar the folder was unpacked from
stamp="$dest/.unpacked-from"
want="$(basename "$jar") $(stat -c %s "$jar")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "cuda-host-libraries: unpacking cuDNN and cuBLAS into $dest"
  rm -rf "$dest"
  mkdir -p "$dest"
  if ! unzip -q -o -j "$jar" 'org/bytedeco/cuda/linux-x86_64/libcudnn*' 'org/bytedeco/cuda/linux-x86_64/libcublas*' -d "$dest"; then
    rm -rf "$dest"
    if [ "${1:-}" = "--if-fetchable" ]; then
      echo "cuda-host-libraries: NOT RUN: $jar could not be unpacked (a damaged download? delete it to fetch it again)"
      exit 0
    fi
    echo "cuda-host-libraries: $jar could not be unpacked; delete it to fetch it again" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

report="$root/engine/target/surefire-reports/TEST-dev.advinterp.engine.backend.cuda.CudaHostLibrariesTest.xml"
rm -f "$report"
ADVINTERP_CUDA_PATH="$dest" mvn -B -q -pl engine -am test -Dtest=CudaHostLibrariesTest -Dsurefire.failIfNoSpecifiedTests=false

# The libraries are there, so the tests must have run: a skip here would hide a discovery bug.
# Only the two "without a GPU" tests may skip, and only where a GPU is present.
summary="$(grep -o '<testsuite [^>]*>' "$report" | head -n 1)"
tests="$(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<<"$summary")"
skipped="$(sed -n 's/.* skipped="\([0-9]*\)".*/\1/p' <<<"$summary")"
echo "cuda-host-libraries: CudaHostLibrariesTest against cuDNN 9.5.1 / cuBLAS 12.6: $tests tests, $skipped skipped"
allowed=0
[ -e /dev/nvidia0 ] && allowed=2
if [ -z "$tests" ] || [ "$tests" -eq 0 ] || [ "${skipped:-0}" -gt "$allowed" ]; then
  echo "cuda-host-libraries: tests were skipped although $dest holds the libraries (see $report)" >&2
  exit 1
fi
