"""The playground in a real browser (Chromium via selenium) against `peregrine serve` with
smollm2-135m: streaming, per-reply figures, the token counter, stop (the server's running count
drops to 0 and the request ends as an abort), regenerate, edit and resend, reload, the 401 message
for a wrong key, and model output shown as text. Each test uses the page the way a person does
(typing, Enter, clicking); page state is read through the DOM.
"""
import json
import re
import time
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import ADMIN, KEY, WebServer, chromium, screenshot, wait_for


@pytest.fixture(scope="module")
def server():
    s = WebServer()
    yield s
    s.stop()


@pytest.fixture
def page(server):
    driver = chromium()
    driver.get(server.base + "/")
    driver.execute_script("localStorage.clear()")
    driver.get(server.base + "/")
    wait_for(lambda: driver.find_element(By.ID, "server-state").text == "ready", what="the page to see the server ready")
    yield driver
    driver.quit()


def set_field(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)
    field.send_keys(Keys.TAB)  # `change` fires on leaving the field, as for a person


def messages(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#transcript .message')].map(m => ({"
        " role: m.classList.contains('user') ? 'user' : 'assistant',"
        " text: m.querySelector('.content') ? m.querySelector('.content').textContent : '',"
        " figures: Object.fromEntries([...m.querySelectorAll('.fig')].map(f => [f.classList[1], f.textContent])),"
        " status: m.querySelector('.status') ? m.querySelector('.status').textContent : ''}))")


def streaming(driver):
    return driver.find_element(By.ID, "stop").is_displayed()


def estimated(server, system, user):
    """What the server's /v1/usage/estimate counts for a system prompt and one user message."""
    req = urllib.request.Request(
        server.base + "/v1/usage/estimate", method="POST",
        data=json.dumps({"messages": [{"role": "system", "content": system},
                                      {"role": "user", "content": user}]}).encode(),
        headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def type_and_send(driver, text):
    prompt = driver.find_element(By.ID, "prompt")
    prompt.clear()
    prompt.send_keys(text)
    prompt.send_keys(Keys.ENTER)  # Enter sends (keyboard-only use)


def test_a_reply_streams_in_with_its_figures_and_survives_a_reload(server, page):
    set_field(page, "api-key", KEY)
    set_field(page, "max_tokens", "120")
    set_field(page, "temperature", "0")
    set_field(page, "system", "You are a concise assistant.")
    # The counter is the server's tokenizer and template (through /v1/usage/estimate), with the price
    # table's cost range: the page must show what the server counts for the same messages.
    estimate = estimated(server, "You are a concise assistant.", "Write a short poem about falcons")
    prompt = page.find_element(By.ID, "prompt")
    prompt.send_keys("Write a short poem about falcons")
    counter = page.find_element(By.ID, "counter")
    wait_for(lambda: counter.get_attribute("data-tokens") == str(estimate["prompt_tokens"]), timeout=10,
             what="the token counter to show the server's count %d" % estimate["prompt_tokens"])
    counted = estimate["prompt_tokens"]
    assert "$" in page.find_element(By.ID, "counter").text
    prompt.send_keys(" and the sky")
    full = estimated(server, "You are a concise assistant.", "Write a short poem about falcons and the sky")
    assert full["prompt_tokens"] > counted
    wait_for(lambda: counter.get_attribute("data-tokens") == str(full["prompt_tokens"]), timeout=10,
             what="the counter to follow typing")

    prompt.send_keys(Keys.ENTER)
    lengths = []

    def finished():
        m = messages(page)
        if len(m) == 2:
            lengths.append(len(m[1]["text"]))
        return len(m) == 2 and not streaming(page) and m[1]["text"]
    wait_for(finished, timeout=120, interval=0.02, what="the reply")
    grew = sorted(set(l for l in lengths if l > 0))
    assert len(grew) >= 3, f"the reply did not stream in pieces: lengths seen {lengths[:40]}"
    reply = messages(page)[1]
    for fig in ["fig-queue", "fig-ttft", "fig-tps", "fig-in", "fig-cached", "fig-out", "fig-cost"]:
        assert fig in reply["figures"], (fig, reply["figures"])
    assert re.fullmatch(r"TTFT (\d+ ms|\d+\.\d\d s)", reply["figures"]["fig-ttft"]), reply["figures"]
    assert float(reply["figures"]["fig-tps"].split()[1]) > 0
    assert reply["figures"]["fig-in"] == "in %d" % full["prompt_tokens"]
    assert reply["figures"]["fig-cost"].startswith("cost $")
    # After a reply the counter shows what the next message would send: the whole conversation.
    wait_for(lambda: int(counter.get_attribute("data-tokens")) > full["prompt_tokens"], timeout=10,
             what="the counter to include the reply")
    screenshot(page, "playground-desktop.png")

    page.refresh()
    wait_for(lambda: len(messages(page)) == 2, what="the conversation after a reload")
    again = messages(page)
    assert again[0]["text"] == "Write a short poem about falcons and the sky"
    assert again[1]["text"] == reply["text"]
    assert again[1]["figures"]["fig-ttft"] == reply["figures"]["fig-ttft"]
    titles = [b.text for b in page.find_elements(By.CSS_SELECTOR, "#chat-list button")]
    assert any(t.startswith("Write a short poem") for t in titles), titles
    assert page.find_element(By.ID, "system").get_attribute("value") == "You are a concise assistant."

    # Regenerate: the last reply is asked for again (the same messages go out, a new reply streams).
    finished_before = server.stats()["requests_finished_total"]
    page.find_element(By.XPATH, "//button[text()='Regenerate']").click()
    wait_for(lambda: not streaming(page) and len(messages(page)) == 2 and messages(page)[1]["text"], timeout=120,
             what="the regenerated reply")
    assert server.stats()["requests_finished_total"] == finished_before + 1
    # Edit and resend: the first message changes, everything after it goes, a new reply comes.
    page.find_element(By.XPATH, "//li[contains(@class,'user')]//button[text()='Edit']").click()
    editor = page.find_element(By.CSS_SELECTOR, "#transcript textarea")
    editor.clear()
    editor.send_keys("Say hello")
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_for(lambda: not streaming(page) and len(messages(page)) == 2 and messages(page)[0]["text"] == "Say hello"
             and messages(page)[1]["text"], timeout=120, what="the reply to the edited message")
    assert server.stats()["requests_finished_total"] == finished_before + 2

    # Export: the JSON holds the conversation as stored.
    exported = json.loads(page.execute_script("return Peregrine.store.exportJSON(Peregrine.store.conversations())"))
    assert exported["conversations"][0]["messages"][0]["content"] == "Say hello"


def test_stop_aborts_the_request_and_the_server_frees_it(server, page):
    set_field(page, "api-key", KEY)
    set_field(page, "max_tokens", "1500")
    aborted_before = server.metric("vllm:request_success_total", 'finished_reason="abort"')
    type_and_send(page, "Tell me a very long story about a falcon who travels around the world, with many chapters.")
    wait_for(lambda: len(messages(page)) == 2 and len(messages(page)[1]["text"]) > 10, timeout=60,
             what="streamed text")
    assert streaming(page)
    assert server.stats()["requests_running"] == 1
    page.find_element(By.ID, "stop").click()
    wait_for(lambda: not streaming(page), timeout=10, what="the page to stop")
    stopped_at = time.time()
    wait_for(lambda: server.stats()["requests_running"] == 0, timeout=10, what="the server's running count to drop to 0")
    freed_after = time.time() - stopped_at
    assert freed_after < 5
    wait_for(lambda: server.metric("vllm:request_success_total", 'finished_reason="abort"') > aborted_before,
             timeout=10, what="the request to end as an abort")
    reply = messages(page)[1]
    assert reply["status"] == "Stopped."
    assert reply["text"]
    # The browser's own TTFT and tokens/s stay on a stopped reply (the server's come only with a finish).
    assert "fig-ttft" in reply["figures"] and "fig-tps" in reply["figures"]
    # And a running count of 0 on the page's own status poll too.
    assert server.stats()["kv_cache_usage"] == 0


def test_a_wrong_key_gets_the_401_message(server, page):
    set_field(page, "api-key", "sk-wrong")
    type_and_send(page, "Hello?")
    notice = wait_for(lambda: page.find_element(By.ID, "notice").is_displayed() and page.find_element(By.ID, "notice").text,
                      timeout=30, what="the 401 notice")
    assert notice.startswith("401 Unauthorized"), notice
    assert "API key" in notice
    assert "wanted" in page.find_element(By.ID, "key-row").get_attribute("class")
    # The question stays, with Retry; the right key then gets an answer.
    assert [m["role"] for m in messages(page)] == ["user"]
    set_field(page, "api-key", KEY)
    set_field(page, "max_tokens", "16")
    page.find_element(By.XPATH, "//button[text()='Retry']").click()
    wait_for(lambda: not streaming(page) and len(messages(page)) == 2 and messages(page)[1]["text"], timeout=120,
             what="the reply with the right key")
    assert not page.find_element(By.ID, "notice").is_displayed()


CRAFTED = ("Here is markup: <script>window.__pwned = 1</script> and <img src=x onerror=\"window.__pwned = 2\">\n\n"
           "<b>not bold</b> **bold** `<i>code</i>` [link](javascript:alert(1)) [ok](https://example.com)\n\n"
           "```html\n<script>window.__pwned = 3</script>\n```\n")


def test_model_output_with_html_is_shown_as_text(server, page):
    # The real path: a stored conversation whose reply holds markup, rendered by the page on load.
    conversation = {"id": "cx", "title": "xss", "system": "", "created": 1, "updated": 2,
                    "messages": [{"role": "user", "content": "<img src=y onerror=\"window.__pwned = 4\">"},
                                 {"role": "assistant", "content": CRAFTED, "figures": {}}]}
    page.execute_script("localStorage.setItem('peregrine.conversations', JSON.stringify([arguments[0]]));"
                        "localStorage.setItem('peregrine.current', JSON.stringify('cx'));", conversation)
    page.refresh()
    wait_for(lambda: len(messages(page)) == 2, what="the stored conversation")
    time.sleep(0.5)  # an injected onerror would have fired by now
    assert page.execute_script("return window.__pwned") is None
    transcript = page.find_element(By.ID, "transcript")
    for tag in ["script", "img", "b", "i"]:
        assert transcript.find_elements(By.CSS_SELECTOR, ".content " + tag) == [], tag
    reply = messages(page)[1]["text"]
    assert "<script>window.__pwned = 1</script>" in reply
    assert "<b>not bold</b>" in reply
    assert transcript.find_element(By.CSS_SELECTOR, ".assistant strong").text == "bold"
    assert transcript.find_element(By.CSS_SELECTOR, ".assistant pre code").text == "<script>window.__pwned = 3</script>"
    links = [a.get_attribute("href") for a in transcript.find_elements(By.CSS_SELECTOR, ".assistant a")]
    assert links == ["https://example.com/"], links
    assert messages(page)[0]["text"] == "<img src=y onerror=\"window.__pwned = 4\">"
    # And the renderer itself on text still streaming in (an unclosed fence).
    html = page.execute_script(
        "const d = document.createElement('div'); Peregrine.markdown.render(arguments[0], d); return d.innerHTML",
        "<svg onload=alert(1)>\n```\n<script>x</script>")
    assert "<svg" not in html and "&lt;svg onload=alert(1)&gt;" in html and "&lt;script&gt;" in html


def test_the_phone_layout_fits_390_pixels(server):
    driver = chromium(390, 844)
    try:
        driver.get(server.base + "/")
        driver.execute_script("localStorage.setItem('peregrine.apiKey', JSON.stringify(arguments[0]));"
                              "localStorage.setItem('peregrine.settings', JSON.stringify({max_tokens: 60}))", KEY)
        driver.get(server.base + "/")
        wait_for(lambda: driver.find_element(By.ID, "server-state").text == "ready")
        assert driver.find_element(By.ID, "settings").get_attribute("open") is None  # folded on a phone
        type_and_send(driver, "What is a peregrine falcon? Answer in two sentences.")
        wait_for(lambda: not streaming(driver) and len(messages(driver)) == 2 and messages(driver)[1]["text"],
                 timeout=120, what="the reply on a phone")
        # Nothing wider than the screen: no sideways scrolling.
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        assert driver.find_element(By.ID, "send").is_displayed()
        toggle = driver.find_element(By.ID, "toggle-chats")
        assert toggle.is_displayed()
        assert not driver.find_element(By.ID, "new-chat").is_displayed()
        screenshot(driver, "playground-phone.png")
        toggle.click()
        wait_for(lambda: driver.find_element(By.ID, "new-chat").is_displayed(), timeout=5, what="the chats drawer")
    finally:
        driver.quit()


def admin_post(server, path, body):
    req = urllib.request.Request(server.base + path, method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_the_allowance_left_today_and_the_429_when_it_is_spent(server, page):
    admin_post(server, "/v1/admin/tiers", {"name": "web-small", "daily_tokens": 600})
    admin_post(server, "/v1/admin/tiers", {"name": "web-spent", "daily_tokens": 5})
    small = admin_post(server, "/v1/admin/keys", {"name": "web small", "tier": "web-small"})["secret"]
    spent = admin_post(server, "/v1/admin/keys", {"name": "web spent", "tier": "web-spent"})["secret"]
    set_field(page, "api-key", small)
    set_field(page, "max_tokens", "16")
    page.find_element(By.ID, "prompt").send_keys("Hi")
    allowance = page.find_element(By.ID, "allowance")
    wait_for(lambda: allowance.text.startswith("600 tokens left today"), timeout=10,
             what="the allowance before any request")
    page.find_element(By.ID, "prompt").send_keys(Keys.ENTER)
    wait_for(lambda: not streaming(page) and len(messages(page)) == 2 and messages(page)[1]["text"], timeout=120,
             what="the reply on a metered key")
    # What is left shrinks by what the request was charged.
    wait_for(lambda: allowance.text and int(allowance.text.split()[0].replace(",", "")) < 600, timeout=10,
             what="the allowance to shrink")

    set_field(page, "api-key", spent)
    type_and_send(page, "Tell me about falcons, please.")
    notice = wait_for(lambda: page.find_element(By.ID, "notice").is_displayed() and page.find_element(By.ID, "notice").text,
                      timeout=30, what="the 429 notice")
    assert notice.startswith("429: today's token allowance for this key is spent."), notice
    assert "Try again in" in notice
