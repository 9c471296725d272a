#!/usr/bin/env python3
"""transformers' own generation loop on the GPU, as the peer figure for the engine's decode speed.

  python3 tools/gpu/hf_generate_bench.py [--presets qwen2.5-0.5b,qwen2-7b] [--context 4096] [--out FILE]

For each preset (the configs of reference_large.py): a random-weight bf16 model, SDPA attention,
greedy `generate` of 128 new tokens after a prompt of --context random token ids. Decode tokens/s
= 128 / (time of generate(129 tokens) - time of generate(1 token)), so the prefill is not counted.
Also prints the card's bf16 matrix rate (torch.matmul 8192^3) and device copy bandwidth, the bounds
docs/BENCHMARKS.md puts our figures next to.
"""
import argparse
import json
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_large import preset_config  # noqa: E402


def timed(fn, reps=1):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


def card_rates():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    a @ b
    secs = timed(lambda: a @ b, 20)
    tflops = 2 * 8192 ** 3 / secs / 1e12
    x = torch.empty(512 << 20, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    y.copy_(x)
    secs = timed(lambda: y.copy_(x), 20)
    copy = 2 * x.numel() / secs / 1e9
    del a, b, x, y
    return tflops, copy


def bench(name, context, tmp):
    config = preset_config(name, tmp)
    torch.manual_seed(1)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", dtype=torch.bfloat16)
    model.eval()
    prompt = torch.randint(0, config.vocab_size, (1, context), device="cuda")

    def gen(n):
        with torch.no_grad():
            model.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)

    gen(8)
    t1 = min(timed(lambda: gen(1)) for _ in range(2))
    t129 = timed(lambda: gen(129))
    tps = 128 / (t129 - t1)
    del model
    torch.cuda.empty_cache()
    return tps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="qwen2.5-0.5b,qwen2-7b")
    ap.add_argument("--context", type=int, default=4096)
    ap.add_argument("--out")
    ap.add_argument("--tmp", default="/tmp/hf-generate-bench")
    args = ap.parse_args()
    tflops, copy = card_rates()
    result = {"card": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "bf16_matmul_tflops": round(tflops, 1), "copy_gb_s": round(copy), "context": args.context,
              "decode_tokens_per_s": {}}
    print(f"{result['card']}: bf16 matmul {tflops:.0f} TFLOP/s, copy {copy:.0f} GB/s", flush=True)
    for name in args.presets.split(","):
        tps = bench(name, args.context, args.tmp)
        result["decode_tokens_per_s"][name] = round(tps, 1)
        print(f"transformers generate {name} at {args.context}: {tps:.1f} tokens/s", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
