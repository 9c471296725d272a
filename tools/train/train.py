#!/usr/bin/env python3
"""Trains a small LlamaForCausalLM on synthetic long-context retrieval tasks (tasks.py) at <= 4K tokens.

  python3 tools/train/train.py --out DIR --minutes 8            # first run: builds the tokenizer
  python3 tools/train/train.py --out DIR --minutes 8 --resume   # continues from DIR/train_state.pt
  python3 tools/train/train.py --dry-run                        # standard library only: prints samples

The learning-rate schedule and the length curriculum follow the *training time* spent so far over
--total-minutes (default 13: two 8-minute runs, less startup and saving, make one full schedule; if a
run ends with the schedule incomplete, run once more with --resume). Every run ends by saving a
complete Hugging Face model directory in DIR (bf16 model.safetensors, config.json,
generation_config.json, tokenizer.json, tokenizer_config.json with the ChatML chat_template), which
loads in transformers and in the engine. See README.md.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tasks  # noqa: E402

# Qwen2/3's pre-tokenizer regex: single digits, words with one leading non-letter, punctuation runs.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
STATE_FILE = "train_state.pt"
LOG_FILE = "train_log.txt"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="output and checkpoint directory")
    p.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget of this run, startup and saving included")
    p.add_argument("--total-minutes", type=float, default=13.0,
                   help="training-loop minutes of the whole schedule over all runs (two --minutes 8 runs give ~13)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/train_state.pt")
    p.add_argument("--init-from", metavar="MODEL_DIR",
                   help="start from a saved model's weights and tokenizer (its config.json sets the architecture);"
                        " a new schedule, optimizer and data seed (pair with --seed, and --min-len equal to --max-len"
                        " to skip the length curriculum)")
    p.add_argument("--dry-run", action="store_true", help="print samples of every task (no torch needed) and exit")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--hidden", type=int, default=384)
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--intermediate", type=int, default=1024)
    p.add_argument("--max-len", type=int, default=4096, help="longest training sequence (positions never exceed it)")
    p.add_argument("--min-len", type=int, default=512, help="first curriculum length")
    p.add_argument("--curriculum", type=float, default=0.4,
                   help="fraction of the schedule over which the length doubles from --min-len to --max-len")
    p.add_argument("--batch-tokens", type=int, default=65536, help="tokens per batch (batch size = this / length)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--lm-weight", type=float, default=0.0,
                   help="weight of an extra next-token loss on the prompt (0: loss on the answer tokens only)")
    p.add_argument("--eval-every", type=float, default=60.0, help="seconds between held-out evaluations")
    p.add_argument("--eval-samples", type=int, default=16, help="held-out samples per task per evaluation")
    p.add_argument("--ckpt-every", type=float, default=120.0, help="seconds between checkpoints")
    p.add_argument("--workers", type=int, default=max(1, min(14, (os.cpu_count() or 2) - 2)))
    p.add_argument("--compile", action="store_true", help="torch.compile the model (one compilation per length)")
    p.add_argument("--save-reserve", type=float, default=45.0, help="seconds kept at the end for saving")
    p.add_argument("--task-weights", metavar="TASK=W,...", default="",
                   help="relative sampling weight of tasks (others 1), e.g. niah_single_noise=0.25,"
                        "niah_single_prose=0.25 to spend the batches on the tasks not yet learned; default uniform")
    args = p.parse_args(argv)
    try:
        args.task_weights = parse_task_weights(args.task_weights)
    except ValueError as e:
        p.error("--task-weights: %s" % e)
    if not args.dry_run and not args.out:
        p.error("--out is required")
    if not 0 <= args.seed < (1 << 28):
        p.error("--seed must be in [0, 2**28)")
    return args


def parse_task_weights(spec):
    """'task=w,...' as a list of weights in tasks.TASKS order (others 1), or None for the uniform mix."""
    if not spec.strip():
        return None
    weights = {t: 1.0 for t in tasks.TASKS}
    for part in spec.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in weights:
            raise ValueError("expected TASK=WEIGHT with TASK one of %s, got %r" % (", ".join(tasks.TASKS), part))
        w = float(value)
        if not w >= 0:
            raise ValueError("a weight must be >= 0, got %r" % part)
        weights[name] = w
    if sum(weights.values()) <= 0:
        raise ValueError("every task has weight 0")
    return [weights[t] for t in tasks.TASKS]


# --------------------------------------------------------------------------------------------------
# Dry run: the task generators alone.

def dry_run(args):
    t0 = time.time()
    for task in tasks.TASKS:
        seed = (args.seed << 32) | 7
        s = tasks.make_sample(task, seed, 400, tasks.approx_tokens)
        again = tasks.make_sample(task, seed, 400, tasks.approx_tokens)
        assert s.user == again.user and s.answer == again.answer, "not deterministic: " + task
        prompt = s.prompt_text()
        n = tasks.approx_tokens(prompt)
        assert n <= 400, (task, n)
        for e in s.expected_in_prompt():
            assert e in prompt, (task, e)
        assert tasks.score(s.answer, s.answers), task
        assert not tasks.score("I do not know", s.answers), task
        print("=" * 100)
        print("task %s  seed %d  ~%d tokens  answers %s" % (task, seed, n, s.answers))
        print(tasks.render_chat(s.messages(True), False))
    # Longer samples: lengths and speed.
    for task in tasks.TASKS:
        for target in (1024, 4096):
            s = tasks.make_sample(task, (args.seed << 32) | 11, target, tasks.approx_tokens)
            n = tasks.approx_tokens(s.prompt_text())
            assert target - 64 <= n <= target, (task, target, n)
            for e in s.expected_in_prompt():
                assert e in s.user, (task, e)
    # The task mix the batches would draw (first 4096 rows of seed args.seed)
    mix = {t: 0 for t in tasks.TASKS}
    for j in range(4096):
        mix[pick_task(random.Random(((args.seed << 32) | j) ^ 0x5DEECE66D), args.task_weights)] += 1
    print("=" * 100)
    print("task mix of 4096 rows: " + ", ".join("%s %.3f" % (t, n / 4096) for t, n in mix.items()))
    print("dry run ok: %d tasks, generators deterministic, lengths within 64 tokens of the target (%.1f s)"
          % (len(tasks.TASKS), time.time() - t0))


# --------------------------------------------------------------------------------------------------
# Tokenizer

def build_tokenizer(out, args, log):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    corpus = []
    for text in tasks.corpus_for_tokenizer(2400, args.seed):
        corpus.append(text.replace("<|im_start|>", "").replace("<|im_end|>", ""))
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=args.vocab, min_frequency=2, special_tokens=tasks.SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer=trainer)
    for i, t in enumerate(tasks.SPECIAL_TOKENS):
        assert tok.token_to_id(t) == i, (t, tok.token_to_id(t))
    tok.save(os.path.join(out, "tokenizer.json"))
    log("tokenizer: %d tokens trained on %d generated texts" % (tok.get_vocab_size(), len(corpus)))


def write_tokenizer_config(out, args):
    """tokenizer_config.json with the chat template inline (no chat_template.jinja), as the engine reads it."""
    path = os.path.join(out, "tokenizer_config.json")
    cfg = {}
    if os.path.exists(path):
        with open(path) as f:
            cfg = json.load(f)
    cfg.update({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": tasks.BOS, "eos_token": tasks.EOS, "pad_token": tasks.PAD, "unk_token": None,
        "add_bos_token": False, "add_eos_token": False, "clean_up_tokenization_spaces": False,
        "model_max_length": args.max_len, "chat_template": tasks.CHAT_TEMPLATE,
    })
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
    jinja = os.path.join(out, "chat_template.jinja")
    if os.path.exists(jinja):
        os.remove(jinja)


def check_tokenizer(out, log):
    from transformers import AutoTokenizer
    try:
        hf = AutoTokenizer.from_pretrained(out)
    except Exception as e:  # training is still useful to the engine; say so loudly
        log("WARNING: transformers cannot load the tokenizer (%r); the engine may still" % (e,))
        return
    s = tasks.make_sample("niah_multikey", tasks.VALID_SEED_BASE, 300, tasks.approx_tokens)
    for gen in (True, False):
        msgs = s.messages(not gen)
        got = hf.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)
        assert got == tasks.render_chat(msgs, gen), "chat template differs from tasks.render_chat"
    assert hf.eos_token == tasks.EOS and hf.eos_token_id == 2, (hf.eos_token, hf.eos_token_id)
    log("tokenizer check ok: transformers renders the chat template like tasks.render_chat")


# --------------------------------------------------------------------------------------------------
# Data (worker processes)

_TOK = None


def _init_worker(tokenizer_path):
    global _TOK
    from tokenizers import Tokenizer
    _TOK = Tokenizer.from_file(tokenizer_path)


def _count(text):
    return len(_TOK.encode(text, add_special_tokens=False).ids)


def _ids(text):
    return _TOK.encode(text, add_special_tokens=False).ids


def encode_sample(s):
    """(prompt ids, answer ids): the answer ids end with <|im_end|> (id 2), the EOS the model must emit."""
    return _ids(s.prompt_text()), _ids(s.answer) + [2]


def pick_task(rng, task_weights):
    """A task for one row: uniform (rng.choice, as runs without weights always drew) or by weight."""
    if task_weights is None:
        return rng.choice(tasks.TASKS)
    return rng.choices(tasks.TASKS, weights=task_weights)[0]


def make_batch(run_seed, index, length, batch_tokens, task_weights=None):
    """Batch `index` of the run: deterministic given (run seed, index, length, weights). Returns token rows
    padded to `length` with id 0 and the number of leading prompt tokens and answer tokens of each row."""
    rows, spans = [], []
    count = max(1, batch_tokens // length)
    for j in range(count):
        seed = (run_seed << 32) | (index * 1024 + j)
        assert seed < tasks.TRAIN_SEED_LIMIT
        rng = random.Random(seed ^ 0x5DEECE66D)
        task = pick_task(rng, task_weights)
        lo = min(256, length) if rng.random() < 0.5 else length // 2
        target = rng.randint(lo, length) - 24  # room for the answer
        p, a = encode_sample(tasks.make_sample(task, seed, target, _count))
        seq = (p + a)[:length]
        rows.append(seq + [0] * (length - len(seq)))
        spans.append((len(p), len(a)))
    return rows, spans


def make_eval_set(task_index, n, length):
    out = []
    for j in range(n):
        seed = tasks.VALID_SEED_BASE + task_index * 1_000_000 + j
        s = tasks.make_sample(tasks.TASKS[task_index], seed, length - 64, _count)
        out.append(encode_sample(s))
    return out


# --------------------------------------------------------------------------------------------------
# Training

def init_from_model(args, out):
    """Takes the architecture from MODEL_DIR/config.json and copies its tokenizer files into out."""
    src = args.init_from
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("architectures") != ["LlamaForCausalLM"]:
        sys.exit("--init-from %s: a LlamaForCausalLM this script trains is needed, found %s"
                 % (src, cfg.get("architectures")))
    args.vocab = cfg["vocab_size"]
    args.hidden = cfg["hidden_size"]
    args.layers = cfg["num_hidden_layers"]
    args.heads = cfg["num_attention_heads"]
    args.kv_heads = cfg["num_key_value_heads"]
    args.head_dim = cfg.get("head_dim", args.hidden // args.heads)
    args.intermediate = cfg["intermediate_size"]
    if args.max_len > cfg["max_position_embeddings"]:
        sys.exit("--init-from %s: --max-len %d is past the model's %d positions"
                 % (src, args.max_len, cfg["max_position_embeddings"]))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        if not os.path.exists(os.path.join(out, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(out, name))


def main(args):
    t_start = time.time()
    deadline = t_start + args.minutes * 60 - args.save_reserve
    out = args.out
    os.makedirs(out, exist_ok=True)
    state_path = os.path.join(out, STATE_FILE)
    if os.path.exists(state_path) and not args.resume:
        sys.exit("%s exists: pass --resume to continue, or choose another --out" % state_path)
    if args.resume and not os.path.exists(state_path):
        sys.exit("--resume: no %s" % state_path)
    if args.init_from:
        if args.resume:
            sys.exit("--init-from starts a new schedule: it does not go with --resume")
        init_from_model(args, out)

    log_file = open(os.path.join(out, LOG_FILE), "a")

    def log(msg):
        line = "[%7.1fs] %s" % (time.time() - t_start, msg)
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    import multiprocessing as mp
    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if args.resume:
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        saved = state["args"]
        for k in ("seed", "vocab", "hidden", "layers", "heads", "kv_heads", "head_dim", "intermediate", "max_len"):
            setattr(args, k, saved[k])  # the model and data must stay what they were
    else:
        state = None
    log("run: %s" % json.dumps(vars(args), sort_keys=True))
    log("torch %s, transformers %s, cuda %s" % (torch.__version__, transformers.__version__,
                                                torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"))
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    tok_path = os.path.join(out, "tokenizer.json")
    if not os.path.exists(tok_path):
        build_tokenizer(out, args, log)
        write_tokenizer_config(out, args)
        check_tokenizer(out, log)
    if not os.path.exists(os.path.join(out, "run_config.json")):  # a new run (from scratch or --init-from)
        with open(os.path.join(out, "seed.txt"), "w") as f:
            f.write("%d\n" % args.seed)
        with open(os.path.join(out, "run_config.json"), "w") as f:
            json.dump({"args": vars(args), "tasks": tasks.TASKS,
                       "seed_namespaces": {"train": "< 2**60", "held_out_log": "[2**60, 2**61)", "eval": ">= 2**62"}},
                      f, indent=2)

    config = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        head_dim=args.head_dim, max_position_embeddings=args.max_len, rms_norm_eps=1e-5,
        tie_word_embeddings=True, attention_bias=False, mlp_bias=False, hidden_act="silu",
        bos_token_id=0, eos_token_id=2, pad_token_id=0, initializer_range=0.02, use_cache=False)
    model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa").to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log("model: %.2fM parameters (%.1f MB in bf16)" % (n_params / 1e6, n_params * 2 / 1e6))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=device == "cuda")
    step, trained, batch_index = 0, 0.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, trained, batch_index = state["step"], state["trained_seconds"], state["batch_index"]
        log("resumed at step %d, %.1f training minutes done, batch %d" % (step, trained / 60, batch_index))
    elif args.init_from:
        start = LlamaForCausalLM.from_pretrained(args.init_from, dtype=torch.float32)
        model.load_state_dict(start.state_dict())
        del start
        log("weights from %s" % args.init_from)
    backbone = torch.compile(model.model) if args.compile else model.model
    total = args.total_minutes * 60

    def progress():
        return min(1.0, trained / total)

    def seq_len(p):
        stages = int(round(math.log2(args.max_len / args.min_len)))
        stage = min(stages, int(p / args.curriculum * (stages + 1))) if args.curriculum > 0 else stages
        return args.min_len << stage

    def lr_at(p):
        warm = min(1.0, (step + 1) / args.warmup_steps)
        r = args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p))
        return args.lr * warm * r

    def supervised(rows, spans):
        ids = torch.tensor(rows, dtype=torch.long)
        mask = torch.zeros_like(ids, dtype=torch.bool)
        for r, (pl, al) in enumerate(spans):
            mask[r, pl:min(pl + al, ids.shape[1])] = True
        return ids.to(device, non_blocking=True), mask.to(device, non_blocking=True)

    def forward_loss(ids, mask):
        with torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16):
            h = backbone(input_ids=ids, use_cache=False).last_hidden_state
            tgt = mask[:, 1:]
            logits = model.lm_head(h[:, :-1][tgt]).float()
            loss = F.cross_entropy(logits, ids[:, 1:][tgt])
            if args.lm_weight > 0:
                ctx = (~mask[:, 1:]) & (ids[:, 1:] != 0)
                lm = F.cross_entropy(model.lm_head(h[:, :-1][ctx]).float(), ids[:, 1:][ctx])
                loss = loss + args.lm_weight * lm
        return loss

    @torch.no_grad()
    def evaluate(pool, length):
        """Teacher-forced exact match on held-out samples: every answer token (and the EOS) is the argmax,
        which is what greedy decoding would produce."""
        model.eval()
        sets = pool.starmap(make_eval_set, [(i, args.eval_samples, length) for i in range(len(tasks.TASKS))])
        acc = {}
        for name, samples in zip(tasks.TASKS, sets):
            ok = 0
            per = max(1, args.batch_tokens // length)
            for b in range(0, len(samples), per):
                chunk = samples[b:b + per]
                width = max(len(p) + len(a) for p, a in chunk)
                rows = [p + a + [0] * (width - len(p) - len(a)) for p, a in chunk]
                ids, mask = supervised(rows, [(len(p), len(a)) for p, a in chunk])
                with torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16):
                    h = model.model(input_ids=ids, use_cache=False).last_hidden_state
                    pred = model.lm_head(h[:, :-1]).argmax(-1)
                good = (pred == ids[:, 1:]) | ~mask[:, 1:]
                ok += int(good.all(dim=1).sum())
            acc[name] = ok / len(samples)
        model.train()
        return acc

    def save_state():
        tmp = state_path + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "trained_seconds": trained, "batch_index": batch_index, "args": vars(args)}, tmp)
        os.replace(tmp, state_path)

    ctx = mp.get_context("spawn")
    pool = ctx.Pool(args.workers, initializer=_init_worker, initargs=(tok_path,))
    pending = []
    prefetch = 2 * args.workers

    def submit():
        nonlocal batch_index
        length = seq_len(progress())
        pending.append((length, pool.apply_async(make_batch, (args.seed, batch_index, length, args.batch_tokens,
                                                               args.task_weights))))
        batch_index += 1

    model.train()
    last_eval = last_ckpt = last_log = time.time()
    losses, answer_tokens = [], 0
    log("training: %.1f of %.1f schedule minutes done; this run stops at %.1f min wall-clock"
        % (trained / 60, args.total_minutes, (deadline - t_start) / 60))
    while progress() < 1.0 and time.time() < deadline:
        while len(pending) < prefetch:
            submit()
        t0 = time.time()  # training time includes waiting for data, not evaluations and checkpoints
        length, job = pending.pop(0)
        rows, spans = job.get()
        ids, mask = supervised(rows, spans)
        lr = lr_at(progress())
        for g in opt.param_groups:
            g["lr"] = lr
        loss = forward_loss(ids, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        answer_tokens += sum(a for _, a in spans)
        step += 1
        trained += time.time() - t0
        now = time.time()
        if now - last_log >= 15:
            log("step %d  len %d  batch %d  loss %.4f  lr %.2e  progress %.3f  answer tokens %d"
                % (step, length, len(rows), sum(losses) / len(losses), lr, progress(), answer_tokens))
            losses, last_log = [], now
        if now - last_eval >= args.eval_every:
            acc = evaluate(pool, length)
            log("held-out accuracy at %d tokens: %s  mean %.3f"
                % (length, " ".join("%s=%.2f" % kv for kv in acc.items()), sum(acc.values()) / len(acc)))
            last_eval = time.time()
        if now - last_ckpt >= args.ckpt_every:
            save_state()
            last_ckpt = time.time()

    log("stopping at step %d, %.2f of %.1f schedule minutes (%s)" % (
        step, trained / 60, args.total_minutes, "schedule complete" if progress() >= 1 else "time budget of this run"))
    for _, job in pending:  # let in-flight batches finish; they are regenerated on resume
        job.wait()
    batch_index -= len(pending)
    acc = evaluate(pool, args.max_len)
    log("final held-out accuracy at %d tokens: %s  mean %.3f" % (
        args.max_len, " ".join("%s=%.2f" % kv for kv in acc.items()), sum(acc.values()) / len(acc)))
    pool.close()
    save_state()

    # The Hugging Face directory: bf16 weights, config, generation config (tokenizer files are already there).
    model.generation_config = GenerationConfig(bos_token_id=0, eos_token_id=2, pad_token_id=0, do_sample=False,
                                               max_new_tokens=64)
    model.to(torch.bfloat16)
    try:
        model.save_pretrained(out, safe_serialization=True)
    except TypeError:  # newer transformers always write safetensors and dropped the argument
        model.save_pretrained(out)
    cfg_path = os.path.join(out, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    rope = cfg.get("rope_parameters") or {}
    assert float(rope.get("rope_theta", cfg.get("rope_theta", 10000.0))) == 10000.0, cfg
    cfg.setdefault("rope_theta", 10000.0)  # older readers look here; transformers 5 reads rope_parameters
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2)
    size = os.path.getsize(os.path.join(out, "model.safetensors"))
    log("saved %s (model.safetensors %.1f MB)" % (out, size / 1e6))
    check_saved(out, log, device)
    log("done in %.1f min wall-clock" % ((time.time() - t_start) / 60))


def check_saved(out, log, device):
    """Reload the directory with transformers and answer two held-out questions greedily."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.bfloat16).to(device).eval()
    count = lambda t: len(tok(t, add_special_tokens=False)["input_ids"])  # noqa: E731
    for i, task in enumerate(("niah_single_noise", "niah_multikey")):
        s = tasks.make_sample(task, tasks.VALID_SEED_BASE + 900_000 + i, 2048, count)
        ids = tok.apply_chat_template(s.messages(False), add_generation_prompt=True, return_tensors="pt",
                                      return_dict=True)["input_ids"].to(device)
        with torch.no_grad():
            gen = model.generate(ids, max_new_tokens=48, do_sample=False)
        text = tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)
        log("reload check %s (%d tokens): expected %s, generated %r -> %s" % (
            task, ids.shape[1], s.answers, text, "ok" if tasks.score(text, s.answers) else "WRONG"))


if __name__ == "__main__":
    a = parse_args()
    if a.dry_run:
        dry_run(a)
    else:
        main(a)
