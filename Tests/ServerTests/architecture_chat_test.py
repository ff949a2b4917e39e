"""One architecture test model (scripts/arch-tests.sh) served by `peregrine serve`, driven by the
openai client, plus `peregrine run --json` and `peregrine chat`: each must render the conversation
with the model's own chat template (the family's) and stop at its end-of-turn token, as
llama-server does on the same file (Tests/Fixtures/architectures/<model>.json).

Environment: PEREGRINE_BASE_URL, PEREGRINE_BIN, PEREGRINE_MODEL, PEREGRINE_FIXTURE.
"""
import json
import os
import subprocess

import openai
import pytest

FIXTURE = json.load(open(os.environ["PEREGRINE_FIXTURE"]))
BIN = os.environ["PEREGRINE_BIN"]
MODEL = os.environ["PEREGRINE_MODEL"]
CLIENT = openai.OpenAI(base_url=os.environ["PEREGRINE_BASE_URL"] + "/v1", api_key="unused")
SERVED = CLIENT.models.list().data[0].id
# The family's end-of-turn token text (the vocabulary names it; Llama 3's <|eot_id|>, ChatML's <|im_end|>).
END_OF_TURN = "<|eot_id|>" if FIXTURE["model"] == "llama3" else "<|im_end|>"


def finish_reason(chat):
    return "stop" if chat["stop_type"] == "eos" else "length"


def end_of_turn_id():
    out = subprocess.run([BIN, "tokenize", "--model", MODEL, END_OF_TURN], capture_output=True, text=True, check=True)
    ids = json.loads(out.stdout)
    assert len(ids) == 1, f"{END_OF_TURN} is one special token, got {ids}"
    return ids[0]


@pytest.mark.parametrize("key", ["chat", "chat_user_only"])
def test_chat_completion_matches_llama_server(key):
    chat = FIXTURE[key]
    r = CLIENT.chat.completions.create(model=SERVED, messages=chat["messages"], temperature=0, max_tokens=48)
    choice = r.choices[0]
    # The same prompt length as llama-server's rendering of the family's template (the Swift tier
    # compares the ids themselves), the same reply, ending where llama.cpp's ended.
    assert r.usage.prompt_tokens == len(chat["prompt_ids"])
    assert choice.message.content == chat["reply_text"]
    assert choice.finish_reason == finish_reason(chat)
    assert END_OF_TURN not in choice.message.content


def test_streaming_equals_the_whole_reply():
    chat = FIXTURE["chat"]
    stream = CLIENT.chat.completions.create(model=SERVED, messages=chat["messages"], temperature=0, max_tokens=48,
                                            stream=True)
    text, reasons = "", []
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            if chunk.choices[0].finish_reason:
                reasons.append(chunk.choices[0].finish_reason)
    assert text == chat["reply_text"]
    assert reasons == [finish_reason(chat)]


def test_the_end_of_turn_token_stops_the_reply():
    # Whatever the model would say, once its end-of-turn token is the likeliest the reply ends there:
    # finish_reason "stop", the token not in the text.
    eot = end_of_turn_id()
    r = CLIENT.chat.completions.create(model=SERVED, messages=FIXTURE["chat"]["messages"], temperature=0, max_tokens=16,
                                       logit_bias={str(eot): 100})
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == ""
    assert r.usage.completion_tokens <= 1


def test_run_json_uses_the_template_and_stops_like_llama_server():
    chat = FIXTURE["chat_user_only"]
    out = subprocess.run([BIN, "run", "--model", MODEL, "--prompt", chat["messages"][0]["content"], "--temperature", "0",
                          "--max-tokens", "48", "--json"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["prompt_ids"] == chat["prompt_ids"]
    assert got["generated_ids"] == chat["reply_ids"]
    assert got["finish_reason"] == finish_reason(chat)


def test_chat_command_replies_like_llama_server():
    chat = FIXTURE["chat"]
    system, user = chat["messages"][0]["content"], chat["messages"][1]["content"]
    out = subprocess.run([BIN, "chat", "--model", MODEL, "--system", system, "--temperature", "0", "--max-tokens", "48"],
                         input=user + "\n/exit\n", capture_output=True, text=True, check=True)
    assert out.stdout.strip() == chat["reply_text"].strip()
