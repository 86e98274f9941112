# The start both bench/models.sh and bench/fused.sh share, sourced once their options are read:
# $here (bench/), $root, $native (1 for --native-coretype) and $tool (the script's name, for
# messages) must be set. Sets $java, $python (Debian's PyTorch is installed for the system
# interpreter only; TORCH_PYTHON overrides), $flags (the launcher's JVM flags, which JMH's forks
# inherit) and $jar; defines openblas_env; unsets the
# OpenBLAS core-type variables for --native-coretype and says which environment is in force; and
# builds the benchmarks jar when it is missing or older than any source the benchmarks use
# (MAVEN_REPO_LOCAL, when set, is passed to Maven as its local repository).

if [[ -z "${JAVA_HOME:-}" && -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
python="${TORCH_PYTHON:-/usr/bin/python3}"
. "$root/scripts/java25.sh"
flags=("${advinterp_jvm_flags[@]}")
jar="$here/target/benchmarks.jar"

openblas_env() {
  echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}$(env | grep -E '^OPENBLAS_' \
    | grep -vE '^OPENBLAS_(CORETYPE|L2_SIZE)=' | sort | sed 's/^/ /' | tr -d '\n')"
}
if [[ $native == 1 ]]; then
  echo "$tool: --native-coretype: unsetting OPENBLAS_CORETYPE (was '${OPENBLAS_CORETYPE:-unset}') and" \
       "OPENBLAS_L2_SIZE (was '${OPENBLAS_L2_SIZE:-unset}') for the engine and PyTorch; OpenBLAS picks its own kernels"
  unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
else
  echo "$tool: environment as it is: $(openblas_env)"
fi

if [[ ! -f "$jar" ]] || [[ -n "$(find "$root"/{engine,nn,experiments}/src/main "$here/src/main" "$root/pom.xml" \
      "$root"/{engine,nn,experiments,bench}/pom.xml -newer "$jar" -type f -print -quit)" ]]; then
  echo "$tool: building $jar"
  (cd "$root" && mvn -B -o -q ${MAVEN_REPO_LOCAL:+-Dmaven.repo.local="$MAVEN_REPO_LOCAL"} -pl bench -am package -DskipTests)
fi
