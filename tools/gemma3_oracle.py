#!/usr/bin/env python3
"""Float64 NumPy forward pass of a Gemma 3 GGUF: the oracle for Peregrine's Gemma3 model on prompts
longer than the sliding window. Weights are decoded with gguf-py; everything after decoding is f64,
with no activation quantization and no f16 KV cache, so it shows the architecture, not the arithmetic.

usage: gemma3_oracle.py MODEL.gguf IDS.json POSITIONS... [--no-window]
IDS.json is a JSON list of token ids. Prints JSON: for each position, the top-10 natural-log
probabilities of the next token.
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    no_window = "--no-window" in sys.argv
    path, ids_path, positions = args[0], args[1], [int(p) for p in args[2:]]
    ids = json.load(open(ids_path))
    r = GGUFReader(path)
    meta = {k: f.contents() for k, f in r.fields.items() if k.startswith("gemma3.")}
    tensors = {t.name: t for t in r.tensors}

    def weight(name):
        t = tensors[name]
        return dequantize(t.data, t.tensor_type).astype(np.float64)

    d = meta["gemma3.embedding_length"]
    n_layers = meta["gemma3.block_count"]
    heads = meta["gemma3.attention.head_count"]
    kv_heads = meta["gemma3.attention.head_count_kv"]
    hd = meta["gemma3.attention.key_length"]
    eps = meta["gemma3.attention.layer_norm_rms_epsilon"]
    window = meta["gemma3.attention.sliding_window"]
    global_base = meta.get("gemma3.rope.freq_base", 1e6)
    local_base = 10000.0
    n = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rope(x, base):  # x: [n, h, hd], NEOX pairs (i, i + hd/2)
        half = hd // 2
        inv = base ** (-2.0 * np.arange(half) / hd)
        ang = np.arange(n)[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., :half], x[..., half:]
        return np.concatenate([a * c - b * s, a * s + b * c], -1)

    emb = tensors["token_embd.weight"]
    table = dequantize(emb.data, emb.tensor_type)  # [vocab, d] float32
    x = table[ids].astype(np.float64) * np.sqrt(d)
    pos = np.arange(n)
    for l in range(n_layers):
        p = f"blk.{l}."
        local = (l + 1) % 6 != 0
        xn = rms(x, weight(p + "attn_norm.weight"))
        q = (xn @ weight(p + "attn_q.weight").T).reshape(n, heads, hd)
        k = (xn @ weight(p + "attn_k.weight").T).reshape(n, kv_heads, hd)
        v = (xn @ weight(p + "attn_v.weight").T).reshape(n, kv_heads, hd)
        q = rms(q, weight(p + "attn_q_norm.weight"))
        k = rms(k, weight(p + "attn_k_norm.weight"))
        base = local_base if local else global_base
        q = rope(q, base) / np.sqrt(hd)
        k = rope(k, base)
        mask = pos[None, :] <= pos[:, None]
        if local and not no_window:
            mask &= pos[:, None] - pos[None, :] < window
        out = np.empty((n, heads, hd))
        group = heads // kv_heads
        for h in range(heads):
            s = q[:, h, :] @ k[:, h // group, :].T
            s = np.where(mask, s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            out[:, h, :] = s @ v[:, h // group, :]
        y = out.reshape(n, heads * hd) @ weight(p + "attn_output.weight").T
        x = x + rms(y, weight(p + "post_attention_norm.weight"))
        xn = rms(x, weight(p + "ffn_norm.weight"))
        g = xn @ weight(p + "ffn_gate.weight").T
        u = xn @ weight(p + "ffn_up.weight").T
        g = 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g**3)))
        y = (g * u) @ weight(p + "ffn_down.weight").T
        x = x + rms(y, weight(p + "post_ffw_norm.weight"))
    h = rms(x[positions], weight("output_norm.weight"))
    result = []
    for row, position in zip(h, positions):
        logits = np.asarray(table, dtype=np.float64) @ row
        m = logits.max()
        lp = logits - (m + np.log(np.exp(logits - m).sum()))
        top = np.argsort(-lp)[:10]
        result.append({"position": position, "top": [[int(i), float(lp[i])] for i in top]})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
