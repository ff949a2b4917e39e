"""The `peregrine` command line as a user meets it: every --help, the model commands on a scratch
cache, seeds, size syntax, chat's session commands. Runs the binary named by PEREGRINE_BIN."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

BIN = os.environ["PEREGRINE_BIN"]
SMOLLM2 = Path.home() / ".cache/peregrine/models/SmolLM2-135M-Instruct.Q4_1.gguf"


def run(*args, env=None, input=None, timeout=300):
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, input=input, timeout=timeout)


@pytest.fixture(scope="module")
def smollm2():
    """The real model, pulled once into the user's cache (the other tiers use it too)."""
    if not SMOLLM2.exists():
        subprocess.run([BIN, "pull", "smollm2-135m"], check=True, capture_output=True, timeout=900)
    return SMOLLM2


def subcommands(path):
    """Subcommand names listed in the help of `path` (a list of words)."""
    out = run(*path, "--help").stdout
    if "SUBCOMMANDS:" not in out:
        return []
    block = out.split("SUBCOMMANDS:", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if re.match(r"^  \S", line)]


def help_entries(text):
    """(flag spec, help text) for every option and argument of a rendered --help."""
    entries = []
    section = None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ()-]*:$", line) or re.match(r"^[A-Z].*:$", line):
            section = line
            continue
        if section is None or section.startswith("USAGE") or section.startswith("SUBCOMMANDS"):
            continue
        if re.match(r"^  \S", line):
            # ArgumentParser starts help text at column 26, on the label's line when the label fits.
            if len(line) > 26 and line[25] == " " and line[26] != " ":
                entries.append([line[:26].strip(), line[26:]])
            else:
                entries.append([line.strip(), ""])
        elif re.match(r"^\s{3,}\S", line) and entries:
            entries[-1][1] += " " + line.strip()
    return entries


def all_commands():
    found, todo = [], [[]]
    while todo:
        path = todo.pop()
        found.append(path)
        todo += [path + [name] for name in subcommands(path) if name != "help"]
    return found


def test_every_help_text_is_complete_and_says_each_default_once():
    commands = all_commands()
    assert ["serve"] in commands and ["bench", "serve"] in commands
    problems = []
    for path in commands:
        result = run(*path, "--help")
        assert result.returncode == 0, (path, result.stderr)
        text = result.stdout
        name = " ".join(["peregrine"] + path)
        if "(default) (default)" in re.sub(r"\s+", " ", text):
            problems.append(f"{name}: '(default) (default)'")
        for flag, help in help_entries(text):
            # ArgumentParser's own "(default: …)" and "(values: …)" are not help a person wrote.
            written = re.sub(r"\((default|values)[^)]*\)", "", help)
            if not written.strip(" ."):
                problems.append(f"{name}: {flag} has no help text")
            if help.count("(default") > 1:
                problems.append(f"{name}: {flag} states its default twice: {help}")
    assert not problems, "\n".join(problems)


def test_pull_lists_the_catalog_in_help_and_on_an_unknown_name():
    help = run("pull", "--help").stdout
    assert "smollm2-135m" in help and "gemma3-270m" in help and "Q4_K_M" in help
    bad = run("pull", "llama-9000")
    assert bad.returncode != 0
    assert "not in the catalog" in bad.stderr and "smollm2-135m" in bad.stderr and "gemma3-270m" in bad.stderr


def test_list_show_rm_on_a_scratch_cache(tmp_path, smollm2):
    env = dict(os.environ, PEREGRINE_MODELS=str(tmp_path))
    empty = run("list", env=env)
    assert empty.returncode == 0 and "No models" in empty.stdout
    (tmp_path / smollm2.name).symlink_to(smollm2)
    listed = run("list", env=env)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("smollm2-135m"))
    assert "93.8 MiB" in row and "llama" in row and "Q4_1" in row and "135M" in row and "8192" in row, row
    rows = json.loads(run("list", "--json", env=env).stdout)
    assert rows[0]["name"] == "smollm2-135m" and rows[0]["bytes"] == smollm2.stat().st_size

    shown = run("show", "--model", "smollm2-135m", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "architecture  llama" in shown.stdout
    assert "temperature 0.8, top_k 40, top_p 0.95, min_p 0.05 (llama.cpp's defaults" in shown.stdout
    assert "<|im_start|>" in shown.stdout
    assert run("show", "--model", "smollm2-135m", "--template", env=env).stdout.startswith("{%")

    outside = run("rm", str(smollm2), env=env)
    assert outside.returncode != 0 and "only deletes models from the cache" in outside.stderr
    removed = run("rm", "smollm2-135m", env=env)
    assert removed.returncode == 0 and "deleted" in removed.stdout, removed.stderr
    assert smollm2.exists()  # the link went, not the file it pointed to
    assert "No models" in run("list", env=env).stdout
    again = run("rm", "smollm2-135m", env=env)
    assert again.returncode != 0 and "not in the model cache" in again.stderr


def test_run_draws_a_fresh_seed_unless_given(smollm2):
    def once(*extra):
        out = run("run", "--model", str(smollm2), "--prompt", "Tell me a story.", "--max-tokens", "12", "--json", *extra)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    a, b = once(), once()
    assert a["seed"] != b["seed"]
    c, d = once("--seed", "7"), once("--seed", "7")
    assert c["seed"] == d["seed"] == 7 and c["generated_ids"] == d["generated_ids"]


def test_sizes_take_units_and_a_bare_number_below_one_block_is_refused():
    bare = run("serve", "--kv-cache-memory", "256", "--port", "1")
    assert bare.returncode == 64 and "256MiB" in bare.stderr, bare.stderr
    assert "listening" not in bare.stderr.lower()
    bench = run("bench", "serve", "--kv-cache-memory", "256")
    assert bench.returncode == 64 and "256MiB" in bench.stderr
    garbage = run("serve", "--kv-cache-memory", "lots")
    assert garbage.returncode == 64


def test_chat_banner_reset_and_exit(smollm2):
    out = run("chat", "--model", "smollm2-135m", "--max-tokens", "4", "--seed", "3",
              input="/reset\nHi\n/exit\n", timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Chatting with smollm2-135m (seed 3)" in out.stderr
    assert "Conversation cleared." in out.stderr
    assert out.stdout.strip() != ""  # the reply to "Hi"
