"""The terminal UI: Pilot tests of the main flows against the real local backend, SVG snapshots
of the main screens, and one smoke test of the installed command in tmux."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown

from codeassist.tui import make_app
from codeassist.tui.screens import CodeViewer, ContextInspector, ModelPicker
from codeassist.tui.widgets import ChatView, HistoryInput, Sidebar, TurnView

from .conftest import MULTI_LANGUAGE_FILES, generated_python_files, write_files
from .openai_server import Reply

@pytest.fixture
def anyio_backend():
    return "asyncio"


ANSWER = "Retries run in `RetryPolicy.run` (payments/retry.py:20-26); gone.py:3 does not exist."


def _app(root, server, **settings):
    options = {"backend": "custom", "base_url": server.base_url, "model": "test-model", **settings}
    return make_app(root, **options)


async def _settle(pilot, app, attribute: str, timeout: float = 30.0) -> None:
    """Wait (without blocking the app) until ``app.<attribute>`` is false."""
    end = time.monotonic() + timeout
    await pilot.pause(0.05)
    while getattr(app, attribute) and time.monotonic() < end:
        await pilot.pause(0.05)
    assert not getattr(app, attribute), f"{attribute} still true after {timeout}s"
    await pilot.pause(0.05)


async def _ask(pilot, app, question: str) -> TurnView:
    await _settle(pilot, app, "indexing")
    app.query_one("#question", HistoryInput).focus()
    await pilot.press(*question)
    await pilot.press("enter")
    await pilot.pause(0.05)
    await _settle(pilot, app, "asking")
    return app.query(TurnView).last()


@pytest.mark.anyio
async def test_ask_streams_the_answer_with_reasoning_and_usage(multi_repo, server):
    server.script(Reply(reasoning="Looking at retry.py first.", content=ANSWER))
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await _ask(pilot, app, "how are payments retried?")
        assert turn.reasoning_text == "Looking at retry.py first."
        # the answer carries a link for the valid citation and a flag for the other
        assert "[payments/retry.py:20-26](cite:payments/retry.py:20-26)" in turn.answer_text
        assert "gone.py:3 ⚠" in turn.answer_text
        usage = str(turn.query_one(".usage").render())
        assert "prompt tokens" in usage and "1 citation(s) point nowhere" in usage
        body = server.state.chat_bodies()[0]
        assert body["messages"][-1]["content"].rstrip().endswith("how are payments retried?")
        # input history: up brings the question back
        await pilot.press("up")
        assert app.query_one("#question", HistoryInput).value == "how are payments retried?"


@pytest.mark.anyio
async def test_tool_calls_show_as_expandable_steps_and_esc_makes_the_model_answer(multi_repo, server):
    import json

    from codeassist.tui.screens import ContextInspector

    search = {"name": "search", "arguments": json.dumps({"query": "retry backoff", "k": 2})}
    server.script(Reply(content="", tool_calls=[search]), Reply(content="", tool_calls=[search], delay=0.3),
                  *[Reply(content="", tool_calls=[{"name": "outline", "arguments": json.dumps({"path": f"x{i}.py"})}],
                          delay=0.3) for i in range(6)])
    server.state.default_reply = Reply(content=ANSWER)
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, "indexing")
        app.query_one("#question", HistoryInput).focus()
        await pilot.press(*"how are retries done?")
        await pilot.press("enter")
        end = time.monotonic() + 20
        while not (app.query(TurnView) and app.query(TurnView).last().steps) and time.monotonic() < end:
            await pilot.pause(0.05)
        await pilot.press("escape")  # answer now, from what was gathered
        await _settle(pilot, app, "asking")
        turn = app.query(TurnView).last()
        assert turn.steps and turn.steps[0].startswith('search({"query": "retry backoff"')
        assert len(turn.steps) < 8  # the exploration stopped early
        assert "RetryPolicy.run" in turn.answer_text
        tools = turn.query_one(".tools")
        assert tools.display and "explored:" in str(tools.title)
        await pilot.press("f3")
        await pilot.pause(0.2)
        inspector = app.screen
        assert isinstance(inspector, ContextInspector) and inspector.steps
        bodies = server.state.chat_bodies()
        assert any(b.get("tool_choice") == "none" for b in bodies)


@pytest.mark.anyio
async def test_selecting_a_citation_opens_the_code_at_those_lines(multi_repo, server):
    server.script(Reply(content=ANSWER))
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await _ask(pilot, app, "retries?")
        markdown = turn.query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "cite:payments/retry.py:20-26"))
        await pilot.pause(0.2)
        assert isinstance(app.screen, CodeViewer)
        viewer = app.screen
        assert (viewer.path, viewer.start, viewer.end) == ("payments/retry.py", 20, 26)
        assert "def run(self, operation):" in "\n".join(viewer.lines)
        await pilot.press("escape")
        assert not isinstance(app.screen, CodeViewer)


@pytest.mark.anyio
async def test_pinned_file_is_sent_in_full_with_the_next_question(make_repo, server):
    root = make_repo(generated_python_files(60, functions=10))
    app = _app(root, server, context_window=9_000, answer_tokens=1_000)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, "indexing")
        sidebar = app.query_one(Sidebar)
        sidebar.post_message(Sidebar.Picked("pkg/sub7/mod_47.py", 1, 0, "pkg/sub7/mod_47.py", open_code=False))
        await pilot.pause(0.1)
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert "pkg/sub7/mod_47.py" in str(app.query_one("#pinned").render())
        await _ask(pilot, app, "what does func_3_2 compute?")
        user = server.state.chat_bodies()[0]["messages"][-1]["content"]
        assert "### pkg/sub7/mod_47.py:1-" in user
        assert "def func_47_9(value):" in user  # the whole pinned file, not just a hit


@pytest.mark.anyio
async def test_context_inspector_shows_exactly_what_was_sent(multi_repo, server):
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ContextInspector)  # before any question: says so
        await pilot.press("escape")
        await _ask(pilot, app, "retries?")
        await pilot.press("f3")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, ContextInspector)
        table = screen.query_one(DataTable)
        assert table.row_count == len(app.chat.last_turn.context.items) > 5
        summary = str(screen.query_one("#summary").render())
        assert f"{app.chat.last_turn.context.tokens:,} of" in summary and "prompt cache hit" in summary


@pytest.mark.anyio
async def test_switching_the_model_applies_to_the_next_question(multi_repo, server):
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, "indexing")
        await pilot.press("f2")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ModelPicker)
        app.screen.query_one("#model").value = "other-model"
        await pilot.press("end", "enter")  # the last preset: custom
        await pilot.pause(0.1)
        assert "custom · other-model" in str(app.query_one("#status").render())
        await _ask(pilot, app, "retries?")
        assert server.state.chat_bodies()[-1]["model"] == "other-model"


@pytest.mark.anyio
async def test_indexing_runs_in_a_worker_with_visible_progress(make_repo, server):
    root = make_repo(generated_python_files(150, functions=10))
    app = _app(root, server)
    shown: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        original = app._status

        def record(text: str) -> None:
            shown.append(text)
            original(text)

        app._status = record  # type: ignore[method-assign]
        await _settle(pilot, app, "indexing", timeout=60)
        assert any(t.startswith("indexing:") for t in shown), shown
        assert shown[-1].startswith("indexed 150 files")
        tree = app.query_one("#files")
        assert tree.root.children  # the file tree filled in once indexed


@pytest.mark.anyio
async def test_errors_are_notifications_not_tracebacks(multi_repo, server):
    app = make_app(multi_repo)  # no backend configured
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app, "indexing")
        app.query_one("#question").focus()
        await pilot.press(*"hello", "enter")
        await pilot.pause(0.2)
        messages = [n.message for n in app._notifications]
        assert any("DEEPSEEK_API_KEY" in m for m in messages)
    server.script(*[Reply(fault="status", status=503, headers={"Retry-After": "0"})] * 3)
    app = _app(multi_repo, server, max_retries=1)
    async with app.run_test(size=(80, 24)) as pilot:
        turn = await _ask(pilot, app, "hello")
        messages = [n.message for n in app._notifications]
        assert any("server busy" in m for m in messages)
        assert "no answer" in str(turn.query_one(".usage").render())


@pytest.mark.anyio
async def test_new_conversation_clears_the_chat(multi_repo, server):
    app = _app(multi_repo, server)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ask(pilot, app, "first?")
        assert app.chat.turns == 1
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        assert app.chat.turns == 0 and not app.query_one(ChatView).query(TurnView)


# ---------------------------------------------------------------------- snapshots
def _snapshot_repo(tmp_path: Path) -> Path:
    return write_files(tmp_path / "shop", MULTI_LANGUAGE_FILES)


async def _steady_cursor(pilot, app) -> None:
    """A blinking cursor makes screenshots depend on timing: take them with nothing focused."""
    app.set_focus(None)
    await pilot.pause(0.1)


def test_snapshot_main_screen_after_an_answer(snap_compare, tmp_path, server):
    server.script(Reply(reasoning="Checking retry.py.", content=ANSWER))
    app = _app(_snapshot_repo(tmp_path), server)

    async def run_before(pilot) -> None:
        await _ask(pilot, app, "how are payments retried?")
        await _steady_cursor(pilot, app)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_snapshot_small_terminal(snap_compare, tmp_path):
    app = make_app(_snapshot_repo(tmp_path))

    async def run_before(pilot) -> None:
        await _settle(pilot, app, "indexing")
        await _steady_cursor(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_context_inspector(snap_compare, tmp_path, server):
    app = _app(_snapshot_repo(tmp_path), server)

    async def run_before(pilot) -> None:
        await _ask(pilot, app, "how are payments retried?")
        await pilot.press("f3")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_snapshot_code_viewer(snap_compare, tmp_path):
    app = make_app(_snapshot_repo(tmp_path))

    async def run_before(pilot) -> None:
        await _settle(pilot, app, "indexing")
        app.open_code("payments/retry.py", 20, 26)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


# ---------------------------------------------------------------------- a person at a terminal
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_installed_command_in_tmux(multi_repo, server, tmp_path):
    server.script(Reply(content="Payments are retried by RetryPolicy.run (payments/retry.py:20-26)."))
    exe = shutil.which("codeassist") or str(Path(sys.executable).with_name("codeassist"))
    session = f"codeassist-test-{os.getpid()}"
    env = {**os.environ, "CODEASSIST_BACKEND": "custom", "CODEASSIST_BASE_URL": server.base_url,
           "CODEASSIST_MODEL": "test-model", "TERM": "xterm-256color"}
    command = f"{exe} {multi_repo}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "110", "-y", "32", command],
                   env=env, check=True)

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                              text=True).stdout

    def wait_for(text: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    try:
        start = time.monotonic()
        wait_for("Ask about this repository")
        started = time.monotonic() - start
        wait_for("indexed 25 files")
        subprocess.run(["tmux", "send-keys", "-t", session, "how are payments retried?", "Enter"], check=True)
        shown = wait_for("retried by RetryPolicy.run")
        assert "prompt tokens" in wait_for("prompt tokens")
        assert "Traceback" not in shown
        assert started < 10  # generous here; docs/benchmarks.md has the measured start-up time
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        end = time.monotonic() + 10
        while time.monotonic() < end and subprocess.run(["tmux", "has-session", "-t", session],
                                                         capture_output=True).returncode == 0:
            time.sleep(0.2)
        assert subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_without_a_terminal_the_ui_says_what_to_use_instead(multi_repo):
    from .conftest import run_cli

    for args in ((), (str(multi_repo),), ("tui", str(multi_repo))):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and "needs a terminal" in result.stderr


@pytest.mark.anyio
async def test_symbol_filter_links_and_new_chat_guard(make_repo, server):
    files = {"cmd/root.go": "package cmd\n\ntype Command struct{}\n\n// Execute runs.\n"
                            "func (c *Command) Execute() error {\n\treturn nil\n}\n",
             "app/[slug]/page.tsx": "export default function Page() {\n  return null;\n}\n"}
    server.script(Reply(content="one two three four five six seven", delay=0.3))
    app = _app(make_repo(files), server)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, "indexing")
        # Go methods have no parent: the filter lists them without crashing the app
        app.query_one("#symbol-filter").value = "Execute"
        await pilot.pause(0.5)
        options = app.query_one("#symbols")
        assert options.option_count == 1 and "Execute" in str(options.get_option_at_index(0).prompt)
        # names are shown as they are, not read as markup
        labels = [str(n.label) for n in app.query_one("#files").root.children]
        assert "app/" in labels
        # a question streams; ctrl+n waits for it instead of racing the answer
        app.query_one("#question").focus()
        await pilot.press(*"hi", "enter")
        await pilot.pause(0.3)
        assert app.asking
        await pilot.press("ctrl+n")
        await _settle(pilot, app, "asking")
        assert app.chat.turns == 1
        # a malformed citation link is a notice, not a crash
        markdown = app.query(TurnView).last().query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "cite:nowhere"))
        await pilot.pause(0.2)
        assert any("not a citation" in n.message for n in app._notifications)
