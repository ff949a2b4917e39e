"""The dashboard in a real browser while a load runs: its SVG charts get data points (running
requests above 0, generated tokens per second, TTFT percentiles), and with the admin key it lists
today's usage and cost per key from the server's records.
"""
import threading

import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import ADMIN, KEY, MODEL, WebServer, chromium, screenshot, wait_for


@pytest.fixture(scope="module")
def server():
    s = WebServer()
    yield s
    s.stop()


def load(server, stop, threads=3):
    """Streaming chat requests from several clients until `stop` is set."""
    client = openai.OpenAI(base_url=server.base + "/v1", api_key=KEY, max_retries=0, timeout=120)

    def worker(i):
        while not stop.is_set():
            stream = client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "system", "content": "You answer briefly."},
                          {"role": "user", "content": f"Name {i + 3} birds of prey and one fact about each."}],
                max_tokens=96, stream=True)
            for _ in stream:
                pass
    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for w in workers:
        w.start()
    return workers


def points(driver, chart):
    svg = driver.find_element(By.CSS_SELECTOR, f"#chart-{chart} svg")
    return int(svg.get_attribute("data-points") or 0)


def test_charts_get_data_points_while_a_load_runs(server):
    driver = chromium(1280, 1480)
    stop = threading.Event()
    workers = []
    try:
        driver.get(server.base + "/dashboard")
        wait_for(lambda: driver.find_element(By.ID, "server-state").text == "ready", what="the dashboard's first sample")
        for chart in ["requests", "tokens", "ttft", "itl", "kv", "prefix", "cost"]:
            driver.find_element(By.ID, "chart-" + chart)
        workers = load(server, stop)
        # Samples come once a second; under load the running count is above 0 in some of them.
        wait_for(lambda: driver.execute_script(
            "return Peregrine.dashboard.samples.some(x => x.s.requests_running > 0)"), timeout=60,
            what="a sample with running requests")
        wait_for(lambda: driver.execute_script(
            "return Peregrine.dashboard.samples.filter(x => x.s.ttft_s.count > 0).length >= 3"), timeout=90,
            what="TTFT percentiles in the samples")
        wait_for(lambda: points(driver, "tokens") >= 6 and points(driver, "ttft") >= 3 and points(driver, "requests") >= 6,
                 timeout=60, what="points on the charts")
        rates = driver.execute_script(
            "const s = Peregrine.dashboard.samples; const out = [];"
            "for (let i = 1; i < s.length; i++) out.push((s[i].s.generation_tokens_total - s[i-1].s.generation_tokens_total) / (s[i].t - s[i-1].t));"
            "return out")
        assert max(rates) > 0, rates
        # The legend shows the latest generated tokens/s, a number.
        legend = driver.find_element(By.CSS_SELECTOR, "#chart-tokens .legend").text
        assert "out (generated)" in legend
        # The polyline really is drawn inside the SVG.
        assert driver.find_elements(By.CSS_SELECTOR, "#chart-requests svg polyline")
        # Usage per key, with the admin key.
        field = driver.find_element(By.ID, "admin-key")
        field.send_keys(ADMIN)
        field.send_keys(Keys.ENTER)
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#usage-rows tr"), timeout=30, what="usage rows")
        cells = rows[0].find_elements(By.TAG_NAME, "td")
        assert int(cells[1].text) > 0 and cells[5].text.startswith("$")
        # A quarter of a minute of samples under load, for a screenshot that shows a chart.
        wait_for(lambda: driver.execute_script("return Peregrine.dashboard.samples.length") >= 20, timeout=60)
        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, "dashboard.png")
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=120)
        driver.quit()


def test_no_ui_turns_the_pages_off():
    s = WebServer("--no-ui")
    try:
        for path in ["/", "/playground", "/dashboard", "/ui/api.js"]:
            status, _ = s.get(path)
            assert status == 404, path
        assert s.get("/v1/stats")[0] == 200
        log = open(s.log_path).read()
        assert "playground:" not in log
    finally:
        s.stop()


def test_serve_prints_the_playground_url(server):
    log = wait_for(lambda: "playground: " in open(server.log_path).read() and open(server.log_path).read(), timeout=10)
    assert f"playground: http://127.0.0.1:{server.port}/" in log
