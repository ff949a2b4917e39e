"""Peregrine replicas behind SGLang's router (`smg` from PyPI's sglang-router), on loopback:
the router forwards chat requests (its re-serialised bodies carry SGLang's extra fields and
max_completion_tokens), reads the workers' metadata, `power_of_two` routes by the load /get_load
reports, /flush_cache fans out and empties the prefix caches, the gRPC probe's HTTP/2 preface is
refused cleanly, and a replica killed with SIGKILL and started again rejoins without the router
being told. Run by scripts/router-tests.sh (PEREGRINE_BIN, SMG_BIN). Waits are generous: the machine
may be a loaded 2-core box."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Hostile"))
from loopback import free_port  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
SMG = os.environ["SMG_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
WORK = tempfile.mkdtemp(prefix="peregrine-router-tests.")


def http(method, url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def metric(url, name):
    _, body = http("GET", url + "/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def finished(url):
    return metric(url, "vllm:e2e_request_latency_seconds_count")


class Replica:
    def __init__(self, index):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = os.path.join(WORK, f"replica{index}.log")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--model", MODEL, "--host", "127.0.0.1", "--port", str(self.port), "--threads", "1",
             "--kv-cache-memory", "64MiB", "--usage-db", "none", "--shutdown-grace", "5", "--max-model-len", "2048"],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        wait_for(lambda: http("GET", self.url + "/health", timeout=2)[0] == 200, 300, f"{self.url}/health")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def cluster():
    replicas = [Replica(1), Replica(2)]
    for r in replicas:
        r.start()
    port = free_port()
    router = f"http://127.0.0.1:{port}"
    log = open(os.path.join(WORK, "router.log"), "w")
    # Health every second, one failed check takes a worker out, two failed requests open its circuit
    # for 2 s; smg 0.3.2 polls /get_load every --worker-startup-check-interval seconds.
    proc = subprocess.Popen(
        [SMG, "launch", "--host", "127.0.0.1", "--port", str(port), "--worker-urls", *[r.url for r in replicas],
         "--policy", "power_of_two", "--worker-startup-check-interval", "1", "--health-check-interval-secs", "1",
         "--health-failure-threshold", "1", "--health-success-threshold", "1", "--cb-failure-threshold", "2",
         "--cb-timeout-duration-secs", "2", "--request-timeout-secs", "300", "--prometheus-host", "127.0.0.1",
         "--prometheus-port", str(free_port()), "--log-level", "info"],
        stdout=log, stderr=subprocess.STDOUT)

    def all_healthy():
        status, body = http("GET", router + "/workers", timeout=2)
        workers = json.loads(body).get("workers", []) if status == 200 else []
        return len(workers) == 2 and all(w.get("is_healthy") for w in workers)

    try:
        wait_for(all_healthy, 120, "the router to register both replicas")
        yield router, replicas
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        for r in replicas:
            r.stop()


def client(router):
    return openai.OpenAI(base_url=router + "/v1", api_key="unused", timeout=300, max_retries=0)


def test_chat_through_the_router(cluster):
    router, _ = cluster
    c = client(router)
    # The router rewrites max_tokens as max_completion_tokens and adds SGLang's fields.
    r = c.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name a colour."}], max_tokens=5,
        extra_body={"ignore_eos": True})
    assert r.usage.completion_tokens == 5
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content
    chunks = list(c.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name a fruit."}], max_tokens=4, stream=True,
        extra_body={"ignore_eos": True}))
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    text = c.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=3,
                                extra_body={"ignore_eos": True})
    assert text.usage.completion_tokens == 3
    # Without "model", smg forwards "model": "unknown": the replicas take it for the served model.
    status, body = http("POST", router + "/v1/chat/completions",
                        {"messages": [{"role": "user", "content": "Hi."}], "max_tokens": 2})
    assert status == 200, body


def test_the_router_reads_worker_metadata(cluster):
    router, replicas = cluster
    status, body = http("GET", router + "/workers")
    assert status == 200
    workers = json.loads(body)["workers"]
    assert {w["url"] for w in workers} == {r.url for r in replicas}
    # The model id comes from /server_info's served_model_name (else it would be "unknown").
    assert all(w.get("model_id") == MODEL for w in workers), workers
    status, body = http("GET", replicas[0].url + "/model_info")
    info = json.loads(body)
    assert status == 200 and info["architectures"] == ["LlamaForCausalLM"] and info["context_length"] == 2048


def test_power_of_two_routes_by_reported_load(cluster):
    router, (busy, idle) = cluster
    # Load one replica behind the router's back: a long prompt, then a long stream.
    stop = threading.Event()

    def hog():
        c = openai.OpenAI(base_url=busy.url + "/v1", api_key="unused", timeout=600, max_retries=0)
        words = " ".join(["harbor lantern meadow"] * 300)
        while not stop.is_set():
            try:
                s = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": words}],
                                              max_tokens=1000, stream=True, extra_body={"ignore_eos": True})
                for _ in s:
                    if stop.is_set():
                        s.close()
                        break
            except openai.APIError:
                pass

    t = threading.Thread(target=hog)
    t.start()
    try:
        def load(url):
            status, body = http("GET", router + "/get_loads")
            loads = {entry["worker"]: entry["load"] for entry in json.loads(body)["workers"]}
            return loads[url]

        # The router's own fan-out reads the tokens /get_load reports (-1 if it could not).
        wait_for(lambda: load(busy.url) > 500, 120, "the busy replica's load to show through the router")
        assert load(idle.url) >= 0
        time.sleep(2.5)  # the load monitor polls every second
        before = (finished(busy.url), finished(idle.url))
        c = client(router)
        for i in range(6):
            c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"Say {i}."}], max_tokens=2)
        after = (finished(busy.url), finished(idle.url))
        # With two workers power_of_two always compares both: every request goes to the idle one.
        assert after[1] - before[1] == 6, (before, after)
    finally:
        stop.set()
        t.join(60)


def test_flush_cache_through_the_router(cluster):
    router, replicas = cluster
    c = openai.OpenAI(base_url=replicas[1].url + "/v1", api_key="unused", timeout=300, max_retries=0)
    prompt = "Shared preamble: " + " ".join(["river summit tunnel valley"] * 40)

    def cached():
        r = c.completions.create(model=MODEL, prompt=prompt, max_tokens=1)
        return r.usage.prompt_tokens_details.cached_tokens if r.usage.prompt_tokens_details else 0

    cached()
    assert cached() > 100
    status, _ = http("POST", router + "/flush_cache")
    assert status == 200
    assert cached() == 0


def test_http2_preface_is_refused_with_goaway(cluster):
    _, replicas = cluster
    s = socket.create_connection(("127.0.0.1", replicas[0].port), timeout=10)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data[:9] == bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]), data  # SETTINGS
    assert data[12] == 7 and data[22:26] == bytes([0, 0, 0, 0xD]), data  # GOAWAY HTTP_1_1_REQUIRED
    assert http("GET", replicas[0].url + "/health")[0] == 200


def test_a_killed_replica_rejoins(cluster):
    router, (victim, survivor) = cluster
    victim.stop(signal.SIGKILL)
    c = client(router)
    # Retries and the circuit breaker carry requests to the survivor.
    for i in range(4):
        r = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"Count {i}."}], max_tokens=2)
        assert r.usage.completion_tokens >= 1
    victim.start()  # same port, as a supervisor would restart it
    assert finished(victim.url) == 0

    def serves_again():
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi."}], max_tokens=1)
        return finished(victim.url) > 0

    wait_for(serves_again, 120, "the router to send requests to the restarted replica")
