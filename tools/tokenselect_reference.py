#!/usr/bin/env python3
"""An independent PyTorch implementation of TokenSelect as docs/DESIGN semantics define it, and the
fixtures the engine's TokenSelect tests compare against.

  python3 tools/tokenselect_reference.py --out DIR

It reuses transformers' modules for everything but attention (embeddings, projections, norms, MLP,
rotary frequencies) and writes its own attention: the paged-free, obviously-correct version of the
semantics, in float64. Before writing fixtures it checks itself against transformers' own forward
with a budget that covers the context.

Writes DIR/NAME.json and DIR/NAME.logits.f32 for each case (little-endian fp32 last-position logits).
"""
import argparse
import json
import math
import os
import sys
import tempfile

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_reference_fixtures as ref  # noqa: E402


class Params:
    def __init__(self, k, n_init, n_local, theta, prefill_chunk, original_positions=False):
        assert prefill_chunk <= n_local
        self.k, self.n_init, self.n_local, self.theta, self.prefill_chunk = k, n_init, n_local, theta, prefill_chunk
        # DESIGN.md's extension: entries and queries keep their tokens' positions instead of compacted ones
        self.original_positions = original_positions

    @property
    def budget(self):
        return self.n_init + self.k + self.n_local

    def as_dict(self):
        d = {"k": self.k, "n_init": self.n_init, "n_local": self.n_local, "theta": self.theta,
             "prefill_chunk": self.prefill_chunk}
        if self.original_positions:
            d["original_positions"] = True
        return d


def rotate(x, positions, inv_freq):
    """HF's rotate_half RoPE of x [..., n, d] at the given positions [n]."""
    freqs = positions.to(torch.float64)[:, None] * inv_freq.to(torch.float64)[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class TokenSelectRunner:
    """Runs a transformers causal LM with its attention replaced by TokenSelect."""

    def __init__(self, model, params):
        self.m = model
        self.p = params
        cfg = model.config
        self.h = cfg.num_attention_heads
        self.hkv = cfg.num_key_value_heads
        self.d = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.h
        self.inv_freq = model.model.rotary_emb.inv_freq.detach().to(torch.float64)
        self.n_layers = cfg.num_hidden_layers
        self.keys = [torch.zeros(self.hkv, 0, self.d, dtype=torch.float64) for _ in range(self.n_layers)]
        self.values = [torch.zeros(self.hkv, 0, self.d, dtype=torch.float64) for _ in range(self.n_layers)]
        self.kept = [None] * self.n_layers  # (flattened q_bar, top) of the last full decode selection
        self.stats = {"selections": 0, "cache_hits": 0, "full_attention_steps": 0, "selected_tokens": 0,
                      "selection_steps": 0}
        self.min_boundary_gap = math.inf
        self.cosines = []
        self.record_cosines = False

    def group(self, head):
        return head // (self.h // self.hkv)  # the GQA mapping; h % Hkv would be wrong

    def select(self, layer, q, length, decoding):
        """q: [H, T, d] un-rotated queries of the chunk; returns the ascending selected index list."""
        p = self.p
        t = q.shape[1]
        cand_lo, cand_hi = p.n_init, length - p.n_local
        scoring = rotate(q, torch.arange(p.n_local, p.n_local + t), self.inv_freq).mean(dim=1)  # [H, d]
        flat = scoring.reshape(-1)
        top = None
        if decoding and self.kept[layer] is not None and (p.theta <= 1 or self.record_cosines):
            kept_q, kept_top = self.kept[layer]
            cos = torch.dot(flat, kept_q) / (flat.norm() * kept_q.norm())
            self.cosines.append(float(cos))
            if p.theta <= 1:
                self.stats["min_cosine_distance_to_theta"] = min(
                    self.stats.get("min_cosine_distance_to_theta", math.inf), abs(float(cos) - p.theta))
            if cos >= p.theta and p.theta <= 1:
                top = kept_top
                self.stats["cache_hits"] += 1
        if top is None:
            keys = self.keys[layer][:, cand_lo:cand_hi, :]  # [Hkv, C, d], no RoPE
            groups = torch.tensor([self.group(hh) for hh in range(self.h)])
            scores = torch.einsum("hd,hcd->hc", scoring, keys[groups])  # no 1/sqrt(d)
            vote = torch.softmax(scores, dim=-1).sum(dim=0)
            kk = min(p.k, vote.shape[0])
            # Ties go to the earlier token (a stable sort). Ties are common, not corner cases: at the
            # first layer an un-rotated key depends only on the token id, so repeated words tie exactly.
            order = torch.sort(vote, descending=True, stable=True).indices
            if kk < vote.shape[0]:
                a, b = float(vote[order[kk - 1]]), float(vote[order[kk]])
                if a == b:
                    self.stats["boundary_ties"] = self.stats.get("boundary_ties", 0) + 1
                else:
                    self.min_boundary_gap = min(self.min_boundary_gap, (a - b) / float(vote[order[0]]))
            top = torch.sort(order[:kk]).values + cand_lo
            self.stats["selections"] += 1
            if decoding:
                self.kept[layer] = (flat, top)
        sel = torch.cat([torch.arange(0, p.n_init), top, torch.arange(length - p.n_local, length)])
        return sel

    def attention(self, layer, q, k_new, v_new, decoding):
        """q [H, T, d], k/v [Hkv, T, d] (k un-rotated) -> [T, H*d]."""
        self.keys[layer] = torch.cat([self.keys[layer], k_new], dim=1)
        self.values[layer] = torch.cat([self.values[layer], v_new], dim=1)
        length = self.keys[layer].shape[1]
        t = q.shape[1]
        if self.p.budget >= length:
            sel = torch.arange(length)
            if layer == 0:
                self.stats["full_attention_steps"] += 1
        else:
            sel = self.select(layer, q, length, decoding)
            if layer == 0:
                self.stats["selection_steps"] += 1
                self.stats["selected_tokens"] += len(sel)
        n = len(sel)
        # Compacted positions: entry j at position j; query i at n - t + i (the true positions when sel is everything).
        # Original positions: entry j at its token's position sel[j], query i at its own, length - t + i.
        # Which entries a query sees is the same either way (the chunk is the end of the local window).
        if self.p.original_positions:
            k_pos, q_pos = sel, torch.arange(length - t, length)
        else:
            k_pos, q_pos = torch.arange(n), torch.arange(n - t, n)
        k_rot = rotate(self.keys[layer][:, sel, :], k_pos, self.inv_freq)
        q_rot = rotate(q, q_pos, self.inv_freq)
        groups = torch.tensor([self.group(hh) for hh in range(self.h)])
        scores = torch.einsum("htd,hnd->htn", q_rot, k_rot[groups]) / math.sqrt(self.d)
        mask = torch.arange(n)[None, :] > torch.arange(n - t, n)[:, None]
        scores = scores.masked_fill(mask[None], float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        out = torch.einsum("htn,hnd->htd", probs, self.values[layer][:, sel, :][groups])
        return out.permute(1, 0, 2).reshape(t, self.h * self.d)

    @torch.no_grad()
    def forward(self, ids, decoding=False):
        """Runs one chunk of token ids through all layers; returns logits [T, V]."""
        x = self.m.model.embed_tokens(torch.tensor(ids))
        t = len(ids)
        for i, layer in enumerate(self.m.model.layers):
            attn = layer.self_attn
            hcur = layer.input_layernorm(x)
            q = attn.q_proj(hcur).view(t, self.h, self.d)
            k = attn.k_proj(hcur).view(t, self.hkv, self.d)
            v = attn.v_proj(hcur).view(t, self.hkv, self.d)
            if hasattr(attn, "q_norm"):
                q, k = attn.q_norm(q), attn.k_norm(k)
            o = self.attention(i, q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), decoding)
            x = x + attn.o_proj(o)
            x = x + layer.mlp(layer.post_attention_layernorm(x))
        return self.m.lm_head(self.m.model.norm(x))

    def prefill(self, ids):
        logits = None
        for s in range(0, len(ids), self.p.prefill_chunk):
            logits = self.forward(ids[s:s + self.p.prefill_chunk])
        return logits[-1]


def median_decode_cosine(model, params, ids):
    """A theta at which about half of the decode selections hit the cache, from a dry run that
    records the cosines without reusing anything."""
    probe = TokenSelectRunner(model, Params(params.k, params.n_init, params.n_local, 2.0, params.prefill_chunk))
    probe.record_cosines = True
    logits = probe.prefill(ids)
    for _ in range(ref.GREEDY_STEPS):
        logits = probe.forward([int(logits.argmax())], decoding=True)[-1]
    cos = sorted(probe.cosines)
    return round(cos[len(cos) // 2], 4)


def long_prompt(tok, min_tokens):
    text = ("The archive holds letters, ledgers and maps. Entry {n}: the keeper of shelf {m} "
            "noted that volume {k} was moved to room {r} on day {n} of the survey. ")
    parts, n = [], 0
    while True:
        parts.append(text.format(n=n, m=(7 * n) % 31, k=(13 * n) % 97, r=(5 * n) % 11))
        n += 1
        ids = tok("".join(parts), add_special_tokens=False)["input_ids"]
        if len(ids) >= min_tokens:
            return "".join(parts), ids


@torch.no_grad()
def check_against_transformers(model, ids):
    runner = TokenSelectRunner(model, Params(k=len(ids), n_init=4, n_local=64, theta=2.0, prefill_chunk=64))
    ours = runner.prefill(ids)
    theirs = model(torch.tensor([ids])).logits[0, -1]
    err = float((ours - theirs).abs().max() / theirs.abs().max())
    # transformers computes RoPE's cos/sin in fp32 even for a float64 model: ~1e-7 is its rounding.
    assert err < 1e-6, f"reference disagrees with transformers: {err}"
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-tokens", type=int, default=1100)
    ap.add_argument("--only", default="", help="comma-separated fixture names to write (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    cases = [
        # (fixture, model, params)
        ("ts_llama3", "llama3", Params(k=32, n_init=4, n_local=32, theta=2.0, prefill_chunk=32)),
        ("ts_qwen2", "qwen2", Params(k=32, n_init=4, n_local=32, theta=2.0, prefill_chunk=32)),
        ("ts_qwen3", "qwen3", Params(k=32, n_init=4, n_local=32, theta=2.0, prefill_chunk=32)),
        ("ts_qwen3_cache", "qwen3", Params(k=48, n_init=8, n_local=64, theta=None, prefill_chunk=64)),
        ("ts_qwen2_orig", "qwen2", Params(k=32, n_init=4, n_local=32, theta=2.0, prefill_chunk=32,
                                          original_positions=True)),
    ]
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c[0] in wanted]
    models = {name: (fam, dt, cfg) for name, fam, dt, cfg in ref.MODELS}
    with tempfile.TemporaryDirectory() as tmp:
        toks = {}
        for fixture, mname, params in cases:
            family, dtype, config = models[mname]
            if family not in toks:
                toks[family] = ref.load_tokenizer(family, tmp)[0]
            tok = toks[family]
            model, tensors = ref.build_model(config, tmp, mname)
            model = model.double()
            text, ids = long_prompt(tok, args.min_tokens)
            err = check_against_transformers(model, ids)
            if params.theta is None:
                params.theta = median_decode_cosine(model, params, ids)
            runner = TokenSelectRunner(model, params)
            last = runner.prefill(ids)
            last.float().numpy().astype("<f4").tofile(os.path.join(args.out, fixture + ".logits.f32"))
            prefill_stats = dict(runner.stats)
            greedy, margins, logits = [], [], last
            for _ in range(ref.GREEDY_STEPS):
                t2 = torch.topk(logits, 2)
                greedy.append(int(t2.indices[0]))
                margins.append(float(t2.values[0] - t2.values[1]))
                logits = runner.forward([greedy[-1]], decoding=True)[-1]
            out = {
                "transformers_version": transformers.__version__, "torch_version": torch.__version__,
                "model_fixture": mname, "seed": ref.SEED, "tokenizer": family, "storage_dtype": dtype,
                "config": config, "generation_config": ref.GENERATION_CONFIGS[family],
                "select": params.as_dict(), "prompt_text": text, "prompt_ids": ids,
                "logits_file": fixture + ".logits.f32", "vocab_size": int(last.shape[0]),
                "greedy_ids": greedy, "greedy_top2_margins": margins,
                "prefill_stats": prefill_stats, "stats": runner.stats,
                "min_topk_boundary_gap": runner.min_boundary_gap,
                "full_budget_check_vs_transformers": err,
            }
            with open(os.path.join(args.out, fixture + ".json"), "w") as f:
                json.dump(out, f, ensure_ascii=False, indent=1)
            print(f"{fixture}: {len(ids)} prompt tokens, full-budget error vs transformers {err:.2e}, "
                  f"stats {runner.stats}, min boundary gap {runner.min_boundary_gap:.2e}, "
                  f"min margin {min(margins):.4f}", flush=True)


if __name__ == "__main__":
    main()
