"""Inference economics (issue 18) against a running `peregrine serve`, with the real `openai` client:
allowances under concurrency, kill -9 and restart, the result cache, prices and cost, the usage
API, and stored completions. Each test starts the servers it needs on free loopback ports.

Environment: PEREGRINE_BIN (the built binary), PEREGRINE_TEST_MODEL (default smollm2-135m).
"""
import concurrent.futures
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import openai

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Hostile"))
from loopback import ServerProcess  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
PRICE = "input=0.10,output=0.40,cached=0.05"
ADMIN = "sk-admin-economics"


def cli(*args):
    out = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    return out.stdout


def create_key(db, tier, name="k"):
    return json.loads(cli("keys", "create", "--db", db, "--tier", tier, "--name", name, "--json"))


class Server(ServerProcess):
    def __init__(self, db, *flags):
        self.db = db
        super().__init__(BIN, MODEL, ["--usage-db", db, "--admin-key", ADMIN, "--price", PRICE] + list(flags),
                         prefix="peregrine-economics-")

    def client(self, key):
        return openai.OpenAI(base_url=self.base + "/v1", api_key=key, max_retries=0, timeout=300)

    def get(self, path, key):
        req = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + key})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


def rows(db, where="1=1", args=()):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM usage WHERE " + where, args)]
    finally:
        con.close()


def scalar(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


MESSAGES = [{"role": "user", "content": "Name a colour."}]
RATE_HEADERS = ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens")


def ask(srv, key, max_tokens=12, **extra):
    """One sampled chat completion: ("ok", usage dict, headers) or ("429", error body, headers)."""
    try:
        raw = srv.client(key).chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, max_tokens=max_tokens, temperature=0.8, **extra)
        return "ok", raw.parse().usage.model_dump(), dict(raw.headers)
    except openai.RateLimitError as e:
        return "429", e.body, dict(e.response.headers)


def anonymous_ask(srv, max_tokens=12):
    """ask() without any key (the openai client insists on one, so plain HTTP)."""
    body = json.dumps({"model": MODEL, "messages": MESSAGES, "max_tokens": max_tokens, "temperature": 0.8}).encode()
    req = urllib.request.Request(srv.base + "/v1/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return "ok", json.loads(r.read())["usage"], {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        assert e.code == 429, e.code
        return "429", json.loads(e.read())["error"], {k.lower(): v for k, v in e.headers.items()}


def test_allowances_hold_under_200_concurrent_requests_and_survive_kill_9():
    db = os.path.join(tempfile.mkdtemp(), "usage.sqlite")
    cli("keys", "tier", "tiny", "--daily-tokens", "900", "--db", db)
    keys = [create_key(db, "tiny", "k%d" % i) for i in range(4)]
    with Server(db, "--response-cache-size", "0") as srv:
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            results = list(pool.map(lambda i: (keys[i % 4], ask(srv, keys[i % 4]["secret"])), range(200)))
        ok = [(k, r) for k, r in results if r[0] == "ok"]
        refused = [(k, r) for k, r in results if r[0] == "429"]
        assert ok and refused, "the allowances should admit some and refuse some of 200 requests"
        for _, (_, body, headers) in refused:
            for h in RATE_HEADERS:
                assert h in headers, "429 without %s: %s" % (h, headers)
            assert body["code"] == "insufficient_quota", body
            # What is left, and when more comes back (an ISO 8601 time).
            assert "left" in body["message"] and re.search(r"\d{4}-\d\d-\d\dT\d\d:", body["message"]), body
            assert int(headers["retry-after"]) > 0
        for _, (_, _, headers) in ok:
            assert int(headers["x-ratelimit-limit-tokens"]) == 900
        for k in keys:
            settled = rows(db, "api_key_id = ?", (k["id"],))
            charged = sum(r["prompt_tokens"] + r["completion_tokens"] for r in settled)
            seen = sum(r[1]["total_tokens"] for kk, r in ok if kk is k)
            assert charged <= 900, "key %s spent %d of 900" % (k["id"], charged)
            assert charged == seen, "key %s: database %d, responses %d" % (k["id"], charged, seen)
        assert scalar(db, "SELECT count(*) FROM reservations") == 0

    # kill -9 while a key's requests are in flight: nothing settled is lost, nothing stays reserved.
    cli("keys", "tier", "roomy", "--daily-tokens", "100000", "--db", db)
    big = create_key(db, "roomy", "big")
    srv = Server(db, "--response-cache-size", "0")
    answered = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                r = ask(srv, big["secret"], max_tokens=64)
                if r[0] == "ok":
                    answered.append(r[1]["total_tokens"])
            except Exception:
                return

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 120
    while time.time() < deadline and (len(answered) < 5 or scalar(db, "SELECT count(*) FROM reservations") == 0):
        time.sleep(0.02)
    assert scalar(db, "SELECT count(*) FROM reservations") > 0, "no request in flight to kill under"
    srv.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    settled = rows(db, "api_key_id = ? AND status = 200", (big["id"],))
    assert len(settled) >= len(answered), "a request answered 200 before kill -9 is missing"
    spent = sum(r["prompt_tokens"] + r["completion_tokens"] for r in settled)
    assert scalar(db, "PRAGMA integrity_check") == "ok"
    with Server(db) as again:
        assert scalar(db, "SELECT count(*) FROM reservations") == 0, "reservations leaked across kill -9"
        status, report = again.get("/v1/usage?group_by=key", ADMIN)
        assert status == 200
        row = next(r for r in report["data"] if r["group"] == big["id"])
        assert row["input_tokens"] + row["output_tokens"] == spent
        kind, _, headers = ask(again, big["secret"], max_tokens=4)
        assert kind == "ok"
        remaining = int(headers["x-ratelimit-remaining-tokens"])
        # Everything reserved by the killed process came back; only the settled tokens are spent
        # (the remaining count is taken at admission, with this request's own reservation held).
        assert remaining >= 100000 - spent - 4 - 200, (remaining, spent)
    assert scalar(db, "PRAGMA integrity_check") == "ok"


def test_deterministic_requests_are_cached_per_key_and_priced_as_cached_input():
    db = os.path.join(tempfile.mkdtemp(), "usage.sqlite")
    a, b = create_key(db, "unlimited", "a"), create_key(db, "unlimited", "b")
    greedy = dict(model=MODEL, messages=MESSAGES, max_tokens=24, temperature=0)
    with Server(db) as srv:
        first = srv.client(a["secret"]).chat.completions.with_raw_response.create(**greedy)
        assert first.headers["x-cache"] == "miss"
        text = first.parse().choices[0].message.content
        hits = []
        for _ in range(3):
            again = srv.client(a["secret"]).chat.completions.with_raw_response.create(**greedy)
            assert again.headers["x-cache"] == "hit"
            parsed = again.parse()
            assert parsed.choices[0].message.content == text
            usage = parsed.usage.model_dump()
            assert usage["prompt_tokens_details"]["cached_tokens"] == usage["prompt_tokens"]
            assert usage["cost"]["output"] == 0
            assert abs(usage["cost"]["input"] - usage["prompt_tokens"] * 0.05 / 1e6) < 1e-12
            hits.append(parsed)
        hit_rows = rows(db, "cache_hit = 1")
        assert len(hit_rows) == 3
        assert min(r["e2e_s"] for r in hit_rows) < 0.010, [r["e2e_s"] for r in hit_rows]
        other = srv.client(b["secret"]).chat.completions.with_raw_response.create(**greedy)
        assert other.headers["x-cache"] == "miss"
        # A streamed request replays the cached result as server-sent events.
        chunks = list(srv.client(a["secret"]).chat.completions.create(stream=True, **greedy))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
        # Sampled without a seed: never cached. Cache-Control: no-cache bypasses.
        sampled = dict(greedy, temperature=0.9)
        for _ in range(2):
            r = srv.client(a["secret"]).chat.completions.with_raw_response.create(**sampled)
            assert "x-cache" not in r.headers
        r = srv.client(a["secret"]).chat.completions.with_raw_response.create(
            extra_headers={"Cache-Control": "no-cache"}, **greedy)
        assert "x-cache" not in r.headers
        with urllib.request.urlopen(srv.base + "/metrics", timeout=30) as m:
            metrics = m.read().decode()
        hits_line = next(l for l in metrics.splitlines() if l.startswith("peregrine_result_cache_hits_total{"))
        assert float(hits_line.rsplit(" ", 1)[1]) == 4, hits_line


def test_cost_usage_api_and_stored_completions():
    db = os.path.join(tempfile.mkdtemp(), "usage.sqlite")
    a, b = create_key(db, "unlimited", "a"), create_key(db, "unlimited", "b")
    marker = "zebra-quartz-%d" % os.getpid()
    with Server(db) as srv:
        usages = []
        for i in range(5):
            r = srv.client(a["secret"]).chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Say %s %d." % (marker, i)}],
                max_tokens=8, temperature=0.7)
            u = r.usage.model_dump()
            # Prompt tokens found in the prefix cache are priced as cached input.
            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            expected = ((u["prompt_tokens"] - cached) * 0.10 + cached * 0.05) / 1e6
            assert abs(u["cost"]["input"] - expected) < 1e-12, (u, expected)
            assert abs(u["cost"]["output"] - u["completion_tokens"] * 0.40 / 1e6) < 1e-12
            assert abs(u["cost"]["total"] - u["cost"]["input"] - u["cost"]["output"]) < 1e-12
            usages.append(u)
        status, report = srv.get("/v1/usage?group_by=key", a["secret"])
        assert status == 200 and len(report["data"]) == 1
        row = report["data"][0]
        assert row["requests"] == 5
        assert row["input_tokens"] == sum(u["prompt_tokens"] for u in usages)
        assert row["output_tokens"] == sum(u["completion_tokens"] for u in usages)
        assert abs(row["cost"] - sum(u["cost"]["total"] for u in usages)) < 1e-9
        assert srv.get("/v1/usage", b["secret"])[1]["data"] == []
        # The token counter agrees with what the request is charged.
        req = urllib.request.Request(
            srv.base + "/v1/chat/completions/input_tokens", method="POST",
            data=json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Say %s 0." % marker}]}).encode(),
            headers={"Authorization": "Bearer " + a["secret"], "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.loads(r.read())["input_tokens"] == usages[0]["prompt_tokens"]

        # Opt-in history: store=true keeps it for its own key only.
        kept = srv.client(a["secret"]).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Remember kiwi."}], max_tokens=8, store=True,
            metadata={"topic": "fruit"})
        listing = srv.client(a["secret"]).chat.completions.list()
        assert [c.id for c in listing.data] == [kept.id]
        assert srv.client(a["secret"]).chat.completions.retrieve(kept.id).choices[0].message.content == \
            kept.choices[0].message.content
        messages = srv.client(a["secret"]).chat.completions.messages.list(kept.id)
        assert messages.data[0].content == "Remember kiwi."
        try:
            srv.client(b["secret"]).chat.completions.retrieve(kept.id)
            raise AssertionError("another key read a stored completion")
        except openai.NotFoundError:
            pass
        assert srv.client(a["secret"]).chat.completions.delete(kept.id).deleted
    # Without store, the prompt text is nowhere in the database (nor its write-ahead log).
    for suffix in ("", "-wal", "-shm"):
        path = db + suffix
        if os.path.exists(path):
            assert marker.encode() not in open(path, "rb").read(), path


def test_anonymous_callers_machine_cost_and_request_rate():
    db = os.path.join(tempfile.mkdtemp(), "usage.sqlite")
    cli("keys", "tier", "slow", "--daily-tokens", "unlimited", "--requests-per-minute", "2", "--db", db)
    slow = create_key(db, "slow", "slow")
    with Server(db, "--allow-anonymous", "--anonymous-tokens", "120", "--machine-cost-per-hour", "3.6") as srv:
        # No key: the anonymous tier, metered per client address, until its 120 tokens are spent.
        outcomes = [anonymous_ask(srv) for _ in range(6)]
        kinds = [o[0] for o in outcomes]
        assert kinds[0] == "ok" and "429" in kinds, kinds
        assert all(int(o[2]["x-ratelimit-limit-tokens"]) == 120 for o in outcomes)
        first = outcomes[0][1]
        assert first["cost"]["machine"] > 0, first
        anon = rows(db, "api_key_id LIKE 'anon-%'")
        assert anon and sum(r["prompt_tokens"] + r["completion_tokens"] for r in anon) <= 120
        # A key with a request-per-minute limit: the -requests headers, then rate_limit_exceeded.
        results = [ask(srv, slow["secret"], max_tokens=2) for _ in range(3)]
        assert [r[0] for r in results] == ["ok", "ok", "429"], [r[0] for r in results]
        assert results[0][2]["x-ratelimit-limit-requests"] == "2"
        assert results[2][1]["code"] == "rate_limit_exceeded", results[2][1]
        with urllib.request.urlopen(srv.base + "/metrics", timeout=30) as m:
            metrics = m.read().decode()
        line = next(l for l in metrics.splitlines()
                    if l.startswith("peregrine_machine_cost_per_million_output_tokens{"))
        assert float(line.rsplit(" ", 1)[1]) > 0, line
