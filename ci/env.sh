# Sourced by the ci/ scripts: picks a JDK 25 (JAVA_HOME if it is one, else
# Temurin 25 where this machine kind has it) and fails with the fix otherwise.
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" || "$(java_major "$JAVA_HOME")" -lt 25 ]]; then
  for j in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    if [[ -x "$j/bin/java" ]]; then export JAVA_HOME=$j; break; fi
  done
fi
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" || "$(java_major "$JAVA_HOME")" -lt 25 ]]; then
  echo "hmm-mirror needs JDK 25: install one and set JAVA_HOME to it (e.g. /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
  exit 1
fi
export PATH=$JAVA_HOME/bin:$PATH
command -v mvn >/dev/null || { echo "Maven is missing: run sudo ci/install-deps.sh (or apt-get install maven)" >&2; exit 1; }
