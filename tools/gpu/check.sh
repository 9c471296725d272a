#!/usr/bin/env bash
# GPU check of the CUDA backend, for a machine with an NVIDIA GPU and no Maven.
#
#   JAVA_RUNTIME=/path/to/jdk25-runtime LOG_DIR=/path/to/logs tools/gpu/check.sh [REPO_ROOT] [self-test options]
#
# REPO_ROOT defaults to this script's ../..; it must hold engine/target/tokenselect-engine-*-cli.jar
# (built elsewhere with `./mvnw -pl engine -DskipTests package`, nvcc present so the jar carries the
# kernels) and engine/src/test/resources/fixtures (the reference fixtures are read from disk).
# JAVA_RUNTIME: a JDK/JRE 25 (a jlink'd runtime with java.base, java.logging, java.management,
# java.xml (Jackson's serializers load org.w3c.dom), jdk.incubator.vector and jdk.unsupported is
# enough); without it, `java` on the PATH. LOG_DIR: where logs go (default
# REPO_ROOT/target/gpu-check). Self-test options: --no-bench, --kernels-only. SELFTEST_JAVA_OPTS reach its JVM
# (e.g. -Dtokenselect.cuda.sm90a=false to leave the sm_90a kernels out).
# Exit status: the self-test's (0 all passed, 1 a failure, 2 no usable GPU).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [[ $# -gt 0 && "$1" != --* ]]; then
  repo="$(cd "$1" && pwd)"
  shift
fi
if [[ -n "${JAVA_RUNTIME:-}" ]]; then
  java="$JAVA_RUNTIME/bin/java"
else
  java="$(command -v java || true)"
fi
if [[ -z "$java" || ! -x "$java" ]]; then
  echo "check.sh: no Java: set JAVA_RUNTIME to a Java 25 runtime (\$JAVA_RUNTIME/bin/java)" >&2
  exit 3
fi
jar="$(ls "$repo"/engine/target/tokenselect-engine-*-cli.jar 2>/dev/null | head -1)"
if [[ -z "$jar" ]]; then
  echo "check.sh: no engine/target/tokenselect-engine-*-cli.jar under $repo: build it first (./mvnw -pl engine -DskipTests package)" >&2
  exit 3
fi
out="${LOG_DIR:-$repo/target/gpu-check}"
mkdir -p "$out"
log="$out/cuda-selftest.log"

{
  echo "== $(date -u +%FT%TZ) check.sh"
  echo "repo: $repo"
  echo "jar:  $jar"
  "$java" -version 2>&1 | head -1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 || echo "nvidia-smi failed"
} | tee "$out/environment.txt"

"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Xmx16g ${SELFTEST_JAVA_OPTS:-} \
  -cp "$jar" dev.tokenselect.engine.backend.cuda.CudaSelfTest --repo "$repo" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

echo
echo "================ CUDA check summary ================"
printf '%-6s %s\n' "device" "$(grep -m1 '^device:' "$log" | cut -d' ' -f2-)"
printf '%-6s %s\n' "kernel" "$(grep -c '^PASS .*\(bf16\|f32\|rmsnorm\|rope\|attention\|ts_scores\)' "$log") kernel checks passed, $(grep -c '^FAIL' "$log") checks failed overall"
sed -n '/^==== summary ====/,$p' "$log" | sed 1d
echo "exit status $rc; full log: $log"
exit $rc
