#!/usr/bin/env bash
# The command line: `peregrine run --raw --temperature 0 --json` must reproduce prompt_ids and
# generated_ids of llama.cpp's fixtures (Tests/Fixtures/reference/greedy_smollm2.json) exactly; then
# `peregrine tokenize` must give the ids of llama.cpp's vocabulary fixtures (Tests/Fixtures/vocab);
# then every command's --help, and list / show / rm / pull on a scratch model cache
# (Tests/PeregrineCLITests/commands_test.py).
#   scripts/cli-tests.sh                       # builds peregrine first
#   PEREGRINE_BIN=path/to/peregrine scripts/cli-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PEREGRINE_BIN:-}" ]]; then
  swift build -c release --product peregrine >/dev/null
  PEREGRINE_BIN="$(swift build -c release --show-bin-path)/peregrine"
fi
export PEREGRINE_BIN
python3 -m pip install -q pytest >/dev/null 2>&1 || python3 -m pip install -q pytest
status=0
FIXTURES=Tests/Fixtures/reference
python3 - "$PEREGRINE_BIN" "$FIXTURES/greedy_smollm2.json" <<'PY' || status=1
import json, subprocess, sys
binary, path = sys.argv[1], sys.argv[2]
entries = json.load(open(path))["entries"]
failed = 0
for i, e in enumerate(entries):
    out = subprocess.run([binary, "run", "--model", "smollm2-135m", "--raw", "--temperature", "0",
                          "--max-tokens", str(len(e["generated_ids"])), "--json", "--prompt", e["prompt"]],
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    same = got["prompt_ids"] == e["prompt_ids_with_bos_as_server_adds"] and got["generated_ids"] == e["generated_ids"]
    print(f"prompt {i}: {'identical' if same else 'DIFFERENT'} ({len(got['generated_ids'])} ids)")
    failed += not same
print("cli fixtures:", "PASS" if failed == 0 else f"FAIL ({failed})")
sys.exit(1 if failed else 0)
PY
# `peregrine tokenize` on llama.cpp's vocabulary-only GGUFs (no tensors), which the Swift tests
# fetch into the model cache: the ids of llama.cpp's own tokenizer fixtures (.inp/.out).
VOCAB="${PEREGRINE_MODELS:-$HOME/.cache/peregrine/models}/llama-cpp-python-0.3.36-vocab"
python3 - "$PEREGRINE_BIN" "$VOCAB" Tests/Fixtures/vocab <<'PY' || status=1
import os, subprocess, sys
binary, vocab, fixtures = sys.argv[1:4]
failed = 0
for name in ["qwen2", "llama-bpe", "deepseek-llm", "phi-3"]:
    model = os.path.join(vocab, f"ggml-vocab-{name}.gguf")
    if not os.path.exists(model):
        sys.exit(f"{model} is missing: `swift test` fetches it (LlamaCppVocabularies)")
    strings = open(os.path.join(fixtures, f"ggml-vocab-{name}.gguf.inp"), encoding="utf-8").read().split("\n__ggml_vocab_test__\n")[:-1]
    lines = open(os.path.join(fixtures, f"ggml-vocab-{name}.gguf.out")).read().splitlines()
    same = 0
    for text, line in zip(strings, lines):
        out = subprocess.run([binary, "tokenize", "--model", model, "--no-parse-special", "--", text],
                             capture_output=True, text=True, check=True)
        same += [int(x) for x in out.stdout.strip()[1:-1].split(",") if x] == [int(x) for x in line.split()]
    print(f"tokenize {name}: {same}/{len(strings)} identical")
    failed += same != len(strings)
print("cli tokenize:", "PASS" if failed == 0 else f"FAIL ({failed})")
sys.exit(1 if failed else 0)
PY
echo "== commands"
python3 -m pytest -q -p no:cacheprovider Tests/PeregrineCLITests/commands_test.py || status=1
exit $status
