#!/usr/bin/env python3
"""Writes a corpus of hostile GGUF files derived from one tiny valid llama model.

    python3 tools/hostile_gguf_corpus.py OUT_DIR [--seed 16]

OUT_DIR gets `base.gguf` (a 2-layer llama with a 262-token byte-level BPE vocabulary and a ChatML
template, random weights: valid, runs, says nothing useful) and a few hundred mutants: truncations,
bit flips in the header, absurd hyperparameters, broken tokenizer metadata, hostile chat templates,
wrong tensor shapes and types; then a qwen3moe and a Llama 3 variant of the base (`moe-base.gguf`,
`llama3-base.gguf`) and their mutants: expert counts, key/value lengths, RoPE scaling, router, expert
and Q/K-norm tensors, rope_freqs.weight. `scripts/hostile-tests.sh` runs `peregrine run`, `inspect` and
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


# Tensor changes: (type, dims, raw bytes) → the hostile tensor, or None to drop it.
def transposed(t, d, b): return (t, d[::-1], b)
def wide(t, d, b): return (t, [d[0] * 2] + d[1:], b)
def huge_dim(t, d, b): return (t, [2**40] + d[1:], b)
def unknown_type(t, d, b): return (99, d, b)
def f16_typed(t, d, b): return (1, d, b)
def q8_typed(t, d, b): return (8, d, b)
def removed(t, d, b): return None
def three_dims(t, d, b): return (t, d + [1], b)
def flattened(t, d, b): return (t, [d[0], d[1] * d[2]] if len(d) == 3 else d + [1], b)
def nan_values(t, d, b): return (t, d, struct.pack("<f", float("nan")) * (len(b) // 4))
def zeros(t, d, b): return (t, d, bytes(len(b)))


def with_meta(base, key, vtype, value):
    """The bytes of `base` with metadata `key` set to (vtype, value), or removed when vtype is None."""
    m = base.copy()
    if vtype is None:
        m.kv.pop(key, None)
    else:
        m.kv[key] = (vtype, value)
    return m.serialize()


def with_tensor(base, name, change):
    """The bytes of `base` with tensor `name` changed by `change`."""
    m = base.copy()
    ttype, dims, data = m.tensors[name]
    r = change(ttype, list(dims), data)
    if r is None:
        del m.tensors[name]
    else:
        m.tensors[name] = r
    return m.serialize()


def mutants(base, rng):
    """(name, bytes) of every hostile file."""
    out = []
    raw = base.serialize()

    def meta(name, key, vtype, value):
        out.append((name, with_meta(base, key, vtype, value)))

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
    for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.1.ffn_down.weight", "output_norm.weight"]:
        for change in [transposed, wide, huge_dim, unknown_type, f16_typed, removed, three_dims]:
            out.append((name + "." + change.__name__, with_tensor(base, name, change)))

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


def moe_model(base, rng):
    """The base model as a qwen3moe file (4 experts, 2 used, per-head Q/K norms, an F32 router) and a
    Llama 3 file (with rope_freqs.weight): the other architectures DecoderModel loads, whose own keys
    and tensors the llama mutants do not reach."""
    d, layers, ffn, experts = 32, 2, 64, 4
    head = base.kv["llama.rope.dimension_count"][1]

    def f32(count, scale=0.2):
        return struct.pack("<%df" % count, *[rng.uniform(-scale, scale) for _ in range(count)])

    moe = base.copy()
    moe.kv = {k.replace("llama.", "qwen3moe.", 1): v for k, v in base.kv.items()}
    moe.kv["general.architecture"] = (STR, "qwen3moe")
    moe.kv["qwen3moe.attention.key_length"] = (U32, head)
    moe.kv["qwen3moe.attention.value_length"] = (U32, head)
    moe.kv["qwen3moe.expert_count"] = (U32, experts)
    moe.kv["qwen3moe.expert_used_count"] = (U32, 2)
    moe.kv["qwen3moe.expert_feed_forward_length"] = (U32, ffn)
    for i in range(layers):
        p = "blk.%d." % i
        for name in ["ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"]:
            del moe.tensors[p + name]
        moe.tensors[p + "attn_q_norm.weight"] = (0, [head], struct.pack("<%df" % head, *([1.0] * head)))
        moe.tensors[p + "attn_k_norm.weight"] = (0, [head], struct.pack("<%df" % head, *([1.0] * head)))
        moe.tensors[p + "ffn_gate_inp.weight"] = (0, [d, experts], f32(d * experts))
        moe.tensors[p + "ffn_gate_exps.weight"] = (0, [d, ffn, experts], f32(d * ffn * experts))
        moe.tensors[p + "ffn_up_exps.weight"] = (0, [d, ffn, experts], f32(d * ffn * experts))
        moe.tensors[p + "ffn_down_exps.weight"] = (0, [ffn, d, experts], f32(d * ffn * experts))

    llama3 = base.copy()
    llama3.tensors["rope_freqs.weight"] = (0, [head // 2], struct.pack("<%df" % (head // 2), *([1.0] * (head // 2))))
    return moe, llama3


def architecture_mutants(moe, llama3):
    """(name, bytes) of hostile qwen3moe and Llama 3 files: their own hyperparameters and tensors."""
    out = [("moe-base", moe.serialize()), ("llama3-base", llama3.serialize())]

    def meta(base, name, key, vtype, value):
        out.append((name, with_meta(base, key, vtype, value)))

    for key in ["expert_count", "expert_used_count", "expert_feed_forward_length", "attention.key_length",
                "attention.value_length", "rope.scaling.original_context_length"]:
        for label, (vt, v) in [("0", (U32, 0)), ("1", (U32, 1)), ("3", (U32, 3)), ("5", (U32, 5)),
                               ("u32max", (U32, 2**32 - 1)), ("-1", (I32, -1)), ("float", (F32, 2.5)),
                               ("string", (STR, "x")), ("missing", (None, None))]:
            meta(moe, "moe-%s=%s" % (key, label), "qwen3moe." + key, vt, v)
    meta(moe, "moe-rope.scaling.type=yarn", "qwen3moe.rope.scaling.type", STR, "yarn")
    meta(moe, "moe-rope.scaling.type=longrope", "qwen3moe.rope.scaling.type", STR, "longrope")
    meta(moe, "moe-rope.scaling.type=int", "qwen3moe.rope.scaling.type", U32, 3)
    for key in ["rope.scaling.factor", "rope.scaling.attn_factor"]:
        for label, v in [("-1", -1.0), ("0", 0.0), ("nan", float("nan")), ("inf", float("inf")), ("1e30", 1e30)]:
            m = moe.copy()
            m.kv["qwen3moe.rope.scaling.type"] = (STR, "yarn")
            m.kv["qwen3moe." + key] = (F32, v)
            out.append(("moe-yarn-%s=%s" % (key, label), m.serialize()))
    meta(llama3, "llama3-expert_count=4", "llama.expert_count", U32, 4)

    for name in ["blk.0.ffn_gate_inp.weight", "blk.0.ffn_gate_exps.weight", "blk.1.ffn_down_exps.weight",
                 "blk.0.attn_q_norm.weight"]:
        for change in [transposed, wide, huge_dim, unknown_type, f16_typed, q8_typed, removed, flattened]:
            out.append(("moe-%s.%s" % (name, change.__name__), with_tensor(moe, name, change)))
    out.append(("moe-blk.0.ffn_gate_inp.weight.nan_values", with_tensor(moe, "blk.0.ffn_gate_inp.weight", nan_values)))
    for change in [wide, huge_dim, unknown_type, f16_typed, flattened, nan_values, zeros]:
        out.append(("llama3-rope_freqs.weight." + change.__name__, with_tensor(llama3, "rope_freqs.weight", change)))
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
    files = mutants(base, rng)
    # After the llama mutants, so they stay what they were for a seed.
    moe, llama3 = moe_model(base, rng)
    for name, data in files + architecture_mutants(moe, llama3):
        safe = name.replace("/", "_").replace("=", "-")
        with open(os.path.join(out_dir, safe + ".gguf"), "wb") as f:
            f.write(data)
        names.append(safe)
    print("%d hostile files and base.gguf in %s" % (len(names), out_dir))


if __name__ == "__main__":
    main()
