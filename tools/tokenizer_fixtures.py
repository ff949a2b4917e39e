#!/usr/bin/env python3
"""Writes Tests/Fixtures/vocab/llama_tokenize.json: token ids from llama.cpp's `llama-tokenize` for
3,000 generated strings (code, CJK, emoji, digits, whitespace runs, special-token text, mixed
scripts) on llama.cpp's vocabulary-only GGUFs, plus smaller sets on other vocabularies and on
copies whose `tokenizer.ggml.pre` is rewritten to a pre-tokenizer no shipped vocabulary uses
(gpt-4o, tekken, deepseek-v3, …), so every splitting rule Peregrine implements is checked against
llama.cpp on a real vocabulary.

usage: tools/tokenizer_fixtures.py LLAMA_CPP_DIR
LLAMA_CPP_DIR holds models/ggml-vocab-*.gguf, gguf-py/ and build/bin/llama-tokenize (b11312).

Running llama-tokenize once per string would take an hour, so the strings of one configuration are
joined with a separator token and tokenized in one call, then the ids are cut at the separator.
That is exact because llama.cpp tokenizes the text between special tokens independently (and a
SentencePiece fragment after a special token gets the same leading space as one at the start).
The separator is a token the strings never contain and that strips no whitespace; each
configuration also runs a sample of strings one by one and the script fails if any differs.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

STRING_COUNT = 3000
TARGETED_COUNT = 400
SEED = 17

# (vocabulary, pre override or None, separator, which strings, also without parsing specials).
# "all" is the 3,000 general strings plus the targeted ones; "targeted" is the targeted strings
# (case changes, contractions, slashes, newlines after punctuation, digit runs, CJK next to Latin:
# what the families' regexes disagree on) plus the first 100 general ones.
CONFIGS = [
    ("qwen2", None, "[PAD151700]", "all", True),
    ("llama-bpe", None, "<|reserved_special_token_5|>", "all", False),
    ("deepseek-llm", None, "[PAD100100]", "all", True),
    ("phi-3", None, "<unk>", "all", False),
    ("qwen35", None, "[PAD151700]", "targeted", False),
    ("gpt-2", None, "<|endoftext|>", "targeted", False),
    ("starcoder", None, "<|endoftext|>", "targeted", False),
    ("deepseek-coder", None, "<｜end▁of▁sentence｜>", "targeted", False),
    ("falcon", None, "<|endoftext|>", "targeted", False),
    ("llama-spm", None, "<unk>", "targeted", False),
    ("llama-bpe", "gpt-4o", "<|reserved_special_token_5|>", "targeted", False),
    ("llama-bpe", "tekken", "<|reserved_special_token_5|>", "targeted", False),
    ("llama-bpe", "granite-embed-multi-97m", "<|reserved_special_token_5|>", "targeted", False),
    ("llama-bpe", "dbrx", "<|reserved_special_token_5|>", "targeted", False),
    ("deepseek-llm", "deepseek-v3", "[PAD100100]", "targeted", False),
    ("deepseek-llm", "spark2_5", "[PAD100100]", "targeted", False),
    ("gpt-2", "default", "<|endoftext|>", "targeted", False),
    ("gpt-2", "bloom", "<|endoftext|>", "targeted", False),
    ("gpt-2", "viking", "<|endoftext|>", "targeted", False),
    ("qwen2", "seed-coder", "[PAD151700]", "targeted", False),
    ("qwen2", "bailingmoe", "[PAD151700]", "targeted", False),
    ("qwen2", "ufakzeka", "[PAD151700]", "targeted", False),
    ("qwen2", "laguna", "[PAD151700]", "targeted", False),
    ("qwen2", "exaone-moe", "[PAD151700]", "targeted", False),
    ("qwen2", "minicpm5", "[PAD151700]", "targeted", False),
    ("qwen2", "youtu", "[PAD151700]", "targeted", False),
]
SAMPLE_ONE_BY_ONE = 12

CODE = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "let xs = [1, 2, 3].map { $0 * 2 } // doubled",
    "SELECT id, name FROM users WHERE age >= 21 ORDER BY name;",
    "<div class=\"card\"><span>Hello</span></div>",
    "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
    "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "console.log(`value: ${x?.y ?? 'none'}`);",
    "    if x == y:\r\n        pass\r\n",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); }",
    "git commit -m 'fix: handle CRLF' && git push origin main",
    "x_1 += y__2 ** 3 // 4 % 5 != 6 <= 7 >= 8 && !z || w",
    "https://example.com/path?q=a+b&lang=en#section-2",
    "# Title\n\n- item one\n- item **two**\n\n```python\nprint('hi')\n```",
    "import numpy as np; a = np.zeros((3, 4), dtype=np.float32)",
]
WORDS = [
    "Hello", "world", "the", "quick", "brown", "fox", "can't", "won't", "I'm", "you're", "they've", "we'll",
    "IT'S", "WE'RE", "She'D", "O'Neil", "rock'n'roll", "state-of-the-art", "e-mail", "naïve", "café", "résumé",
    "Straße", "Ärger", "Øresund", "façade", "coöperate", "ﬁnal", "Ⅻ", "x²", "½", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ＡＢＣ", "ｆｕｌｌ",
]
SCRIPTS = [
    "Привет, как дела?", "Ελληνικά γράμματα", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "你好，世界！", "我们今天去公园散步。", "日本語のテキスト、カタカナとひらがな。", "東京タワー", "한국어 문장입니다.",
    "안녕하세요 여러분", "Tiếng Việt có dấu", "ქართული ენა", "Հայերեն", "ᏣᎳᎩ", "ትግርኛ", "ᠮᠣᠩᠭᠣᠯ",
    "e\u0301te\u0301", "a\u0308o\u0308u\u0308", "\u0915\u093f\u0924\u093e\u092c", "ñ vs n\u0303",
]
EMOJI = [
    "🦙", "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🏳️‍🌈", "🤖💬", "✅❌", "🔥🔥🔥", "©®™", "☃", "🧑🏿‍💻", "1️⃣",
]
SPACES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\t", "\u00a0", "\u3000", "\u2009", "\u2028", "    ", "\n\n\n"]
SPECIALS = [
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|begin_of_text|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|end_of_text|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<|user|>",
    "<|assistant|>", "<|system|>", "<|end|>", "<s>", "</s>", "<think>", "</think>", "<tool_call>", "[INST]",
]
PUNCT = ["...", "!!", "?!", "—", "–", "«»", "“quoted”", "‘single’", "(parens)", "[brackets]", "{braces}", "@#$%^&*",
         "~~", "::", "->", "=>", "//", "/* */", "<>", "|||", "¿", "¡", "…", "。", "，", "、", "！？"]


def number(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randrange(10 ** rng.randrange(1, 12)))
    if kind == 1:
        return f"{rng.uniform(-1e4, 1e4):.{rng.randrange(1, 6)}f}"
    if kind == 2:
        return f"+1 ({rng.randrange(100, 999)}) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
    if kind == 3:
        return f"{rng.randrange(1, 31)}/{rng.randrange(1, 12)}/{rng.randrange(1900, 2100)}"
    if kind == 4:
        return "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 40)))
    return rng.choice(["١٢٣", "४२", "๓๔", "１２３", "Ⅳ", "①②", "3.14159", "1e-9", "0x1F", "1,000,000"])


def piece(rng):
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice(CODE)
    if kind == 1:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 6)))
    if kind == 2:
        return rng.choice(SCRIPTS)
    if kind == 3:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randrange(1, 4)))
    if kind == 4:
        return number(rng)
    if kind == 5:
        return rng.choice(SPACES) * rng.randrange(1, 4)
    if kind == 6:
        return rng.choice(SPECIALS)
    if kind == 7:
        return rng.choice(PUNCT)
    # random code points from assorted blocks, including unassigned and combining ones
    blocks = [(0x20, 0x7E), (0xA0, 0x17F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
              (0x900, 0x97F), (0x2000, 0x206F), (0x2190, 0x22FF), (0x3040, 0x30FF), (0x4E00, 0x9FFF),
              (0xAC00, 0xD7A3), (0xA7C0, 0xA7FF), (0x1F300, 0x1F6FF), (0x10500, 0x105FF), (0xE000, 0xE00F)]
    lo, hi = rng.choice(blocks)
    return "".join(chr(rng.randrange(lo, hi + 1)) for _ in range(rng.randrange(1, 8)))


TARGETED = [
    "getHTTPResponse", "XMLHttpRequest", "iPhone", "McDonald's", "ÉCOLEÉlève", "ΑθήναΑΘΗΝΑ", "HelloWORLDFoo",
    "ABCdefGHI", "camelCaseName", "snake_case_Name", "DON'T", "you'Re", "it's", "'S", "rock'n'roll's", "y'all",
    "I'LL", "we'VE", "she'd", "O'Reilly's", "/usr/local/bin/", "a/b/c\n", "http://x.y/z/", "C:\\Windows\\",
    "//\n\n", "end.\n\n", "x;\r\n", "!!\n", "?\r\n\r\n", "...\n", "1234567", "12,345.678", "٣٤٥٦", "x1y22z333",
    "0000", "東京Tokyo2024年", "カタカナabc", "ひらがなとカタカナ", "한국어ABC123", "中文，标点。", "e\u0301", "\u0915\u093f",
    "a\u0300\u0301b", "   word", "\t\tword", "\n   \n  x", " \u00a0x", "x\u3000\u3000y", "ﬁle", "Ⅻ century",
    "$100", "+1", "<=>", "^_^", "`code`", "|pipe|", "~tilde", "#hash", "@user", "%pct", "&amp;", "*star*",
]


def make_targeted(count):
    rng = random.Random(SEED + 2)
    out = []
    while len(out) < count:
        parts = [rng.choice(TARGETED) for _ in range(rng.randrange(2, 6))]
        s = "".join(p + rng.choice(["", " ", "", "\n", "  "]) for p in parts)
        if s not in out:
            out.append(s)
    return out


def make_strings(count):
    rng = random.Random(SEED)
    out = []
    while len(out) < count:
        parts = [piece(rng) for _ in range(rng.randrange(1, 5))]
        joiners = ["", " ", "", "\n"]
        s = "".join(p + rng.choice(joiners) for p in parts)
        if rng.randrange(8) == 0:
            s = rng.choice(SPACES) + s
        if rng.randrange(8) == 0:
            s = s + rng.choice(SPACES)
        s = s[:400]
        if s not in out:
            out.append(s)
    return out


def rewrite_pre(src, pre, dest, gguf_py):
    sys.path.insert(0, gguf_py)
    from gguf import GGUFReader, GGUFWriter, GGUFValueType
    r = GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = GGUFWriter(dest, arch)
    for name, field in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        value = pre if name == "tokenizer.ggml.pre" else field.contents()
        vtype = field.types[0]
        if vtype == GGUFValueType.ARRAY:
            w.add_key_value(name, value, vtype, sub_type=field.types[-1])
        else:
            w.add_key_value(name, value, vtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tokenize(binary, model, text, parse_special=True):
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(text.encode())
        path = f.name
    args = [binary, "-m", model, "-f", path, "--ids", "--no-bos", "--no-escape", "--log-disable"]
    if not parse_special:
        args.append("--no-parse-special")
    out = subprocess.run(args, capture_output=True, check=True).stdout.decode()
    os.unlink(path)
    line = [l for l in out.splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def batch(binary, model, strings, separator, sep_id, parse_special=True):
    ids = tokenize(binary, model, separator.join(strings), parse_special)
    pieces = [[]]
    for i in ids:
        if i == sep_id:
            pieces.append([])
        else:
            pieces[-1].append(i)
    if len(pieces) != len(strings):
        sys.exit(f"{model}: {len(pieces)} pieces for {len(strings)} strings")
    return pieces


def main():
    root = sys.argv[1]
    binary = os.path.join(root, "build/bin/llama-tokenize")
    gguf_py = os.path.join(root, "gguf-py")
    strings = make_strings(STRING_COUNT) + make_targeted(TARGETED_COUNT)
    sets = {"all": list(range(len(strings))), "targeted": list(range(100)) + list(range(STRING_COUNT, len(strings)))}
    rng = random.Random(SEED + 1)
    configs = []
    with tempfile.TemporaryDirectory() as tmp:
        for vocab, pre, separator, which, literal in CONFIGS:
            model = os.path.join(root, f"models/ggml-vocab-{vocab}.gguf")
            if pre is not None:
                copy = os.path.join(tmp, f"{vocab}-{pre}.gguf")
                rewrite_pre(model, pre, copy, gguf_py)
                model = copy
            used = [i for i in sets[which] if separator not in strings[i]]
            texts = [strings[i] for i in used]
            sep_ids = tokenize(binary, model, separator)
            if len(sep_ids) != 1:
                sys.exit(f"{vocab}: separator {separator!r} is not one token: {sep_ids}")
            entry = {"vocab": vocab, "pre": pre, "strings": used,
                     "ids": batch(binary, model, texts, separator, sep_ids[0])}
            if literal:
                # Stored only where they differ from `ids`: few strings hold control-token text.
                plain = batch(binary, model, texts, separator, sep_ids[0], parse_special=False)
                entry["ids_no_parse_special_where_different"] = {
                    str(k): v for k, (a, v) in enumerate(zip(entry["ids"], plain)) if a != v}
            for k in rng.sample(range(len(used)), SAMPLE_ONE_BY_ONE):
                alone = tokenize(binary, model, texts[k])
                if alone != entry["ids"][k]:
                    sys.exit(f"{vocab}/{pre}: batching changed the ids of {texts[k]!r}: {alone} vs {entry['ids'][k]}")
            print(f"{vocab} pre={pre}: {len(used)} strings", file=sys.stderr)
            configs.append(entry)
    fixture = {
        "generator": "tools/tokenizer_fixtures.py",
        "reference": "llama.cpp b11312 llama-tokenize --ids --no-bos (special text parsed unless noted)",
        "strings": strings,
        "configs": configs,
    }
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../Tests/Fixtures/vocab/llama_tokenize.json")
    with open(dest, "w") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
