"""What the browser tests share: Debian's Chromium under selenium, a server with a key, a price
table and usage records, and screenshots. Chromium comes from apt (/usr/bin/chromium and
/usr/bin/chromedriver): selenium's own browser download is not reachable from CI."""
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Hostile"))
from loopback import ServerProcess  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
KEY = "sk-web-test"
ADMIN = "sk-web-admin"
PRICE = "input=0.10,output=0.40,cached=0.05"
SHOTS = os.environ.get("WEB_SCREENSHOTS")


class WebServer(ServerProcess):
    """`peregrine serve` with a required key, an admin key, a price table and a usage database."""

    def __init__(self, *flags):
        import tempfile
        self.db_dir = tempfile.mkdtemp(prefix="peregrine-web-db-")
        super().__init__(BIN, MODEL, ["--api-key", KEY, "--admin-key", ADMIN, "--price", PRICE,
                                      "--usage-db", os.path.join(self.db_dir, "usage.sqlite"),
                                      "--max-model-len", "2048"] + list(flags),
                         prefix="peregrine-web-")

    def get(self, path, key=None):
        headers = {"Authorization": "Bearer " + key} if key else {}
        req = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
                return r.status, (json.loads(body) if r.headers.get_content_type() == "application/json" else body)
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stats(self):
        status, body = self.get("/v1/stats")
        assert status == 200, body
        return body

    def metric(self, name, label=""):
        """One sample of /metrics (0 when absent)."""
        _, text = self.get("/metrics")
        for line in text.decode().splitlines():
            if line.startswith(name) and label in line and not line.startswith("#"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self, *args, **kwargs):
        super().stop(*args, **kwargs)
        shutil.rmtree(self.db_dir, ignore_errors=True)


def chromium(width=1280, height=860):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--force-device-scale-factor=1", "--hide-scrollbars", f"--window-size={width},{height}",
                 "--force-prefers-reduced-motion"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    driver.set_script_timeout(30)
    return driver


def wait_for(condition, timeout=60, interval=0.05, what="condition"):
    """Polls `condition` until it returns something truthy; that value, or AssertionError."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
        except Exception as e:  # a stale element mid-redraw: try again
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def screenshot(driver, name):
    """Saves a PNG when WEB_SCREENSHOTS names a directory (docs/ with --screenshots)."""
    if not SHOTS:
        return None
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name)
    driver.save_screenshot(path)
    try:  # fewer colours: a fraction of the bytes, same look (Pillow is optional)
        from PIL import Image
        Image.open(path).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    except ImportError:
        pass
    return path
