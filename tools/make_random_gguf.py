#!/usr/bin/env python3
"""Writes a random-weight GGUF at the shape of a real model, for speed and memory measurements at
sizes no real weights on this machine have (the outputs are noise; only the costs are real).

usage: make_random_gguf.py SHAPE OUT.gguf [--seed N] [--type f16|f32] [--context N] [--layers N]
       make_random_gguf.py --list

The file is written tensor by tensor (never more than one matrix in memory), matrices in F16 (or
F32) from N(0, 0.02), norms 1.0, with a synthetic SentencePiece vocabulary of the shape's size (byte
tokens, then made-up pieces), so both Peregrine and llama.cpp load it. Quantize it afterwards with
llama.cpp's `llama-quantize` (scripts/bench-scale.sh does). Every shape uses the `llama`
architecture: Qwen2.5-7B's shape differs from a llama layer only in its q/k/v biases (and NEOX
RoPE), which cost nothing next to the matrix products, so a llama file of that shape measures what a
`qwen2` file would; both engines run on one decoder for the two.

The mixture-of-experts shapes are `qwen3moe` files: Qwen3-30B-A3B's layer (2048 wide, 32/4 heads of
128, per-head Q/K norms, 128 experts of FFN 768 with 8 used, an F32 router) with fewer layers so the
F16 source and its quantized files fit this machine's disk and 24 GiB: `qwen3-30b-a3b-12l` keeps 12
of the 48 layers (8.1 B parameters, 16 GB in F16; a token reads 0.7 B of the layers' and 0.3 B of
the output head's). The router's outputs are noise like the rest, so which experts a token
picks is random: the cost of a decode step is the real one.

needs: pip install gguf numpy
"""
import argparse
import sys

import numpy as np
import gguf

# name: (layers, width, ffn, heads, kv heads, vocabulary, tied output head)
SHAPES = {
    "tinyllama-1.1b": (22, 2048, 5632, 32, 4, 32000, False),
    "llama-3.2-1b": (16, 2048, 8192, 32, 8, 128256, True),
    "llama-3.2-3b": (28, 3072, 8192, 24, 8, 128256, True),
    "qwen2.5-7b": (28, 3584, 18944, 28, 4, 152064, False),
    "llama-3.1-8b": (32, 4096, 14336, 32, 8, 128256, False),
}

# name: (layers, width, heads, kv heads, head size, experts, experts used, expert FFN, vocabulary)
MOE_SHAPES = {
    "qwen3-30b-a3b-12l": (12, 2048, 32, 4, 128, 128, 8, 768, 151936),
}


def vocabulary(size):
    """SentencePiece-style pieces: <unk> <s> </s>, the 256 byte tokens, then unique made-up pieces
    (word-start pieces '▁' + letters first), scores falling with the id."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256  # unknown, control, control, byte
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = 0
    while len(tokens) < size:
        word, k = "", n
        while True:
            word = letters[k % 26] + word
            k = k // 26 - 1
            if k < 0:
                break
        tokens.append(("\u2581" + word) if n % 2 == 0 else word)
        types.append(1)
        n += 1
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(size - 259)]
    return tokens[:size], scores[:size], types[:size]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("shape", nargs="?", choices=sorted(SHAPES) + sorted(MOE_SHAPES))
    ap.add_argument("out", nargs="?")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--type", choices=["f16", "f32"], default="f16")
    ap.add_argument("--context", type=int, default=4096)
    ap.add_argument("--layers", type=int, help="fewer layers than the shape's (a quick check of a shape)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list or not args.shape or not args.out:
        for name, (n_layer, d, ffn, h, kv, vocab, tied) in SHAPES.items():
            print(f"{name}: {n_layer} layers, {d} wide, FFN {ffn}, {h}/{kv} heads, vocabulary {vocab}"
                  + (", tied head" if tied else ""))
        for name, (n_layer, d, h, kv, hd, e, used, eff, vocab) in MOE_SHAPES.items():
            print(f"{name}: qwen3moe, {n_layer} layers, {d} wide, {h}/{kv} heads of {hd}, {e} experts of FFN {eff} "
                  f"({used} used), vocabulary {vocab}")
        return 0 if args.list else 2

    moe = args.shape in MOE_SHAPES
    if moe:
        n_layer, d, heads, kv_heads, head_dim, n_expert, n_used, ffn, vocab = MOE_SHAPES[args.shape]
        tied = False
    else:
        n_layer, d, ffn, heads, kv_heads, vocab, tied = SHAPES[args.shape]
        head_dim = d // heads
    if args.layers:
        n_layer = min(n_layer, args.layers)
    dtype = np.float16 if args.type == "f16" else np.float32
    rng = np.random.default_rng(args.seed)

    w = gguf.GGUFWriter(args.out, "qwen3moe" if moe else "llama")
    w.add_name(f"random {args.shape}")
    w.add_context_length(args.context)
    w.add_embedding_length(d)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(ffn)
    if moe:
        w.add_expert_count(n_expert)
        w.add_expert_used_count(n_used)
        w.add_expert_feed_forward_length(ffn)
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(1000000.0 if moe else 500000.0 if vocab > 32000 else 10000.0)
    w.add_layer_norm_rms_eps(1e-6 if moe else 1e-5)
    w.add_file_type(1 if args.type == "f16" else 0)
    w.add_vocab_size(vocab)
    tokens, scores, types = vocabulary(vocab)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    # (name, rows, cols, experts); a matrix of `rows` output features, ggml shape [cols, rows] (or
    # [cols, rows, experts] for a stack of experts, 0 = one matrix); cols 0 = vector; an F32 matrix
    # when experts is -1 (the router, which llama.cpp keeps in F32).
    plan = [("token_embd.weight", vocab, d, 0)]
    for i in range(n_layer):
        p = f"blk.{i}."
        plan += [
            (p + "attn_norm.weight", d, 0, 0),
            (p + "attn_q.weight", heads * head_dim, d, 0),
            (p + "attn_k.weight", kv_heads * head_dim, d, 0),
            (p + "attn_v.weight", kv_heads * head_dim, d, 0),
            (p + "attn_output.weight", d, heads * head_dim, 0),
            (p + "ffn_norm.weight", d, 0, 0),
        ]
        if moe:
            plan += [
                (p + "attn_q_norm.weight", head_dim, 0, 0),
                (p + "attn_k_norm.weight", head_dim, 0, 0),
                (p + "ffn_gate_inp.weight", n_expert, d, -1),
                (p + "ffn_gate_exps.weight", ffn, d, n_expert),
                (p + "ffn_up_exps.weight", ffn, d, n_expert),
                (p + "ffn_down_exps.weight", d, ffn, n_expert),
            ]
        else:
            plan += [
                (p + "ffn_gate.weight", ffn, d, 0),
                (p + "ffn_up.weight", ffn, d, 0),
                (p + "ffn_down.weight", d, ffn, 0),
            ]
    plan.append(("output_norm.weight", d, 0, 0))
    if not tied:
        plan.append(("output.weight", vocab, d, 0))

    for name, rows, cols, experts in plan:
        t = np.dtype(np.float32) if cols == 0 or experts < 0 else np.dtype(dtype)
        # numpy's shape is ggml's reversed; the writer reverses it back.
        shape = [rows] if cols == 0 else [experts, rows, cols] if experts > 0 else [rows, cols]
        w.add_tensor_info(name, shape, t, int(np.prod(shape)) * t.itemsize)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    total = sum(r * max(c, 1) * max(e, 1) for _, r, c, e in plan)
    done, shown = 0, -10
    for name, rows, cols, experts in plan:
        if cols == 0:
            w.write_tensor_data(np.ones(rows, dtype=np.float32))
        else:
            m = np.empty((max(experts, 1) * rows, cols), dtype=np.float32 if experts < 0 else dtype)
            step = max(1, (1 << 24) // cols)  # ~16 M values at a time
            for r in range(0, m.shape[0], step):
                block = rng.standard_normal((min(step, m.shape[0] - r), cols), dtype=np.float32)
                block *= 0.02
                m[r:r + step] = block
            w.write_tensor_data(m.reshape(experts, rows, cols) if experts > 0 else m)
            del m
        done += rows * max(cols, 1) * max(experts, 1)
        if 100 * done // total >= shown + 10:
            shown = 100 * done // total
            print(f"{args.out}: {shown} %", file=sys.stderr, flush=True)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
