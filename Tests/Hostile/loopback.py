"""Helpers the Python server tests share (Tests/Hostile, Tests/Economics)."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    """A loopback port nobody listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServerProcess:
    """`peregrine serve` on a free loopback port, its log in a temporary directory, ready (GET /health
    200) when the constructor returns; SIGTERM (then kill) on exit. `flags` follow the port."""

    def __init__(self, binary, model, flags, prefix="peregrine-test-", preexec_fn=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.log_path = os.path.join(self.dir, "server.log")
        args = [binary, "serve", "--model", model, "--host", "127.0.0.1", "--port", str(self.port),
                "--shutdown-grace", "2"] + list(flags)
        env = dict(os.environ)
        env.pop("PEREGRINE_API_KEY", None)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec_fn)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.time() + 300
        while time.time() < deadline:
            assert self.proc.poll() is None, "server exited: " + open(self.log_path).read()[-2000:]
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("server never became healthy")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
