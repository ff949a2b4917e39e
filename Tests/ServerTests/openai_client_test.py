"""Drives a running `peregrine serve` with the real `openai` client (run by scripts/server-tests.sh).

Environment: PEREGRINE_BASE_URL, PEREGRINE_API_KEY (the server requires it), PEREGRINE_SMALL_URL
(a server with --max-running 1 --max-waiting 1, no key), PEREGRINE_DRAFT_URL (a server with
--draft-model and --numerics fast, no key), PEREGRINE_HEALTH_STATUSES (files of the
/health statuses seen while the servers started), PEREGRINE_USAGE_DB (the first server's usage db).
"""
import json
import os
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

BASE = os.environ["PEREGRINE_BASE_URL"]
KEY = os.environ["PEREGRINE_API_KEY"]
SMALL = os.environ.get("PEREGRINE_SMALL_URL")
DRAFT = os.environ.get("PEREGRINE_DRAFT_URL")

client = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, timeout=120)
MODEL = client.models.list().data[0].id
MESSAGES = [{"role": "user", "content": "Name three colours."}]


def http(method, path, body=None, headers=None, base=BASE, raw=None):
    """(status, headers, body bytes) without raising on error statuses."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def header(headers, name):
    return next((v for k, v in headers.items() if k.lower() == name), None)


def metrics():
    status, _, body = http("GET", "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return families


def sample(families, family, suffix="", **labels):
    for s in families[family].samples:
        if s.name == family + suffix and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError(family + suffix)


# --- basics ---------------------------------------------------------------------------------------

def test_models_and_version():
    models = client.models.list()
    assert len(models.data) == 1 and models.data[0].id == MODEL
    status, _, body = http("GET", "/version")
    assert status == 200 and json.loads(body)["version"]


def test_health_was_503_while_loading():
    statuses = []
    for path in os.environ.get("PEREGRINE_HEALTH_STATUSES", "").split():
        statuses += open(path).read().split()
    assert "200" in statuses
    assert "503" in statuses, f"never saw 503 before ready: {statuses[:20]}"
    assert statuses.index("503") < statuses.index("200")


def test_chat_completion():
    r = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=24, temperature=0)
    c = r.choices[0]
    assert r.object == "chat.completion" and c.message.role == "assistant"
    assert isinstance(c.message.content, str) and c.message.content
    assert c.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 5 and 0 < r.usage.completion_tokens <= 24
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    timings = r.model_extra["timings"]
    assert timings["predicted_n"] == r.usage.completion_tokens
    assert timings["ttft_s"] > 0 and timings["e2e_s"] >= timings["ttft_s"]


def test_chat_stream_with_usage_matches_whole():
    whole = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=24, temperature=0)
    stream = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=24, temperature=0, stream=True,
        stream_options={"include_usage": True})
    text, usage, reasons = "", None, []
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for ch in chunk.choices:
            text += ch.delta.content or ""
            if ch.finish_reason:
                reasons.append(ch.finish_reason)
    assert text == whole.choices[0].message.content
    assert reasons == [whole.choices[0].finish_reason]
    assert usage.completion_tokens == whole.usage.completion_tokens
    assert usage.prompt_tokens == whole.usage.prompt_tokens


def test_completions_whole_and_streamed():
    r = client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=12, temperature=0)
    assert r.object == "text_completion" and r.choices[0].text
    assert r.usage.completion_tokens <= 12
    parts = [c.choices[0].text for c in client.completions.create(
        model=MODEL, prompt="The capital of France is", max_tokens=12, temperature=0, stream=True) if c.choices]
    assert "".join(parts) == r.choices[0].text


def test_completion_prompt_forms_and_echo():
    ids = json.loads(http("POST", "/tokenize", {"prompt": "Once upon a time"})[2])["tokens"]
    by_text = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=8, temperature=0)
    by_ids = client.completions.create(model=MODEL, prompt=ids, max_tokens=8, temperature=0)
    assert by_ids.choices[0].text == by_text.choices[0].text
    two = client.completions.create(model=MODEL, prompt=["One", "Two"], max_tokens=4, temperature=0)
    assert [c.index for c in two.choices] == [0, 1]
    echo = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=8, temperature=0, echo=True)
    assert echo.choices[0].text == "Once upon a time" + by_text.choices[0].text


def test_n_equals_2():
    r = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=16, n=2, temperature=1.0, seed=11)
    assert sorted(c.index for c in r.choices) == [0, 1]
    assert r.usage.completion_tokens > 0
    chunks = list(client.completions.create(
        model=MODEL, prompt="Hello", max_tokens=6, n=2, stream=True, temperature=1.0, seed=3))
    assert {ch.index for c in chunks for ch in c.choices} == {0, 1}


def test_stop_strings_never_leak():
    free = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=24, temperature=0)
    text = free.choices[0].text
    assert len(text) > 6, text
    # A stop string that starts inside the output (and likely straddles tokens): drop its first char.
    mid = len(text) // 2
    stop = text[mid:mid + 3]
    expected = text[:text.index(stop)]
    r = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=24, temperature=0, stop=[stop, "@@@"])
    assert r.choices[0].text == expected and r.choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=MODEL, prompt="1, 2, 3, 4,", max_tokens=24, temperature=0, stop=stop, stream=True) if c.choices)
    assert streamed == expected
    assert stop not in streamed


def test_chat_logprobs():
    r = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0 and len(entry.top_logprobs) == 3
        # Greedy: the chosen token is the most likely one.
        assert abs(entry.logprob - max(t.logprob for t in entry.top_logprobs)) < 1e-4


def test_completion_logprobs():
    r = client.completions.create(model=MODEL, prompt="The sky is", max_tokens=6, temperature=0, logprobs=2)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
    assert all(x <= 0 for x in lp.token_logprobs)
    assert all(len(t) >= 1 for t in lp.top_logprobs)


def test_seed_reproducibility():
    def run(seed):
        return client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Tell me a story."}], max_tokens=20,
            temperature=1.0, seed=seed).choices[0].message.content
    assert run(1234) == run(1234)
    assert len({run(1234), run(1), run(2), run(3)}) > 1


def test_json_schema_output():
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}
    try:
        r = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Give a person as JSON."}], max_tokens=60, temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}})
    except openai.BadRequestError as e:
        if e.body and e.body.get("param") == "response_format":
            pytest.skip("constrained decoding is not merged in this build: " + e.body.get("message", ""))
        raise
    value = json.loads(r.choices[0].message.content)
    assert isinstance(value["name"], str) and isinstance(value["age"], int)


def test_request_id_is_echoed_and_usage_recorded():
    status, headers, _ = http(
        "POST", "/v1/completions", {"prompt": "Hi", "max_tokens": 2, "user": "carol"}, {"X-Request-Id": "trace-42"})
    assert status == 200
    assert header(headers, "x-request-id") == "trace-42"
    status, headers, _ = http("GET", "/health")
    assert header(headers, "x-request-id").startswith("req-")
    db = os.environ.get("PEREGRINE_USAGE_DB")
    if db:
        rows = sqlite3.connect(db).execute(
            "select user, api_key_id, completion_tokens, status from usage where request_id = 'trace-42'").fetchall()
        assert rows and rows[0][0] == "carol" and rows[0][1].startswith("key-") and rows[0][3] == 200


# --- errors ---------------------------------------------------------------------------------------

def test_400_invalid_parameter_names_it():
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=5)
    assert e.value.status_code == 400 and e.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[{"role": "robot", "content": "x"}])
    assert "role" in e.value.body["param"]


def test_400_over_context_states_numbers():
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=MODEL, prompt="Hello there", max_tokens=10_000_000)
    assert e.value.body["code"] == "context_length_exceeded"
    assert "10000000" in e.value.body["message"]


def test_max_model_len_caps_the_context():
    # The test server runs with --max-model-len 1024 (scripts/server-tests.sh).
    listed = client.models.list().data[0]
    assert listed.model_extra["max_model_len"] == 1024
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=MODEL, prompt="Hello there", max_tokens=1024)
    assert e.value.body["code"] == "context_length_exceeded"
    assert "1024" in e.value.body["message"]


def test_401_bad_key():
    bad = openai.OpenAI(base_url=BASE + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.status_code == 401


def test_404_unknown_model():
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-imaginary", messages=MESSAGES, max_tokens=2)
    assert e.value.status_code == 404 and e.value.body["code"] == "model_not_found"


def test_413_oversized_body_refused_before_it_is_read():
    # Announce 64 MiB but send only 1 KiB: the answer must come without the rest of the body.
    u = urllib.parse.urlparse(BASE)
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: 67108864\r\n\r\n" + b"a" * 1024)
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    # Without a Content-Length (chunked), the limit is enforced while reading: 5 MiB in 64 KiB chunks.
    sock = socket.create_connection((u.hostname, u.port), timeout=10)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + KEY.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"a" * 65536
    try:
        for _ in range(80):
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading: that is the point
    reply = b""
    try:
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    except ConnectionResetError:
        pass
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


@pytest.mark.skipif(not SMALL, reason="no small-queue server")
def test_429_queue_full_with_retry_after():
    small = openai.OpenAI(base_url=SMALL + "/v1", api_key="none", max_retries=0, timeout=300)
    results = []

    def one():
        try:
            small.completions.create(model=MODEL, prompt="Count:", max_tokens=48, extra_body={"ignore_eos": True})
            results.append(200)
        except openai.RateLimitError as e:
            results.append((429, e.response.headers.get("retry-after")))
        except Exception as e:  # noqa
            results.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results if isinstance(r, tuple)]
    assert refused, results
    assert all(int(r[1]) >= 1 for r in refused)
    assert all(r == 200 or isinstance(r, tuple) for r in results), results


# --- metrics and cancellation --------------------------------------------------------------------

def test_metrics_parse_and_histograms_move():
    before = metrics()
    for name in ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                 "vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds",
                 "vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds", "vllm:prompt_tokens",
                 "vllm:generation_tokens", "vllm:prefix_cache_queries", "vllm:prefix_cache_hits",
                 "process_resident_memory_bytes", "process_cpu_seconds_total"]:
        assert name in before, name
    ttft0 = sample(before, "vllm:time_to_first_token_seconds", "_count")
    itl0 = sample(before, "vllm:inter_token_latency_seconds", "_count")
    gen0 = sample(before, "vllm:generation_tokens", "_total")
    client.completions.create(model=MODEL, prompt="Metrics", max_tokens=5, temperature=0, extra_body={"ignore_eos": True})
    after = metrics()
    assert sample(after, "vllm:time_to_first_token_seconds", "_count") == ttft0 + 1
    assert sample(after, "vllm:inter_token_latency_seconds", "_count") >= itl0 + 4
    assert sample(after, "vllm:generation_tokens", "_total") >= gen0 + 5
    assert sample(after, "process_resident_memory_bytes") > 10e6


def test_speculative_request_returns_the_same_text():
    # An input-grounded prompt, so prompt lookup drafts well; at temperature 0 speculation must not
    # change a single token, and the timings and metrics must show that drafts were checked.
    messages = [{"role": "user", "content": "Repeat the following Python code exactly:\n\n"
                 "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b"}]
    drafted0 = sample(metrics(), "vllm:spec_decode_num_draft_tokens", "_total")
    plain = client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=40, temperature=0, extra_body={"speculative": "none"})
    spec = client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=40, temperature=0,
        extra_body={"speculative": "ngram", "draft_tokens": 4})
    assert spec.choices[0].message.content == plain.choices[0].message.content
    assert spec.usage.completion_tokens == plain.usage.completion_tokens
    assert "draft_n" not in plain.model_extra["timings"]
    timings = spec.model_extra["timings"]
    assert timings["draft_n"] > 0 and 0 < timings["draft_n_accepted"] <= timings["draft_n"], timings
    assert timings["mean_accepted_length"] > 1 and 0 < timings["acceptance_rate"] <= 1, timings
    after = metrics()
    assert sample(after, "vllm:spec_decode_num_draft_tokens", "_total") >= drafted0 + timings["draft_n"]
    assert sample(after, "vllm:spec_decode_num_accepted_tokens", "_total") >= timings["draft_n_accepted"]
    assert sample(after, "peregrine_spec_decode_mean_accepted_length") > 1
    status, _, body = http("POST", "/v1/chat/completions",
                           {"model": MODEL, "messages": messages, "speculative": "draft_model"})
    assert status == 400 and json.loads(body)["error"]["param"] == "speculative"


@pytest.mark.skipif(not DRAFT, reason="no draft-model server")
def test_draft_model_server_speculates_by_default_and_keeps_outputs():
    draft_client = openai.OpenAI(base_url=DRAFT + "/v1", api_key="none", max_retries=0, timeout=120)
    messages = [{"role": "user", "content": "Explain in two sentences why the sky is blue."}]
    plain = draft_client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=48, temperature=0, extra_body={"speculative": "none"})
    spec = draft_client.chat.completions.create(model=MODEL, messages=messages, max_tokens=48, temperature=0)
    assert spec.choices[0].message.content == plain.choices[0].message.content
    assert "draft_n" not in plain.model_extra["timings"]
    timings = spec.model_extra["timings"]
    # The draft is the target itself: nearly every draft is right.
    assert timings["draft_n"] > 0 and timings["acceptance_rate"] > 0.5, timings
    sampled = draft_client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=24, temperature=0.8, seed=3,
        extra_body={"speculative": "draft_model", "draft_tokens": 3})
    assert sampled.usage.completion_tokens > 0


def test_client_disconnect_cancels_request():
    aborted0 = sample(metrics(), "vllm:request_success", "_total", finished_reason="abort")
    stream = client.completions.create(
        model=MODEL, prompt="Write forever:", max_tokens=1000, stream=True, extra_body={"ignore_eos": True})
    for i, _ in enumerate(stream):
        if i == 3:
            break
    stream.response.close()
    deadline = time.time() + 30
    while time.time() < deadline:
        m = metrics()
        if (sample(m, "vllm:num_requests_running") == 0
                and sample(m, "vllm:request_success", "_total", finished_reason="abort") > aborted0):
            return
        time.sleep(0.2)
    pytest.fail("the abandoned request kept running")
