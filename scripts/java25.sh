# Sourced by ./advinterp, scripts/test and .ci/run: finds a Java 25 and exports JAVA_HOME.
# Order: JAVA_HOME if it is a Java 25 or newer, then /usr/lib/jvm/*25*, then java on the PATH.

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
