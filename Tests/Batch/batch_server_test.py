"""Durable batch jobs (issue 19) against a running `peregrine serve`, with the real `openai` client:
upload, create, poll and download a 500-line batch; kill -9 twice during a 500-line batch and
restart (every custom_id exactly once, greedy lines equal to the same requests sent interactively,
each line charged once at the batch price); cancel; invalid input; another key's file is 404; and
`peregrine batch run` offline with a resume.

Environment: PEREGRINE_BIN (the built binary), PEREGRINE_TEST_MODEL (default smollm2-135m).
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import openai
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Hostile"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Economics"))
import economics_server_test as economics  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
INPUT, CACHED, OUTPUT = 0.10, 0.05, 0.40  # economics.PRICE
WORDS = ["red", "blue", "green", "cat", "dog", "tree", "sun", "moon", "river", "stone"]


def cli(*args, timeout=600):
    out = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr + out.stdout
    return out


class Server(economics.Server):
    """The economics tests' server (prices, admin key) with two static keys and half-price batches."""

    def __init__(self, db, *flags):
        super().__init__(db, "--batch-discount", "0.5", "--api-key", "sk-a", "--api-key", "sk-b", *flags)

    def client(self, key="sk-a"):
        return super().client(key)


def body(i, max_tokens=6):
    word = WORDS[i % len(WORDS)]
    return {"model": MODEL, "messages": [{"role": "user", "content": "Say %s %d." % (word, i)}],
            "max_tokens": max_tokens, "temperature": 0}


def input_file(n, max_tokens=6):
    lines = [json.dumps({"custom_id": "req-%d" % i, "method": "POST", "url": "/v1/chat/completions",
                         "body": body(i, max_tokens)}) for i in range(n)]
    path = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-in-"), "input.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def start_batch(client, n, max_tokens=6):
    with open(input_file(n, max_tokens), "rb") as f:
        uploaded = client.files.create(file=f, purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes > 0
    return client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                 completion_window="24h", metadata={"test": "batch"})


def poll(client, batch_id, until=("completed", "failed", "cancelled", "expired"), timeout=900, done_at_least=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        b = client.batches.retrieve(batch_id)
        if b.status in until:
            return b
        if done_at_least is not None and b.request_counts and b.request_counts.completed >= done_at_least:
            return b
        time.sleep(0.2)
    raise AssertionError("batch %s stuck in %s" % (batch_id, b.status))


def output_lines(client, file_id):
    text = client.files.content(file_id).text
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def batch_rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT prompt_tokens, cached_tokens, completion_tokens, cost_input, cost_output, api_key_id FROM usage"
            " WHERE batch = 1"
        ).fetchall()
    finally:
        con.close()


def test_500_lines_upload_create_poll_download():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-db-"), "usage.sqlite")
    with Server(db) as srv:
        c = srv.client()
        batch = start_batch(c, 500)
        assert batch.status == "validating" and batch.metadata == {"test": "batch"}
        done = poll(c, batch.id)
        assert done.status == "completed", done
        assert done.request_counts.total == 500 and done.request_counts.completed == 500
        assert done.request_counts.failed == 0 and done.error_file_id is None
        lines = output_lines(c, done.output_file_id)
        assert [l["custom_id"] for l in lines] == ["req-%d" % i for i in range(500)]
        for l in lines:
            assert l["error"] is None and l["response"]["status_code"] == 200
            assert l["response"]["body"]["object"] == "chat.completion"
        assert any(b.id == batch.id for b in c.batches.list())
        assert any(f.id == done.output_file_id for f in c.files.list())
    # Charged per key at half price: cost = (uncached * input + cached * cached price + completion * output) / 1e6 * 0.5.
    assert economics.PRICE == "input=%.2f,output=%.2f,cached=%.2f" % (INPUT, OUTPUT, CACHED)
    rows = batch_rows(db)
    assert len(rows) == 500
    for prompt, cached, completion, cin, cout, key in rows:
        assert key and key.startswith("key-")
        assert abs(cin - ((prompt - cached) * INPUT + cached * CACHED) / 1e6 * 0.5) < 1e-12
        assert abs(cout - completion * OUTPUT / 1e6 * 0.5) < 1e-12


def test_kill9_twice_during_500_lines_then_resume():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-db-"), "usage.sqlite")
    srv = Server(db)
    batch = start_batch(srv.client(), 500)
    for threshold in (120, 300):
        b = poll(srv.client(), batch.id, done_at_least=threshold)
        assert b.status == "in_progress", b
        srv.stop(signal.SIGKILL)
        srv = Server(db)
    try:
        c = srv.client()
        done = poll(c, batch.id)
        assert done.status == "completed" and done.request_counts.completed == 500, done
        lines = output_lines(c, done.output_file_id)
        ids = [l["custom_id"] for l in lines]
        assert len(ids) == 500 and len(set(ids)) == 500 and set(ids) == {"req-%d" % i for i in range(500)}
        # Greedy lines equal the same requests sent interactively.
        by_id = {l["custom_id"]: l["response"]["body"]["choices"][0]["message"]["content"] for l in lines}
        for i in list(range(0, 500, 25)):
            r = c.chat.completions.create(**body(i))
            assert r.choices[0].message.content == by_id["req-%d" % i], i
    finally:
        srv.stop()
    # Each line charged exactly once, across two crashes.
    assert len(batch_rows(db)) == 500


def test_cancel_keeps_finished_lines():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-db-"), "usage.sqlite")
    with Server(db, "--batch-concurrency", "4") as srv:
        c = srv.client()
        batch = start_batch(c, 200, max_tokens=48)
        poll(c, batch.id, done_at_least=8)
        cancelled = c.batches.cancel(batch.id)
        assert cancelled.status in ("cancelling", "cancelled")
        done = poll(c, batch.id, until=("cancelled",), timeout=60)
        n = done.request_counts.completed
        assert 8 <= n < 200
        time.sleep(1)
        assert c.batches.retrieve(batch.id).request_counts.completed == n
        finished = output_lines(c, done.output_file_id)
        assert len(finished) == n and all(l["response"]["status_code"] == 200 for l in finished)
        rest = output_lines(c, done.error_file_id)
        assert len(rest) == 200 - n and all(l["error"]["code"] == "batch_cancelled" for l in rest)
        assert len({l["custom_id"] for l in finished + rest}) == 200
    # Lines stopped by the cancel are not charged.
    assert len(batch_rows(db)) == n


def test_invalid_input_fails_with_per_line_errors():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-db-"), "usage.sqlite")
    good = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body(1)}
    wrong_url = dict(good, custom_id="b", url="/v1/completions")
    lines = [json.dumps(good), "{not json", json.dumps(good), json.dumps(wrong_url)]
    path = os.path.join(tempfile.mkdtemp(), "bad.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with Server(db) as srv:
        c = srv.client()
        with open(path, "rb") as f:
            uploaded = c.files.create(file=f, purpose="batch")
        batch = c.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
        done = poll(c, batch.id)
        assert done.status == "failed"
        errors = [(e.line, e.code) for e in done.errors.data]
        assert errors == [(2, "invalid_json_line"), (3, "duplicate_custom_id"), (4, "mismatched_url")], errors
        with pytest.raises(openai.BadRequestError):
            c.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")


def test_another_keys_file_and_batch_are_404():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-db-"), "usage.sqlite")
    with Server(db) as srv:
        a, b = srv.client("sk-a"), srv.client("sk-b")
        batch = start_batch(a, 3)
        for call in (lambda: b.files.retrieve(batch.input_file_id), lambda: b.files.content(batch.input_file_id),
                     lambda: b.files.delete(batch.input_file_id), lambda: b.batches.retrieve(batch.id),
                     lambda: b.batches.cancel(batch.id),
                     lambda: b.batches.create(input_file_id=batch.input_file_id, endpoint="/v1/chat/completions",
                                              completion_window="24h")):
            with pytest.raises(openai.NotFoundError):
                call()
        assert all(f.id != batch.input_file_id for f in b.files.list())
        assert poll(a, batch.id).status == "completed"
        assert a.files.delete(batch.input_file_id).deleted


def test_offline_batch_run_resumes():
    path = input_file(40)
    out = os.path.join(tempfile.mkdtemp(prefix="peregrine-batch-out-"), "output.jsonl")
    proc = subprocess.Popen([BIN, "batch", "run", "--model", MODEL, path, "-o", out, "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(out) and sum(1 for _ in open(out)) >= 10:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    first = sum(1 for _ in open(out))
    assert 0 < first < 40, first
    result = cli("batch", "run", "--model", MODEL, path, "-o", out)
    assert "already in" in result.stderr
    lines = [json.loads(l) for l in open(out)]
    ids = [l["custom_id"] for l in lines]
    assert len(ids) == 40 and set(ids) == {"req-%d" % i for i in range(40)}
    assert all(l["response"]["status_code"] == 200 for l in lines)
