"""Runs `peregrine run`, `inspect` and `serve` on every file of the hostile GGUF corpus
(tools/hostile_gguf_corpus.py) and fails on a signal, a hang, or an error without a message.

    python3 Tests/Hostile/gguf_corpus_test.py PEREGRINE_BIN CORPUS_DIR

Every command must either succeed or exit non-zero with a one-line-or-more `Error:` on stderr;
`serve` must reach /health 200 (then answer a chat request) or exit on its own with an error,
and stop cleanly on SIGTERM.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from loopback import free_port

BIN, CORPUS = sys.argv[1], sys.argv[2]
TIMEOUT = float(os.environ.get("HOSTILE_GGUF_TIMEOUT", "60"))


def check_exit(name, what, rc, stderr):
    """A problem description, or None."""
    if rc < 0:
        return "%s %s: killed by signal %d; stderr: %s" % (name, what, -rc, stderr[-300:])
    if rc != 0 and "Error" not in stderr and "error" not in stderr:
        return "%s %s: exit %d without an error message: %r" % (name, what, rc, stderr[-300:])
    return None


def run_command(path, args):
    try:
        p = subprocess.run([BIN] + args + ["-m", path], capture_output=True, text=True, timeout=TIMEOUT,
                           errors="replace")
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        return None, "timed out after %ss" % TIMEOUT


def check_file(path):
    name = os.path.basename(path)
    problems = []
    outcomes = {}
    for what, args in [("run", ["run", "--prompt", "Hello there", "--max-tokens", "4", "--threads", "1"]),
                       ("inspect", ["inspect"])]:
        rc, err = run_command(path, args)
        if rc is None:
            problems.append("%s %s: %s" % (name, what, err))
            continue
        outcomes[what] = rc
        p = check_exit(name, what, rc, err)
        if p:
            problems.append(p)
    # serve: healthy and answering, or an exit with a message; never a signal or a hang.
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "-m", path, "--port", str(port), "--usage-db", "none", "--threads", "1",
                             "--kv-cache-memory", "16MiB", "--shutdown-grace", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
    deadline = time.time() + TIMEOUT
    state = None
    while time.time() < deadline:
        if proc.poll() is not None:
            state = "exited"
            break
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as r:
                if r.status == 200:
                    state = "ready"
                    break
        except urllib.error.HTTPError as e:
            if e.code == 503 and b"error" in e.read():
                state = "load failed"
                break
        except OSError:
            pass
        time.sleep(0.05)
    if state == "ready":
        body = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/v1/chat/completions" % port, data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                json.load(r)
        except urllib.error.HTTPError as e:
            if e.code >= 500:
                problems.append("%s serve: chat request got %d: %s" % (name, e.code, e.read()[:200]))
        except OSError as e:
            problems.append("%s serve: chat request failed: %r" % (name, e))
    if state is None:
        problems.append("%s serve: neither ready nor exited in %ss" % (name, TIMEOUT))
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        problems.append("%s serve: did not stop on SIGTERM" % name)
    p = check_exit(name, "serve", proc.returncode, err)
    if p:
        problems.append(p)
    outcomes["serve"] = state
    return name, problems, outcomes


def main():
    files = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith(".gguf"))
    workers = int(os.environ.get("HOSTILE_GGUF_WORKERS", "2"))
    problems = []
    ran = failed_cleanly = 0
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for name, p, outcomes in pool.map(check_file, files):
            problems += p
            ran += outcomes.get("run") == 0
            failed_cleanly += outcomes.get("run", 0) != 0
            if name in ("base.gguf", "moe-base.gguf", "llama3-base.gguf") and (outcomes.get("run") != 0 or outcomes.get("serve") != "ready"):
                problems.append("the valid %s did not run and serve: %s" % (name, outcomes))
    print("hostile GGUF corpus: %d files, `run` succeeded on %d and refused %d with an error" % (
        len(files), ran, failed_cleanly))
    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
