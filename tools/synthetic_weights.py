"""Deterministic synthetic weights shared with the engine's SyntheticModelWriter.

Both sides derive every weight from (seed, tensor name, element index) with splitmix64, so a test
can write a model of any real architecture on the fly and compare it with transformers run on the
very same numbers, without committing weight files. Every value is exactly representable in bf16,
f16 and f32, so one reference serves all three storage types.

Spec (mirrored in dev.tokenselect.engine.model.synthetic.SyntheticWeights):
  stream seed  s = (seed * 0x9E3779B97F4A7C15 mod 2^64) XOR crc32(utf8(name))
  element i    r = splitmix64(s + i)                     (row-major index in the HF shape)
  norm weights (name ends with "norm.weight"):  1 + ((r >> 60) - 8) / 64
  other        (k = r >> 56):                   (k - 128) / 128 * scale
     scale = 1 for embed_tokens / lm_head, 1/8 for biases,
             2^-floor(log2(fan_in) / 2) for matrices (fan_in = last dimension)
"""
import zlib

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1


def splitmix64(x):
    with np.errstate(over="ignore"):
        z = x + np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def scale_exponent(name, shape):
    if "embed_tokens" in name or name.startswith("lm_head"):
        return 0
    if name.endswith(".bias"):
        return 3
    fan_in = int(shape[-1])
    return (fan_in.bit_length() - 1) // 2


def tensor_values(seed, name, shape):
    n = int(np.prod(shape))
    s = ((seed * GOLDEN) & MASK) ^ zlib.crc32(name.encode("utf-8"))
    with np.errstate(over="ignore"):
        r = splitmix64(np.uint64(s) + np.arange(n, dtype=np.uint64))
    if name.endswith("norm.weight"):
        v = 1.0 + ((r >> np.uint64(60)).astype(np.int64) - 8).astype(np.float64) / 64.0
    else:
        k = (r >> np.uint64(56)).astype(np.int64) - 128
        v = k.astype(np.float64) / 128.0 * (2.0 ** -scale_exponent(name, shape))
    return v.astype(np.float32).reshape(shape)
