# Sourced by ./advinterp, scripts/test, .ci/run and the benchmark drivers: finds a Java 25 and
# exports JAVA_HOME. Order: JAVA_HOME if it is a Java 25 or newer, then /usr/lib/jvm/*25*, then
# java on the PATH.

# The JVM flags the engine runs with, everywhere it runs for a person (the launcher, the benchmarks):
# the Vector API module and native access for the FFM bindings, and a heap that stays small. The
# engine's tensors live outside the heap, whose live set in training is tens of MB; but until C2
# compiles the Vector API loops they allocate a box per vector, and with the default young
# generation that start-up burst grows the heap to about 1 GB, which is then never given back
# (ResNet-18 training at 32 px, batch 64: peak RSS 1.72 GB with it, 1.14 GB with the young
# generation capped at 64 MB, epoch time the same). ADVINTERP_JAVA_OPTS, after these, overrides.
advinterp_jvm_flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -XX:MaxNewSize=64m)

java_major() {
  # prints the feature version of the java binary $1 (e.g. 25), or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

find_java25() {
  local candidate v
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*-2[5-9]* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    v=$(java_major "$candidate/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  cat >&2 <<'MSG'
advinterp needs a Java 25 JDK, and none was found (JAVA_HOME, /usr/lib/jvm/*25*, java on the PATH).
Install one (for example Eclipse Temurin 25: apt-get install temurin-25-jdk, from Adoptium's
Debian repository) and/or set JAVA_HOME to its folder.
MSG
  return 1
}
