"""Tool calling and reasoning through `/v1/chat/completions` with the real `openai` client (issue 21),
run by scripts/server-tests.sh. Each module starts its own servers on free loopback ports: SmolLM2
with a ChatML template that declares tools Hermes-style and, with `enable_thinking`, opens a
thinking block (Tests/Fixtures/serve/chatml-tools-think.jinja, passed with --chat-template-file).

SmolLM2 (135M) does not call tools on its own, so `required` and named calls come from constrained
decoding, which is what is checked: their arguments always parse and validate (`jsonschema`).
"""
import concurrent.futures
import json
import os
import sys

import jsonschema
import openai
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Hostile"))
from loopback import ServerProcess  # noqa: E402

BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ.get("PEREGRINE_TEST_MODEL", "smollm2-135m")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TEMPLATE = os.path.join(ROOT, "Tests/Fixtures/serve/chatml-tools-think.jinja")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
CONVERT = {
    "type": "function",
    "function": {
        "name": "convert_currency",
        "description": "Convert an amount between currencies.",
        "parameters": {
            "type": "object",
            "properties": {
                "amount": {"type": "number"},
                "source": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
                "target": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
                "round": {"type": "boolean"},
                "notes": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            },
            "required": ["amount", "source", "target"],
            "additionalProperties": False,
        },
    },
}
TOOLS = [WEATHER, CONVERT]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
ASK = [{"role": "user", "content": "What is the weather like in Paris today?"}]


@pytest.fixture(scope="module")
def server():
    with ServerProcess(BIN, MODEL, ["--chat-template-file", TEMPLATE, "--usage-db", "none",
                                    "--max-running", "16"], prefix="peregrine-tools-") as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=300)


def check_call(call, allowed):
    """A call's name is one of `allowed` and its arguments parse and validate against its schema."""
    assert call.type == "function"
    assert call.id and call.id.startswith("call_")
    assert call.function.name in allowed, call
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return arguments


def collect_stream(stream):
    """Joins a streamed chat completion the way OpenAI documents it: content, reasoning and
    tool_calls deltas by index (id, type and name first, argument fragments appended)."""
    content, reasoning, calls, finish, roles = "", "", {}, None, []
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        delta = choice.delta
        if delta.role:
            roles.append(delta.role)
        content += delta.content or ""
        reasoning += getattr(delta, "reasoning_content", None) or ""
        for tc in delta.tool_calls or []:
            slot = calls.setdefault(tc.index, {"id": None, "type": None, "name": "", "arguments": ""})
            if tc.id:
                assert slot["id"] is None, "a call's id comes once"
                slot["id"] = tc.id
            if tc.type:
                slot["type"] = tc.type
            if tc.function and tc.function.name:
                slot["name"] += tc.function.name
            if tc.function and tc.function.arguments:
                slot["arguments"] += tc.function.arguments
        if choice.finish_reason:
            finish = choice.finish_reason
    assert roles == ["assistant"]
    return content, reasoning, [calls[i] for i in sorted(calls)], finish


# -- the four tool_choice modes, whole and streamed


def test_required_whole(client):
    r = client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="required",
                                       temperature=0, max_tokens=200)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    check_call(choice.message.tool_calls[0], SCHEMAS)
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 100  # the tools are in the prompt


def test_required_streamed_matches_whole(client):
    kwargs = dict(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="required", temperature=0, max_tokens=200)
    whole = client.chat.completions.create(**kwargs).choices[0].message.tool_calls[0]
    content, reasoning, calls, finish = collect_stream(client.chat.completions.create(stream=True, **kwargs))
    assert finish == "tool_calls" and content == "" and reasoning == ""
    assert len(calls) == 1 and calls[0]["type"] == "function" and calls[0]["id"].startswith("call_")
    assert calls[0]["name"] == whole.function.name
    assert json.loads(calls[0]["arguments"]) == json.loads(whole.function.arguments)


def test_named_function_whole_and_streamed(client):
    choice = {"type": "function", "function": {"name": "convert_currency"}}
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "10 euros in dollars?"}],
                                       tools=TOOLS, tool_choice=choice, temperature=0, max_tokens=200)
    assert r.choices[0].finish_reason == "tool_calls"
    args = check_call(r.choices[0].message.tool_calls[0], ["convert_currency"])
    assert set(args) >= {"amount", "source", "target"}
    _, _, calls, finish = collect_stream(client.chat.completions.create(
        model=MODEL, messages=ASK, tools=TOOLS, tool_choice=choice, temperature=0.8, seed=3, max_tokens=200,
        stream=True))
    assert finish == "tool_calls" and [c["name"] for c in calls] == ["convert_currency"]
    jsonschema.validate(json.loads(calls[0]["arguments"]), SCHEMAS["convert_currency"])


def test_auto_whole_and_streamed_agree(client):
    kwargs = dict(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="auto", temperature=0, max_tokens=48)
    whole = client.chat.completions.create(**kwargs).choices[0]
    assert whole.finish_reason in ("stop", "length", "tool_calls")
    for call in whole.message.tool_calls or []:
        check_call(call, SCHEMAS)
    content, reasoning, calls, finish = collect_stream(client.chat.completions.create(stream=True, **kwargs))
    assert finish == whole.finish_reason
    assert content == (whole.message.content or "")
    assert [c["name"] for c in calls] == [c.function.name for c in whole.message.tool_calls or []]
    # Leaving tool_choice out with tools means auto.
    default = client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, temperature=0, max_tokens=48)
    assert default.choices[0].message.content == whole.message.content


def test_none_never_calls(client):
    for stream in (False, True):
        kwargs = dict(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="none", temperature=0, max_tokens=32)
        if stream:
            content, _, calls, finish = collect_stream(client.chat.completions.create(stream=True, **kwargs))
            assert calls == [] and finish in ("stop", "length") and content
        else:
            r = client.chat.completions.create(**kwargs).choices[0]
            assert r.message.tool_calls is None and r.finish_reason in ("stop", "length") and r.message.content


def test_parallel_tool_calls_false_gives_one_call(client):
    r = client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="required",
                                       parallel_tool_calls=False, temperature=0, max_tokens=200)
    assert len(r.choices[0].message.tool_calls) == 1


def test_history_with_calls_and_results(client):
    """The template renders the assistant's calls and the tool's result; the answer is text."""
    messages = ASK + [
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_abc", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"celsius\"}"}}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "{\"temperature\": 18, \"sky\": \"clear\"}"},
    ]
    r = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, tool_choice="none",
                                       temperature=0, max_tokens=24)
    assert r.choices[0].message.content
    # The result is in the prompt: it is longer than without it.
    shorter = client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, tool_choice="none",
                                             temperature=0, max_tokens=1)
    assert r.usage.prompt_tokens > shorter.usage.prompt_tokens + 20


def test_bad_tool_requests_are_400(client):
    cases = [
        dict(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}}),
        dict(tool_choice="required"),
        dict(tools=TOOLS, tool_choice="sometimes"),
        dict(tools=[{"type": "function", "function": {"name": "bad name!"}}]),
        dict(tools=[WEATHER, WEATHER]),
        dict(tools=TOOLS, tool_choice="required", response_format={"type": "json_object"}),
    ]
    for extra in cases:
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=MODEL, messages=ASK, max_tokens=4, **extra)


# -- 100 of 100 sampled forced calls validate


def test_hundred_sampled_forced_calls_all_validate(client):
    def one(seed):
        choice = "required" if seed % 2 == 0 else {"type": "function", "function": {"name": TOOLS[seed % 4 // 2]["function"]["name"]}}
        r = client.chat.completions.create(model=MODEL, messages=ASK, tools=TOOLS, tool_choice=choice,
                                           temperature=1.0, seed=seed, max_tokens=400)
        c = r.choices[0]
        assert c.finish_reason == "tool_calls", (seed, c)
        assert len(c.message.tool_calls) == 1
        check_call(c.message.tool_calls[0], SCHEMAS)
        return c.message.tool_calls[0].function.name, c.message.tool_calls[0].function.arguments

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(100)))
    assert len(results) == 100
    assert {name for name, _ in results} == {"get_weather", "convert_currency"}
    # Sampling at temperature 1 with different seeds gives different arguments.
    assert len({args for _, args in results}) > 10


# -- reasoning


def test_thinking_goes_to_reasoning_content(client):
    """The template opens <think> (enable_thinking); the budget closes it, the answer follows."""
    r = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=60,
                                       extra_body={"chat_template_kwargs": {"enable_thinking": True},
                                                   "thinking_budget": 12})
    m = r.choices[0].message
    reasoning = getattr(m, "reasoning_content", None)
    assert reasoning and getattr(m, "reasoning", None) == reasoning
    assert "<think>" not in (m.content or "") and "</think>" not in (m.content or "")
    assert "</think>" not in reasoning
    content, streamed_reasoning, _, _ = collect_stream(client.chat.completions.create(
        model=MODEL, messages=ASK, temperature=0, max_tokens=60, stream=True,
        extra_body={"chat_template_kwargs": {"enable_thinking": True}, "thinking_budget": 12}))
    assert streamed_reasoning == reasoning and content == (m.content or "")


def test_without_a_budget_a_cut_off_thought_is_all_reasoning(client):
    r = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=20,
                                       extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    m = r.choices[0].message
    assert r.choices[0].finish_reason == "length"
    assert getattr(m, "reasoning_content", None) and not m.content


def test_reasoning_effort_sets_a_budget(client):
    """low = 512 thinking tokens: the answer is cut by max_tokens first, all reasoning; `none` closes
    the block at once, so nothing is reasoning."""
    low = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=24,
                                         reasoning_effort="low",
                                         extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    assert getattr(low.choices[0].message, "reasoning_content", None)
    off = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=24,
                                         extra_body={"reasoning_effort": "none",
                                                     "chat_template_kwargs": {"enable_thinking": True}})
    m = off.choices[0].message
    assert not getattr(m, "reasoning_content", None) and "</think>" not in (m.content or "")


def test_thinking_off_is_plain_content(client):
    r = client.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=24)
    m = r.choices[0].message
    assert m.content and getattr(m, "reasoning_content", None) is None


def test_reasoning_format_none_keeps_thinking_in_content():
    with ServerProcess(BIN, MODEL, ["--chat-template-file", TEMPLATE, "--usage-db", "none", "--reasoning-format", "none"],
                       prefix="peregrine-tools-none-") as s:
        c = openai.OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0, timeout=300)
        r = c.chat.completions.create(model=MODEL, messages=ASK, temperature=0, max_tokens=40,
                                      extra_body={"chat_template_kwargs": {"enable_thinking": True},
                                                  "thinking_budget": 8})
        m = r.choices[0].message
        assert getattr(m, "reasoning_content", None) is None
        assert "</think>" in m.content
