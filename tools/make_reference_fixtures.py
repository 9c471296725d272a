#!/usr/bin/env python3
"""Writes the engine's reference fixtures with Hugging Face transformers.

  python3 tools/make_reference_fixtures.py --out DIR

Outputs (copy into engine/src/test/resources/fixtures/):
  tokenizer/{qwen3,llama3_1}.json      ids and decoded text for tricky inputs
  chat_template/{qwen3,llama3_1}.json  rendered chat templates (+ ids)
  models/NAME.json, NAME.logits.f32    random-weight models of each architecture: config, tensor
                                       list, prompt ids, last-position logits (fp32, little endian)
                                       and 24 greedy tokens with their top-2 margins

The weights come from tools/synthetic_weights.py, which the engine's SyntheticModelWriter mirrors,
so the tests rebuild the same model files instead of committing them.
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic_weights import tensor_values  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZERS = os.path.join(REPO, "engine/src/test/resources/tokenizers")

TOKENIZER_TEXTS = [
    "Hello world",
    "Hello, world! How's it going? I'd say we're fine; they'll see.",
    "  leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nand\n\n\nblank lines\n",
    "whitespace runs:      six spaces, then\u3000ideographic\u00a0nbsp",
    "numbers 1234567 3.14159 1,000,000 and 0x1F",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "public static void main(String[] args) { System.out.println(\"hi\"); }",
    "안녕하세요, 세계! 한국어 문장은 어떻게 나뉘나요?",
    "日本語とかんじ、中文汉字，混合 text.",
    "emoji: 😀👍🏽👨‍👩‍👧‍👦 🇰🇷 ❤️ done",
    "Ünïcödé àccents: café naïve façade Straße",
    "combining: e\u0301 vs \u00e9 and A\u030a",
    "math: ∑_{i=1}^{n} x² ≤ ∞ → λ",
    "Привет, мир! Ελληνικά και العربية",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "text with <think>reasoning</think> tags and <tool_call> inside",
    "URL https://example.com/path?q=1&r=two#frag and email a.b@c.org",
    "'s 't 're 've 'm 'll 'd 'S 'T CAPS'LL",
    "a" * 50 + " " + "ab" * 40,
    "\n",
    " ",
    "",
]

SYSTEM = "You are a precise assistant. Answer briefly."
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Seoul"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}]


def chat_cases(family):
    cases = [
        {"name": "single_user", "messages": [{"role": "user", "content": "Hi"}]},
        {"name": "system_multi_turn", "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "And of Korea?"},
        ]},
        {"name": "unicode_korean_emoji", "messages": [
            {"role": "system", "content": "답변은 한국어로 하세요 🙂"},
            {"role": "user", "content": "서울의 날씨는 어때요? ☀️🌧️ Ünïcödé"},
        ]},
        {"name": "code_content", "messages": [
            {"role": "user", "content": "Fix this:\n```python\ndef f(x):\n  return x+1\n```\n"},
            {"role": "assistant", "content": "```python\ndef f(x):\n    return x + 1\n```"},
            {"role": "user", "content": "  Thanks!  "},
        ]},
        {"name": "no_generation_prompt", "add_generation_prompt": False, "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Ping"},
            {"role": "assistant", "content": "Pong"},
        ]},
        {"name": "tools_round_trip", "tools": TOOLS, "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Weather in Seoul?"},
            {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
                "name": "get_weather", "arguments": {"city": "Seoul", "unit": "celsius"}}}]},
            {"role": "tool", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"},
        ]},
        {"name": "tools_user_only", "tools": TOOLS, "messages": [
            {"role": "user", "content": "Weather in Paris?"},
        ]},
    ]
    if family == "qwen3":
        cases += [
            {"name": "thinking_history", "messages": [
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "<think>\nSimple sum.\n</think>\n\n4"},
                {"role": "user", "content": "3+3?"},
            ]},
            {"name": "enable_thinking_false", "extra": {"enable_thinking": False}, "messages": [
                {"role": "user", "content": "Say hello."},
            ]},
        ]
    return cases


MODELS = [
    # name, tokenizer, storage dtype, config.json (as real checkpoints write it)
    ("llama3", "llama3_1", "bf16", {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "vocab_size": 128256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": False,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16",
    }),
    ("llama_linear", "llama3_1", "f16", {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2,
        "num_attention_heads": 8, "num_key_value_heads": 8,
        "vocab_size": 128256, "max_position_embeddings": 4096, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
        "rope_scaling": {"type": "linear", "factor": 4.0},
        "bos_token_id": 128000, "eos_token_id": 128009, "torch_dtype": "float16",
    }),
    ("qwen2", "qwen3", "bf16", {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2,
        "vocab_size": 151936, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0, "hidden_act": "silu", "tie_word_embeddings": True,
        "use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 2,
        "bos_token_id": 151643, "eos_token_id": 151645, "torch_dtype": "bfloat16",
    }),
    ("qwen3", "qwen3", "bf16", {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
        "hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
        "vocab_size": 151936, "max_position_embeddings": 40960, "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0, "hidden_act": "silu", "tie_word_embeddings": False,
        "attention_bias": False, "use_sliding_window": False, "sliding_window": None,
        "max_window_layers": 3,
        "bos_token_id": 151643, "eos_token_id": 151645, "torch_dtype": "bfloat16",
    }),
    ("mistral", "llama3_1", "f32", {
        "architectures": ["MistralForCausalLM"], "model_type": "mistral",
        "hidden_size": 64, "intermediate_size": 224, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16,
        "vocab_size": 128256, "max_position_embeddings": 32768, "rms_norm_eps": 1e-5,
        "rope_theta": 1000000.0, "hidden_act": "silu", "tie_word_embeddings": False,
        "sliding_window": None,
        "bos_token_id": 128000, "eos_token_id": 128009, "torch_dtype": "float32",
    }),
]

GENERATION_CONFIGS = {
    "llama3_1": {"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
                 "do_sample": True, "temperature": 0.6, "top_p": 0.9},
    "qwen3": {"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643,
              "do_sample": True, "temperature": 0.6, "top_k": 20, "top_p": 0.95},
}

PROMPT_MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "Summarise in one line: the quick brown fox jumps over the lazy dog, "
                                "while 3 cats watch from the 2nd floor — 고양이 🐈."},
]

SEED = 20261127
GREEDY_STEPS = 24


def load_tokenizer(family, tmp):
    d = os.path.join(tmp, "tok-" + family)
    os.makedirs(d, exist_ok=True)
    with gzip.open(os.path.join(TOKENIZERS, family, "tokenizer.json.gz"), "rb") as src, \
            open(os.path.join(d, "tokenizer.json"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(TOKENIZERS, family, "tokenizer_config.json"), d)
    return AutoTokenizer.from_pretrained(d), d


def tokenizer_fixture(tok):
    cases = []
    for text in TOKENIZER_TEXTS:
        for special in (False, True):
            ids = tok(text, add_special_tokens=special)["input_ids"]
            cases.append({"text": text, "add_special_tokens": special, "ids": ids,
                          "decoded": tok.decode(ids, skip_special_tokens=False,
                                                clean_up_tokenization_spaces=False)})
    return {"transformers_version": transformers.__version__, "cases": cases}


def chat_fixture(tok, family):
    cases = []
    for case in chat_cases(family):
        agp = case.get("add_generation_prompt", True)
        extra = case.get("extra", {})
        text = tok.apply_chat_template(case["messages"], tools=case.get("tools"),
                                       add_generation_prompt=agp, tokenize=False, **extra)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        cases.append({"name": case["name"], "messages": case["messages"], "tools": case.get("tools"),
                      "add_generation_prompt": agp, "extra": extra, "text": text, "ids": ids})
    return {"transformers_version": transformers.__version__, "cases": cases}


def build_model(config_dict, tmp, name):
    d = os.path.join(tmp, "model-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config_dict, f)
    config = AutoConfig.from_pretrained(d)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").float()
    print(name, "rope as transformers reads it:", getattr(config, "rope_parameters", None)
          or getattr(config, "rope_scaling", None), flush=True)
    tensors = []
    with torch.no_grad():
        for pname, param in model.named_parameters():  # tied weights appear once
            values = tensor_values(SEED, pname, tuple(param.shape))
            param.copy_(torch.from_numpy(values))
            tensors.append({"name": pname, "shape": list(param.shape)})
    model.tie_weights()
    model.eval()
    return model, tensors


def model_fixture(name, family, dtype, config_dict, tok, out_dir, tmp):
    model, tensors = build_model(config_dict, tmp, name)
    text = tok.apply_chat_template(PROMPT_MESSAGES, add_generation_prompt=True, tokenize=False)
    prompt_ids = tok(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model(torch.tensor([prompt_ids]), use_cache=True)
        last = out.logits[0, -1].float()
        last.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".logits.f32"))
        top = torch.topk(last, 16)
        past = out.past_key_values
        greedy, margins = [], []
        logits = last
        for _ in range(GREEDY_STEPS):
            t2 = torch.topk(logits, 2)
            nxt = int(t2.indices[0])
            greedy.append(nxt)
            margins.append(float(t2.values[0] - t2.values[1]))
            step = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = step.past_key_values
            logits = step.logits[0, -1].float()
        # The same continuation without a cache, to be sure the cached loop is what HF computes.
        full = model(torch.tensor([prompt_ids + greedy[:-1]])).logits[0].argmax(-1).tolist()
        assert full[len(prompt_ids) - 1:] == greedy, (name, full[len(prompt_ids) - 1:], greedy)
    fixture = {
        "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "seed": SEED, "tokenizer": family, "storage_dtype": dtype, "config": config_dict,
        "generation_config": GENERATION_CONFIGS[family], "tensors": tensors,
        "prompt_messages": PROMPT_MESSAGES, "prompt_text": text, "prompt_ids": prompt_ids,
        "logits_file": name + ".logits.f32", "vocab_size": int(last.shape[0]),
        "top_ids": top.indices.tolist(), "top_values": top.values.tolist(),
        "greedy_ids": greedy, "greedy_top2_margins": margins,
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
    print(f"{name}: {len(prompt_ids)} prompt tokens, greedy {greedy[:8]}..., "
          f"min margin {min(margins):.4f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for sub in ("tokenizer", "chat_template", "models"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        toks = {}
        for family in ("qwen3", "llama3_1"):
            tok, _ = load_tokenizer(family, tmp)
            toks[family] = tok
            with open(os.path.join(args.out, "tokenizer", family + ".json"), "w") as f:
                json.dump(tokenizer_fixture(tok), f, ensure_ascii=False, indent=1)
            with open(os.path.join(args.out, "chat_template", family + ".json"), "w") as f:
                json.dump(chat_fixture(tok, family), f, ensure_ascii=False, indent=1)
            print(f"tokenizer and chat template fixtures for {family} written", flush=True)
        for name, family, dtype, config in MODELS:
            model_fixture(name, family, dtype, config, toks[family],
                          os.path.join(args.out, "models"), tmp)


if __name__ == "__main__":
    main()
