"""Per-layer decode attention timing for one query token against a long KV cache.

Geometry: Qwen2-7B (28 query heads, 4 KV heads, head dim 128, bf16), batch 1,
one query token. For each context length L it measures, with CUDA events
(median over --iters after --warmup), in milliseconds:

  sdpa_<backend>            F.scaled_dot_product_attention over all L keys, once
                            per available sdpa_kernel backend (flash, efficient,
                            cudnn, math); GQA via enable_gqa=True when supported,
                            else K/V expanded with repeat_interleave once,
                            outside the timed region. Failing backends are skipped.
  sdpa_full_best            fastest of the above, with its backend name.
  torch_tokenselect_gather  plain-PyTorch TokenSelect step: per-KV-head q.K^T,
                            fp32 softmax per head over L, soft vote = sum of the
                            28 heads' probabilities, topk(k) over the vote plus
                            the first n_init and last n_local positions, gather
                            those K/V rows, SDPA over the ~k+n_init+n_local keys.
  torch_select_attend_only  gather + SDPA over a fixed, precomputed index list.
  sdpa_rope_on_read         the work our full-attention kernel does: the cache holds K without
                            RoPE (as TokenSelect's scoring needs it), so each step rotates every
                            cached key at its position (cos/sin from the positions, as transformers
                            computes them per forward) and then runs the fastest SDPA backend.
  sdpa_rope_table           the same with the cos/sin table of every position computed once,
                            outside the timed region (L x 128 floats each).

It also reports the K/V bytes read by full attention (2*4*L*128*2) and the
bandwidth implied by the best SDPA time, plus card name, torch version, date.

Run (needs a CUDA GPU):
  python3 tools/gpu/attention_bench.py --out results.json
  python3 tools/gpu/attention_bench.py --contexts 32768,131072 --iters 100
"""
import argparse
import datetime
import json
import statistics
import warnings

import torch
import torch.nn.functional as F

N_Q, N_KV, D = 28, 4, 128
GROUP = N_Q // N_KV
DTYPE = torch.bfloat16


def time_ms(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
    for s, e in evs:
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in evs)


def gqa_supported():
    q = torch.randn(1, N_Q, 1, D, device="cuda", dtype=DTYPE)
    k = torch.randn(1, N_KV, 16, D, device="cuda", dtype=DTYPE)
    try:
        F.scaled_dot_product_attention(q, k, k, enable_gqa=True)
        torch.cuda.synchronize()
        return True
    except (TypeError, RuntimeError):
        return False


def backends():
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        return [("default", None)]
    names = ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "MATH"]
    return [(n.lower(), lambda b=getattr(SDPBackend, n): sdpa_kernel(b)) for n in names if hasattr(SDPBackend, n)]


def attend(q, k, v, use_gqa):
    if use_gqa:
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    return F.scaled_dot_product_attention(q, k.repeat_interleave(GROUP, 1), v.repeat_interleave(GROUP, 1))


def select_indices(q, k, topk, n_init, n_local):
    L = k.shape[2]
    qg = q.view(N_KV, GROUP, D)                              # query head h -> KV head h // GROUP
    scores = torch.matmul(qg, k[0].transpose(1, 2))          # [4, 7, L] bf16
    probs = torch.softmax(scores.float() * D ** -0.5, dim=-1)  # fp32 softmax per head
    vote = probs.sum(dim=(0, 1))                             # head soft vote -> [L]
    mid = vote[n_init:L - n_local]
    top = torch.topk(mid, min(topk, mid.numel())).indices + n_init
    dev = q.device
    return torch.cat([torch.arange(n_init, device=dev), top, torch.arange(L - n_local, L, device=dev)])


def cos_sin(L, inv_freq):
    """cos and sin of every position's angles, [L, D] in bf16, the halves repeated as transformers does."""
    freqs = torch.outer(torch.arange(L, device="cuda", dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(DTYPE), emb.sin().to(DTYPE)


def rope(k, cos, sin):
    """transformers' apply_rotary_pos_emb on the keys: k cos + rotate_half(k) sin."""
    half = k.shape[-1] // 2
    rotated = torch.cat((-k[..., half:], k[..., :half]), dim=-1)
    return k * cos + rotated * sin


def time_in(ctx, fn, args):
    """time_ms under an SDPA backend's context (None: PyTorch's own choice)."""
    if ctx is None:
        return time_ms(fn, args.iters, args.warmup)
    with ctx():
        return time_ms(fn, args.iters, args.warmup)


def error_text(e):
    """An exception's type and first line, for the results file."""
    msg = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {msg}"[:160]


def gather_attend(q, k, v, idx, use_gqa):
    return attend(q, k.index_select(2, idx), v.index_select(2, idx), use_gqa)


def bench_context(L, args, use_gqa):
    res = {"context": L, "kv_bytes": 2 * N_KV * L * D * 2, "sdpa": {}}
    q = (torch.randn(1, N_Q, 1, D, device="cuda") * 0.5).to(DTYPE)
    k = (torch.randn(1, N_KV, L, D, device="cuda") * 0.5).to(DTYPE)
    v = (torch.randn(1, N_KV, L, D, device="cuda") * 0.5).to(DTYPE)
    expanded = None
    for name, ctx in backends():
        entry = {}
        for mode in (["enable_gqa"] if use_gqa else []) + ["repeat_interleave"]:
            try:
                if mode == "enable_gqa":
                    fn = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                else:
                    if expanded is None:  # expanded once, outside the timed region
                        expanded = (k.repeat_interleave(GROUP, 1), v.repeat_interleave(GROUP, 1))
                    ke, ve = expanded
                    fn = lambda: F.scaled_dot_product_attention(q, ke, ve)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    entry = {"ms": time_in(ctx, fn, args), "gqa": mode}
                break
            except Exception as e:  # backend unavailable for this shape/dtype/GPU
                entry = {"error": error_text(e), "gqa": mode}
        res["sdpa"][name] = entry
        print(f"L={L} sdpa {name}: {entry.get('ms', entry.get('error'))} ({entry['gqa']})", flush=True)
    expanded = ke = ve = fn = None  # drop expanded K/V before the TokenSelect runs
    torch.cuda.empty_cache()
    ok = {n: e["ms"] for n, e in res["sdpa"].items() if "ms" in e}
    if ok:
        best = min(ok, key=ok.get)
        res["sdpa_full_best_ms"], res["sdpa_full_best_backend"] = ok[best], best
        res["sdpa_full_best_gbps"] = res["kv_bytes"] / (ok[best] * 1e-3) / 1e9
        inv_freq = 1.0 / (1000000.0 ** (torch.arange(0, D, 2, device="cuda", dtype=torch.float32) / D))
        ctx = dict(backends()).get(best)
        # the best backend's own GQA mode; expanded, the rotated K is expanded per step and V once
        gqa = res["sdpa"][best]["gqa"] == "enable_gqa"
        ve = v if gqa else v.repeat_interleave(GROUP, 1)
        with_rope = lambda cos, sin: attend(q, rope(k, cos, sin), ve, True) if gqa else \
            F.scaled_dot_product_attention(q, rope(k, cos, sin).repeat_interleave(GROUP, 1), ve)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res["sdpa_rope_on_read_ms"] = time_in(ctx, lambda: with_rope(*cos_sin(L, inv_freq)), args)
                table = cos_sin(L, inv_freq)
                res["sdpa_rope_table_ms"] = time_in(ctx, lambda: with_rope(*table), args)
                del table
            print(f"L={L} sdpa with RoPE on read {res['sdpa_rope_on_read_ms']:.4f} ms, "
                  f"with a cos/sin table {res['sdpa_rope_table_ms']:.4f} ms", flush=True)
        except Exception as e:  # out of memory at the longest contexts, or the backend refuses
            res["sdpa_rope_error"] = error_text(e)
            print(f"L={L} sdpa with RoPE: {res['sdpa_rope_error']}", flush=True)
        ve = with_rope = None
        torch.cuda.empty_cache()
    ts = lambda: gather_attend(q, k, v, select_indices(q, k, args.topk, args.n_init, args.n_local), use_gqa)
    res["torch_tokenselect_gather_ms"] = time_ms(ts, args.iters, args.warmup)
    idx = select_indices(q, k, args.topk, args.n_init, args.n_local)
    res["selected_keys"] = idx.numel()
    res["torch_select_attend_only_ms"] = time_ms(lambda: gather_attend(q, k, v, idx, use_gqa), args.iters, args.warmup)
    print(f"L={L} tokenselect {res['torch_tokenselect_gather_ms']:.4f} ms, "
          f"attend-only {res['torch_select_attend_only_ms']:.4f} ms", flush=True)
    del q, k, v, idx
    torch.cuda.empty_cache()
    return res


def fmt(x, nd=4):
    return f"{x:.{nd}f}" if isinstance(x, float) else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contexts", default="32768,131072,524288,1048576")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--topk", type=int, default=2048)
    ap.add_argument("--n-init", type=int, default=128)
    ap.add_argument("--n-local", type=int, default=512)
    ap.add_argument("--out", help="write results JSON here")
    args = ap.parse_args()
    torch.manual_seed(0)
    use_gqa = gqa_supported()
    meta = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "geometry": {"n_q_heads": N_Q, "n_kv_heads": N_KV, "head_dim": D, "dtype": "bf16"},
        "gqa_mode": "enable_gqa" if use_gqa else "repeat_interleave",
        "iters": args.iters, "warmup": args.warmup,
        "topk": args.topk, "n_init": args.n_init, "n_local": args.n_local,
    }
    print(json.dumps(meta), flush=True)
    results = [bench_context(int(c), args, use_gqa) for c in args.contexts.split(",") if c.strip()]
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)
    print(f"\n{meta['device']}, torch {meta['torch']}, {meta['date_utc']}, times in ms (median)\n")
    print("| context | sdpa best (backend) | sdpa flash | sdpa efficient | sdpa cudnn "
          "| sdpa + RoPE on read | sdpa + RoPE from a table "
          "| torch TokenSelect (score+vote+topk+gather+attend) | torch gather+attend only | full-attention GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s = r["sdpa"]
        col = lambda n: fmt(s.get(n, {}).get("ms"))
        best = f"{fmt(r.get('sdpa_full_best_ms'))} ({r.get('sdpa_full_best_backend', 'n/a')})"
        print(f"| {r['context']} | {best} | {col('flash_attention')} | {col('efficient_attention')} "
              f"| {col('cudnn_attention')} | {fmt(r.get('sdpa_rope_on_read_ms'))} | {fmt(r.get('sdpa_rope_table_ms'))} "
              f"| {fmt(r['torch_tokenselect_gather_ms'])} "
              f"| {fmt(r['torch_select_attend_only_ms'])} | {fmt(r.get('sdpa_full_best_gbps'), 1)} |")


if __name__ == "__main__":
    main()
