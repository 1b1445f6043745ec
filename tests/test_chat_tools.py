"""Ask with tools: the model explores the repository through the same tool layer the MCP server
exposes. Our OpenAI-compatible test server plays a model that emits tool calls (over real HTTP,
with the real openai client)."""

from __future__ import annotations

import json

import pytest

import codeassist
import codeassist.tools
from codeassist.assistant import AnswerReady, ToolStep
from codeassist.errors import IncompleteAnswerError
from codeassist.llm.events import Notice

from .conftest import run_cli
from .helpers import git_runner
from .openai_server import Reply


def _project(root, server, **settings):
    options = {"backend": "custom", "base_url": server.base_url, "model": "test-model", **settings}
    project = codeassist.open(root, **options)
    project.index()
    return project


def _call(tool: str, **arguments) -> dict[str, str]:
    return {"name": tool, "arguments": json.dumps(arguments)}


def _events(project, question="how are payments retried?"):
    return list(project.chat().stream(question))


def _assert_prefix_property(bodies: list[dict]) -> None:
    """Every request repeats the previous one's messages as its prefix (cache-stable)."""
    for earlier, later in zip(bodies, bodies[1:]):
        assert later["messages"][: len(earlier["messages"])] == earlier["messages"]


def test_a_tool_call_then_an_answer_citing_what_it_read(multi_repo, server):
    server.script(Reply(content="", tool_calls=[_call("search", query="retry backoff", k=3)]),
                  Reply(content="Retries are in RetryPolicy.run (payments/retry.py:20-26)."))
    events = _events(_project(multi_repo, server))
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert [s.name for s in steps] == ["search"] and steps[0].tokens > 20 and not steps[0].error
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerReady) and answer.text.startswith("Retries are in")
    assert [c.valid for c in answer.citations] == [True] and answer.tool_steps == tuple(steps)
    bodies = server.state.chat_bodies()
    assert len(bodies) == 2 and {t["function"]["name"] for t in bodies[0]["tools"]} >= {
        "search", "symbols", "references", "read", "outline", "map"}
    tool_message = bodies[1]["messages"][-1]
    assert tool_message["role"] == "tool" and "payments/retry.py" in tool_message["content"]
    assert bodies[1]["messages"][-2]["tool_calls"][0]["function"]["name"] == "search"
    _assert_prefix_property(bodies)


def test_every_round_counts_in_the_usage_and_tool_output_is_redacted_like_the_context(make_repo, server):
    root = make_repo({"app.py": 'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n\ndef connect():\n    return AWS_KEY\n'})
    server.script(Reply(content="", tool_calls=[_call("read", path="app.py")]),
                  Reply(content="", tool_calls=[_call("search", query="connect")]), Reply(content="Done."))
    answer = _events(_project(root, server, redact_loopback=True), "how do we connect?")[-1].answer
    usages = server.state.usages
    assert len(usages) == 3 and answer.usage.prompt_tokens == sum(u["prompt_tokens"] for u in usages)
    assert answer.usage.completion_tokens == sum(u["completion_tokens"] for u in usages)
    sent = json.dumps(server.state.chat_bodies())
    assert "AKIAIOSFODNN7EXAMPLE" not in sent and "[REDACTED" in sent
    assert answer.redactions


def test_parallel_calls_split_arguments_and_reasoning_sent_back(multi_repo, server):
    server.script(Reply(content="", reasoning="I should look at the retry code and its callers.",
                        tool_calls=[_call("symbols", name="RetryPolicy"), _call("references", name="RetryPolicy")]),
                  Reply(content="Done."))
    events = _events(_project(multi_repo, server))
    assert [e.name for e in events if isinstance(e, ToolStep)] == ["symbols", "references"]
    second = server.state.chat_bodies()[1]["messages"]
    assistant = second[-3]
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["symbols", "references"]
    assert assistant["reasoning_content"] == "I should look at the retry code and its callers."  # DeepSeek's rule
    assert [m["tool_call_id"] for m in second[-2:]] == [c["id"] for c in assistant["tool_calls"]]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"name": "RetryPolicy"}


def test_malformed_arguments_unknown_tools_and_hostile_paths_are_answered_with_errors(multi_repo, server):
    (multi_repo / ".env").write_text("API_KEY=sk-live-secret-value\n")
    server.script(Reply(content="", tool_calls=[{"name": "search", "arguments": '{"query": "retry'},
                                                _call("rm_rf", path="/"),
                                                _call("read", path="../../etc/passwd"),
                                                _call("read", path=".env"),
                                                _call("search", query=42)]),
                  Reply(content="Answered."))
    events = _events(_project(multi_repo, server))
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert [s.error for s in steps] == [True] * 5
    results = [m["content"] for m in server.state.chat_bodies()[1]["messages"][-5:]]
    assert "not valid JSON" in results[0] and "there is no tool 'rm_rf'" in results[1]
    assert "outside the repository" in results[2] and "not an indexed file" in results[3]
    assert "wrong arguments for search" in results[4]
    assert not any("sk-live" in r for r in results)
    assert events[-1].answer.text == "Answered."


def test_a_result_too_large_for_the_budget_is_cut_with_a_note(make_repo, server):
    root = make_repo({"big.py": "".join(f"def function_number_{i}(value):\n    return value * {i}\n\n"
                                        for i in range(2000))})
    server.script(Reply(content="", tool_calls=[_call("read", path="big.py")]), Reply(content="ok"))
    events = _events(_project(root, server, tool_output_tokens=1_500), "what is in big.py?")
    step = next(e for e in events if isinstance(e, ToolStep))
    assert step.tokens <= 1_600 and "cut: about" in step.result and "ask for less" in step.result


def test_a_model_that_loops_on_one_call_gets_the_cache_then_a_refusal(multi_repo, server):
    same = _call("symbols", name="RetryPolicy")
    server.script(*[Reply(content="", tool_calls=[same]) for _ in range(4)], Reply(content="Fine."))
    events = _events(_project(multi_repo, server))
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert [(s.cached, s.error) for s in steps] == [(False, False), (True, False), (False, True), (False, True)]
    assert "refused: you made this exact symbols call" in steps[3].result
    assert events[-1].answer.text == "Fine."


def test_a_model_that_never_stops_calling_is_made_to_answer(multi_repo, server):
    server.script(*[Reply(content="", tool_calls=[_call("search", query=f"q{i}")]) for i in range(20)])
    server.state.default_reply = Reply(content="Final answer from what I have.")
    events = _events(_project(multi_repo, server, max_tool_rounds=3))
    assert isinstance(events[-1], AnswerReady) and events[-1].answer.text.strip()
    notice = next(e for e in events if isinstance(e, Notice) and "exploration ended" in e.message)
    assert "3 tool round(s)" in notice.message
    bodies = server.state.chat_bodies()
    assert bodies[3].get("tool_choice") == "none"  # asked to answer, tools still listed (same prefix)
    assert len(bodies) <= 6
    _assert_prefix_property(bodies)


def test_a_backend_that_rejects_tools_gets_a_plain_question_once(multi_repo, server):
    server.state.refuse_tools = True
    project = _project(multi_repo, server)
    chat = project.chat()
    events = list(chat.stream("how are payments retried?"))
    assert any(isinstance(e, Notice) and "does not take tools" in e.message for e in events)
    assert events[-1].answer.text == "The answer."
    list(chat.stream("and then?"))  # told once: the next question goes without tools at once
    bodies = server.state.chat_bodies()
    assert [bool(b.get("tools")) for b in bodies] == [True, False, False]


def test_a_stream_cut_in_the_middle_of_a_tool_call_is_one_clear_error(multi_repo, server):
    server.script(Reply(content="", tool_calls=[_call("search", query="retry")], fault="cut_in_tool_call"))
    with pytest.raises(IncompleteAnswerError, match="broke off while asking for a tool"):
        _events(_project(multi_repo, server))


def test_no_tools_setting_and_cli_json_lists_the_calls(multi_repo, server):
    server.script(Reply(content="", tool_calls=[_call("outline", path="payments/retry.py")]),
                  Reply(content="See payments/retry.py:20-26."))
    env = {"CODEASSIST_BACKEND": "custom", "CODEASSIST_BASE_URL": server.base_url, "CODEASSIST_MODEL": "test-model"}
    assert run_cli("index", str(multi_repo), "-q").returncode == 0
    proc = run_cli("ask", "how are payments retried?", str(multi_repo), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["name"] for c in data["tool_calls"]] == ["outline"] and data["tool_calls"][0]["tokens"] > 0
    proc = run_cli("ask", "how are payments retried?", str(multi_repo), "--no-tools", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "tools" not in server.state.chat_bodies()[-1]
    proc = run_cli("ask", "how?", str(multi_repo), env=env)  # the plain CLI shows each step on stderr
    assert proc.returncode == 0


def test_history_and_diff_in_a_git_repository_with_secrets_withheld(make_repo, server):
    root = make_repo({"app/retry.py": "def backoff(n):\n    return 2 ** n\n"})
    run = git_runner(root)
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("commit", "-qm", "Add backoff")
    (root / "app/retry.py").write_text("def backoff(n):\n    return min(30, 2 ** n)\n")
    (root / ".env").write_text("TOKEN=sk-live-abcdef0123456789\n")
    (root / "*env").write_text("a file whose name is a pathspec glob\n")  # must not widen to .env
    (root / "cfg").mkdir()
    (root / "cfg" / ".env").write_text("TOKEN=sk-live-nested000000000\n")
    run("add", "-A", "-f")
    run("commit", "-qm", "Cap the backoff at 30 s\n\nA storm of retries took the payment provider down.")
    sha = run("rev-parse", "--short", "HEAD").strip()
    server.script(Reply(content="", tool_calls=[_call("history", target="backoff")]),
                  Reply(content="", tool_calls=[_call("diff", commit=sha)]),
                  Reply(content="Because of a retry storm."))
    events = _events(_project(root, server), "why is the backoff capped?")
    steps = [e for e in events if isinstance(e, ToolStep)]
    assert [s.name for s in steps] == ["history", "diff"] and not any(s.error for s in steps)
    assert "Cap the backoff at 30 s" in steps[0].result and "A storm of retries" in steps[0].result
    assert "min(30, 2 ** n)" in steps[1].result and "sk-live" not in steps[1].result
    assert "2 secret or ignored file(s) not shown" in steps[1].result and "pathspec glob" in steps[1].result
    hostile = codeassist.tools.ToolRunner(codeassist.tools.Workspace([codeassist.open(root)]))
    assert hostile.call("diff", json.dumps({"commit": "--output=/tmp/x"})).error
    assert hostile.call("diff", json.dumps({"commit": sha, "path": ".env"})).error
