"""`ask` against a real local model server (llama-cpp-python + SmolLM2-135M, see llama_server.py),
with the small windows local users run: what codeassist meets in the wild, not what we expect.
The model's answers are not judged, only how codeassist handles the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

import codeassist
from codeassist.assistant import AnswerReady
from codeassist.errors import IncompleteAnswerError
from codeassist.llm.events import Content, Notice

from .conftest import generated_python_files
from .llama_server import LlamaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama() -> LlamaServer:
    with LlamaServer(n_ctx=2048) as server:
        yield server


def _project(root, server: LlamaServer, **settings):
    options = {"backend": "llamacpp", "base_url": server.base_url, "answer_tokens": 48, **settings}
    project = codeassist.open(root, **options)
    project.index()
    return project


def test_the_models_answer_names_the_model_but_no_window(llama):
    models = llama.models()["data"]
    assert models and models[0]["id"]
    assert not any(k in models[0] for k in ("max_model_len", "context_length", "n_ctx", "max_context_length"))


def test_a_small_repository_is_answered_streaming_with_usage_said_to_be_missing(make_repo, llama):
    root = make_repo({"calc.py": "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n"})
    project = _project(root, llama, context_window=2048)
    events = list(project.chat().stream("What does add do?"))
    assert any(isinstance(e, Content) for e in events)
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerReady) and answer.text.strip() and answer.finish_reason in ("stop", "length")
    assert not answer.usage.reported and answer.usage.sent_tokens > 50
    assert answer.usage.summary().startswith("token usage not reported by the server")
    assert "reasoning" not in "".join(type(e).__name__.lower() for e in events)  # no reasoning from this model


@pytest.mark.parametrize("n_ctx", [2048, 1024])
def test_a_repository_far_larger_than_the_window_is_answered_after_shrinking(make_repo, n_ctx, llama):
    root = make_repo(generated_python_files(80, functions=10))  # ~100k tokens of code
    server = llama if n_ctx == 2048 else LlamaServer(n_ctx=n_ctx).start()
    try:
        project = _project(root, server)  # no window configured; the server's list names none
        events = list(project.chat().stream("What does func_3_2 compute?"))
    finally:
        if server is not llama:
            server.stop()
    shrinks = [e for e in events if isinstance(e, Notice) and e.kind == "shrink"]
    assert shrinks, [getattr(e, "message", e) for e in events if isinstance(e, Notice)]
    assert f"whose window is {n_ctx:,} tokens" in shrinks[0].message
    final = events[-1]
    assert isinstance(final, AnswerReady), final
    assert final.answer.text.strip() and final.answer.context.tokens < n_ctx
    assert not any("empty answer" in getattr(e, "message", "") for e in events)


def test_the_cli_says_it_shrank_and_never_says_empty_answer(make_repo, llama):
    root = make_repo(generated_python_files(40, functions=10))
    env = {**os.environ, "CODEASSIST_ANSWER_TOKENS": "32"}
    subprocess.run([sys.executable, "-m", "codeassist", "index", str(root), "-q"], env=env, check=True,
                   capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "codeassist", "ask", "what does func_1_1 compute?", "--repo",
                           str(root), "--backend", "llamacpp", "--base-url", llama.base_url], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "whose window is 2,048 tokens" in proc.stderr and "empty answer" not in proc.stderr
    assert "token usage not reported by the server; about" in proc.stderr
    assert proc.stdout.strip()


def test_a_server_killed_mid_answer_is_one_clear_error_with_the_partial_answer(make_repo):
    root = make_repo({"calc.py": "def add(a, b):\n    return a + b\n"})
    server = LlamaServer(n_ctx=2048).start()
    try:
        project = _project(root, server, context_window=2048, answer_tokens=400, max_retries=0)
        chat = project.chat()
        seen: list[str] = []
        killed = threading.Event()
        with pytest.raises(IncompleteAnswerError) as info:
            for event in chat.stream("Write a long story about adding numbers, at least 300 words."):
                if isinstance(event, Content):
                    seen.append(event.text)
                    if len(seen) == 5 and not killed.is_set():
                        os.killpg(server.proc.pid, signal.SIGKILL)
                        killed.set()
        assert killed.is_set(), "the answer ended before the server could be killed"
        assert info.value.partial.startswith("".join(seen)[:10]) and len(info.value.partial) >= len("".join(seen[:5]))
        assert "broke off" in str(info.value) or "without finishing" in str(info.value)
    finally:
        server.stop()
