#!/usr/bin/env bash
# Compiles the CUDA kernels (tokenselect.cu includes every op family) into ONE fatbin for
# sm_80, sm_86, sm_89, sm_90 plus compute_90 PTX, and the wgmma kernels (tokenselect_sm90a.cu) into a second one
# for sm_90a (OUTPUT_FATBIN with _sm90a before .fatbin). Called by Maven (engine/pom.xml, generate-resources):
#   build-fatbin.sh OUTPUT_FATBIN [NVCC]
# NVCC: -Dnvcc=... on the Maven command line; else $CUDA_HOME/bin/nvcc, nvcc on the PATH,
# /usr/local/cuda/bin/nvcc. Without nvcc this prints a warning and exits 0: the jar then has no
# kernels and the CUDA backend says so at run time (the CPU backend is unaffected).
set -euo pipefail
out="$1"
nvcc="${2:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -z "$nvcc" || "$nvcc" == "\${nvcc}" ]]; then
  if [[ -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then
    nvcc="$CUDA_HOME/bin/nvcc"
  elif command -v nvcc >/dev/null 2>&1; then
    nvcc="$(command -v nvcc)"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then
    nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [[ -z "$nvcc" || ! -x "$nvcc" ]]; then
  echo "[WARNING] nvcc not found (-Dnvcc=..., CUDA_HOME, PATH, /usr/local/cuda/bin): building WITHOUT CUDA kernels;" \
       "the cuda backend will report that this build has none. The CPU backend is unaffected." >&2
  rm -f "$out" "${out%.fatbin}_sm90a.fatbin"
  exit 0
fi
sm90a="${out%.fatbin}_sm90a.fatbin"
# Up to date? (newer than every source and this script)
if [[ -f "$out" && -f "$sm90a" ]]; then
  stale=0
  for f in "$here"/*.cu "$here"/*.cuh "$here"/build-fatbin.sh; do
    [[ "$f" -nt "$out" || "$f" -nt "$sm90a" ]] && stale=1
  done
  if [[ $stale == 0 ]]; then
    echo "[INFO] CUDA fatbin up to date: $out"
    exit 0
  fi
fi
mkdir -p "$(dirname "$out")"
threads=$(nproc 2>/dev/null || echo 2)
echo "[INFO] nvcc ($nvcc): compiling CUDA kernels into $out"
"$nvcc" -fatbin -O3 -std=c++17 --threads "$threads" \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_86,code=sm_86 \
  -gencode arch=compute_89,code=sm_89 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  -o "$out.tmp" "$here/tokenselect.cu"
# Hopper's warpgroup MMA exists only in the arch-specific sm_90a target: its own module, loaded on
# devices of compute capability 9.0 beside the one above
"$nvcc" -fatbin -O3 -std=c++17 -gencode arch=compute_90a,code=sm_90a -o "$sm90a.tmp" "$here/tokenselect_sm90a.cu"
mv "$out.tmp" "$out"
mv "$sm90a.tmp" "$sm90a"
echo "[INFO] CUDA fatbins: $(wc -c < "$out") + $(wc -c < "$sm90a") bytes (sm_90a)"
