#!/usr/bin/env python3
"""Records llama.cpp's outputs on the architecture test models (tools/make_test_models.py) as the
fixtures Tests/Fixtures/architectures/<model>.json. Needs a llama.cpp build (llama-server,
llama-perplexity); CI never runs this, it only reads what it wrote.

    python3 tools/llamacpp_arch_fixtures.py --models DIR --bin /tmp/llama.cpp/build/bin [--only qwen2,...]

Per model:
- perplexity: `llama-perplexity -c 512 -t 2` on Tests/Fixtures/reference/perplexity_text.txt;
- greedy: llama-server (`-t 2 -np 1`, defaults otherwise: f16 KV cache, flash attention auto) /completion
  for each prompt of greedy_smollm2.json, n_predict 24, temperature 0, top_k 1, cache_prompt false,
  n_probs 10 (log-probabilities of the full-vocabulary softmax, post_sampling_probs false);
- chat: /apply-template then /tokenize (add_special, parse_special) — the ids llama-server's
  /v1/chat/completions feeds the model — and /completion on those ids until an end-of-generation
  token or 48 tokens.
The file's sha256 is recorded so the tests know the fixture belongs to the file they generated.
"""
import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "Tests", "Fixtures", "reference")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "architectures")
# Two conversations: with a system message (`chat`, what `peregrine chat --system` sends) and a
# user message alone (`chat_user_only`, what `peregrine run --prompt` sends; templates that insert
# a default system prompt show it here).
CHATS = {"chat": [{"role": "system", "content": "You are a concise assistant."},
                  {"role": "user", "content": "What is the capital of France?"}],
         "chat_user_only": [{"role": "user", "content": "Name three primary colors."}]}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def post(port, route, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{route}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def perplexity(binary, model):
    out = subprocess.run([os.path.join(binary, "llama-perplexity"), "-m", model, "-f",
                          os.path.join(REFERENCE, "perplexity_text.txt"), "-c", "512", "-t", "2"],
                         capture_output=True, text=True, check=True)
    text = out.stdout + out.stderr
    m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", text)
    chunks = re.search(r"calculating perplexity over (\d+) chunks", text)
    return {"ctx": 512, "ppl": float(m.group(1)), "error": float(m.group(2)),
            "chunks": int(chunks.group(1)) if chunks else None}


def completion(port, prompt, n_predict):
    r = post(port, "/completion", {"prompt": prompt, "n_predict": n_predict, "temperature": 0, "top_k": 1,
                                   "cache_prompt": False, "n_probs": 10, "post_sampling_probs": False,
                                   "return_tokens": True})
    steps = [{"id": p["id"], "logprob": p["logprob"],
              "top_logprobs": [{"id": t["id"], "logprob": t["logprob"]} for t in p["top_logprobs"]]}
             for p in r["completion_probabilities"]]
    return r, steps


def record(binary, model_path, name):
    port = free_port()
    server = subprocess.Popen([os.path.join(binary, "llama-server"), "-m", model_path, "--host", "127.0.0.1",
                               "--port", str(port), "-t", "2", "-np", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.5)
        props = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/props").read())
        prompts = [e["prompt"] for e in json.load(open(os.path.join(REFERENCE, "greedy_smollm2.json")))["entries"]]
        entries = []
        for prompt in prompts:
            ids = post(port, "/tokenize", {"content": prompt, "add_special": True, "parse_special": True})["tokens"]
            r, steps = completion(port, prompt, 24)
            entries.append({"prompt": prompt, "prompt_ids_with_bos_as_server_adds": ids,
                            "generated_ids": r["tokens"], "generated_text": r["content"],
                            "n_generated": len(r["tokens"]), "stop_type": r["stop_type"],
                            "top10_per_step": steps})
        chats = {}
        for key, messages in CHATS.items():
            # Llama 3.1's template prints `date_string`, which llama-server sets to today's date; the
            # template's own default (what Hugging Face and Peregrine render) keeps the fixture fixed.
            rendered = post(port, "/apply-template", {"messages": messages,
                                                      "chat_template_kwargs": {"date_string": "26 Jul 2024"}})["prompt"]
            ids = post(port, "/tokenize", {"content": rendered, "add_special": True, "parse_special": True})["tokens"]
            r, _ = completion(port, ids, 48)
            chats[key] = {"messages": messages, "rendered_prompt": rendered, "prompt_ids": ids,
                          "reply_ids": r["tokens"], "reply_text": r["content"], "stop_type": r["stop_type"]}
        build = props.get("build_info", "")
    finally:
        server.terminate()
        server.wait()
    return {"note": "llama.cpp outputs on a transplanted test model (tools/make_test_models.py); "
                    "recorded by tools/llamacpp_arch_fixtures.py, which documents every setting",
            "model": name, "model_sha256": sha256(model_path), "llama_cpp_build": build,
            "perplexity": perplexity(binary, model_path), "entries": entries, **chats}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", required=True, help="directory of make_test_models.py's output")
    ap.add_argument("--bin", default="/tmp/llama.cpp/build/bin")
    ap.add_argument("--only")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else ["qwen2", "qwen3", "qwen3moe", "llama3"]
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        print(f"recording {name}", file=sys.stderr)
        fixture = record(args.bin, os.path.join(args.models, name + ".gguf"), name)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(fixture, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{name}: PPL {fixture['perplexity']['ppl']}", file=sys.stderr)


if __name__ == "__main__":
    main()
