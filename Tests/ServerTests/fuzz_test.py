"""Malformed-request corpus against a running `peregrine serve` (run by scripts/server-tests.sh).

Every request must get a status below 500 (a well-formed OpenAI error for 4xx), and the server must
still be healthy at the end. Deterministic: the random mutations use a fixed seed.
Environment: PEREGRINE_BASE_URL, PEREGRINE_API_KEY; FUZZ_MUTATIONS (default 300).
"""
import http.client
import json
import os
import random
import sys
import urllib.parse

BASE = urllib.parse.urlparse(os.environ["PEREGRINE_BASE_URL"])
KEY = os.environ.get("PEREGRINE_API_KEY", "")
rng = random.Random(6)
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")

VALID = {
    "/v1/chat/completions": {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1},
    "/v1/completions": {"prompt": "Hi", "max_tokens": 1},
    "/tokenize": {"prompt": "Hi"},
    "/detokenize": {"tokens": [1, 2, 3]},
    "/v1/chat/completions/input_tokens": {"messages": [{"role": "user", "content": "Hi"}]},
    "/v1/usage/estimate": {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4},
    "/v1/batches": {"input_file_id": "file-nope", "endpoint": "/v1/chat/completions", "completion_window": "24h"},
    # The other dialects (issue 21): Anthropic's errors have `error.type`/`message`, Ollama's a string.
    "/v1/messages": {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]},
    "/v1/responses": {"input": "Hi", "max_output_tokens": 1, "store": False},
    "/api/chat": {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "options": {"num_predict": 1}},
    "/api/generate": {"model": MODEL, "prompt": "Hi", "options": {"num_predict": 1}},
}
FIELDS = {
    "/v1/chat/completions": ["model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k",
                             "min_p", "n", "stop", "seed", "presence_penalty", "frequency_penalty", "repetition_penalty",
                             "logit_bias", "logprobs", "top_logprobs", "user", "ignore_eos", "response_format", "stream",
                             "stream_options", "store", "metadata", "cache"],
    "/v1/completions": ["model", "prompt", "suffix", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "best_of",
                        "stop", "seed", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias",
                        "logprobs", "echo", "user", "ignore_eos", "response_format", "stream", "stream_options"],
    "/tokenize": ["model", "prompt", "content", "messages", "add_special_tokens"],
    "/detokenize": ["model", "tokens"],
    "/v1/chat/completions/input_tokens": ["model", "messages", "max_tokens", "logit_bias", "response_format"],
    "/v1/usage/estimate": ["model", "messages", "prompt", "max_tokens", "n", "stop"],
    "/v1/batches": ["input_file_id", "endpoint", "completion_window", "metadata"],
    "/v1/messages": ["model", "max_tokens", "messages", "system", "stop_sequences", "temperature", "top_k", "tools",
                     "tool_choice", "thinking", "metadata"],
    "/v1/responses": ["model", "input", "instructions", "max_output_tokens", "tools", "tool_choice",
                      "previous_response_id", "text", "reasoning"],
    "/api/chat": ["model", "messages", "options", "format", "think", "tools"],
    "/api/generate": ["model", "prompt", "raw", "system", "options", "format", "template", "context"],
}
ODD_VALUES = [None, True, False, -1, 0, 1, 2, 17, -2**63, 2**63 - 1, 2**64, 1e308, -1e308, 0.5, -0.0, "", "x", "🦅" * 50,
              "\u0000", "a" * 10000, [], [None], [1, "a"], [[1], [2, 3]], [-5], [2**40], {}, {"type": "json_schema"},
              {"type": "nope"}, {"include_usage": "yes"}, {"17": 1e9}, {"-1": 1}, [{"role": "user"}],
              [{"role": "user", "content": [{"type": "image_url"}]}], [{"role": "user", "content": None}],
              ["a"] * 100]

failures = []
count = 0


def send(method, path, body=b"", headers=None):
    global count
    count += 1
    h = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    h.update(headers or {})
    conn = http.client.HTTPConnection(BASE.hostname, BASE.port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        # A success may be a long generation (chat defaults to the rest of the context): the status
        # is all that matters here, and hanging up also exercises cancellation of abandoned requests.
        data = r.read() if r.status >= 300 else b""
    except Exception as e:  # noqa: a dropped connection is a failure too
        failures.append((method, path, body[:200], repr(e)))
        return None
    finally:
        conn.close()
    if r.status >= 500:
        failures.append((method, path, body[:200], r.status, data[:300]))
    elif r.status >= 400:
        try:
            err = json.loads(data)["error"]
            if path.startswith("/api/"):
                assert isinstance(err, str) and err  # Ollama's shape
            else:
                assert isinstance(err["message"], str) and isinstance(err["type"], str)
        except Exception:  # noqa
            failures.append((method, path, body[:200], r.status, "not an error body of the route's API", data[:300]))
    return r.status


def fixed_corpus():
    for path in VALID:
        for raw in [b"", b"null", b"[]", b"{}", b"{", b'"s"', b"123", b"\xff\xfe\x00", b'{"a":' * 5000,
                    b"[" * 100000, b'{"prompt": "\xc3\x28"}', b'{"messages": [' + b'{"role":"user","content":"x"},' * 2000 + b']}',
                    b'{"prompt":"x","max_tokens":1e999}', b'{"prompt":"x","max_tokens":NaN}', json.dumps(VALID[path]).encode()[:-1]]:
            send("POST", path, raw)
        send("POST", path, json.dumps(VALID[path]).encode(), {"Content-Type": "text/plain"})
        send("GET", path)
        send("DELETE", path)
        for field in FIELDS[path]:
            for value in ODD_VALUES:
                body = dict(VALID[path])
                body[field] = value
                if field != "stream":
                    body.pop("stream", None)
                send("POST", path, json.dumps(body).encode())
    for path in ["/health", "/metrics", "/version", "/openapi.json", "/v1/models", "/v1/models/x", "/v1/models/%00",
                 "/v1/../etc/passwd", "/" + "a" * 5000, "/v1/chat/completions?x=%zz",
                 "/v1/usage?group_by=week", "/v1/usage?start=yesterday", "/v1/usage?start=1e400&end=-1",
                 "/v1/usage?start=2026-13-45", "/v1/chat/completions?limit=0", "/v1/chat/completions?limit=1e9&order=up",
                 "/v1/chat/completions/%00", "/v1/chat/completions/x/messages", "/v1/admin/keys",
                 "/v1/files", "/v1/files?limit=0", "/v1/files?limit=1e9&order=up&after=%00", "/v1/files/x",
                 "/v1/files/x/content", "/v1/files/%2e%2e%2fusage.sqlite/content", "/v1/batches", "/v1/batches?limit=0",
                 "/v1/batches?limit=-1&after=x", "/v1/batches/x", "/v1/batches/%00",
                 "/v1/responses/x", "/v1/responses/%00", "/api/tags", "/api/ps", "/api/version"]:
        send("GET", path)
    for path in ["/v1/batches/x/cancel", "/v1/batches/%00/cancel"]:
        send("POST", path)
    send("DELETE", "/v1/files/x")
    multipart_corpus()
    send("POST", "/v1/completions", b"x" * 100, {"Content-Length": "99999999999"})


def multipart_corpus():
    """Uploads to /v1/files: broken forms, wrong purposes, missing parts, odd boundaries."""
    def form(boundary, parts, close=True):
        out = b""
        for headers, content in parts:
            out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
        return out + (b"--" + boundary + b"--\r\n" if close else b"")
    purpose = (b'Content-Disposition: form-data; name="purpose"', b"batch")
    upload = (b'Content-Disposition: form-data; name="file"; filename="x.jsonl"', b'{"custom_id":"a"}')
    cases = [
        ("multipart/form-data; boundary=B", form(b"B", [purpose, upload], close=False)),
        ("multipart/form-data; boundary=B", form(b"B", [purpose])),
        ("multipart/form-data; boundary=B", form(b"B", [upload])),
        ("multipart/form-data; boundary=B", form(b"B", [(purpose[0], b"fine-tune"), upload])),
        ("multipart/form-data; boundary=B", form(b"B", [purpose, (upload[0], b"")])),
        ("multipart/form-data; boundary=B", form(b"B", [(b"Content-Type: text/plain", b"x")])),
        ("multipart/form-data; boundary=B", b"--B\r\nContent-Disposition: form-data; name=\"purpose\""),
        ("multipart/form-data; boundary=B", b"garbage"),
        ("multipart/form-data; boundary=B", b""),
        ("multipart/form-data; boundary=", form(b"B", [purpose, upload])),
        ("multipart/form-data; boundary=" + "x" * 500, form(b"x" * 500, [purpose, upload])),
        ("multipart/form-data", form(b"B", [purpose, upload])),
        ("application/json", b'{"purpose":"batch"}'),
    ]
    for content_type, body in cases:
        send("POST", "/v1/files", body, {"Content-Type": content_type})
    for _ in range(40):
        send("POST", "/v1/files", mutate(form(b"B", [purpose, upload])), {"Content-Type": "multipart/form-data; boundary=B"})


def mutate(raw: bytes) -> bytes:
    b = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.randint(0, 3)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:
            del b[min(i, len(b) - 1)]
        elif op == 1:
            b.insert(i, rng.choice(b'{}[]",:0123456789-eE.tfn\\ \x00\xff'))
        elif op == 2 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        else:
            b[i:i] = rng.choice([b'"n":2', b'"stream":true', b'"logprobs":true', b'"max_tokens":2', b"null", b"1e400"])
    return bytes(b)


def main():
    fixed_corpus()
    for _ in range(int(os.environ.get("FUZZ_MUTATIONS", "300"))):
        path = rng.choice(list(VALID))
        send("POST", path, mutate(json.dumps(VALID[path]).encode()))
    healthy = send("GET", "/health") == 200
    print(f"fuzz: {count} requests, {len(failures)} failures, healthy at end: {healthy}")
    for f in failures[:20]:
        print("  ", f)
    return 0 if not failures and healthy else 1


if __name__ == "__main__":
    sys.exit(main())
