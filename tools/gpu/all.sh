#!/usr/bin/env bash
# Every GPU check and benchmark of the CUDA backend in one call, on a fresh GPU machine with CUDA,
# PyTorch and transformers but no Maven or network:
#
#   JAVA_RUNTIME=/path/to/jdk25-runtime LOG_DIR=/path/to/logs tools/gpu/all.sh [REPO_ROOT]
#
# 1. check.sh: every kernel against its CPU twin, the fixture models against transformers and the
#    CPU backend, graph decode against eager launches, speed of the 0.5B geometry at context depths;
# 2. reference_large.py: transformers builds and saves random-weight Qwen2.5-0.5B, Llama-3.2-1B and
#    Qwen2-7B geometry models and their reference logits (WORK_DIR, default /tmp/tokenselect-large);
# 3. the engine loads those directories: logits, greedy tokens, graph decode, decode speed at
#    0 / 4K / 32K / 128K, batches and prefill, each next to its bound;
# 4. a corpus resident in the device pool, persisted and restored by a second engine (same answer),
#    and time to first token cold / resident / restored (CORPUS_BENCH="model:tokens ...", default
#    qwen2-7b:131072; CORPUS_BENCH_TIMEOUT seconds each, default 420; CORPUS_JAVA_OPTS, e.g.
#    -Dtokenselect.cuda.prefillAttention=f16, reach the benchmark's JVM);
# 5. transformers' own generate loop at a 4K context, and the card's bf16 matmul and copy rates;
# 6. per-layer decode attention at 32K / 128K / 512K / 1M tokens (Qwen2-7B geometry): full attention,
#    TokenSelect on a selection-cache miss and hit, the device's selection against the CPU reference,
#    and PyTorch's scaled_dot_product_attention and a plain PyTorch TokenSelect on the same shapes;
# 7. decode at the longest contexts (LONG_CONTEXT="model:tokens[,tokens|max] ...", default 1M tokens on each of
#    the three geometries of step 2 and the largest context the 7B's pool holds): the largest context the
#    card's pool holds per geometry, full attention against TokenSelect at those depths
#    (LONG_CONTEXT_JAVA_OPTS=-Dtokenselect.cuda.keySketches=true adds TokenSelect on int8 key sketches);
# 8. the accuracy evaluation of docs/ACCURACY.md on models/needle-14m (or EVAL_MODEL, a model directory),
#    resumable across calls: the answers go to LOG_DIR/accuracy-outcomes.jsonl as they come; EVAL_RESUME_FROM=FILE (an earlier
#    call's file, copied into the repository) is taken first. EVAL_TASKS, EVAL_LENGTHS, EVAL_POLICIES,
#    EVAL_SAMPLES and EVAL_TIMEOUT (seconds, default 480) pick the run; EVAL_ARGS adds eval options
#    (e.g. --needle-recall) and EVAL_JAVA_OPTS JVM options (--needle-recall needs
#    -Dtokenselect.cuda.graphSelection=false: the trace sees only host-side selections); EVAL_PARALLEL=1 runs
#    one process per task at once on the card (each with a KV pool of EVAL_KV_TOKENS, default 1M tokens)
#    and merges their answers into the one file (three at once measured 0.86x the answers per second of
#    one on an H200 at 4K-64K: long prefills keep the card busy; it helps only where one process leaves it idle). The plot is drawn afterwards
#    with `eval --replay` on a full JDK (the jlink runtime has no java.desktop). Not in the default STEPS;
# 9. Nsight Compute durations of every kernel of one replayed 7B decode step at PROFILE_DEPTHS (default
#    4096 131072), summed per kernel by ncu_summary.py; with NCU_DETAIL="kernel-regex", the detailed
#    sections of one launch of that kernel. Not in the default STEPS.
# The jar (engine/target/tokenselect-engine-*-cli.jar) must be built with nvcc present (it carries
# the kernels): ./mvnw -pl engine -DskipTests package. Logs and the small reference files go to LOG_DIR.
# ENGINE_JAVA_OPTS reach the engine's JVM in step 3 (e.g. -Dtokenselect.cuda.graphSelection=false to time
# TokenSelect decode steps with the selection cache on the host there).
# STEPS="1 2 3 4 5 6 7" (the default) picks steps and their order (2 must come before 3, 4 and 7); SKIP_HF_GENERATE=1 leaves out step 5.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${1:-$here/../..}" && pwd)"
out="${LOG_DIR:-$repo/target/gpu-check}"
work="${WORK_DIR:-/tmp/tokenselect-large}"
presets="${PRESETS:-qwen2.5-0.5b,llama-3.2-1b,qwen2-7b}"
mkdir -p "$out" "$work"
java="${JAVA_RUNTIME:+$JAVA_RUNTIME/bin/}java"
jar="$(ls "$repo"/engine/target/tokenselect-engine-*-cli.jar | head -1)"
rc=0


step1() {
echo "== 1. kernels, fixtures, graph decode, 0.5B speed"
LOG_DIR="$out" "$here/check.sh" "$repo" || rc=1
}

step2() {
echo "== 2. transformers models and references ($presets)"
python3 "$here/reference_large.py" --out "$work" --presets "$presets" 2>&1 | tee "$out/reference_large.log" || rc=1
mkdir -p "$out/large"
cp "$work"/*.json "$work"/*.logits.f32 "$out/large/" 2>/dev/null
}

step3() {
echo "== 3. the engine on the transformers models"
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Xmx32g ${ENGINE_JAVA_OPTS:-} \
  -cp "$jar" dev.tokenselect.engine.backend.cuda.CudaSelfTest --repo "$repo" --large-only "$work" 2>&1 \
  | tee "$out/large-models.log"
[[ ${PIPESTATUS[0]} == 0 ]] || rc=1
}

step4() {
echo "== 4. resident and restored corpora on the GPU"
rm -rf "$work/cache-check"
"$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -cp "$jar" \
  dev.tokenselect.engine.prefix.CorpusRestoreCheck "$repo/models/needle-14m" "$work/cache-check" cuda 2>&1 \
  | grep -v "^INFO\|^[A-Z][a-z][a-z] [0-9]" | tee "$out/corpus-restore.log"
[[ ${PIPESTATUS[0]} == 0 ]] || rc=1
# time to first token, cold / resident / restored, on the transformers models with Qwen's real tokenizer
for spec in ${CORPUS_BENCH:-qwen2-7b:131072}; do
  name="${spec%%:*}"; tokens="${spec##*:}"
  [[ -d "$work/$name" ]] || continue
  gunzip -c "$repo/engine/src/test/resources/tokenizers/qwen3/tokenizer.json.gz" > "$work/$name/tokenizer.json"
  cp "$repo/engine/src/test/resources/tokenizers/qwen3/tokenizer_config.json" "$work/$name/"
  rm -rf "$work/cache-$name"
  timeout "${CORPUS_BENCH_TIMEOUT:-420}" "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -Xmx48g ${CORPUS_JAVA_OPTS:-} -cp "$jar" dev.tokenselect.engine.prefix.CorpusBenchmark "$work/$name" "$work/cache-$name" "$tokens" cuda \
    2>&1 | grep -v "^INFO\|^[A-Z][a-z][a-z] [0-9]" | tee "$out/corpus-bench-$name.log"
  rm -rf "$work/cache-$name"
done
}

step5() {
  [[ -z "${SKIP_HF_GENERATE:-}" ]] || return 0
  echo "== 5. transformers generate loop"
  python3 "$here/hf_generate_bench.py" --out "$out/hf_generate.json" 2>&1 | tee "$out/hf_generate.log" || rc=1
}
step6() {
  echo "== 6. per-layer attention at long contexts"
  "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -cp "$jar" \
    dev.tokenselect.engine.backend.cuda.CudaAttentionBench ${ATTENTION_CONTEXTS:+--contexts $ATTENTION_CONTEXTS} 2>&1 \
    | grep -v "^INFO\|^[A-Z][a-z][a-z] [0-9]" | tee "$out/attention-bench.log"
  [[ ${PIPESTATUS[0]} == 0 ]] || rc=1
  python3 "$here/attention_bench.py" ${ATTENTION_CONTEXTS:+--contexts $ATTENTION_CONTEXTS} --out "$out/attention_torch.json" \
    2>&1 | tee "$out/attention-torch.log" || rc=1
}

step7() {
  echo "== 7. decode at the longest contexts"
  for spec in ${LONG_CONTEXT:-qwen2.5-0.5b:1048576 llama-3.2-1b:1048576 qwen2-7b:1048576,max}; do
    name="${spec%%:*}"; tokens="${spec##*:}"
    [[ -d "$work/$name" ]] || continue
    timeout 300 "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g \
      ${LONG_CONTEXT_JAVA_OPTS:-} -cp "$jar" dev.tokenselect.engine.backend.cuda.CudaLongContext "$work/$name" "$tokens" 2>&1 \
      | grep -v "^INFO\|^[A-Z][a-z][a-z] [0-9]" | tee "$out/long-context-$name.log"
    [[ ${PIPESTATUS[0]} == 0 ]] || rc=1
  done
}

step8() {
  echo "== 8. accuracy of the attention policies"
  local outcomes="$out/accuracy-outcomes.jsonl"
  if [[ -n "${EVAL_RESUME_FROM:-}" && -f "$EVAL_RESUME_FROM" ]]; then cp "$EVAL_RESUME_FROM" "$outcomes"; fi
  touch "$outcomes"
  local tasks="${EVAL_TASKS:-niah_single_noise,niah_single_prose,niah_multikey,niah_multivalue,niah_multiquery,vt,cwe,kv}"
  local status
  if [[ "${EVAL_PARALLEL:-0}" == 1 ]]; then
    # one process per task on the one GPU, for runs where one process leaves the card idle between its
    # launches (short prompts; at 32K-64K the prefills fill it, see above); each resumes from the same
    # file and appends to its own copy
    local before t pids=() statuses=0
    before=$(wc -l < "$outcomes")
    for t in ${tasks//,/ }; do
      cp "$outcomes" "$out/accuracy-outcomes-$t.jsonl"
      eval_run "$t" "$out/accuracy-outcomes-$t.jsonl" "$out/ACCURACY-$t.md" -Xmx6g \
        --kv-tokens "${EVAL_KV_TOKENS:-1048576}" > "$out/accuracy-$t.log" 2>&1 &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || statuses=$?; done
    for t in ${tasks//,/ }; do
      tail -n +$((before + 1)) "$out/accuracy-outcomes-$t.jsonl" >> "$outcomes"
      rm -f "$out/accuracy-outcomes-$t.jsonl"
    done
    status=$statuses
  else
    eval_run "$tasks" "$outcomes" "$out/ACCURACY.md" -Xmx16g > "$out/accuracy.log" 2>&1
    status=$?
  fi
  echo "accuracy: exit status $status (124: the time limit; resume from the outcomes), $(wc -l < "$outcomes") answers in $outcomes"
}

# one eval process: TASKS OUTCOMES REPORT HEAP [more eval options]
eval_run() {
  local tasks="$1" outcomes="$2" report="$3" heap="$4"
  shift 4
  timeout "${EVAL_TIMEOUT:-480}" "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "$heap" \
    ${EVAL_JAVA_OPTS:-} -jar "$jar" eval ${EVAL_ARGS:-} "$@" --model "${EVAL_MODEL:-$repo/models/needle-14m}" --backend cuda \
    --tasks "$tasks" \
    --lengths "${EVAL_LENGTHS:-4096,8192,16384,32768,65536}" \
    --policies "${EVAL_POLICIES:-full,ts-2048,ts-2048-nocache,streaming-2048,page-2048}" \
    --samples "${EVAL_SAMPLES:-10}" --seed 1 --outcomes "$outcomes" --resume --out "$report"
}

step9() {
  echo "== 9. decode step profile"
  local ncu
  ncu="$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -1)"
  [[ -n "$ncu" && -d "$work/qwen2-7b" ]] || { echo "no ncu or no qwen2-7b model (step 2)"; rc=1; return; }
  for depth in ${PROFILE_DEPTHS:-4096 131072}; do
    # three warm-up steps of 199 kernels (28 layers of 7, embed, lm_head, argmax) are skipped
    timeout 200 "$ncu" --clock-control none --kernel-name regex:"gemv|attn|swiglu|embed|argmax|ts_" \
      --launch-skip 597 --launch-count 199 \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active \
      --csv --page raw "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -cp "$jar" \
      dev.tokenselect.engine.backend.cuda.CudaDecodeProfile "$work/qwen2-7b" "$depth" 6 > "$out/ncu-decode-$depth.csv" 2>/dev/null
    python3 "$here/ncu_summary.py" "$out/ncu-decode-$depth.csv" --layers 28 | tee "$out/ncu-decode-$depth.md" || rc=1
  done
  # NCU_DETAIL="kernel-regex": Nsight Compute's speed-of-light, warp-state and memory sections of one
  # launch of that kernel in a replayed 7B step at 4K (why a kernel is slower than its bytes allow)
  if [[ -n "${NCU_DETAIL:-}" ]]; then
    timeout 200 "$ncu" --clock-control none --kernel-name "regex:${NCU_DETAIL}" --launch-skip 28 --launch-count 1 \
      --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis --section Occupancy \
      --section LaunchStats "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g \
      -cp "$jar" dev.tokenselect.engine.backend.cuda.CudaDecodeProfile "$work/qwen2-7b" 4096 6 > "$out/ncu-detail.txt" 2>&1
    grep -E "Duration|Throughput|Stall|Occupancy|Registers|Block Limit|Warp Cycles|Eligible|Issued" "$out/ncu-detail.txt" | head -60
  fi
}

for n in ${STEPS:-1 2 3 4 5 6 7}; do "step$n"; done
echo "all.sh: exit status $rc; logs in $out"
exit $rc
