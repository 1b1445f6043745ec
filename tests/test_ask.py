"""Asking a model: streaming, citations, multi-turn cache reuse, resilience and secrets, all over
real HTTP against the local OpenAI-compatible test server."""

from __future__ import annotations

import json
import time

import pytest

import codeassist
from codeassist.assistant import AnswerReady, Restart
from codeassist.errors import (
    BackendNotConfiguredError,
    BackendUnavailableError,
    ContextOverflowError,
    IncompleteAnswerError,
    RateLimitedError,
)
from codeassist.llm.events import Content, Notice, Reasoning

from .conftest import MULTI_LANGUAGE_FILES, generated_python_files, run_cli
from .openai_server import Reply


def _project(root, server, **settings):
    options = {"backend": "custom", "base_url": server.base_url, "model": "test-model", **settings}
    project = codeassist.open(root, **options)
    project.index()
    return project


def test_ask_streams_reasoning_and_answer_with_usage_and_verified_citations(multi_repo, server):
    server.script(Reply(
        reasoning="The policy lives in retry.py.",
        content="Retries use `RetryPolicy.run` (payments/retry.py:20-26) with backoff at "
                "payments/retry.py:16-18; see also payments/gone.py:3 and payments/retry.py:400-410."))
    project = _project(multi_repo, server)
    chat = project.chat()
    events = list(chat.stream("how are payments retried?"))
    kinds = [type(e) for e in events]
    assert Reasoning in kinds and Content in kinds and kinds[-1] is AnswerReady
    assert kinds.index(Reasoning) < kinds.index(Content)  # reasoning first, shown apart
    answer = events[-1].answer
    assert answer.reasoning == "The policy lives in retry.py."
    assert answer.text.startswith("Retries use")
    valid = {str(c) for c in answer.citations if c.valid}
    assert valid == {"payments/retry.py:20-26", "payments/retry.py:16-18"}
    problems = {str(c): c.problem for c in answer.invalid_citations}
    assert problems == {"payments/gone.py:3": "no such file in the index",
                        "payments/retry.py:400-410": "the file has 31 lines"}
    assert answer.usage.prompt_tokens == server.state.usages[0]["prompt_tokens"] > 100
    assert answer.finish_reason == "stop"
    # what was sent: the system prompt, then the context and the question
    body = server.state.chat_bodies()[0]
    assert body["stream"] is True and body["model"] == "test-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "cite" in body["messages"][0]["content"].lower()
    user = body["messages"][1]["content"]
    assert "1\t\"\"\"Retry policy for failed uploads and payments.\"\"\"" in user
    assert user.rstrip().endswith("Question: how are payments retried?")


def test_five_turn_conversation_reuses_the_prompt_prefix_and_stays_in_the_window(make_repo, server):
    files = generated_python_files(40, functions=8)
    server.state.models[0]["max_model_len"] = 24_000
    project = _project(make_repo(files), server, backend="vllm", answer_tokens=1_000, model="")
    chat = project.chat()
    questions = ["what does func_3_2 compute?", "and func_7_1?", "where is os.sep used?",
                 "which module has func_12_0?", "summarise module 5"]
    answers = [chat.ask(q) for q in questions]
    bodies = server.state.chat_bodies()
    assert len(bodies) == 5
    for earlier, later in zip(bodies, bodies[1:]):
        # each request repeats the previous one (plus its answer) as its prefix
        assert later["messages"][: len(earlier["messages"])] == earlier["messages"]
        assert later["messages"][len(earlier["messages"])]["role"] == "assistant"
    shares = [a.usage.cache_hit_share for a in answers]
    assert shares[0] == 0 and all(s > 0.8 for s in shares[1:]), shares
    # the window came from the server's model list, and every prompt fits it
    assert chat.backend.context_window() == 24_000
    assert all(u["prompt_tokens"] + 1_000 <= 24_000 for u in server.state.usages)


def test_rate_limit_then_success_honours_retry_after(multi_repo, server):
    server.script(Reply(fault="status", status=429, headers={"Retry-After": "1"},
                        body={"error": {"message": "Rate limit reached", "type": "rate_limit"}}),
                  Reply(content="Fine now."))
    project = _project(multi_repo, server)
    start = time.monotonic()
    events = list(project.chat().stream("retry?"))
    elapsed = time.monotonic() - start
    notices = [e for e in events if isinstance(e, Notice)]
    assert notices and notices[0].kind == "retry" and "429" in notices[0].message
    assert "1.0 s" in notices[0].message and elapsed >= 1.0
    assert events[-1].answer.text == "Fine now."


def test_a_503_storm_ends_in_one_clear_error(multi_repo, server):
    busy = Reply(fault="status", status=503, body={"error": {"message": "Server busy, please try again later"}},
                 headers={"Retry-After": "0"})
    server.script(*[busy] * 10)
    project = _project(multi_repo, server, max_retries=2)
    with pytest.raises(RateLimitedError, match="server busy.*3 tries"):
        project.ask("anything")
    assert len(server.state.chat_bodies()) == 3


def test_keep_alive_only_stream_ends_at_the_deadline(multi_repo, server):
    server.script(Reply(fault="keepalive", seconds=20))
    project = _project(multi_repo, server, request_timeout=2)
    start = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="within 2 s"):
        project.ask("anything")
    assert time.monotonic() - start < 6


@pytest.mark.parametrize("fault, message", [
    ("truncated", "without finishing"),
    ("error_event", "upstream provider error"),
])
def test_broken_streams_are_reported_as_incomplete_with_the_partial_answer(multi_repo, server, fault, message):
    server.script(Reply(content="one two three four five six seven eight", fault=fault))
    project = _project(multi_repo, server)
    with pytest.raises(IncompleteAnswerError, match=message) as info:
        project.ask("anything")
    assert info.value.partial.startswith("one two")
    assert "eight" not in info.value.partial


@pytest.mark.parametrize("fault", ["empty", "error_body"])
def test_empty_streams_and_error_bodies_in_200_responses_are_errors(multi_repo, server, fault):
    server.script(Reply(fault=fault))
    project = _project(multi_repo, server)
    with pytest.raises(IncompleteAnswerError, match="empty answer"):
        project.ask("anything")


@pytest.mark.parametrize("form", ["deepseek", "vllm", "llamacpp", "llamacpp500", "hidden"])
def test_context_overflow_in_each_form_shrinks_the_context_and_retries(make_repo, server, form):
    project = _project(make_repo(generated_python_files(60, functions=10)), server,
                       context_window=60_000, answer_tokens=1_000)
    server.state.context_limit = 6_000
    server.state.overflow_form = form
    events = list(project.chat().stream("what does func_3_2 compute?"))
    shrinks = [e for e in events if isinstance(e, Notice) and e.kind == "shrink"]
    assert shrinks and "too long" in shrinks[0].message
    answer = events[-1].answer
    assert answer.text == "The answer." and answer.usage.prompt_tokens <= 6_000


def test_an_empty_stream_after_a_large_prompt_is_diagnosed_as_an_overflow(make_repo, server):
    """llama-cpp-python answers a streaming prompt over its window with 200 and nothing: the
    same request once without streaming, for one token, reads the real error."""
    project = _project(make_repo(generated_python_files(60, functions=10)), server,
                       context_window=60_000, answer_tokens=1_000)
    server.state.context_limit = 6_000
    server.state.overflow_form = "hidden"
    events = list(project.chat().stream("what does func_3_2 compute?"))
    shrink = next(e for e in events if isinstance(e, Notice) and e.kind == "shrink")
    assert "too long for the model, whose window is 2,048 tokens" in shrink.message  # read from the 400
    bodies = server.state.chat_bodies()
    assert bodies[0]["stream"] is True and bodies[1]["stream"] is False and bodies[1]["max_tokens"] == 1
    assert bodies[2]["stream"] is True and len(json.dumps(bodies[2])) < len(json.dumps(bodies[0]))
    assert events[-1].answer.text == "The answer."


def test_an_empty_stream_that_is_not_an_overflow_stays_an_empty_answer(multi_repo, server):
    server.script(Reply(fault="empty"), Reply(content="Fine when asked without streaming."))
    project = _project(multi_repo, server)
    with pytest.raises(IncompleteAnswerError, match="empty answer"):
        project.ask("anything")
    assert [b["stream"] for b in server.state.chat_bodies()] == [True, False]


def test_llama_cpp_servers_window_at_props_sizes_the_context_up_front(make_repo, server):
    server.state.models = [{"id": "test-model", "object": "model", "owned_by": "llamacpp"}]  # no window listed
    server.state.props_n_ctx = 4096
    server.state.context_limit = 4096
    project = _project(make_repo(generated_python_files(60, functions=10)), server)
    events = list(project.chat().stream("what does func_3_2 compute?"))
    assert not any(isinstance(e, Notice) and e.kind == "shrink" for e in events)  # sized right the first time
    assert len(server.state.chat_bodies()) == 1 and events[-1].answer.context.tokens < 4096


def test_a_server_that_reports_no_usage_is_said_to_and_our_count_shown(multi_repo, server):
    server.state.usage_in_stream = False
    answer = _project(multi_repo, server).ask("anything")
    assert not answer.usage.reported and answer.usage.sent_tokens > 100
    summary = answer.usage.summary()
    assert summary.startswith("token usage not reported by the server") and "(our count)" in summary
    assert "0 prompt tokens" not in summary


def test_overflow_that_never_fits_is_one_clear_error(multi_repo, server):
    server.state.context_limit = 50
    project = _project(multi_repo, server, context_window=20_000, answer_tokens=500)
    with pytest.raises(ContextOverflowError, match="too long"):
        project.ask("anything")


def test_ollama_style_silent_truncation_is_detected_and_the_context_shrunk(make_repo, server):
    project = _project(make_repo(generated_python_files(60, functions=10)), server,
                       context_window=60_000, answer_tokens=1_000)
    server.state.context_limit = 5_000
    server.state.silent_truncation = True
    events = list(project.chat().stream("what does func_3_2 compute?"))
    assert any(isinstance(e, Restart) for e in events)
    notice = next(e for e in events if isinstance(e, Notice) and e.kind == "truncated")
    assert "5,000" in notice.message
    bodies = server.state.chat_bodies()
    assert len(bodies) == 2
    final = events[-1].answer
    assert final.usage.prompt_tokens <= 5_000
    assert len(json.dumps(bodies[1])) < len(json.dumps(bodies[0]))


SECRET_FILES = {
    **MULTI_LANGUAGE_FILES,
    "payments/keys.py": (
        '"""Gateway access."""\n'
        'GATEWAY_API_KEY = "sk-live-4f9b2c7d1e8a6b3c5d0e9f8a7b6c5d4e"\n'
        'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
        'DB_URL = "postgres://admin:Sup3rS3cret!@db.internal/payments"\n'
        'password = "correct-horse-battery-staple"\n'
        "\n\ndef gateway_headers():\n    return {'Authorization': GATEWAY_API_KEY}\n"
    ),
    ".env": "STRIPE_KEY=sk_live_abcdefghijklmnop1234\n",
}
SECRET_VALUES = ["sk-live-4f9b2c7d1e8a6b3c5d0e9f8a7b6c5d4e", "AKIAIOSFODNN7EXAMPLE", "Sup3rS3cret!",
                 "correct-horse-battery-staple", "sk_live_abcdefghijklmnop1234"]


def test_secrets_never_reach_a_backend_that_is_not_on_this_machine(make_repo, server):
    root = make_repo(SECRET_FILES)
    port = server.httpd.server_address[1]
    # 0.0.0.0 is not a loopback address, so codeassist treats the backend as remote
    project = codeassist.open(root, backend="custom", base_url=f"http://0.0.0.0:{port}/v1", model="m")
    project.index()
    answer = project.ask("how are gateway requests authenticated? GATEWAY_API_KEY password")
    raw = "".join(r["raw"] for r in server.state.requests if r["path"].endswith("/chat/completions"))
    assert "GATEWAY_API_KEY" in raw and "gateway_headers" in raw  # the code itself was sent
    for value in SECRET_VALUES:
        assert value not in raw, value
    assert "[REDACTED:" in raw
    assert sum(answer.redactions.values()) >= 4
    assert any("redacted" in n for n in answer.notices)


def test_a_loopback_backend_gets_the_code_as_is_unless_told_otherwise(make_repo, server):
    root = make_repo(SECRET_FILES)
    project = _project(root, server)
    project.ask("GATEWAY_API_KEY")
    raw = server.state.requests[-1]["raw"]
    assert "AKIAIOSFODNN7EXAMPLE" in raw  # stays on this machine
    assert "sk_live_abcdefghijklmnop1234" not in raw  # .env is never indexed at all
    strict = _project(root, server, redact_loopback=True)
    strict.ask("GATEWAY_API_KEY")
    assert "AKIAIOSFODNN7EXAMPLE" not in server.state.requests[-1]["raw"]


def test_no_backend_configured_says_how_and_dry_run_still_shows_the_request(indexed):
    with pytest.raises(BackendNotConfiguredError, match="DEEPSEEK_API_KEY"):
        indexed.ask("anything")
    result = run_cli("ask", "how are payments retried?", "--repo", str(indexed.root))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "OPENAI_API_KEY" in result.stderr
    dry = run_cli("ask", "how are payments retried?", "--repo", str(indexed.root), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    data = json.loads(dry.stdout)
    assert [m["role"] for m in data["messages"]] == ["system", "user"]
    assert "payments/retry.py" in data["messages"][1]["content"]
    assert data["prompt_tokens"] > data["context"]["tokens"] > 0


def test_cli_ask_streams_the_answer_and_ends_with_a_usage_line(indexed, server):
    server.script(Reply(reasoning="thinking hard", content="See payments/retry.py:20-26."))
    env = {"CODEASSIST_BACKEND": "custom", "CODEASSIST_BASE_URL": server.base_url,
           "CODEASSIST_MODEL": "test-model", "CODEASSIST_PRICE_INPUT": "0.28",
           "CODEASSIST_PRICE_CACHED_INPUT": "0.028", "CODEASSIST_PRICE_OUTPUT": "0.42"}
    result = run_cli("ask", "how are payments retried?", "--repo", str(indexed.root), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "See payments/retry.py:20-26."
    assert "thinking: thinking hard" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "prompt tokens" in last and "cached" in last and "$" in last and "1 citation(s) checked" in last
    failing = run_cli("ask", "x", "--repo", str(indexed.root),
                      env={**env, "CODEASSIST_BASE_URL": "http://127.0.0.1:9/v1", "CODEASSIST_MAX_RETRIES": "0"})
    assert failing.returncode == 7 and "cannot reach" in failing.stderr and "Traceback" not in failing.stderr


def test_config_shows_effective_settings_with_the_key_masked(tmp_path):
    key = "sk-abcdefghijklmnopqrstuvwxyz0123456789"
    result = run_cli("config", "--json", env={"DEEPSEEK_API_KEY": key})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["backend"]["backend"] == "deepseek"
    assert data["backend"]["base_url"] == "https://api.deepseek.com"
    assert key not in result.stdout and "DEEPSEEK_API_KEY" in data["backend"]["api_key"]
    text = run_cli("config", env={"DEEPSEEK_API_KEY": key})
    assert key not in text.stdout and "deepseek-v4-flash" in text.stdout


def test_user_prompt_templates_override_the_packaged_ones(multi_repo, server, tmp_path):
    prompts = tmp_path / "my-prompts"
    prompts.mkdir()
    (prompts / "system.md").write_text("You are a pirate. Cite as path:start-end.\n")
    project = _project(multi_repo, server, prompts_dir=str(prompts))
    project.ask("hello")
    assert server.state.chat_bodies()[0]["messages"][0]["content"] == "You are a pirate. Cite as path:start-end.\n"


def test_redaction_does_not_look_like_truncation_and_answer_room_fits_small_windows(make_repo, server):
    # a non-loopback backend, a context with secrets: the estimate must be of what is sent
    root = make_repo({**SECRET_FILES, **generated_python_files(30, functions=6)})
    port = server.httpd.server_address[1]
    project = codeassist.open(root, backend="custom", base_url=f"http://0.0.0.0:{port}/v1", model="m",
                              context_window=8_192, answer_tokens=8_192)
    project.index()
    events = list(project.chat().stream("GATEWAY_API_KEY password gateway_headers"))
    assert not any(isinstance(e, Restart) for e in events)
    body = server.state.chat_bodies()[-1]
    assert len(server.state.chat_bodies()) == 1
    # an 8k window cannot reserve 8k for the answer: a quarter of it is reserved instead
    assert body["max_tokens"] == 2_048
    assert server.state.usages[-1]["prompt_tokens"] + body["max_tokens"] <= 8_192


def test_citation_paths_with_leading_dots():
    from codeassist.citations import find_citations

    found = find_citations("see .github/workflows/ci.yml:3-5, .eslintrc.js:2 and ./src/a.py:4; not 1.2:3")
    assert found == [(".github/workflows/ci.yml", 3, 5), (".eslintrc.js", 2, 2), ("src/a.py", 4, 4)]


def test_redaction_covers_quoted_keys_spaces_and_cut_off_keys():
    from codeassist.redact import redact

    text = ('{"password": "hunter2xyz9", "user": "bob"}\n'
            "secret: 'two words here'\n"
            "pwd = password_var\n"
            "12\t-----BEGIN RSA PRIVATE KEY-----\n13\tMIIEowIBAAKCAQEA1234567890abcdef\n14\tQWERTY+/==\n"
            "15\tdef after(): pass\n")
    out = redact(text)
    assert "hunter2xyz9" not in out.text and "two words here" not in out.text
    assert "MIIEowIBAAKCAQEA" not in out.text and "QWERTY" not in out.text
    assert "pwd = password_var" in out.text and "15\tdef after(): pass" in out.text
    assert out.text.count("\n") == text.count("\n")  # line numbers stay true
