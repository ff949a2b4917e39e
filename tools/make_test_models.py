#!/usr/bin/env python3
"""Writes the architecture test models: SmolLM2-135M-Instruct's real weights laid out as other
architectures (issue 17), so Peregrine's qwen2 / qwen3 / qwen3moe / Llama 3 code runs on a model
that produces structured text, and llama.cpp run on the same files is the reference.

    python3 tools/make_test_models.py --source SmolLM2-135M-Instruct.Q4_1.gguf --out DIR [--only qwen2,...]
    python3 tools/make_test_models.py --source ... --cache-root ~/.cache/peregrine/test-models
        # writes into CACHE_ROOT/<hash of this file>/ unless already there; prints that directory
    python3 tools/make_test_models.py --source ... --out DIR --only qwen3-dense2x   # the MoE benchmark's dense twin

Every file is a function of this script and the source file alone (fixed seeds, fixed order), so
CI regenerates byte-identical files. Needs gguf and numpy at the pinned versions below; when they
are missing the script installs them with pip into a directory of its own (--pylib, default next
to the cache) and runs again from there.

The models (matrices Q8_0, norms, biases, router and RoPE factors F32; tokenizer metadata is
SmolLM2's, a ChatML vocabulary):
- qwen2:    Q/K rows un-permuted to the NEOX RoPE layout llama.cpp uses for qwen2, small seeded
            random Q/K/V biases, tied output head; Qwen2.5's chat template, <|im_end|> ends a turn.
- qwen3:    heads padded from 64 to 96 values (key_length = value_length = 96 while
            n_embd / n_head = 64) with zero rows, RoPE base raised so the frequencies stay SmolLM2's,
            per-head RMSNorm weights on Q and K calibrated to SmolLM2's typical Q/K norms (times
            1 + 5 % noise), YaRN metadata (factor 4 over an original context of 8,192), an untied
            output head (the embedding times 1 + 5 % noise); Qwen3's chat template.
- qwen3moe: qwen3's attention (no YaRN); each layer's FFN as 8 experts (copies times 1 + 10 % noise),
            2 used, a seeded random F32 router scaled to logits of ~1.5 standard deviations.
- llama3:   llama layout with a rope_freqs.weight from Llama 3.1's formula (factor 8, low 1, high 4,
            original context 8,192), an untied output head; special tokens renamed to Llama 3's
            (<|endoftext|> -> <|begin_of_text|>, added as BOS; <|im_start|> -> <|start_header_id|>;
            <|im_end|> -> <|eot_id|>; <empty_output> -> <|end_header_id|>) and Llama 3.1's template.
- qwen3-dense2x (only when asked): qwen3 with a dense FFN twice as wide (experts 0 and 1 of the MoE
            side by side, down projection halved): the dense model with the MoE's active parameter
            count, for BENCHMARKS.md.
- llama-wide (only when asked): SmolLM2 itself (llama, its own tokenizer and template) zero-padded to
            TinyLlama-1.1B's widths: 2048 wide, 32 query and 4 KV heads of 64, FFN 5632, all 30
            layers, so 1.4B parameters whose function is SmolLM2's. Query head 3g + i sits in slot
            8g + i of KV group g; the other slots, and every padded row and column, are zero (an
            empty query head attends uniformly, but its output columns are zero); the RMSNorm
            weights are scaled by sqrt(576 / 2048), the padded norm's smaller mean square. Matrices
            F16 (quantize with llama-quantize): a decode step costs what a 1.4B model's does while
            the model copies its input as SmolLM2 does, which n-gram speculation at scale needs
            (issue 23; random weights never copy).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys

# NumPy's OpenBLAS picks its float32 matmul kernels by CPU (SkylakeX on Zen 4), and their sums differ
# in the last bit, which calibrate() carries into the Q/K norm weights and the router: on Zen 4 the
# qwen3 and qwen3moe files differed from the fixtures', which Haswell's (and Zen's) kernels
# reproduce. One kernel set on every CPU keeps the files byte-identical; chosen before NumPy loads.
os.environ["OPENBLAS_CORETYPE"] = "Haswell"

REQUIREMENTS = ["gguf==0.19.0", "numpy==2.2.6"]
SOURCE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODELS = ["qwen2", "qwen3", "qwen3moe", "llama3"]
EXTRA_MODELS = ["qwen3-dense2x", "llama-wide"]
SEED = 17
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEMPLATES = os.path.join(HERE, "test-model-templates")
CALIBRATION = os.path.join(ROOT, "Tests", "Fixtures", "reference", "greedy_smollm2.json")


def script_hash() -> str:
    """Identity of everything the files depend on besides the source model: this script and the
    templates it embeds."""
    h = hashlib.sha256()
    for path in [os.path.abspath(__file__)] + sorted(
            os.path.join(TEMPLATES, n) for n in os.listdir(TEMPLATES)):
        with open(path, "rb") as f:
            h.update(os.path.basename(path).encode() + b"\0" + f.read())
    with open(CALIBRATION, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def ensure_packages(pylib: str) -> None:
    """Re-runs this script with the pinned packages on the path when they are not importable."""
    try:
        import gguf  # noqa: F401
        import numpy
        from importlib.metadata import version
        if [f"gguf=={version('gguf')}", f"numpy=={numpy.__version__}"] == REQUIREMENTS:
            return
    except ImportError:
        pass
    if os.environ.get("PEREGRINE_TEST_MODELS_PYLIB") == pylib:
        sys.exit(f"cannot import {REQUIREMENTS} from {pylib}")
    marker = os.path.join(pylib, ".complete")
    if not os.path.exists(marker):
        os.makedirs(pylib, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--no-warn-script-location", "--upgrade", "--target", pylib, *REQUIREMENTS], check=True)
        open(marker, "w").close()
    env = dict(os.environ, PYTHONPATH=pylib, PEREGRINE_TEST_MODELS_PYLIB=pylib)
    sys.exit(subprocess.run([sys.executable, *sys.argv], env=env).returncode)


# ---------------------------------------------------------------------------------------------------
# Reading SmolLM2

class Source:
    def __init__(self, path: str):
        import numpy as np
        from gguf import GGUFReader
        from gguf.quants import dequantize
        self.np = np
        r = GGUFReader(path)
        self.reader = r
        self.tensors = {t.name: t for t in r.tensors}
        f = r.fields
        self.layers = int(f["llama.block_count"].contents())
        self.d = int(f["llama.embedding_length"].contents())
        self.ff = int(f["llama.feed_forward_length"].contents())
        self.heads = int(f["llama.attention.head_count"].contents())
        self.kv_heads = int(f["llama.attention.head_count_kv"].contents())
        self.hd = self.d // self.heads
        self.base = float(f["llama.rope.freq_base"].contents())
        self.eps = float(f["llama.attention.layer_norm_rms_epsilon"].contents())
        self.ctx = int(f["llama.context_length"].contents())
        self.tokens = list(f["tokenizer.ggml.tokens"].contents())
        self.token_types = [int(x) for x in f["tokenizer.ggml.token_type"].contents()]
        self.merges = list(f["tokenizer.ggml.merges"].contents())
        self.pre = f["tokenizer.ggml.pre"].contents()
        self._dequantize = dequantize
        self._cache: dict[str, object] = {}

    def raw(self, name: str):
        return self.tensors[name]

    def f32(self, name: str):
        """The tensor as float32, numpy shape [rows, cols] (GGUF shape reversed)."""
        if name not in self._cache:
            t = self.tensors[name]
            a = self._dequantize(t.data, t.tensor_type).astype(self.np.float32)
            shape = [int(x) for x in reversed(t.shape)]
            self._cache[name] = a.reshape(shape)
        return self._cache[name]


def unpermute_rope(w, heads: int):
    """llama.cpp's converter permutes Q/K rows of llama models so RoPE rotates adjacent pairs; the
    qwen architectures use the NEOX pairing (i, i + hd/2) on unpermuted rows. Inverse of
    `w.reshape(heads, 2, hd/2, cols).swapaxes(1, 2)`."""
    rows, cols = w.shape
    hd = rows // heads
    return w.reshape(heads, hd // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


# ---------------------------------------------------------------------------------------------------
# Calibration: SmolLM2 in float32 NumPy over the committed greedy fixture's token ids, to size the
# Q/K norm weights and the router.

def calibrate(src: Source):
    np = src.np
    with open(CALIBRATION) as f:
        entries = json.load(f)["entries"]
    seqs = [e["prompt_ids_with_bos_as_server_adds"] + e["generated_ids"] for e in entries]
    emb = src.f32("token_embd.weight")
    hd, H, KV = src.hd, src.heads, src.kv_heads
    q_rms = np.zeros(src.layers)
    k_rms = np.zeros(src.layers)
    v_rms = np.zeros(src.layers)
    ffn_in_rms = np.zeros(src.layers)
    count = 0
    inv = src.base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)

    def norm(x, w):
        return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + src.eps).astype(np.float32) * w

    def rope(x, pos):  # adjacent pairs, x [T, heads, hd]
        ang = pos[:, None] * inv[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    for ids in seqs:
        T = len(ids)
        pos = np.arange(T, dtype=np.float64)
        x = emb[ids].copy()
        for l in range(src.layers):
            p = f"blk.{l}."
            xn = norm(x, src.f32(p + "attn_norm.weight"))
            q = (xn @ src.f32(p + "attn_q.weight").T).reshape(T, H, hd)
            k = (xn @ src.f32(p + "attn_k.weight").T).reshape(T, KV, hd)
            v = (xn @ src.f32(p + "attn_v.weight").T).reshape(T, KV, hd)
            q_rms[l] += np.sqrt((q ** 2).mean(-1)).mean() * T
            k_rms[l] += np.sqrt((k ** 2).mean(-1)).mean() * T
            v_rms[l] += np.sqrt((v ** 2).mean(-1)).mean() * T
            q, k = rope(q, pos), rope(k, pos)
            k = np.repeat(k, H // KV, axis=1)
            vv = np.repeat(v, H // KV, axis=1)
            scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd)
            scores = scores + np.triu(np.full((T, T), -np.inf), 1)[None]
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            att = np.einsum("hts,shd->thd", scores, vv).reshape(T, H * hd)
            x = x + att @ src.f32(p + "attn_output.weight").T
            xn = norm(x, src.f32(p + "ffn_norm.weight"))
            ffn_in_rms[l] += np.sqrt((xn ** 2).mean(-1)).mean() * T
            g = xn @ src.f32(p + "ffn_gate.weight").T
            u = xn @ src.f32(p + "ffn_up.weight").T
            x = x + (g / (1 + np.exp(-g)) * u) @ src.f32(p + "ffn_down.weight").T
        count += T
    return {"q": q_rms / count, "k": k_rms / count, "v": v_rms / count, "ffn_in": ffn_in_rms / count}


# ---------------------------------------------------------------------------------------------------
# Writing

class Model:
    """Collects one output file's tensors in write order."""

    def __init__(self, src: Source, arch: str, seed_index: int):
        self.src = src
        self.arch = arch
        self.np = src.np
        self.seed_index = seed_index
        self.tensors: list[tuple[str, object, object]] = []  # (name, array, raw type or None)

    def rng(self, *key: int):
        return self.np.random.default_rng([SEED, self.seed_index, *key])

    def q8(self, name: str, a):
        from gguf import GGMLQuantizationType
        from gguf.quants import quantize
        a = self.np.ascontiguousarray(a, dtype=self.np.float32)
        self.tensors.append((name, quantize(a, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0))

    def f32(self, name: str, a):
        self.tensors.append((name, self.np.ascontiguousarray(a, dtype=self.np.float32), None))

    def raw(self, name: str, t):
        self.tensors.append((name, t.data, t.tensor_type))


def tokenizer_metadata(w, src: Source, family: str) -> None:
    tokens = list(src.tokens)
    types = list(src.token_types)
    if family == "llama3":
        for old, new in [("<|endoftext|>", "<|begin_of_text|>"), ("<|im_start|>", "<|start_header_id|>"),
                         ("<|im_end|>", "<|eot_id|>"), ("<empty_output>", "<|end_header_id|>")]:
            tokens[tokens.index(old)] = new
        template, bos, eos, pad, add_bos = "llama3.1.jinja", 0, 2, 2, True
    else:
        template = "qwen2.5.jinja" if family == "qwen2" else "qwen3.jinja"
        bos, eos, pad, add_bos = 0, 2, 0, False  # Qwen: <|endoftext|>, <|im_end|>, no BOS added
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(src.pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(src.merges)
    w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.add_unk_token_id(0)
    w.add_pad_token_id(pad)
    w.add_add_bos_token(add_bos)
    with open(os.path.join(TEMPLATES, template), encoding="utf-8") as f:
        w.add_chat_template(f.read())


def common_metadata(w, src: Source, name: str, heads_dim: int | None = None) -> None:
    w.add_name(name)
    w.add_description("Peregrine architecture test model: SmolLM2-135M-Instruct's weights transplanted by "
                      "tools/make_test_models.py. Not a trained model of this architecture.")
    w.add_block_count(src.layers)
    w.add_context_length(src.ctx)
    w.add_embedding_length(src.d)
    w.add_head_count(src.heads)
    w.add_head_count_kv(src.kv_heads)
    w.add_layer_norm_rms_eps(src.eps)
    w.add_vocab_size(len(src.tokens))
    w.add_file_type(7)  # mostly Q8_0
    w.add_quantization_version(2)


def pad_heads(w, heads: int, hd: int, padded: int, neox: bool):
    """Rows [heads*hd, cols] → [heads*padded, cols] with zero rows. NEOX layout keeps the two halves
    of each head at 0..<hd/2 and padded/2..<padded/2 + hd/2 so pair (i, i + padded/2) is the
    original pair (i, i + hd/2)."""
    np = __import__("numpy")
    cols = w.shape[1]
    src = w.reshape(heads, hd, cols)
    out = np.zeros((heads, padded, cols), dtype=np.float32)
    if neox:
        out[:, : hd // 2] = src[:, : hd // 2]
        out[:, padded // 2: padded // 2 + hd // 2] = src[:, hd // 2:]
    else:
        out[:, :hd] = src
    return out.reshape(heads * padded, cols)


def build(src: Source, family: str, cal, out_path: str) -> None:
    import gguf
    np = src.np
    arch = {"qwen2": "qwen2", "qwen3": "qwen3", "qwen3moe": "qwen3moe", "llama3": "llama",
            "qwen3-dense2x": "qwen3"}[family]
    m = Model(src, arch, (MODELS + EXTRA_MODELS).index(family))
    tmp = out_path + ".partial"
    w = gguf.GGUFWriter(tmp, arch)
    common_metadata(w, src, f"Peregrine test {family} (SmolLM2-135M transplant)")
    tokenizer_metadata(w, src, "llama3" if family == "llama3" else ("qwen2" if family == "qwen2" else "qwen3"))
    d, H, KV, hd, L = src.d, src.heads, src.kv_heads, src.hd, src.layers
    qwen3_like = family in ("qwen3", "qwen3moe", "qwen3-dense2x")
    padded = 96 if qwen3_like else hd
    n_experts, n_used = 8, 2

    base = src.base
    if qwen3_like:
        # theta_i = p * base'^(-2i/96) must equal p * base^(-2i/64).
        base = float(src.base ** (padded / hd))
        w.add_key_length(padded)
        w.add_value_length(padded)
    w.add_rope_freq_base(base)
    if family == "llama3":
        w.add_rope_dimension_count(hd)
    if family == "qwen3":
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(4.0)
        w.add_rope_scaling_orig_ctx_len(src.ctx)
    if family == "qwen3moe":
        w.add_feed_forward_length(src.ff)
        w.add_expert_feed_forward_length(src.ff)
        w.add_expert_count(n_experts)
        w.add_expert_used_count(n_used)
    elif family == "qwen3-dense2x":
        w.add_feed_forward_length(2 * src.ff)
    else:
        w.add_feed_forward_length(src.ff)

    m.raw("token_embd.weight", src.raw("token_embd.weight"))
    if family in ("qwen3", "qwen3moe", "qwen3-dense2x", "llama3"):
        emb = src.f32("token_embd.weight")
        noise = m.rng(1000).standard_normal(emb.shape, dtype=np.float32)
        m.q8("output.weight", emb * (1 + np.float32(0.05) * noise))
    m.f32("output_norm.weight", src.f32("output_norm.weight"))
    if family == "llama3":
        m.f32("rope_freqs.weight", llama31_rope_factors(src.base, hd, 8.0, 1.0, 4.0, src.ctx))

    yarn_scale = float(np.sqrt(np.sqrt(padded) / np.sqrt(hd)))  # 1/sqrt(96) scores vs 1/sqrt(64)
    for l in range(L):
        p = f"blk.{l}."
        m.f32(p + "attn_norm.weight", src.f32(p + "attn_norm.weight"))
        m.f32(p + "ffn_norm.weight", src.f32(p + "ffn_norm.weight"))
        wq, wk, wv, wo = (src.f32(p + n) for n in ("attn_q.weight", "attn_k.weight", "attn_v.weight",
                                                   "attn_output.weight"))
        if arch != "llama":
            wq, wk = unpermute_rope(wq, H), unpermute_rope(wk, KV)
        if qwen3_like:
            wq = pad_heads(wq, H, hd, padded, neox=True)
            wk = pad_heads(wk, KV, hd, padded, neox=True)
            wv = pad_heads(wv, KV, hd, padded, neox=False)
            wo = pad_heads(wo.T.copy(), H, hd, padded, neox=False).T
            # RMSNorm over 96 values of which 64 are the head's: rms96 = rms64 * sqrt(64/96). The
            # weights bring normalized heads back to SmolLM2's typical size, with the score scale
            # change split between Q and K.
            for kind, rms in (("q", cal["q"][l]), ("k", cal["k"][l])):
                g = np.float32(rms * np.sqrt(hd / padded) * yarn_scale)
                noise = m.rng(l, 1 if kind == "q" else 2).standard_normal(padded, dtype=np.float32)
                m.f32(p + f"attn_{kind}_norm.weight", g * (1 + np.float32(0.05) * noise))
        m.q8(p + "attn_q.weight", wq)
        m.q8(p + "attn_k.weight", wk)
        m.q8(p + "attn_v.weight", wv)
        m.q8(p + "attn_output.weight", wo)
        if family == "qwen2":
            for kind, rows, rms, scale in (("q", H * hd, cal["q"][l], 0.05), ("k", KV * hd, cal["k"][l], 0.05),
                                           ("v", KV * hd, cal["v"][l], 0.025)):
                b = m.rng(l, {"q": 3, "k": 4, "v": 5}[kind]).standard_normal(rows, dtype=np.float32)
                m.f32(p + f"attn_{kind}.bias", b * np.float32(scale * rms))

        gate, up, down = (src.f32(p + n) for n in ("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"))
        if family in ("qwen3moe", "qwen3-dense2x"):
            experts = []
            for e in range(n_experts if family == "qwen3moe" else 2):
                # The dense twin's halves are the MoE's experts 0 and 1 exactly.
                r = np.random.default_rng([SEED, MODELS.index("qwen3moe"), l, 100 + e])
                experts.append(tuple(a * (1 + np.float32(0.1) * r.standard_normal(a.shape, dtype=np.float32))
                                     for a in (gate, up, down)))
            if family == "qwen3moe":
                m.q8(p + "ffn_gate_exps.weight", np.stack([x[0] for x in experts]))
                m.q8(p + "ffn_up_exps.weight", np.stack([x[1] for x in experts]))
                m.q8(p + "ffn_down_exps.weight", np.stack([x[2] for x in experts]))
                s = 1.5 / (np.sqrt(d) * cal["ffn_in"][l])
                router = m.rng(l, 200).standard_normal((n_experts, d), dtype=np.float32) * np.float32(s)
                m.f32(p + "ffn_gate_inp.weight", router)
            else:
                m.q8(p + "ffn_gate.weight", np.concatenate([experts[0][0], experts[1][0]]))
                m.q8(p + "ffn_up.weight", np.concatenate([experts[0][1], experts[1][1]]))
                m.q8(p + "ffn_down.weight", np.concatenate([experts[0][2], experts[1][2]], axis=1) * np.float32(0.5))
        else:
            m.q8(p + "ffn_gate.weight", gate)
            m.q8(p + "ffn_up.weight", up)
            m.q8(p + "ffn_down.weight", down)

    for name, a, raw_type in m.tensors:
        w.add_tensor(name, a, raw_dtype=raw_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out_path)


WIDE = {"d": 2048, "heads": 32, "kv_heads": 4, "ff": 5632}  # TinyLlama-1.1B's widths


def build_wide(src: Source, out_path: str) -> None:
    """llama-wide (see the module docstring)."""
    import gguf
    np = src.np
    D, H, KV, FF = WIDE["d"], WIDE["heads"], WIDE["kv_heads"], WIDE["ff"]
    d, h, kv, hd = src.d, src.heads, src.kv_heads, src.hd
    per_src, per_dst = h // kv, H // KV
    assert kv <= KV and per_src <= per_dst and hd == D // H
    tmp = out_path + ".partial"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name("Peregrine test llama-wide (SmolLM2-135M padded to 1.1B widths)")
    w.add_description("SmolLM2-135M-Instruct's weights zero-padded to TinyLlama-1.1B's widths by "
                      "tools/make_test_models.py. Not a trained 1.1B model.")
    w.add_block_count(src.layers)
    w.add_context_length(src.ctx)
    w.add_embedding_length(D)
    w.add_feed_forward_length(FF)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(src.eps)
    w.add_rope_freq_base(src.base)
    w.add_vocab_size(len(src.tokens))
    w.add_file_type(1)  # mostly F16
    for name, field in src.reader.fields.items():
        if name.startswith("tokenizer."):
            sub = field.types[1] if len(field.types) > 1 else None
            w.add_key_value(name, field.contents(), field.types[0], sub_type=sub)

    def pad(a, rows, cols):
        out = np.zeros((rows, cols), dtype=np.float32)
        out[: a.shape[0], : a.shape[1]] = a
        return out

    def place_heads(a, heads_per_group, slots_per_group, cols):
        """Rows of heads [groups · heads_per_group · hd, c] into slots [KV · slots_per_group · hd, cols]."""
        out = np.zeros((KV * slots_per_group * hd, cols), dtype=np.float32)
        for g in range(kv):
            for i in range(heads_per_group):
                s, t = (heads_per_group * g + i) * hd, (slots_per_group * g + i) * hd
                out[t: t + hd, : a.shape[1]] = a[s: s + hd]
        return out

    def norm(name):
        """An RMSNorm weight padded to D, scaled for the padded (smaller) mean square."""
        return name, pad(src.f32(name)[None] * np.float32(np.sqrt(d / D)), 1, D)[0]

    tensors = [("token_embd.weight", pad(src.f32("token_embd.weight"), len(src.tokens), D).astype(np.float16)),
               norm("output_norm.weight")]
    for l in range(src.layers):
        p = f"blk.{l}."
        tensors += [norm(p + "attn_norm.weight"), norm(p + "ffn_norm.weight")]
        mats = {"attn_q.weight": place_heads(src.f32(p + "attn_q.weight"), per_src, per_dst, D),
                "attn_k.weight": place_heads(src.f32(p + "attn_k.weight"), 1, 1, D),
                "attn_v.weight": place_heads(src.f32(p + "attn_v.weight"), 1, 1, D),
                "attn_output.weight": pad(place_heads(src.f32(p + "attn_output.weight").T, per_src, per_dst, D).T, D, D),
                "ffn_gate.weight": pad(src.f32(p + "ffn_gate.weight"), FF, D),
                "ffn_up.weight": pad(src.f32(p + "ffn_up.weight"), FF, D),
                "ffn_down.weight": pad(src.f32(p + "ffn_down.weight"), D, FF)}
        tensors += [(p + n, a.astype(np.float16)) for n, a in mats.items()]
    for name, a in tensors:
        w.add_tensor(name, np.ascontiguousarray(a))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out_path)


def llama31_rope_factors(base: float, dim: int, factor: float, low: float, high: float, old_ctx: int):
    """Llama 3.1's RoPE frequency divisors per pair (as the HF → GGUF converter computes them)."""
    import math
    import numpy as np
    freqs = 1.0 / (np.float32(base) ** (np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)))
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    out = []
    for f in freqs:
        wavelen = 2 * math.pi / float(f)
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--out", help="directory to write into")
    ap.add_argument("--cache-root", help="write into CACHE_ROOT/<hash>/ unless complete; print that directory")
    ap.add_argument("--only", help=f"comma-separated subset of {MODELS + EXTRA_MODELS}")
    ap.add_argument("--pylib", help="where to pip-install the pinned packages when missing")
    ap.add_argument("--hash", action="store_true", help="print the generator hash and exit")
    args = ap.parse_args()
    if args.hash:
        print(script_hash())
        return
    if not args.out and not args.cache_root:
        ap.error("give --out or --cache-root")
    root = args.cache_root or args.out
    ensure_packages(args.pylib or os.path.join(os.path.abspath(os.path.expanduser(root)), "pylib-" +
                                                 "-".join(r.replace("==", "") for r in REQUIREMENTS)))
    with open(args.source, "rb") as f:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != SOURCE_SHA256:
        sys.exit(f"{args.source}: not SmolLM2-135M-Instruct.Q4_1.gguf (sha256 {digest.hexdigest()})")
    names = args.only.split(",") if args.only else MODELS
    for n in names:
        if n not in MODELS + EXTRA_MODELS:
            sys.exit(f"unknown model {n!r}; known: {', '.join(MODELS + EXTRA_MODELS)}")
    out = os.path.join(os.path.expanduser(args.cache_root), script_hash()) if args.cache_root else args.out
    os.makedirs(out, exist_ok=True)
    todo = [n for n in names if not os.path.exists(os.path.join(out, n + ".gguf"))]
    if todo:
        src = Source(args.source)
        cal = calibrate(src) if any(n != "llama-wide" for n in todo) else None
        for n in todo:
            print(f"writing {n}.gguf", file=sys.stderr)
            if n == "llama-wide":
                build_wide(src, os.path.join(out, n + ".gguf"))
            else:
                build(src, n, cal, os.path.join(out, n + ".gguf"))
    print(out)


if __name__ == "__main__":
    main()
