#!/usr/bin/env python3
"""transformers reference logits for random-weight models of released geometries, on the GPU.

  python3 tools/gpu/reference_large.py --out DIR [--presets qwen2.5-0.5b,llama-3.2-1b,qwen2-7b]

For each preset: transformers builds the model from the released config (its own random
initialisation, seed 1, in bf16, with biases and norm weights perturbed so those paths matter) and
saves it with save_pretrained into DIR/NAME (safetensors, the Hugging Face layout the engine loads).
The reference is transformers' forward in fp32 (the same bf16 weights upcast, TF32 off) over a fixed
prompt of token ids, plus 16 greedy steps. Writes DIR/NAME.json (config, prompt ids, top logits,
greedy ids and their top-2 margins) and DIR/NAME.logits.f32. The CUDA self-test
(`CudaSelfTest --large DIR`) loads DIR/NAME and compares against these.
"""
import argparse
import json
import os
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM

SEED = 1
PROMPT = [(i * 7919 + 13) % 100000 for i in range(48)]

PRESETS = {
    "qwen2.5-0.5b": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
                     "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                     "num_key_value_heads": 2, "vocab_size": 151936, "rope_theta": 1e6, "rms_norm_eps": 1e-6,
                     "tie_word_embeddings": True, "max_position_embeddings": 32768, "hidden_act": "silu",
                     "use_sliding_window": False},
    "qwen2-7b": {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584,
                 "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
                 "num_key_value_heads": 4, "vocab_size": 152064, "rope_theta": 1e6, "rms_norm_eps": 1e-6,
                 "tie_word_embeddings": False, "max_position_embeddings": 131072, "hidden_act": "silu",
                 "use_sliding_window": False},
    "llama-3.2-1b": {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048,
                     "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
                     "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 128256, "rope_theta": 500000.0,
                     "rms_norm_eps": 1e-5, "tie_word_embeddings": True, "max_position_embeddings": 131072,
                     "hidden_act": "silu",
                     "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}},
}


def preset_config(name, root):
    """The preset's config.json written under root, read back by transformers' AutoConfig."""
    cfg_dir = os.path.join(root, "cfg-" + name)
    os.makedirs(cfg_dir, exist_ok=True)
    with open(os.path.join(cfg_dir, "config.json"), "w") as f:
        json.dump(PRESETS[name], f)
    return AutoConfig.from_pretrained(cfg_dir)


def run(name, out):
    cfg = dict(PRESETS[name])
    config = preset_config(name, out)
    torch.manual_seed(SEED)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager", dtype=torch.bfloat16)
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if pname.endswith("bias"):
                param.normal_(0.0, 0.02)
            elif "norm" in pname:
                param.normal_(1.0, 0.1)
    model.eval()
    model_dir = os.path.join(out, name)
    model.save_pretrained(model_dir)
    model = model.float()
    prompt = [t % cfg["vocab_size"] for t in PROMPT]
    with torch.no_grad():
        o = model(torch.tensor([prompt], device="cuda"), use_cache=True)
        last = o.logits[0, -1].float()
        last.cpu().numpy().astype("<f4").tofile(os.path.join(out, name + ".logits.f32"))
        past, logits, greedy, margins = o.past_key_values, last, [], []
        for _ in range(16):
            t2 = torch.topk(logits, 2)
            greedy.append(int(t2.indices[0]))
            margins.append(float(t2.values[0] - t2.values[1]))
            o = model(torch.tensor([[greedy[-1]]], device="cuda"), past_key_values=past, use_cache=True)
            past, logits = o.past_key_values, o.logits[0, -1].float()
    top = torch.topk(last, 16)
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump({"preset": name, "seed": SEED, "config": cfg, "model_dir": name, "prompt_ids": prompt,
                   "vocab_size": int(last.shape[0]), "logits_file": name + ".logits.f32",
                   "top_ids": top.indices.tolist(), "top_values": top.values.tolist(), "greedy_ids": greedy,
                   "greedy_top2_margins": margins}, f, indent=1)
    print(f"{name}: saved to {model_dir}; greedy {greedy[:6]}..., min margin {min(margins):.4f}", flush=True)
    del model, past
    torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--presets", default="qwen2.5-0.5b,llama-3.2-1b,qwen2-7b")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    os.makedirs(args.out, exist_ok=True)
    for name in args.presets.split(","):
        run(name, args.out)


if __name__ == "__main__":
    main()
