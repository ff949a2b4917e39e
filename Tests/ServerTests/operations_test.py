"""`peregrine serve` as an operator meets it, each point on a real process: a busy port, /health
while draining, a second SIGINT, finish reasons on shutdown, CORS preflights, 405 with Allow, and
`peregrine ps`. Runs the binary named by PEREGRINE_BIN on PEREGRINE_TEST_MODEL."""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
KEY = "sk-operations"
ORIGIN = "http://app.test"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, tmp_path, *flags, port=None):
        self.port = port or free_port()
        self.log = tmp_path / f"serve-{self.port}-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if k != "PEREGRINE_API_KEY"}
        self.process = subprocess.Popen(
            [BIN, "serve", "--model", MODEL, "--host", "127.0.0.1", "--port", str(self.port), "--usage-db", "none",
             *flags],
            stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env)

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if data else {}
        all_headers.update(headers or {})
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response, payload

    def health(self):
        try:
            r, body = self.request("GET", "/health", timeout=5)
            return r.status, json.loads(body)
        except OSError:
            return None, None

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            if self.health()[0] == 200:
                return self
            time.sleep(0.05)
        raise AssertionError(f"server never became ready:\n{self.log.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(*flags, port=None):
        s = Server(tmp_path, *flags, port=port)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def stream_long_completion(server, first_token, result, max_tokens=4000):
    """Streams a long completion on a thread; sets `first_token` when text arrives, then records
    every chunk in `result` until the server ends the stream."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("POST", "/v1/completions", body=json.dumps({
        "prompt": "Once upon a time", "max_tokens": max_tokens, "temperature": 0, "stream": True,
        "ignore_eos": True}), headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"})
    response = conn.getresponse()
    result["status"] = response.status
    chunks = []
    try:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                result["done"] = True
                break
            chunks.append(json.loads(payload))
            first_token.set()
    except (OSError, http.client.HTTPException) as e:
        result["error"] = repr(e)
    result["chunks"] = chunks
    first_token.set()


def test_a_busy_port_fails_fast_with_a_plain_message(servers):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        second = servers(port=port)
        assert second.process.wait(timeout=60) != 0
        log = second.log.read_text()
        assert "already in use" in log and f"127.0.0.1:{port}" in log, log
        assert "ready (context" not in log, log  # it never claimed to serve
    finally:
        blocker.close()


def test_health_turns_draining_and_a_second_sigint_exits_at_once(servers):
    server = servers("--api-key", KEY, "--shutdown-grace", "60").wait_ready()
    first_token, result = threading.Event(), {}
    threading.Thread(target=stream_long_completion, args=(server, first_token, result), daemon=True).start()
    assert first_token.wait(60), "no token arrived"
    server.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.health()[0] != 503:
        time.sleep(0.02)
    assert server.health() == (503, {"status": "draining"})
    refused, body = server.request("POST", "/v1/completions", {"prompt": "hi", "max_tokens": 2},
                                   headers={"Authorization": f"Bearer {KEY}"})
    assert refused.status == 503 and json.loads(body)["error"]["code"] == "unavailable"
    status, body = server.request("GET", "/status", headers={"Authorization": f"Bearer {KEY}"})
    assert json.loads(body)["status"] == "draining"
    assert server.process.poll() is None  # still draining the long request
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 130
    assert "second interrupt" in server.log.read_text()


def test_requests_cut_by_shutdown_end_with_an_openai_finish_reason(servers):
    server = servers("--api-key", KEY, "--shutdown-grace", "1").wait_ready()
    first_token, result = threading.Event(), {}
    reader = threading.Thread(target=stream_long_completion, args=(server, first_token, result), daemon=True)
    reader.start()
    assert first_token.wait(60)
    server.process.send_signal(signal.SIGTERM)
    reader.join(60)
    assert server.process.wait(timeout=60) == 0
    finals = [c["choices"][0] for c in result["chunks"] if c.get("choices") and c["choices"][0].get("finish_reason")]
    assert result.get("done") and len(finals) == 1, result.get("error")
    assert finals[0]["finish_reason"] == "length" and finals[0]["abort_reason"] == "shutdown", finals[0]


def test_cors_preflight_405_and_ps(servers):
    server = servers("--api-key", KEY, "--cors-origin", ORIGIN).wait_ready()
    # A browser's preflight carries no credentials: it is answered before the key check.
    r, _ = server.request("OPTIONS", "/v1/chat/completions", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status == 204
    assert r.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert "POST" in r.getheader("Access-Control-Allow-Methods")
    assert r.getheader("Access-Control-Allow-Headers") == "authorization, content-type"
    r, body = server.request("POST", "/v1/chat/completions",
                             {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2},
                             headers={"Origin": ORIGIN, "Authorization": f"Bearer {KEY}"})
    assert r.status == 200 and r.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert "X-Request-Id" in r.getheader("Access-Control-Expose-Headers")
    r, _ = server.request("POST", "/v1/chat/completions", {"messages": []},
                          headers={"Origin": "http://elsewhere.test", "Authorization": f"Bearer {KEY}"})
    assert r.getheader("Access-Control-Allow-Origin") is None

    r, body = server.request("PUT", "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status == 405 and r.getheader("Allow") == "GET, POST"
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
    r, _ = server.request("POST", "/health")
    assert r.status == 405 and r.getheader("Allow") == "GET, HEAD"
    r, _ = server.request("GET", "/no/such/route", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status == 404

    url = f"http://127.0.0.1:{server.port}"
    ps = subprocess.run([BIN, "ps", "--url", url, "--api-key", KEY], capture_output=True, text=True, timeout=30)
    assert ps.returncode == 0, ps.stderr
    row = ps.stdout.splitlines()[1]
    assert url in row and MODEL in row and " ok " in row, ps.stdout
    locked = subprocess.run([BIN, "ps", "--url", url], capture_output=True, text=True, timeout=30,
                            env={k: v for k, v in os.environ.items() if k != "PEREGRINE_API_KEY"})
    assert "needs --api-key" in locked.stdout
    nobody = subprocess.run([BIN, "ps", "--url", f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True,
                            timeout=30)
    assert nobody.returncode != 0 and "peregrine serve" in nobody.stderr
