#!/usr/bin/env python3
"""Load for scripts/bench-cluster.sh: drives a router (or one replica) over HTTP with streamed chat
requests and reads the replicas' own /metrics before and after, so every figure can be checked
against what the replicas say. Standard library only.

  tenants     T tenants, each with its own system prompt of about N tokens, ask short questions in a
              shuffled order: prefix-cache hit rate and TTFT per replica and overall.
  steady      the same tenants' questions in a closed loop for S seconds; optionally runs a command at
              a given second (kill -9 or SIGTERM a replica) and then watches that replica rejoin.
  hog         long requests straight at one replica (to load it behind the router's back).
  throughput  short distinct prompts in a closed loop: output tokens per second.

Prints one JSON document (also to --json FILE).
"""
import argparse
import http.client
import json
import math
import random
import subprocess
import sys
import threading
import time
import urllib.parse

WORDS = (
    "account balance billing customer device engine feature garden harbor invoice journey kernel ledger "
    "module network option package quarter refund schedule ticket upgrade vendor warranty window yearly "
    "zone apple bridge castle desert forest glacier island jungle lantern meadow orchard planet river "
    "summit tunnel valley willow anchor beacon canyon delta ember falcon granite horizon"
).split()


MODEL = ["unknown"]  # the served model's id, read from /v1/models at start


def connection(url, timeout=600):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)


def get(url, path, timeout=10):
    c = connection(url, timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def post_json(url, path, body, timeout=60):
    c = connection(url, timeout)
    try:
        c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ---- Prometheus text, just enough for the metrics we read


def scrape(url):
    """{(name, frozenset(labels)): value} of a replica's /metrics, or None when it does not answer."""
    try:
        status, body = get(url, "/metrics", timeout=5)
    except OSError:
        return None
    if status != 200:
        return None
    out = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        labels = frozenset()
        name = name_labels
        if "{" in name_labels:
            name, _, rest = name_labels.partition("{")
            pairs = []
            for part in rest.rstrip("}").split(","):
                if "=" in part:
                    k, _, v = part.partition("=")
                    pairs.append((k, v.strip('"')))
            labels = frozenset(pairs)
        try:
            out[(name, labels)] = float(value)
        except ValueError:
            pass
    return out


def metric_sum(m, name, **want):
    if m is None:
        return 0.0
    return sum(v for (n, labels), v in m.items() if n == name and all((k, w) in labels for k, w in want.items()))


def histogram(m, name):
    """[(upper bound, cumulative count)] of a histogram, sorted."""
    buckets = {}
    if m is None:
        return []
    for (n, labels), v in m.items():
        if n == name + "_bucket":
            le = dict(labels)["le"]
            key = math.inf if le == "+Inf" else float(le)
            buckets[key] = buckets.get(key, 0) + v
    return sorted(buckets.items())


def hist_delta(after, before):
    b = dict(before)
    return [(le, c - b.get(le, 0)) for le, c in after]


def hist_quantile(q, buckets):
    """Prometheus' histogram_quantile: linear within the bucket holding the q-th observation."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == math.inf:
                return lower
            return lower + (le - lower) * ((rank - below) / (c - below) if c > below else 0)
        lower, below = le, c
    return lower


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


# ---- the workload


def tenant_prompts(count, tokens, seed, tokenize_url):
    """Distinct system prompts of about `tokens` tokens (counted by a replica's /tokenize)."""
    prompts = []
    for t in range(count):
        rng = random.Random(seed * 1000 + t)
        words = [f"Tenant {t} operations handbook, revision {rng.randint(1, 99)}."]
        while True:
            words += [rng.choice(WORDS) for _ in range(50)]
            text = " ".join(words)
            status, body = post_json(tokenize_url, "/tokenize", {"prompt": text, "add_special_tokens": False})
            if status != 200:
                raise SystemExit(f"/tokenize on {tokenize_url} answered {status}: {body[:200]!r}")
            n = json.loads(body)["count"]
            if n >= tokens:
                prompts.append(text)
                break
    return prompts


def question(rng, i):
    return f"Question {i}: in one sentence, what does the handbook say about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"


def stream_chat(url, messages, max_tokens, request_id, stream=True, timeout=600):
    """One chat request; returns a record with status, ttft, e2e, tokens, error."""
    rec = {"id": request_id, "start": time.time(), "ok": False}
    body = {"model": MODEL[0], "messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": stream,
            "ignore_eos": True}
    if stream:
        body["stream_options"] = {"include_usage": True}
    t0 = time.perf_counter()
    c = connection(url, timeout)
    try:
        c.request("POST", "/v1/chat/completions", json.dumps(body),
                  {"Content-Type": "application/json", "X-Request-Id": request_id})
        r = c.getresponse()
        rec["status"] = r.status
        if r.status != 200:
            rec["error"] = f"HTTP {r.status}: {r.read()[:200].decode(errors='replace')}"
            return rec
        if not stream:
            obj = json.loads(r.read())
            rec["e2e"] = time.perf_counter() - t0
            rec["tokens"] = obj["usage"]["completion_tokens"]
            rec["cached"] = (obj["usage"].get("prompt_tokens_details") or {}).get("cached_tokens", 0)
            rec["ok"] = rec["tokens"] == max_tokens
            if not rec["ok"]:
                rec["error"] = f"{rec['tokens']} of {max_tokens} tokens"
            return rec
        tokens, done = 0, False
        while True:
            line = r.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                break
            obj = json.loads(data)
            for ch in obj.get("choices", []):
                if (ch.get("delta") or {}).get("content"):
                    if "ttft" not in rec:
                        rec["ttft"] = time.perf_counter() - t0
            if obj.get("usage"):
                tokens = obj["usage"]["completion_tokens"]
                rec["cached"] = (obj["usage"].get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        rec["e2e"] = time.perf_counter() - t0
        rec["tokens"] = tokens
        rec["ok"] = done and tokens == max_tokens
        if not rec["ok"]:
            rec["error"] = "stream ended early" if not done else f"{tokens} of {max_tokens} tokens"
    except (OSError, http.client.HTTPException, ValueError) as e:
        rec["error"] = f"{type(e).__name__}: {e}"
    finally:
        rec["end"] = time.time()
        c.close()
    return rec


def run_pool(jobs, concurrency, work):
    """Runs work(job) for every job with `concurrency` threads; returns the results in job order."""
    results = [None] * len(jobs)
    next_index = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(jobs):
                return
            results[i] = work(jobs[i])

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def replica_report(before, after):
    """Per replica and overall: prefix-cache queries, hits, hit rate, finished requests, TTFT p50."""
    rows, total_q, total_h, merged = [], 0.0, 0.0, {}
    for url, b, a in zip(args.replica, before, after):
        q = metric_sum(a, "vllm:prefix_cache_queries_total") - metric_sum(b, "vllm:prefix_cache_queries_total")
        h = metric_sum(a, "vllm:prefix_cache_hits_total") - metric_sum(b, "vllm:prefix_cache_hits_total")
        n = metric_sum(a, "vllm:e2e_request_latency_seconds_count") - metric_sum(b, "vllm:e2e_request_latency_seconds_count")
        ttft = hist_delta(histogram(a, "vllm:time_to_first_token_seconds"), histogram(b, "vllm:time_to_first_token_seconds"))
        for le, c in ttft:
            merged[le] = merged.get(le, 0) + c
        total_q += q
        total_h += h
        rows.append({"replica": url, "requests": int(n), "prefix_queries": int(q), "prefix_hits": int(h),
                     "hit_rate": h / q if q else None, "ttft_p50_s": hist_quantile(0.5, ttft)})
    merged_buckets = sorted(merged.items())
    return {"replicas": rows, "hit_rate": total_h / total_q if total_q else None,
            "ttft_p50_s": hist_quantile(0.5, merged_buckets), "ttft_p90_s": hist_quantile(0.9, merged_buckets)}


def client_report(records, seconds):
    ok = [r for r in records if r["ok"]]
    errors = [r for r in records if not r["ok"]]
    return {
        "requests": len(records), "ok": len(ok), "errors": len(errors),
        "error_samples": sorted({r.get("error", "?") for r in errors})[:8],
        "ttft_p50_s": percentile([r["ttft"] for r in ok if "ttft" in r], 0.5),
        "ttft_p90_s": percentile([r["ttft"] for r in ok if "ttft" in r], 0.9),
        "e2e_p50_s": percentile([r["e2e"] for r in ok], 0.5),
        "seconds": seconds,
        "output_tokens_per_s": sum(r["tokens"] for r in ok) / seconds if seconds else None,
    }


def cmd_tenants():
    prompts = tenant_prompts(args.tenants, args.system_tokens, args.seed, args.replica[0])
    rng = random.Random(args.seed)
    jobs = [(t, q) for t in range(args.tenants) for q in range(args.questions)]
    rng.shuffle(jobs)
    before = [scrape(u) for u in args.replica]
    t0 = time.perf_counter()

    def work(job):
        t, q = job
        messages = [{"role": "system", "content": prompts[t]}, {"role": "user", "content": question(rng, q)}]
        return stream_chat(args.url, messages, args.max_tokens, f"t{t}-q{q}-{args.seed}")

    records = run_pool(jobs, args.concurrency, work)
    seconds = time.perf_counter() - t0
    after = [scrape(u) for u in args.replica]
    return {"mode": "tenants", "client": client_report(records, seconds), "server": replica_report(before, after)}


def cmd_steady():
    prompts = tenant_prompts(args.tenants, args.system_tokens, args.seed, args.replica[0])
    before = [scrape(u) for u in args.replica]
    deadline = time.perf_counter() + args.seconds
    records, lock, counter = [], threading.Lock(), [0]
    event = {}

    def loop(worker):
        rng = random.Random(args.seed * 100 + worker)
        while time.perf_counter() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            t = rng.randrange(args.tenants)
            messages = [{"role": "system", "content": prompts[t]}, {"role": "user", "content": question(rng, n)}]
            rec = stream_chat(args.url, messages, args.max_tokens, f"s{n}", stream=not args.no_stream)
            with lock:
                records.append(rec)

    def trigger():
        time.sleep(args.at)
        victim = args.replica[args.watch - 1] if args.watch else None
        m = scrape(victim) if victim else None
        event["in_flight_on_victim"] = int(metric_sum(m, "vllm:num_requests_running") + metric_sum(m, "vllm:num_requests_waiting")) if m else None
        event["at"] = time.time()
        event["command"] = args.run
        subprocess.run(args.run, shell=True, check=False)
        if not victim:
            return
        # Rejoin: its /health fails (or drains), then answers 200 again, then it finishes requests again.
        down = None
        while time.perf_counter() < deadline + 60:
            try:
                status, _ = get(victim, "/health", timeout=2)
            except OSError:
                status = None
            if status != 200 and down is None:
                down = time.time()
            if status == 200 and down is not None:
                event["healthy_again_s"] = time.time() - event["at"]
                break
            time.sleep(0.1)
        while time.perf_counter() < deadline:
            m = scrape(victim)
            if m and metric_sum(m, "vllm:e2e_request_latency_seconds_count") > 0:
                event["serving_again_s"] = time.time() - event["at"]
                break
            time.sleep(0.2)

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(args.concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    trig = threading.Thread(target=trigger) if args.run else None
    if trig:
        trig.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if trig:
        trig.join()
    after = [scrape(u) for u in args.replica]
    out = {"mode": "steady", "client": client_report(records, seconds), "event": event}
    if event.get("at"):
        # Requests in flight at the event, and the errors among them (every error should be one).
        at = event["at"]
        spanning = [r for r in records if r["start"] <= at <= r.get("end", at)]
        out["event"]["requests_in_flight_through_router"] = len(spanning)
        out["event"]["errors_in_flight_at_event"] = sum(1 for r in spanning if not r["ok"])
        out["event"]["errors_started_after_event"] = sum(1 for r in records if not r["ok"] and r["start"] > at)
    out["server"] = replica_report(before, after) if all(a is not None for a in after) else None
    return out


def cmd_hog():
    rng = random.Random(args.seed)
    deadline = time.perf_counter() + args.seconds
    records, lock = [], threading.Lock()

    def loop(worker):
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            text = " ".join(rng.choice(WORDS) for _ in range(args.hog_words))
            messages = [{"role": "user", "content": f"Hog {worker}-{n}: {text}"}]
            rec = stream_chat(args.url, messages, args.max_tokens, f"hog{worker}-{n}")
            with lock:
                records.append(rec)

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"mode": "hog", "client": client_report(records, args.seconds)}


def cmd_throughput():
    before = [scrape(u) for u in args.replica]
    deadline = time.perf_counter() + args.seconds
    records, lock, counter = [], threading.Lock(), [0]

    def loop(worker):
        rng = random.Random(args.seed * 100 + worker)
        while time.perf_counter() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            text = " ".join(rng.choice(WORDS) for _ in range(24))
            messages = [{"role": "user", "content": f"Request {n}. Continue this list: {text}"}]
            rec = stream_chat(args.url, messages, args.max_tokens, f"tp{n}")
            with lock:
                records.append(rec)

    threads = [threading.Thread(target=loop, args=(w,)) for w in range(args.concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    after = [scrape(u) for u in args.replica]
    return {"mode": "throughput", "client": client_report(records, seconds), "server": replica_report(before, after)}


p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("mode", choices=["tenants", "steady", "hog", "throughput"])
p.add_argument("--url", required=True, help="where requests go: the router, or one replica")
p.add_argument("--replica", action="append", default=[], help="a replica's URL, for its /metrics (repeat)")
p.add_argument("--tenants", type=int, default=8)
p.add_argument("--system-tokens", type=int, default=1000)
p.add_argument("--questions", type=int, default=6, help="questions per tenant (tenants mode)")
p.add_argument("--concurrency", type=int, default=4)
p.add_argument("--max-tokens", type=int, default=16)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--no-stream", action="store_true", help="steady: whole responses instead of streams")
p.add_argument("--at", type=float, default=20, help="steady: second at which --run runs")
p.add_argument("--run", help="steady: shell command to run at --at (e.g. scripts/cluster.sh kill 2)")
p.add_argument("--watch", type=int, help="steady: the replica (1-based) --run acts on, to time its rejoin")
p.add_argument("--hog-words", type=int, default=900)
p.add_argument("--json", help="also write the result here")
args = p.parse_args()
if args.mode != "hog" and not args.replica:
    p.error("give the replicas' URLs with --replica (their /metrics are read)")
status, body = get(args.replica[0] if args.replica else args.url, "/v1/models")
MODEL[0] = json.loads(body)["data"][0]["id"]
result = {"tenants": cmd_tenants, "steady": cmd_steady, "hog": cmd_hog, "throughput": cmd_throughput}[args.mode]()
result["args"] = {k: v for k, v in vars(args).items() if v is not None}
text = json.dumps(result, indent=1)
print(text)
if args.json:
    with open(args.json, "w") as f:
        f.write(text)
