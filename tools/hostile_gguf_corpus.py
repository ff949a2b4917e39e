#!/usr/bin/env python3
"""Writes a corpus of hostile GGUF files derived from one tiny valid llama model.

    python3 tools/hostile_gguf_corpus.py OUT_DIR [--seed 16]

OUT_DIR gets `base.gguf` (a 2-layer llama with a 262-token byte-level BPE vocabulary and a ChatML
template, random weights: valid, runs, says nothing useful) and a few hundred mutants: truncations,
bit flips in the header, absurd hyperparameters, broken tokenizer metadata, hostile chat templates,
wrong tensor shapes and types. `scripts/hostile-gguf-tests.sh` runs `peregrine run`, `inspect` and
`serve` on each and fails on any signal or hang. Self-contained (no gguf package): the mutants need
values a careful writer would refuse to write. Deterministic for a given seed.
"""
import math
import os
import random
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
PACK = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q",
        I64: "<q", F64: "<d"}
ALIGN = 32


def gguf_string(s):
    b = s if isinstance(s, bytes) else s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype, value):
    if vtype == STR:
        return gguf_string(value)
    if vtype == ARR:
        etype, items = value
        out = struct.pack("<IQ", etype, len(items))
        for item in items:
            out += gguf_value(etype, item)
        return out
    return struct.pack(PACK[vtype], value)


class Model:
    """Metadata (ordered key → (type, value)) and tensors (name → (type, dims, raw bytes))."""

    def __init__(self):
        self.kv = {}
        self.tensors = {}

    def copy(self):
        m = Model()
        m.kv = dict(self.kv)
        m.tensors = dict(self.tensors)
        return m

    def serialize(self):
        out = b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        for key, (vtype, value) in self.kv.items():
            out += gguf_string(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
        offset = 0
        data = b""
        for name, (ttype, dims, raw) in self.tensors.items():
            out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", ttype, offset)
            pad = (-len(raw)) % ALIGN
            data += raw + b"\0" * pad
            offset += len(raw) + pad
        out += b"\0" * ((-len(out)) % ALIGN)
        return out + data


def bytes_to_unicode():
    """GPT-2's reversible byte → printable character map (the byte tokens' texts)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def base_model(rng):
    d, layers, heads, kv_heads, ffn = 32, 2, 4, 2, 64
    head = d // heads
    byte_map = bytes_to_unicode()
    tokens = [byte_map[b] for b in range(256)] + ["Ġt", "he", "Ġthe", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    types = [1] * 259 + [3, 3, 3]
    vocab = len(tokens)
    m = Model()
    kv = m.kv
    kv["general.architecture"] = (STR, "llama")
    kv["general.name"] = (STR, "hostile-tiny")
    kv["general.file_type"] = (U32, 0)
    kv["llama.context_length"] = (U32, 256)
    kv["llama.embedding_length"] = (U32, d)
    kv["llama.block_count"] = (U32, layers)
    kv["llama.feed_forward_length"] = (U32, ffn)
    kv["llama.attention.head_count"] = (U32, heads)
    kv["llama.attention.head_count_kv"] = (U32, kv_heads)
    kv["llama.rope.freq_base"] = (F32, 10000.0)
    kv["llama.rope.dimension_count"] = (U32, head)
    kv["llama.attention.layer_norm_rms_epsilon"] = (F32, 1e-5)
    kv["llama.vocab_size"] = (U32, vocab)
    kv["tokenizer.ggml.model"] = (STR, "gpt2")
    kv["tokenizer.ggml.pre"] = (STR, "smollm")
    kv["tokenizer.ggml.tokens"] = (ARR, (STR, tokens))
    kv["tokenizer.ggml.token_type"] = (ARR, (I32, types))
    kv["tokenizer.ggml.merges"] = (ARR, (STR, ["Ġ t", "h e", "Ġt he"]))
    kv["tokenizer.ggml.bos_token_id"] = (U32, 259)
    kv["tokenizer.ggml.eos_token_id"] = (U32, 261)
    kv["tokenizer.ggml.padding_token_id"] = (U32, 259)
    kv["tokenizer.ggml.add_bos_token"] = (BOOL, False)
    kv["tokenizer.chat_template"] = (STR, CHATML)

    def f32(count, scale=0.2):
        return struct.pack("<%df" % count, *[rng.uniform(-scale, scale) for _ in range(count)])

    def ones(count):
        return struct.pack("<%df" % count, *([1.0] * count))

    t = m.tensors
    t["token_embd.weight"] = (0, [d, vocab], f32(d * vocab))
    for i in range(layers):
        p = "blk.%d." % i
        t[p + "attn_norm.weight"] = (0, [d], ones(d))
        t[p + "attn_q.weight"] = (0, [d, heads * head], f32(d * heads * head))
        t[p + "attn_k.weight"] = (0, [d, kv_heads * head], f32(d * kv_heads * head))
        t[p + "attn_v.weight"] = (0, [d, kv_heads * head], f32(d * kv_heads * head))
        t[p + "attn_output.weight"] = (0, [heads * head, d], f32(d * heads * head))
        t[p + "ffn_norm.weight"] = (0, [d], ones(d))
        t[p + "ffn_gate.weight"] = (0, [d, ffn], f32(d * ffn))
        t[p + "ffn_up.weight"] = (0, [d, ffn], f32(d * ffn))
        t[p + "ffn_down.weight"] = (0, [ffn, d], f32(d * ffn))
    t["output_norm.weight"] = (0, [d], ones(d))
    return m


def mutants(base, rng):
    """(name, bytes) of every hostile file."""
    out = []
    raw = base.serialize()

    def meta(name, key, vtype, value):
        m = base.copy()
        if vtype is None:
            m.kv.pop(key, None)
        else:
            m.kv[key] = (vtype, value)
        out.append((name, m.serialize()))

    # Absurd hyperparameters, each alone.
    big = [0, 1, 3, 2**31 - 1, 2**32 - 1]
    for key in ["llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
                "llama.vocab_size", "general.file_type"]:
        short = key.split(".")[-1]
        for v in big:
            meta("%s=%d" % (short, v), key, U32, v)
        meta("%s=u64max" % short, key, U64, 2**64 - 1)
        meta("%s=i64min" % short, key, I64, -2**63)
        meta("%s=-1" % short, key, I32, -1)
        meta("%s=float" % short, key, F32, 1.5)
        meta("%s=string" % short, key, STR, "many")
        meta("%s=array" % short, key, ARR, (U32, [1, 2]))
        meta("%s=missing" % short, key, None, None)
    for key in ["llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base"]:
        short = key.split(".")[-1]
        for label, v in [("-1", -1.0), ("0", 0.0), ("nan", float("nan")), ("inf", float("inf")), ("-inf", -float("inf")),
                         ("1e30", 1e30), ("tiny", 1e-45)]:
            meta("%s=%s" % (short, label), key, F32, v)
        meta("%s=f64" % short, key, F64, 1e-5)
        meta("%s=string" % short, key, STR, "x")
    meta("file_type=999", "general.file_type", U32, 999)
    meta("architecture=unknown", "general.architecture", STR, "mamba9")
    meta("architecture=int", "general.architecture", U32, 7)

    # Tokenizer metadata.
    tokens = base.kv["tokenizer.ggml.tokens"][1][1]
    for key in ["bos_token_id", "eos_token_id", "padding_token_id", "unknown_token_id", "eot_token_id"]:
        for label, (vt, v) in [("vocab", (U32, len(tokens))), ("u32max", (U32, 2**32 - 1)), ("-1", (I32, -1)),
                               ("1e9", (U32, 10**9)), ("i64", (I64, 2**40))]:
            meta("%s=%s" % (key, label), "tokenizer.ggml." + key, vt, v)
    meta("tokens=empty", "tokenizer.ggml.tokens", ARR, (STR, []))
    meta("tokens=one", "tokenizer.ggml.tokens", ARR, (STR, ["a"]))
    meta("tokens=ints", "tokenizer.ggml.tokens", ARR, (U32, [1, 2, 3]))
    meta("tokens=missing", "tokenizer.ggml.tokens", None, None)
    meta("tokens=half", "tokenizer.ggml.tokens", ARR, (STR, tokens[:131]))
    meta("tokens=double", "tokenizer.ggml.tokens", ARR, (STR, tokens + ["x%d" % i for i in range(len(tokens))]))
    meta("token_type=short", "tokenizer.ggml.token_type", ARR, (I32, [1, 1]))
    meta("token_type=garbage", "tokenizer.ggml.token_type", ARR, (I32, [999999] * len(tokens)))
    meta("merges=garbage", "tokenizer.ggml.merges", ARR, (STR, ["x", "", " ", "a  b"]))
    meta("merges=ints", "tokenizer.ggml.merges", ARR, (I32, [1]))
    meta("tokenizer=unknown", "tokenizer.ggml.model", STR, "bert")
    meta("pre=unknown", "tokenizer.ggml.pre", STR, "nonsense")
    meta("scores=short", "tokenizer.ggml.scores", ARR, (F32, [0.0]))

    # Hostile chat templates: every command that renders one must stop them quickly.
    for label, template in [
        ("loop1e8", "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}x"),
        ("membership", "{% set big = range(4000000) %}{% for i in range(100000) %}{% if -1 in big %}{% endif %}{% endfor %}"),
        ("sortloop", "{% set big = range(2000000)|list %}{% for i in range(1000) %}{{ (big|sort)|length }}{% endfor %}"),
        ("recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
        ("huge", "{{ 'x' * 100000000 }}"),
        ("concat", "{% set ns = namespace(s='') %}{% for i in range(1000000) %}{% set ns.s = ns.s ~ 'abcdefgh' %}{% endfor %}"),
        ("syntax", "{% for %}"),
        ("raise", "{{ raise_exception('no') }}"),
        ("empty", ""),
    ]:
        meta("template=" + label, "tokenizer.chat_template", STR, template)

    # Tensors: wrong shapes, unknown types, offsets past the end, missing ones.
    def tensor(name, change):
        m = base.copy()
        ttype, dims, data = m.tensors[name]
        r = change(ttype, list(dims), data)
        if r is None:
            del m.tensors[name]
        else:
            m.tensors[name] = r
        out.append((name + "." + change.__name__, m.serialize()))

    def transposed(t, d, b): return (t, d[::-1], b)
    def wide(t, d, b): return (t, [d[0] * 2] + d[1:], b)
    def huge_dim(t, d, b): return (t, [2**40] + d[1:], b)
    def unknown_type(t, d, b): return (99, d, b)
    def f16_typed(t, d, b): return (1, d, b)
    def removed(t, d, b): return None
    def three_dims(t, d, b): return (t, d + [1], b)
    for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.1.ffn_down.weight", "output_norm.weight"]:
        for change in [transposed, wide, huge_dim, unknown_type, f16_typed, removed, three_dims]:
            tensor(name, change)

    # Truncations everywhere, then bit flips in the header and metadata.
    header_end = len(raw) - sum(len(b) + (-len(b)) % ALIGN for _, _, b in base.tensors.values())
    cuts = sorted(set([0, 3, 4, 8, 16, 24] + [rng.randrange(24, header_end) for _ in range(30)]
                      + [rng.randrange(header_end, len(raw)) for _ in range(8)] + [len(raw) - 1]))
    for c in cuts:
        out.append(("truncated@%d" % c, raw[:c]))
    for i in range(120):
        b = bytearray(raw)
        for _ in range(rng.choice([1, 1, 2, 4])):
            pos = rng.randrange(0, header_end)
            b[pos] ^= 1 << rng.randrange(8)
        out.append(("flip%03d" % i, bytes(b)))
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    out_dir = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 16
    rng = random.Random(seed)
    os.makedirs(out_dir, exist_ok=True)
    base = base_model(rng)
    with open(os.path.join(out_dir, "base.gguf"), "wb") as f:
        f.write(base.serialize())
    names = []
    for name, data in mutants(base, rng):
        safe = name.replace("/", "_").replace("=", "-")
        with open(os.path.join(out_dir, safe + ".gguf"), "wb") as f:
            f.write(data)
        names.append(safe)
    print("%d hostile files and base.gguf in %s" % (len(names), out_dir))


if __name__ == "__main__":
    main()
