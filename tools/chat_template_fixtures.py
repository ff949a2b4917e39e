#!/usr/bin/env python3
"""Writes Tests/Fixtures/templates/renderings.json: Python jinja2's rendering of real chat
templates (copied into Tests/Fixtures/templates/ from llama.cpp's models/templates, which took them
from the models' Hugging Face repositories) for a set of conversations: system prompts, multi-turn,
reasoning, tools, tool calls and tool results. Peregrine's Jinja interpreter must render each one
byte for byte, or raise the same exception (`error`); where jinja2 itself fails on an input
(`failure`: a template bug, e.g. `|items` on a string), the interpreter must fail too.

jinja2 is set up the way Hugging Face transformers renders chat templates
(`apply_chat_template`): a sandboxed environment with trim_blocks and lstrip_blocks, loop controls,
`tojson` as `json.dumps(ensure_ascii=False, …)`, `raise_exception` and `strftime_now`. The clock
is fixed (`NOW`) so that date-stamping templates render reproducibly; the test passes the same
instant.

usage: python3 -m pip install jinja2 && tools/chat_template_fixtures.py
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEMPLATES = os.path.join(ROOT, "Tests/Fixtures/templates")
NOW = datetime.datetime(2025, 3, 14, 15, 9, 26)  # UTC

LLAMA3 = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
QWEN = {"bos_token": "", "eos_token": "<|im_end|>"}
DEEPSEEK = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}
MISTRAL = {"bos_token": "<s>", "eos_token": "</s>"}
PHI = {"bos_token": "<s>", "eos_token": "<|endoftext|>"}

# template file, special-token texts, extra variable sets to render with (besides none)
TEMPLATE_FILES = [
    ("Qwen-Qwen2.5-7B-Instruct.jinja", QWEN, []),
    ("Qwen-Qwen3-0.6B.jinja", QWEN, [{"enable_thinking": True}, {"enable_thinking": False}]),
    ("Qwen-QwQ-32B.jinja", QWEN, []),
    ("meta-llama-Llama-3.1-8B-Instruct.jinja", LLAMA3, [{"date_string": "01 Jan 2025"}]),
    ("meta-llama-Llama-3.2-3B-Instruct.jinja", LLAMA3, []),
    ("meta-llama-Llama-3.3-70B-Instruct.jinja", LLAMA3, []),
    ("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", DEEPSEEK, [{"enable_thinking": True}]),
    ("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", DEEPSEEK, []),
    ("mistralai-Mistral-Nemo-Instruct-2407.jinja", MISTRAL, []),
    ("Mistral-Small-3.2-24B-Instruct-2506.jinja", MISTRAL, []),
    ("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", LLAMA3, []),
    ("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", LLAMA3, []),
    ("microsoft-Phi-3.5-mini-instruct.jinja", PHI, []),
    # Further families (tool-calling formats issue 21 builds on).
    ("Qwen3-Coder.jinja", QWEN, []),
    ("Qwen3.5-4B.jinja", QWEN, [{"enable_thinking": False}]),
    ("HuggingFaceTB-SmolLM3-3B.jinja", {"bos_token": "", "eos_token": "<|im_end|>"}, [{"enable_thinking": False}]),
    ("google-gemma-2-2b-it.jinja", {"bos_token": "<bos>", "eos_token": "<eos>"}, []),
    ("ibm-granite-granite-3.3-2B-Instruct.jinja", {"bos_token": "", "eos_token": "<|end_of_text|>"}, []),
    ("fireworks-ai-llama-3-firefunction-v2.jinja", LLAMA3, []),
    ("meetkai-functionary-medium-v3.1.jinja", LLAMA3, []),
    ("meetkai-functionary-medium-v3.2.jinja", LLAMA3, []),
    ("CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja", {"bos_token": "<BOS_TOKEN>", "eos_token": "<|END_OF_TURN_TOKEN|>"}, []),
    ("deepseek-ai-DeepSeek-V3.1.jinja", DEEPSEEK, [{"thinking": True}]),
    ("openai-gpt-oss-120b.jinja", {"bos_token": "<|startoftext|>", "eos_token": "<|return|>"}, [{"reasoning_effort": "high"}]),
    ("moonshotai-Kimi-K2.jinja", {"bos_token": "[BOS]", "eos_token": "[EOS]"}, []),
    ("unsloth-mistral-Devstral-Small-2507.jinja", MISTRAL, []),
    ("mistralai-Ministral-3-14B-Reasoning-2512.jinja", MISTRAL, []),
    ("GLM-4.6.jinja", {"bos_token": "", "eos_token": "<|endoftext|>"}, [{"enable_thinking": False}]),
]

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
            },
            "required": ["city"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web; returns the top results.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
            "required": ["query"],
        },
    },
}


def call(id, name, arguments):
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


CONVERSATIONS = {
    "single_user": {"messages": [{"role": "user", "content": "Hello!"}]},
    "system_user": {
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What is 2+2?"},
        ]
    },
    "multi_turn": {
        "messages": [
            {"role": "system", "content": "You are helpful.\n"},
            {"role": "user", "content": "Name a fruit."},
            {"role": "assistant", "content": "An apple."},
            {"role": "user", "content": "Another one, please."},
        ]
    },
    "ends_with_assistant": {
        "messages": [
            {"role": "user", "content": "Say hi."},
            {"role": "assistant", "content": "Hi!"},
        ]
    },
    "reasoning_history": {
        "messages": [
            {"role": "user", "content": "What is 6*7?"},
            {"role": "assistant", "content": "<think>\nSix sevens are forty-two.\n</think>\n\n42."},
            {"role": "user", "content": "And 6*8?"},
        ]
    },
    "unicode_and_whitespace": {
        "messages": [
            {"role": "system", "content": "  Réponds en français. 你好 ✓  "},
            {"role": "user", "content": "Quote: \"x\" \\ back\\slash\n\n\ttabbed  <|im_end|> {{ not jinja }}"},
        ]
    },
    "tools_offered": {
        "tools": [WEATHER, SEARCH],
        "messages": [
            {"role": "system", "content": "You can call tools."},
            {"role": "user", "content": "What's the weather in Paris?"},
        ],
    },
    "tool_round_trip": {
        "tools": [WEATHER],
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [call("call00001", "get_weather", {"city": "Paris"})]},
            {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 18, \"sky\": \"clear\"}"},
            {"role": "assistant", "content": "It is 18 °C and clear in Paris."},
            {"role": "user", "content": "Thanks!"},
        ],
    },
    "tool_call_pending_result": {
        "tools": [WEATHER],
        "messages": [
            {"role": "system", "content": "Use tools when needed."},
            {"role": "user", "content": "Weather in Oslo in fahrenheit?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [call("call00002", "get_weather", {"city": "Oslo", "unit": "fahrenheit"})],
            },
            {"role": "tool", "tool_call_id": "call00002", "name": "get_weather", "content": "{\"temperature\": 41}"},
        ],
    },
    "parallel_tool_calls": {
        "tools": [WEATHER, SEARCH],
        "messages": [
            {"role": "user", "content": "Weather in Rome and news about Rome?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    call("call00003", "get_weather", {"city": "Rome"}),
                    call("call00004", "search", {"query": "Rome news", "limit": 3}),
                ],
            },
            {"role": "tool", "tool_call_id": "call00003", "name": "get_weather", "content": "{\"temperature\": 22}"},
            {"role": "tool", "tool_call_id": "call00004", "name": "search", "content": "[\"Rome wins\"]"},
        ],
    },
    "string_arguments": {
        "tools": [SEARCH],
        "messages": [
            {"role": "user", "content": "Search for swift."},
            {
                "role": "assistant",
                "content": "Searching.",
                "tool_calls": [call("call00005", "search", "{\"query\": \"swift\"}")],
            },
            {"role": "tool", "tool_call_id": "call00005", "name": "search", "content": "no results"},
        ],
    },
}


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    env = environment()
    cases = []
    for file, tokens, variants in TEMPLATE_FILES:
        source = open(os.path.join(TEMPLATES, file)).read()
        template = env.from_string(source)
        for conversation, spec in CONVERSATIONS.items():
            for extra in [{}] + variants:
                for add_generation_prompt in (True, False):
                    if not add_generation_prompt and conversation not in ("multi_turn", "ends_with_assistant", "tool_round_trip"):
                        continue
                    variables = dict(tokens)
                    variables.update(extra)
                    variables["add_generation_prompt"] = add_generation_prompt
                    context = dict(variables, messages=spec["messages"])
                    if "tools" in spec:
                        context["tools"] = spec["tools"]
                    case = {"template": file, "conversation": conversation, "variables": variables}
                    try:
                        case["output"] = template.render(**context)
                    except Exception as e:
                        if type(e) is jinja2.exceptions.TemplateError:  # raise_exception(message)
                            case["error"] = str(e)
                        else:  # a template bug this input hits (UndefinedError, `|items` on a string …)
                            case["failure"] = f"{type(e).__name__}: {e}"
                    cases.append(case)
    fixture = {
        "generator": "tools/chat_template_fixtures.py",
        "reference": f"jinja2 {jinja2.__version__}, configured as Hugging Face transformers' apply_chat_template",
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conversations": CONVERSATIONS,
        "cases": cases,
    }
    dest = os.path.join(TEMPLATES, "renderings.json")
    with open(dest, "w") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for c in cases if "error" in c)
    failures = sum(1 for c in cases if "failure" in c)
    print(f"wrote {dest}: {len(cases)} renderings ({errors} raise, {failures} fail)", file=sys.stderr)


if __name__ == "__main__":
    main()
