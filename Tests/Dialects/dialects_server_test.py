"""The other API dialects (issue 21) against `peregrine serve`, each with its ecosystem's official
Python client, unmodified: `anthropic` (messages.create, messages.stream, count_tokens, x-api-key and a
401), `openai` Responses (create with and without previous_response_id, streamed, retrieve, delete,
input_tokens, a stored response surviving kill -9), and `ollama` (chat and generate, streamed and
whole, list, show, ps). Greedy outputs are compared with the same conversation sent to
/v1/chat/completions, so a mapping that drops or reorders a message fails.

Environment: PEREGRINE_BIN (the built binary), PEREGRINE_TEST_MODEL (default smollm2-135m).
"""
import json
import os
import signal
import sqlite3
import sys
import tempfile
import urllib.request

import anthropic
import ollama
import openai
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Hostile"))
from loopback import ServerProcess  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
KEY = "sk-dialects"
QUESTION = "Name a color."
# Greedy SmolLM2 answers this in about a dozen tokens and stops by itself.
SHORT = "What is 2+2?"


@pytest.fixture(scope="module")
def server():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-dialects-"), "usage.sqlite")
    with ServerProcess(BIN, MODEL, ["--api-key", KEY, "--usage-db", db, "--max-model-len", "1024"],
                       prefix="peregrine-dialects-") as srv:
        srv.db = db
        yield srv


def chat_text(srv, messages, max_tokens):
    """The greedy answer of /v1/chat/completions to the same conversation."""
    c = openai.OpenAI(base_url=srv.base + "/v1", api_key=KEY)
    r = c.chat.completions.create(model=MODEL, messages=messages, max_tokens=max_tokens, temperature=0)
    return r.choices[0].message.content, r.usage.prompt_tokens


# --- Anthropic -------------------------------------------------------------------------------------

def claude(srv, key=KEY):
    return anthropic.Anthropic(base_url=srv.base, api_key=key, max_retries=0)


def test_anthropic_messages_create_matches_chat_completions(server):
    # This SDK no longer takes temperature as an argument; extra_body sends it as older clients do.
    m = claude(server).messages.create(
        model=MODEL, max_tokens=12, system="You are terse.", messages=[{"role": "user", "content": QUESTION}],
        metadata={"user_id": "dialect-test"}, extra_body={"temperature": 0})
    assert m.type == "message" and m.role == "assistant" and m.id.startswith("msg_")
    assert len(m.content) == 1 and m.content[0].type == "text" and m.content[0].text
    expected, prompt = chat_text(server, [{"role": "system", "content": "You are terse."},
                                          {"role": "user", "content": QUESTION}], 12)
    assert m.content[0].text == expected
    assert m.usage.input_tokens + (m.usage.cache_read_input_tokens or 0) == prompt
    assert 0 < m.usage.output_tokens <= 12
    assert m.stop_reason == ("max_tokens" if m.usage.output_tokens == 12 else "end_turn")
    count = claude(server).messages.count_tokens(
        model=MODEL, system="You are terse.", messages=[{"role": "user", "content": QUESTION}])
    assert count.input_tokens == prompt


def test_anthropic_stream_and_stop_sequences(server):
    kinds, deltas = [], []
    with claude(server).messages.stream(model=MODEL, max_tokens=20, messages=[{"role": "user", "content": QUESTION}],
                                        stop_sequences=["."], extra_body={"temperature": 0}) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "content_block_delta":
                deltas.append(event.delta.text)
        final = stream.get_final_message()
    raw = [k for k in kinds if k not in ("text",)]  # the helper adds a `text` event per delta
    assert raw[:2] == ["message_start", "content_block_start"] and raw[-3:] == [
        "content_block_stop", "message_delta", "message_stop"]
    assert set(raw[2:-3]) == {"content_block_delta"}
    whole, _ = chat_text(server, [{"role": "user", "content": QUESTION}], 20)
    assert "." in whole, "the greedy answer must contain the stop sequence for this test to mean anything"
    assert final.content[0].text == "".join(deltas) == whole[:whole.index(".")]
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == "."


def test_anthropic_event_order_on_the_wire_includes_ping(server):
    body = json.dumps({"model": MODEL, "max_tokens": 3, "stream": True,
                       "messages": [{"role": "user", "content": QUESTION}]}).encode()
    req = urllib.request.Request(server.base + "/v1/messages", data=body, method="POST", headers={
        "x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read().decode()
    names = [line[len("event: "):] for line in text.splitlines() if line.startswith("event: ")]
    assert names == ["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
                     "content_block_delta", "content_block_stop", "message_delta", "message_stop"], names


def test_anthropic_wrong_key_is_401_in_anthropics_shape(server):
    with pytest.raises(anthropic.AuthenticationError) as e:
        claude(server, key="sk-wrong").messages.create(model=MODEL, max_tokens=2,
                                                       messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 401
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        claude(server).messages.create(model=MODEL, max_tokens=0, messages=[{"role": "user", "content": "x"}])
    assert bad.value.body["error"]["type"] == "invalid_request_error" and "max_tokens" in bad.value.body["error"]["message"]
    with pytest.raises(anthropic.NotFoundError):
        claude(server).messages.create(model="claude-nonexistent", max_tokens=2, messages=[{"role": "user", "content": "x"}])


# --- OpenAI Responses ------------------------------------------------------------------------------

def responses(srv):
    return openai.OpenAI(base_url=srv.base + "/v1", api_key=KEY, max_retries=0)


def test_responses_create_continue_retrieve_delete(server):
    c = responses(server)
    first = c.responses.create(model=MODEL, input=QUESTION, instructions="You are terse.", max_output_tokens=12,
                               temperature=0)
    assert first.id.startswith("resp_") and first.status in ("completed", "incomplete") and first.store is True
    expected, prompt = chat_text(server, [{"role": "system", "content": "You are terse."},
                                          {"role": "user", "content": QUESTION}], 12)
    assert first.output_text == expected and first.usage.input_tokens == prompt
    assert c.responses.input_tokens.count(model=MODEL, input=QUESTION, instructions="You are terse.").input_tokens == prompt

    second = c.responses.create(model=MODEL, input="Another one?", previous_response_id=first.id,
                                max_output_tokens=12, temperature=0)
    assert second.previous_response_id == first.id
    # The earlier turn and its answer come first; the earlier instructions do not carry over.
    expected2, prompt2 = chat_text(server, [{"role": "user", "content": QUESTION},
                                            {"role": "assistant", "content": first.output_text},
                                            {"role": "user", "content": "Another one?"}], 12)
    assert second.usage.input_tokens == prompt2 and second.output_text == expected2

    got = c.responses.retrieve(first.id)
    assert got.id == first.id and got.output_text == first.output_text
    c.responses.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(second.id)
    with pytest.raises(openai.NotFoundError) as e:
        c.responses.create(model=MODEL, input="x", previous_response_id="resp_missing", max_output_tokens=2)
    assert e.value.body["param"] == "previous_response_id"
    unstored = c.responses.create(model=MODEL, input="x", store=False, max_output_tokens=2)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(unstored.id)


def test_responses_stream_events(server):
    c = responses(server)
    events = list(c.responses.create(model=MODEL, input=SHORT, max_output_tokens=40, temperature=0, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"], kinds[-4:]
    assert set(kinds[4:-4]) == {"response.output_text.delta"}
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    assert final.status == "completed" and final.output_text == text == events[-4].text
    assert c.responses.retrieve(final.id).output_text == text
    # The SDK's accumulating helper reads the same stream.
    with c.responses.stream(model=MODEL, input=SHORT, max_output_tokens=40, temperature=0) as s:
        for _ in s:
            pass
        assert s.get_final_response().output_text == text


def test_stored_response_survives_kill_9():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-dialects-kill-"), "usage.sqlite")
    flags = ["--api-key", KEY, "--usage-db", db]
    srv = ServerProcess(BIN, MODEL, flags, prefix="peregrine-dialects-kill-")
    try:
        first = responses(srv).responses.create(model=MODEL, input=QUESTION, max_output_tokens=8, temperature=0)
    finally:
        srv.stop(signal.SIGKILL)
    with ServerProcess(BIN, MODEL, flags, prefix="peregrine-dialects-kill-") as again:
        c = responses(again)
        got = c.responses.retrieve(first.id)
        assert got.output_text == first.output_text and got.usage.output_tokens == first.usage.output_tokens
        follow = c.responses.create(model=MODEL, input="Another one?", previous_response_id=first.id,
                                    max_output_tokens=4, temperature=0)
        assert follow.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens


# --- Ollama ----------------------------------------------------------------------------------------

def llama(srv):
    return ollama.Client(host=srv.base, headers={"Authorization": "Bearer " + KEY})


def test_ollama_chat_whole_and_streamed(server):
    c = llama(server)
    options = {"temperature": 0, "num_predict": 12}
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": QUESTION}]
    whole = c.chat(model=MODEL, messages=messages, options=options)
    expected, prompt = chat_text(server, messages, 12)
    assert whole.done and whole.message.role == "assistant" and whole.message.content == expected
    assert whole.prompt_eval_count == prompt and 0 < whole.eval_count <= 12
    assert whole.done_reason == ("length" if whole.eval_count == 12 else "stop")
    assert whole.total_duration >= whole.eval_duration > 0 and whole.prompt_eval_duration > 0
    parts = list(c.chat(model=MODEL + ":latest", messages=messages, options=options, stream=True))
    assert all(not p.done for p in parts[:-1]) and parts[-1].done and parts[-1].eval_count == whole.eval_count
    assert "".join(p.message.content for p in parts) == expected


def test_ollama_generate_whole_and_streamed(server):
    c = llama(server)
    options = {"temperature": 0, "num_predict": 10}
    whole = c.generate(model=MODEL, prompt=QUESTION, options=options)
    expected, _ = chat_text(server, [{"role": "user", "content": QUESTION}], 10)
    assert whole.done and whole.response == expected
    parts = list(c.generate(model=MODEL, prompt=QUESTION, options=options, stream=True))
    assert parts[-1].done and parts[-1].done_reason == whole.done_reason
    assert "".join(p.response for p in parts) == expected
    raw = c.generate(model=MODEL, prompt="The sky is", raw=True, options={"temperature": 0, "num_predict": 3})
    assert raw.prompt_eval_count < whole.prompt_eval_count  # no template around a raw prompt


def test_ollama_list_show_ps_and_errors(server):
    c = llama(server)
    names = [m.model for m in c.list().models]
    assert names == [MODEL]
    shown = c.show(MODEL)
    assert shown.modelinfo["general.architecture"] == "llama" and shown.details.format == "gguf"
    assert "completion" in shown.capabilities
    running = c.ps().models
    assert [m.model for m in running] == [MODEL] and running[0].context_length == 1024
    with pytest.raises(ollama.ResponseError) as e:
        c.chat(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 404 and "no-such-model" in e.value.error
    with pytest.raises(ollama.ResponseError) as e:
        ollama.Client(host=server.base).list()
    assert e.value.status_code == 401
    with urllib.request.urlopen(server.base + "/api/version", timeout=10) as r:
        assert json.load(r)["version"]


# --- shared --------------------------------------------------------------------------------------

def test_every_dialect_is_metered_and_documented(server):
    rows = dict(sqlite3.connect(server.db).execute(
        "SELECT endpoint, COUNT(*) FROM usage WHERE status = 200 GROUP BY endpoint").fetchall())
    for endpoint in ("messages", "responses", "ollama.chat", "ollama.generate"):
        assert rows.get(endpoint, 0) > 0, (endpoint, rows)
    with urllib.request.urlopen(server.base + "/openapi.json", timeout=10) as r:
        paths = json.load(r)["paths"]
    for path in ("/v1/messages", "/v1/messages/count_tokens", "/v1/responses", "/v1/responses/{id}",
                 "/v1/responses/input_tokens", "/api/chat", "/api/generate", "/api/tags", "/api/show", "/api/ps",
                 "/api/version"):
        assert path in paths, path


# --- tools and thinking (the tools core, Sources/Server/Tools) -----------------------------------
# SmolLM2 with a ChatML template that declares tools Hermes-style and, with enable_thinking, opens a
# thinking block (Tests/Fixtures/serve/chatml-tools-think.jinja). The 135M model does not call tools
# on its own: forced choices (Anthropic `any`/`tool`, Responses `required`/a function) come from
# constrained decoding, so their arguments always parse and match the schema.

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TEMPLATE = os.path.join(ROOT, "Tests/Fixtures/serve/chatml-tools-think.jinja")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"},
                                                   "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                  "required": ["city", "unit"], "additionalProperties": False}


def weather_args_ok(args):
    return set(args) == {"city", "unit"} and isinstance(args["city"], str) and args["unit"] in ("celsius", "fahrenheit")


@pytest.fixture(scope="module")
def tools_server():
    with ServerProcess(BIN, MODEL, ["--api-key", KEY, "--usage-db", "none", "--chat-template-file", TEMPLATE],
                       prefix="peregrine-dialects-tools-") as srv:
        yield srv


def test_anthropic_tool_use_and_tool_result(tools_server):
    c = claude(tools_server)
    tools = [{"name": "get_weather", "description": "Get the weather in a city.", "input_schema": WEATHER_SCHEMA}]
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    for choice in ({"type": "any"}, {"type": "tool", "name": "get_weather"}):
        m = c.messages.create(model=MODEL, max_tokens=100, tools=tools, tool_choice=choice, messages=ask)
        uses = [b for b in m.content if b.type == "tool_use"]
        assert m.stop_reason == "tool_use" and len(uses) == 1, m
        assert uses[0].name == "get_weather" and uses[0].id.startswith("toolu_") and weather_args_ok(uses[0].input)
    # Streamed: the call arrives as a tool_use block with its input as one input_json_delta.
    with c.messages.stream(model=MODEL, max_tokens=100, tools=tools, tool_choice={"type": "any"}, messages=ask) as s:
        kinds = [e.type for e in s]
        final = s.get_final_message()
    streamed = [b for b in final.content if b.type == "tool_use"]
    assert final.stop_reason == "tool_use" and len(streamed) == 1 and weather_args_ok(streamed[0].input)
    assert "input_json" in kinds, kinds
    # The result goes back as a tool_result block; the model answers in text.
    follow = c.messages.create(model=MODEL, max_tokens=20, tools=tools, messages=ask + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": u.id, "name": u.name, "input": u.input} for u in uses]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "18 degrees, sunny"}]},
    ], extra_body={"temperature": 0})
    assert follow.content and follow.content[0].type == "text" and follow.stop_reason in ("end_turn", "max_tokens")
    # A tool_result whose history is dropped or misplaced changes the prompt: count it.
    with_result = c.messages.count_tokens(model=MODEL, tools=tools, messages=ask + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": u.id, "name": u.name, "input": u.input} for u in uses]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "18 degrees, sunny"}]}])
    without = c.messages.count_tokens(model=MODEL, tools=tools, messages=ask)
    assert with_result.input_tokens > without.input_tokens + 10


def test_anthropic_thinking_blocks(tools_server):
    # `enabled` needs max_tokens above a budget of at least 1024 (too slow here); `adaptive` turns
    # thinking on the same way (the mapping of `enabled` is a unit test).
    m = claude(tools_server).messages.create(
        model=MODEL, max_tokens=30, thinking={"type": "adaptive"},
        messages=[{"role": "user", "content": "What is 2+2?"}], extra_body={"temperature": 0})
    # The template opens <think> when thinking is on: the output starts as a thinking block.
    assert m.content[0].type == "thinking" and m.content[0].thinking.strip()
    assert all("<think>" not in b.thinking and "</think>" not in b.thinking for b in m.content if b.type == "thinking")
    with claude(tools_server).messages.stream(
            model=MODEL, max_tokens=30, thinking={"type": "adaptive"},
            messages=[{"role": "user", "content": "What is 2+2?"}], extra_body={"temperature": 0}) as s:
        for _ in s:
            pass
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].thinking.strip()


def test_responses_function_calls_round_trip(tools_server):
    c = responses(tools_server)
    tools = [{"type": "function", "name": "get_weather", "description": "Get the weather in a city.",
              "parameters": WEATHER_SCHEMA}]
    for choice in ("required", {"type": "function", "name": "get_weather"}):
        r = c.responses.create(model=MODEL, input="What is the weather in Paris?", tools=tools, tool_choice=choice,
                               max_output_tokens=100, store=False)
        calls = [o for o in r.output if o.type == "function_call"]
        assert len(calls) == 1 and calls[0].name == "get_weather" and weather_args_ok(json.loads(calls[0].arguments))
    events = list(c.responses.create(model=MODEL, input="What is the weather in Paris?", tools=tools,
                                     tool_choice="required", max_output_tokens=100, stream=True, store=False))
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.done" in kinds and kinds[-1] == "response.completed"
    done = [e for e in events if e.type == "response.function_call_arguments.done"][0]
    assert weather_args_ok(json.loads(done.arguments))
    assert [o.type for o in events[-1].response.output] == ["function_call"]


def test_responses_function_call_output_continues_a_stored_response():
    db = os.path.join(tempfile.mkdtemp(prefix="peregrine-dialects-fc-"), "usage.sqlite")
    with ServerProcess(BIN, MODEL, ["--api-key", KEY, "--usage-db", db, "--chat-template-file", TEMPLATE],
                       prefix="peregrine-dialects-fc-") as srv:
        c = responses(srv)
        tools = [{"type": "function", "name": "get_weather", "parameters": WEATHER_SCHEMA}]
        first = c.responses.create(model=MODEL, input="What is the weather in Paris?", tools=tools,
                                   tool_choice="required", max_output_tokens=100)
        call = [o for o in first.output if o.type == "function_call"][0]
        second = c.responses.create(model=MODEL, previous_response_id=first.id, tools=tools, max_output_tokens=10,
                                    input=[{"type": "function_call_output", "call_id": call.call_id,
                                            "output": "18 degrees, sunny"}])
        # The stored call and its output are both in the prompt.
        assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens
        with pytest.raises(openai.BadRequestError):
            c.responses.create(model=MODEL, input=[{"type": "function_call_output", "output": "x"}], max_output_tokens=2)


def test_ollama_tools_history_and_thinking(tools_server):
    c = llama(tools_server)
    tool = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather in a city.",
                                             "parameters": WEATHER_SCHEMA}}
    history = [{"role": "user", "content": "What is the weather in Paris?"},
               {"role": "assistant", "content": "", "tool_calls": [
                   {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "18 degrees, sunny", "tool_name": "get_weather"}]
    r = c.chat(model=MODEL, messages=history, tools=[tool], options={"temperature": 0, "num_predict": 12})
    # The call and its result are in the prompt. (Not compared token for token with /v1/chat/completions
    # here: the `ollama` client's Tool model drops `additionalProperties` and sends the schema's keys in
    # its own order, so it asks for a different prompt; test_every_dialect_renders_tools_in_the_clients_order
    # compares the routes on identical bodies.)
    bare = c.chat(model=MODEL, messages=history[:1], tools=[tool], options={"temperature": 0, "num_predict": 1})
    assert r.prompt_eval_count > bare.prompt_eval_count + 15
    assert r.done and r.message.content and not r.message.tool_calls
    shown = c.show(MODEL)
    assert "tools" in shown.capabilities and "thinking" in shown.capabilities
    t = c.chat(model=MODEL, messages=[{"role": "user", "content": "What is 2+2?"}], think=True,
               options={"temperature": 0, "num_predict": 20})
    assert t.message.thinking and "<think>" not in (t.message.content or "")


def post_json(srv, path, body):
    req = urllib.request.Request(srv.base + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": "Bearer " + KEY, "x-api-key": KEY, "anthropic-version": "2023-06-01",
        "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def test_every_dialect_renders_tools_in_the_clients_order(tools_server):
    """The template prints tools and call arguments with `tojson`, so their member order is part of
    the prompt: every route keeps the order the client sent (the dialects used to sort it), and all
    four agree on the same conversation."""
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]

    def counts(schema, args):
        chat = post_json(tools_server, "/v1/chat/completions", {
            "model": MODEL, "max_tokens": 1, "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "Weather.", "parameters": schema}}],
            "messages": ask + [
                {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function", "function": {
                    "name": "get_weather", "arguments": json.dumps(args)}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees"}]})["usage"]["prompt_tokens"]
        olla = post_json(tools_server, "/api/chat", {
            "model": MODEL, "stream": False, "options": {"num_predict": 1}, "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "Weather.", "parameters": schema}}],
            "messages": ask + [
                {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": args}}]},
                {"role": "tool", "content": "18 degrees", "tool_name": "get_weather"}]})["prompt_eval_count"]
        claude_count = post_json(tools_server, "/v1/messages/count_tokens", {
            "model": MODEL, "tools": [{"name": "get_weather", "description": "Weather.", "input_schema": schema}],
            "messages": ask + [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": args}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 degrees"}]}],
        })["input_tokens"]
        tools_only = post_json(tools_server, "/v1/responses/input_tokens", {
            "model": MODEL, "input": ask[0]["content"], "tools": [{"type": "function", "name": "get_weather",
                                                                  "description": "Weather.", "parameters": schema}]})
        chat_tools_only = post_json(tools_server, "/v1/chat/completions", {
            "model": MODEL, "max_tokens": 1, "messages": ask, "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "Weather.", "parameters": schema}}]})["usage"]["prompt_tokens"]
        assert chat == olla == claude_count, (chat, olla, claude_count)
        assert tools_only["input_tokens"] == chat_tools_only, (tools_only, chat_tools_only)
        return chat, chat_tools_only

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
              "required": ["city"]}
    reordered = {"required": ["city"], "type": "object", "properties": {
        "unit": {"enum": ["celsius", "fahrenheit"], "type": "string"}, "days": {"type": "integer"},
        "city": {"type": "string"}}}
    first = counts(schema, {"days": 3, "city": "Paris"})
    # Sorted, the two schemas would be one text and the two argument orders one prompt length.
    assert counts(reordered, {"days": 3, "city": "Paris"})[1] != first[1]
    assert counts(schema, {"city": "Paris", "days": 3})[0] != first[0]
