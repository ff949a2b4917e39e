"""Interactive TTFT with and without a batch running (issue 19), against a `peregrine serve` it starts.

Alternates rounds: C concurrent streaming chat clients with no batch, then the same load while a
large batch runs (created for the round, cancelled after it). Prints TTFT p50/p90 per phase (medians
over rounds) and how many batch lines finished during the loaded phases.

  python3 tools/batch_ttft_bench.py --bin .build/release/peregrine --model smollm2-135m \
      [--concurrency 4] [--requests 24] [--rounds 3] [--max-tokens 16]
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

import openai


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, model, db, extra):
    port = free_port()
    log = open(os.path.join(os.path.dirname(db), "server.log"), "w")
    env = dict(os.environ)
    env.pop("PEREGRINE_API_KEY", None)
    proc = subprocess.Popen([binary, "serve", "--model", model, "--port", str(port), "--usage-db", db,
                             "--shutdown-grace", "1", "--api-key", "sk-bench"] + extra, stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    base = "http://127.0.0.1:%d" % port
    for _ in range(3000):
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def load(client, model, concurrency, requests, max_tokens, tag):
    """TTFTs (seconds) of `requests` streamed requests per client, `concurrency` clients."""
    ttfts = []
    lock = threading.Lock()

    def worker(c):
        for i in range(requests):
            prompt = "Request %s-%d-%d: name a colour and say why." % (tag, c, i)
            start = time.perf_counter()
            first = None
            stream = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                temperature=0, stream=True, extra_headers={"Cache-Control": "no-cache"})
            for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - start
            with lock:
                ttfts.append(first if first is not None else time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ttfts


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release/peregrine")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--requests", type=int, default=24, help="requests per client per phase")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--batch-lines", type=int, default=3000)
    ap.add_argument("--batch-max-tokens", type=int, default=64)
    args, extra = ap.parse_known_args()
    work = tempfile.mkdtemp(prefix="peregrine-batch-bench-")
    db = os.path.join(work, "usage.sqlite")
    proc, base = start(args.bin, args.model, db, extra)
    try:
        run(args, base, work)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def run(args, base, work):
    client = openai.OpenAI(base_url=base + "/v1", api_key="sk-bench", max_retries=0, timeout=600)
    path = os.path.join(work, "input.jsonl")
    with open(path, "w") as f:
        for i in range(args.batch_lines):
            f.write(json.dumps({"custom_id": "b%d" % i, "method": "POST", "url": "/v1/chat/completions", "body": {
                "model": args.model, "max_tokens": args.batch_max_tokens, "temperature": 0,
                "messages": [{"role": "user", "content": "Write a short story about the number %d." % i}]}}) + "\n")
    with open(path, "rb") as f:
        file_id = client.files.create(file=f, purpose="batch").id
    load(client, args.model, args.concurrency, 4, args.max_tokens, "warmup")
    results = {"none": [], "batch": []}
    lines_done = []
    for r in range(args.rounds):
        t = load(client, args.model, args.concurrency, args.requests, args.max_tokens, "a%d" % r)
        results["none"].append((statistics.median(t), pct(t, 0.9)))
        batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
        while client.batches.retrieve(batch.id).request_counts.completed < 2:
            time.sleep(0.1)
        before = client.batches.retrieve(batch.id).request_counts.completed
        t = load(client, args.model, args.concurrency, args.requests, args.max_tokens, "b%d" % r)
        after = client.batches.retrieve(batch.id).request_counts.completed
        results["batch"].append((statistics.median(t), pct(t, 0.9)))
        lines_done.append(after - before)
        client.batches.cancel(batch.id)
        while client.batches.retrieve(batch.id).status != "cancelled":
            time.sleep(0.1)
        print("round %d: no batch p50 %.1f ms, with batch p50 %.1f ms (%d batch lines finished meanwhile)" % (
            r, results["none"][-1][0] * 1000, results["batch"][-1][0] * 1000, lines_done[-1]), flush=True)
    for phase in ("none", "batch"):
        p50 = statistics.median(x[0] for x in results[phase]) * 1000
        p90 = statistics.median(x[1] for x in results[phase]) * 1000
        print("%-10s TTFT p50 %.1f ms  p90 %.1f ms  (median of %d rounds)" % (
            "no batch" if phase == "none" else "batch", p50, p90, args.rounds))
    print("batch lines finished during loaded phases: %s" % lines_done)


if __name__ == "__main__":
    main()
