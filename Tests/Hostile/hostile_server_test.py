"""`peregrine serve` against hostile and careless clients (issue 16), with real sockets, curl-like
raw HTTP and the `openai` client. Each test starts the servers it needs on free loopback ports.

Environment: PEREGRINE_BIN (the built binary), PEREGRINE_TEST_MODEL (default smollm2-135m),
HOSTILE_SLOW=0 skips the stress tests (1,000 half-open sockets, kill -9 cycles, 200-request burst).
Timing assertions are deliberately loose: they must hold on a loaded 2-core machine.
"""
import json
import os
import random
import resource
import signal
import socket
import sqlite3
import tempfile
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest
from loopback import ServerProcess
from prometheus_client.parser import text_string_to_metric_families

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
SLOW = os.environ.get("HOSTILE_SLOW", "1") != "0"
slow = pytest.mark.skipif(not SLOW, reason="HOSTILE_SLOW=0")

# Raise our own descriptor limit: the stress tests hold a thousand sockets.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(_soft, 8192), _hard), _hard))


class Server(ServerProcess):
    def __init__(self, *flags, usage_db=None, max_files=None):
        self.usage_db = usage_db
        limit = None
        if max_files:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))
        super().__init__(BIN, MODEL, ["--usage-db", usage_db or "none"] + list(flags),
                         prefix="peregrine-hostile-", preexec_fn=limit)

    metrics_calls = 0

    def metrics(self):
        # Each scrape is itself a 200 counted by the next one.
        self.metrics_calls += 1
        with urllib.request.urlopen(self.base + "/metrics", timeout=30) as r:
            return {f.name: f for f in text_string_to_metric_families(r.read().decode())}

    def sample(self, family, suffix="", **labels):
        for s in self.metrics()[family].samples:
            if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        return 0.0

    def running(self):
        return self.sample("vllm:num_requests_running")

    def responses(self, status):
        return self.sample("peregrine_http_responses", "_total", status=str(status))

    def cpu_seconds(self):
        fields = open("/proc/%d/stat" % self.proc.pid).read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rows(self, where="1=1", args=()):
        db = sqlite3.connect(self.usage_db)
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM usage WHERE " + where, args)]
        finally:
            db.close()

    def client(self, key="none"):
        return openai.OpenAI(base_url=self.base + "/v1", api_key=key, max_retries=0, timeout=300)

    def post(self, path, body, headers=None, timeout=300):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def raw_request(port, body, path="/v1/completions", extra=b"", rcvbuf=None):
    """A socket that has sent one POST (the caller decides when to read or close)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    data = json.dumps(body).encode()
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
              % (path.encode(), len(data), extra) + data)
    return s


def wait_until(predicate, timeout, interval=0.05):
    # A probe may itself be refused for a moment (a 503 at the connection cap while the server has
    # not yet seen the client's closes): that is "not yet", not a failure.
    def holds():
        try:
            return predicate()
        except OSError:
            return False
    deadline = time.time() + timeout
    while time.time() < deadline:
        if holds():
            return True
        time.sleep(interval)
    return predicate()


def read_until_closed(sock, timeout):
    """Everything the server sends until it closes (b"" read) or resets; None if still open."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except ConnectionResetError:
        return data
    except socket.timeout:
        return None


LONG_TEXT = ("The committee met on a grey Tuesday to review the harbour plans, the budget for the new bridge, "
             "the ferry timetable and the complaints about noise from the night market. ") * 24


# --- cancellation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 3])
def test_non_streamed_request_is_cancelled_when_its_client_leaves(n):
    with Server(usage_db=os.path.join(tempfile.mkdtemp(), "usage.sqlite")) as srv:
        before_500 = srv.responses(500)
        rid = "leave-%d-%d" % (n, random.randrange(1 << 30))
        sock = raw_request(srv.port, {"prompt": "Write a very long story:", "max_tokens": 2000, "n": n,
                                      "ignore_eos": True}, extra=b"X-Request-Id: %s\r\n" % rid.encode())
        time.sleep(1.0)
        assert srv.running() == n, "the request should be generating"
        sock.close()
        left = time.time()
        assert wait_until(lambda: srv.running() == 0, 2.0), "still running 2 s after the client left"
        assert time.time() - left < 2.0
        assert wait_until(lambda: len(srv.rows("request_id = ?", (rid,))) == 1, 5)
        row = srv.rows("request_id = ?", (rid,))[0]
        assert row["status"] == 499 and row["finish_reason"] == "abort", row
        assert row["e2e_s"] >= 0.9, row
        assert row["completion_tokens"] < 2000 * n
        assert srv.sample("vllm:kv_cache_usage_perc") == 0
        assert wait_until(lambda: srv.responses(499) >= 1, 5)
        assert srv.responses(500) == before_500


def test_streamed_request_left_midway_is_499_not_200():
    with Server(usage_db=os.path.join(tempfile.mkdtemp(), "usage.sqlite")) as srv:
        ok0, calls0 = srv.responses(200), srv.metrics_calls
        gone0 = srv.responses(499)
        stream = srv.client().completions.create(
            model=MODEL, prompt="Count to a thousand:", max_tokens=1500, stream=True,
            extra_body={"ignore_eos": True}, extra_headers={"X-Request-Id": "stream-left"})
        for i, _ in enumerate(stream):
            if i == 5:
                break
        stream.response.close()
        assert wait_until(lambda: srv.running() == 0, 3.0)
        assert wait_until(lambda: srv.responses(499) == gone0 + 1, 5)
        ok = srv.responses(200)
        assert ok == ok0 + (srv.metrics_calls - calls0), "the abandoned stream was counted as 200"
        assert wait_until(lambda: len(srv.rows("request_id = 'stream-left'")) == 1, 5)
        assert srv.rows("request_id = 'stream-left'")[0]["status"] == 499


def test_client_abort_mid_body_is_its_own_outcome():
    with Server() as srv:
        before = {s: srv.responses(s) for s in (400, 499, 500)}
        # The decoder reports the early end as an error racing the close itself: repeat to catch it.
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"prompt\":")
            time.sleep(0.2)
            s.close()
        assert wait_until(lambda: srv.responses(499) == before[499] + 6, 5)
        assert srv.responses(500) == before[500] and srv.responses(400) == before[400]
        assert "error" not in open(srv.log_path).read().lower().replace("error_", "")


# --- connection hygiene ----------------------------------------------------------------------------

def test_short_body_gets_400_after_the_body_timeout_then_close():
    with Server("--body-timeout", "2") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"prompt\":")
        start = time.time()
        reply = read_until_closed(s, 15)
        assert reply is not None, "the socket stayed open"
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
        assert b"body_timeout" in reply
        assert 1.5 < time.time() - start < 12


def test_413_with_connection_close_closes_the_socket():
    with Server("--max-body-bytes", "4096") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 67108864\r\n\r\n" + b"a" * 2048)
        reply = read_until_closed(s, 15)
        assert reply is not None, "the socket stayed open after 413"
        assert reply.startswith(b"HTTP/1.1 413") and b"connection: close" in reply.lower()


def test_connections_past_the_cap_get_503_at_once():
    with Server("--max-connections", "4") as srv:
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(4)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", srv.port))
        reply = read_until_closed(extra, 10)
        assert reply is not None and reply.startswith(b"HTTP/1.1 503"), reply
        assert b"too_many_connections" in reply and b"retry-after: 1" in reply.lower()
        for h in held:
            h.close()

        # The scrape may itself be refused (503) until the server sees the closes: wait_until retries.
        assert wait_until(lambda: srv.sample("peregrine_open_connections") <= 1, 5)
        with urllib.request.urlopen(srv.base + "/health", timeout=10) as r:
            assert r.status == 200
        assert srv.sample("peregrine_connections_refused", "_total") >= 1


def test_idle_keep_alive_connections_are_closed():
    with Server("--keep-alive-timeout", "1") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_until_closed(s, 10)
        assert reply is not None and reply.startswith(b"HTTP/1.1 200")


@slow
def test_a_thousand_half_open_sockets_cost_nothing_and_are_all_closed():
    with Server("--header-timeout", "3", "--body-timeout", "3", "--max-connections", "4000") as srv:
        def normal_request():
            t = time.time()
            status, body = srv.post("/v1/completions", {"prompt": "Say hi", "max_tokens": 16, "ignore_eos": True})
            assert status == 200, body
            return time.time() - t

        own = min(normal_request() for _ in range(2))
        socks = []
        for i in range(1000):
            s = socket.create_connection(("127.0.0.1", srv.port))
            if i % 2:
                s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le")  # half a head
            else:
                s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 500\r\n\r\n{\"prompt\":")  # a body that stops
            socks.append(s)
        loaded = normal_request()
        assert loaded <= own + 5, "a normal request took %.1fs (%.1fs alone)" % (loaded, own)
        assert srv.metrics()["peregrine_open_connections"]
        time.sleep(3 + 3 + 3)  # the read timeouts, one more for the 400s, and slack
        c0 = srv.cpu_seconds()
        time.sleep(3)
        rate = (srv.cpu_seconds() - c0) / 3
        assert rate < 0.2, "the idle server burns %.2f CPU-s/s" % rate
        still_open = sum(1 for s in socks if read_until_closed(s, 5) is None)
        assert still_open == 0, "%d half-open sockets were never closed" % still_open
        for s in socks:
            s.close()
        assert srv.sample("peregrine_connections_closed", "_total", reason="header_timeout") >= 500


@slow
def test_running_out_of_descriptors_neither_spins_nor_stops_the_server():
    # 256 descriptors in all: the cap drops to 192 with a warning, the rest get 503 or wait in the
    # backlog while accept backs off; the server idles and recovers once the flood is gone.
    with Server("--max-connections", "100000", "--header-timeout", "60", max_files=256) as srv:
        assert "using 192" in open(srv.log_path).read()
        flood = []
        for _ in range(400):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.sendall(b"GET /health HTTP/1.1\r\nHo")
            flood.append(s)
        # Refusing the backlog with 503s is real work for the first seconds; a spinning accept loop
        # would burn a whole core (1 CPU-s/s) for as long as the flood lasts, so measure a longer
        # window and allow half a core: CI machines are noisy (0.33 was seen there once).
        time.sleep(2)
        c0 = srv.cpu_seconds()
        time.sleep(5)
        rate = (srv.cpu_seconds() - c0) / 5
        assert rate < 0.5, "the server burns %.2f CPU-s/s with its descriptors exhausted" % rate
        refused = 0
        for s in flood:
            s.setblocking(False)
            try:
                refused += s.recv(100).startswith(b"HTTP/1.1 503")
            except (BlockingIOError, ConnectionResetError):
                pass
            s.close()
        assert refused >= 1
        assert wait_until(lambda: srv.sample("peregrine_open_connections") <= 2, 10)
        with urllib.request.urlopen(srv.base + "/health", timeout=10) as r:
            assert r.status == 200


@slow
def test_a_reader_that_stops_reading_is_dropped():
    with Server("--write-timeout", "2", usage_db=os.path.join(tempfile.mkdtemp(), "usage.sqlite")) as srv:
        s = raw_request(srv.port, {"prompt": "List numbers:", "max_tokens": 3000, "n": 16, "stream": True,
                                   "logprobs": 5, "ignore_eos": True},
                        extra=b"X-Request-Id: stalled\r\n", rcvbuf=4096)
        # It never reads: the server must stop generating for it and close the socket.
        assert wait_until(lambda: srv.running() == 0 and srv.rows("request_id = 'stalled'"), 120, 0.5)
        row = srv.rows("request_id = 'stalled'")[0]
        assert row["status"] == 499
        assert row["completion_tokens"] < 16 * 3000
        dropped = (srv.sample("peregrine_connections_closed", "_total", reason="write_timeout")
                   + srv.sample("vllm:request_success", "_total", finished_reason="abort"))
        assert dropped >= 1
        s.close()


# --- tenant isolation ------------------------------------------------------------------------------

def completion(srv, key, salt=None):
    body = {"prompt": LONG_TEXT, "max_tokens": 1, "temperature": 0}
    if salt is not None:
        body["cache_salt"] = salt
    status, out = srv.post("/v1/completions", body, headers={"Authorization": "Bearer " + key})
    assert status == 200, out
    return out["usage"]["prompt_tokens_details"]["cached_tokens"], out["timings"]["ttft_s"], out["usage"]["prompt_tokens"]


def test_prefix_cache_is_namespaced_per_key_and_salt():
    with Server("--api-key", "sk-alice", "--api-key", "sk-bob") as srv:
        cached, cold, prompt = completion(srv, "sk-alice")
        assert prompt > 700 and cached == 0
        cached, warm, _ = completion(srv, "sk-alice")
        assert cached >= prompt - 32, "the same key should hit its own cache"
        cached, other, _ = completion(srv, "sk-bob")
        assert cached == 0, "bob saw alice's cached prompt"
        assert other > 0.3 * cold and other > 3 * warm, (cold, warm, other)
        # Within one key, different salts are different caches; equal salts share.
        assert completion(srv, "sk-alice", "tenant-1")[0] == 0
        assert completion(srv, "sk-alice", "tenant-1")[0] >= prompt - 32
        assert completion(srv, "sk-bob", "tenant-1")[0] == 0


def test_a_shared_namespace_hits_across_keys_with_equal_salts():
    with Server("--api-key", "sk-alice", "--api-key", "sk-bob", "--shared-prefix-cache") as srv:
        cached, _, prompt = completion(srv, "sk-alice", "system-prompt-v1")
        assert cached == 0
        assert completion(srv, "sk-bob", "system-prompt-v1")[0] >= prompt - 32
        assert completion(srv, "sk-bob", "another-salt")[0] == 0
        assert completion(srv, "sk-bob")[0] == 0


# --- admission -------------------------------------------------------------------------------------

@slow
def test_a_burst_of_200_gets_no_429_while_a_slot_is_free():
    with Server("--max-running", "64", "--max-waiting", "8", "--kv-cache-memory", "1GiB") as srv:
        results = []
        barrier = threading.Barrier(200)

        def one(i):
            barrier.wait()
            status, _ = srv.post("/v1/completions", {"prompt": "Count: %d" % i, "max_tokens": 40, "ignore_eos": True},
                                 timeout=600)
            results.append(status)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(results) <= {200, 429}, results
        # 64 running slots and 8 queued requests before anything is refused.
        assert results.count(200) >= 72, "only %d of 200 admitted" % results.count(200)


def test_n_counts_once_against_the_queue():
    with Server("--max-running", "4", "--max-waiting", "1") as srv:
        status, out = srv.post("/v1/completions", {"prompt": "Hi", "max_tokens": 4, "n": 16})
        assert status == 200 and len(out["choices"]) == 16


# --- durability ------------------------------------------------------------------------------------

@slow
def test_every_stream_that_saw_done_has_its_usage_row_after_kill_9():
    db = os.path.join(tempfile.mkdtemp(), "usage.sqlite")
    rng = random.Random(16)
    done = []
    for cycle in range(10):
        srv = Server(usage_db=db)
        stop = threading.Event()

        def worker(w):
            i = 0
            while not stop.is_set():
                rid = "c%d-w%d-%d" % (cycle, w, i)
                i += 1
                try:
                    stream = srv.client().completions.create(
                        model=MODEL, prompt="Story %d:" % i, max_tokens=rng.randrange(2, 16), stream=True,
                        extra_headers={"X-Request-Id": rid})
                    for _ in stream:
                        pass
                    done.append(rid)  # the client only returns after `data: [DONE]`
                except Exception:  # noqa: BLE001 — the server was killed mid-request
                    return

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(1.5, 4.5))
        srv.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join()
    stored = {r["request_id"] for r in sqlite3.connect(db).execute("SELECT request_id FROM usage").fetchall()
              for r in [{"request_id": r[0]}]}
    missing = [rid for rid in done if rid not in stored]
    assert len(done) >= 20, "too few streams finished to say anything: %d" % len(done)
    assert not missing, "%d of %d finished streams have no usage row: %s" % (len(missing), len(done), missing[:5])


# --- small items -----------------------------------------------------------------------------------

def test_small_items():
    with Server("--api-key", "sk-k") as srv:
        req = urllib.request.Request(srv.base + "/health", method="HEAD")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200 and r.read() == b""
        auth = {"Authorization": "bearer sk-k"}  # the scheme in lower case is accepted, as OpenAI does
        status, body = srv.post("/v1/chat/completions",
                                {"messages": [{"role": "user", "content": "x"}], "max_tokens": 1, "user": "u" * 300},
                                headers=auth)
        assert status == 400 and body["error"]["param"] == "user"
        assert body["error"]["code"] == "string_above_max_length"
        status, body = srv.post("/v1/completions", {"prompt": "x", "max_tokens": 1, "top_p": 5e-324}, headers=auth)
        assert status == 400 and body["error"]["param"] == "top_p"
        status, body = srv.post("/v1/completions", {"prompt": "x", "max_tokens": 1, "cache_salt": ""}, headers=auth)
        assert status == 400 and body["error"]["param"] == "cache_salt"
        status, body = srv.post("/v1/completions", {"prompt": "x", "max_tokens": 1, "user": "é" * 256}, headers=auth)
        assert status == 200
        with urllib.request.urlopen(srv.base + "/openapi.json", timeout=10) as r:
            doc = json.load(r)
        text = json.dumps(doc)
        assert '"cache_salt"' in text and '"minimum": 0' in text
