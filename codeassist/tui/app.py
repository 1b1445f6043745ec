"""The codeassist terminal UI: chat with the repository, read the cited code, see what was sent.

Slow work runs in thread workers (indexing, asking) that hand events back with
``call_from_thread``; the widgets only display. All logic lives in the Python API.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Any, Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Markdown, Static

from .screens import CodeViewer, ContextInspector, ModelPicker
from .widgets import ChatView, HistoryInput, Sidebar, TurnView

if TYPE_CHECKING:  # pragma: no cover
    from ..assistant import Chat
    from ..project import Project

__all__ = ["CodeassistApp"]

_STREAM_REFRESH = 0.08  # seconds between Markdown re-renders while an answer streams


class CodeassistApp(App[None]):
    """The app; build it with :func:`codeassist.tui.make_app`."""

    TITLE = "codeassist"
    CSS = """
    #main { height: 1fr; }
    #right { width: 1fr; }
    #status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    #pinned { height: auto; color: $accent; padding: 0 1; display: none; }
    #pinned.-shown { display: block; }
    #question { dock: bottom; }
    """
    BINDINGS = [
        Binding("ctrl+n", "new_conversation", "new chat", priority=True),
        Binding("f3", "inspect_context", "context"),
        Binding("escape", "stop_exploring", "answer now", show=False),
        Binding("ctrl+g", "pin_selected", "pin"),  # not priority: the code viewer pins what it shows
        Binding("f2", "pick_model", "model"),
        Binding("ctrl+b", "toggle_sidebar", "files", priority=True),
        Binding("ctrl+r", "reindex", "re-index", priority=True),
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    def __init__(self, project: Project, *, index_on_start: bool = True, watch: bool = True) -> None:
        super().__init__()
        self.project = project
        self.index_on_start = index_on_start
        #: keep the index current while files change (a watcher in a thread worker)
        self.watch = watch
        self._stop_watching = threading.Event()
        self._watching = False
        #: "" when the index is current, else what the watcher is doing ("updating 3 files")
        self.freshness = ""
        self.chat: Chat | None = None
        self.selected: tuple[str, int, int, str] | None = None  # what ctrl+g pins
        self.indexing = False
        self.asking = False
        self.last_usage: Any = None
        self.backend_label = ""
        #: pins made before a backend exists; handed to the chat when it is made
        self._pending_pins: list[tuple[str, int, int]] = []
        self.sub_title = project.root.name

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="main"):
            yield Sidebar()
            with Vertical(id="right"):
                yield ChatView(id="chat")
                yield Static("", id="pinned", markup=False)
                yield HistoryInput(placeholder="Ask about this repository…  (Enter sends)", id="question")
        yield Static("starting…", id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#question", Input).focus()
        self._show_backend()
        if self.index_on_start:
            self.run_index()
        else:
            self._load_files()
            if self.watch and not self._watching:
                self.run_watcher()

    def on_unmount(self) -> None:
        self._stop_watching.set()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New conversation", "Forget the conversation; the next question gets a fresh context",
                            self.action_new_conversation)
        yield SystemCommand("Inspect context", "Exactly what was sent on the last turn", self.action_inspect_context)
        yield SystemCommand("Switch backend or model", "Pick a preset and model", self.action_pick_model)
        yield SystemCommand("Re-index", "Update the index (incremental)", self.action_reindex)
        yield SystemCommand("Pin selected", "Send the selected file or symbol in full with the next question",
                            self.action_pin_selected)
        yield SystemCommand("Clear pins", "Stop sending pinned code", self.action_clear_pins)

    # ------------------------------------------------------------------ status line
    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def _backend_label(self) -> str:
        from ..errors import CodeassistError
        from ..llm.presets import resolve_backend

        try:
            config = resolve_backend(self.project.settings)
        except CodeassistError:
            return "no backend (F2 to pick one)"
        return f"{config.name} · {config.model or 'server default'}"

    def _show_backend(self) -> None:
        self.backend_label = self._backend_label()
        if not self.indexing:
            self._status(f"{self.backend_label}")

    # ------------------------------------------------------------------ indexing
    @work(thread=True, exclusive=True, group="index")
    def run_index(self) -> None:
        from ..errors import CodeassistError

        from ..index.eta import Eta, format_time_left

        self.indexing = True
        last = [0.0]
        eta = Eta()

        def progress(p: Any) -> None:
            now = time.monotonic()
            left = eta.feed(p)
            if now - last[0] > 0.1 or p.done == p.total:
                last[0] = now
                text = ("indexing: walking the repository…" if p.phase == "walk"
                        else f"indexing: {p.phase} {p.done}/{p.total}"
                        + (f", {format_time_left(left)}" if left is not None else ""))
                self.call_from_thread(self._status, text)

        try:
            stats = self.project.index(progress)
        except CodeassistError as exc:
            self.call_from_thread(self.notify, str(exc), title="indexing failed", severity="error", timeout=10)
            self.call_from_thread(self._status, f"index: failed · {self.backend_label}")
        else:
            summary = f"indexed {stats.files:,} files, {stats.symbols:,} symbols"
            if stats.embed_error:
                self.call_from_thread(self.notify, stats.embed_error, title="semantic search unavailable",
                                      severity="warning", timeout=10)
            self.call_from_thread(self._status, f"{summary} · {self.backend_label}")
        finally:
            self.indexing = False
            self.call_from_thread(self._load_files)
            if self.watch and not self._watching:
                self.call_from_thread(self.run_watcher)

    @work(thread=True, exclusive=True, group="watch")
    def run_watcher(self) -> None:
        """Keep the index current until the app exits; the status line says what it does."""
        from ..errors import CodeassistError
        from ..index.watcher import Watcher, WatchUpdate

        def pending(n: int) -> None:
            self.freshness = f"updating {n} file{'s' if n != 1 else ''}…"
            self.call_from_thread(self._status, f"{self.freshness} · {self.backend_label}")

        def updated(update: WatchUpdate) -> None:
            changed = update.stats.added + update.stats.updated + update.stats.removed
            was_busy, self.freshness = bool(self.freshness), ""
            if changed or was_busy:
                self.call_from_thread(self._status, f"up to date ({changed} file{'s' if changed != 1 else ''} "
                                                    f"updated) · {self.backend_label}")
            if changed:
                self.call_from_thread(self._load_files)

        def notice(message: str) -> None:
            self.call_from_thread(self.notify, message, title="watching the repository", timeout=10)

        watcher = Watcher(self.project.root, self.project.index_dir, self.project.settings,
                          on_update=updated, on_pending=pending, on_notice=notice)
        self._watching = True
        try:
            watcher.run(self._stop_watching)
        except CodeassistError as exc:
            if not self._stop_watching.is_set():
                self.call_from_thread(self.notify, f"{exc}; the index is no longer kept current",
                                      title="watching stopped", severity="warning", timeout=10)
        finally:
            self._watching = False

    def _load_files(self) -> None:
        from ..errors import CodeassistError

        try:
            files = self.project.files()
        except CodeassistError:
            return
        self.query_one(Sidebar).show_files(files)

    # ------------------------------------------------------------------ sidebar
    @on(Input.Changed, "#symbol-filter")
    def _filter_symbols(self, event: Input.Changed) -> None:
        self._find_symbols(event.value)

    @work(thread=True, exclusive=True, group="symbols")
    def _find_symbols(self, text: str) -> None:
        from ..errors import CodeassistError

        try:
            found = self.project.find_symbols(text, limit=100) if text.strip() else []
        except CodeassistError:
            return
        rows = [(s.path, ".".join(s.qualname.rsplit(".", 2)[-2:]) if s.kind == "method" else s.name,
                 s.start_line, s.end_line, s.kind) for s in found]
        self.call_from_thread(self.query_one(Sidebar).show_symbols, rows)

    @on(Sidebar.Picked)
    def _picked(self, event: Sidebar.Picked) -> None:
        self.selected = (event.path, event.start, event.end, event.label)
        if event.end == 0 and not event.open_code:  # a file: its outline below the tree
            self._show_outline(event.path)
        if event.open_code:
            self.open_code(event.path, event.start, event.end or event.start)

    @work(thread=True, exclusive=True, group="symbols")
    def _show_outline(self, path: str) -> None:
        from ..errors import CodeassistError

        try:
            symbols = self.project.outline(path)
        except CodeassistError:
            return
        rows = [(s.path, s.name, s.start_line, s.end_line, s.kind) for s in symbols]
        self.call_from_thread(self.query_one(Sidebar).show_symbols, rows)

    # ------------------------------------------------------------------ code viewer and citations
    def open_code(self, path: str, start: int, end: int) -> None:
        from ..errors import CodeassistError

        try:
            lines = self.project.source(path)
        except CodeassistError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(CodeViewer(path, lines, start, end))

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        href = event.href
        if not href.startswith("cite:"):
            self.notify(f"links open nowhere from here: {href}", severity="information")
            return
        path, _, lines = href[5:].rpartition(":")
        start, _, end = lines.partition("-")
        try:
            first, last = int(start), int(end or start)
        except ValueError:
            self.notify(f"not a citation: {href}", severity="warning")
            return
        self.open_code(path, first, last)

    # ------------------------------------------------------------------ pinning
    def pin(self, path: str, start: int, end: int) -> None:
        chat = self._ensure_chat(quiet=True)
        target = (path, start, end)
        pins = chat.pinned if chat is not None else self._pending_pins
        if target not in pins:
            pins.append(target)
        self._show_pins()
        self.notify(f"pinned {path}" + (f":{start}-{end}" if end else ""), timeout=3)

    def action_pin_selected(self) -> None:
        if self.selected is None:
            self.notify("select a file or symbol in the sidebar first (ctrl+b shows it)", severity="warning")
            return
        path, start, end, _label = self.selected
        self.pin(path, start, end)

    def action_clear_pins(self) -> None:
        if self.chat is not None:
            self.chat.pinned.clear()
        self._pending_pins = []
        self._show_pins()

    def _show_pins(self) -> None:
        pins = self.chat.pinned if self.chat is not None else self._pending_pins
        label = self.query_one("#pinned", Static)
        label.set_class(bool(pins), "-shown")
        label.update("pinned: " + ", ".join(f"{p}" + (f":{s}-{e}" if e else "") for p, s, e in pins))

    # ------------------------------------------------------------------ asking
    def _ensure_chat(self, *, quiet: bool = False) -> Chat | None:
        if self.chat is not None:
            return self.chat
        from ..errors import CodeassistError

        try:
            self.chat = self.project.chat()
        except CodeassistError as exc:
            if not quiet:
                self.notify(str(exc), title="no model backend", severity="error", timeout=12)
            return None
        self.chat.pinned.extend(self._pending_pins)
        self._pending_pins = []
        return self.chat

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        if self.asking:
            self.notify("an answer is still streaming; wait for it", severity="warning")
            return
        field = self.query_one("#question", HistoryInput)
        field.remember(question)
        field.value = ""
        chat = self._ensure_chat()
        if chat is None:
            return
        turn = self.query_one(ChatView).new_turn(question)
        self.asking = True
        self._ask(chat, question, turn)

    @work(thread=True, exclusive=True, group="ask")
    def _ask(self, chat: Chat, question: str, turn: TurnView) -> None:
        from ..assistant import AnswerReady, Restart, ToolStep
        from ..citations import link_citations
        from ..errors import CodeassistError, IncompleteAnswerError
        from ..llm.events import Content, Notice, Reasoning

        text: list[str] = []
        thinking: list[str] = []
        shown = [0.0]
        call = self.call_from_thread

        def refresh(force: bool = False) -> None:
            now = time.monotonic()
            if force or now - shown[0] > _STREAM_REFRESH:
                shown[0] = now
                if thinking:
                    call(turn.show_reasoning, "".join(thinking))
                call(turn.show_answer, "".join(text))
                call(self.query_one(ChatView).scroll_end, animate=False)

        try:
            call(turn.show_usage, "assembling the context…")
            for event in chat.stream(question):
                if isinstance(event, Content):
                    text.append(event.text)
                    refresh()
                elif isinstance(event, Reasoning):
                    thinking.append(event.text)
                    refresh()
                elif isinstance(event, Notice):
                    call(turn.add_notice, event.message)
                    if event.kind in ("retry", "shrink", "truncated", "warning"):
                        call(self.notify, event.message, severity="warning", timeout=6)
                elif isinstance(event, Restart):
                    text.clear()
                    refresh(force=True)
                elif isinstance(event, ToolStep):
                    call(turn.add_step, event.describe(), event.result)
                    call(turn.show_usage, f"exploring: {event.name} (esc: answer now)")
                elif isinstance(event, AnswerReady):
                    answer = event.answer
                    refresh(force=True)
                    call(turn.show_answer, link_citations(answer.text, answer.citations))
                    bad = len(answer.invalid_citations)
                    usage = answer.usage.summary() + (f" · {bad} citation(s) point nowhere" if bad else "")
                    call(turn.show_usage, usage)
                    self.last_usage = answer.usage
        except IncompleteAnswerError as exc:
            refresh(force=True)
            call(turn.add_notice, str(exc))
            call(turn.show_usage, "incomplete answer")
            call(self.notify, str(exc), title="answer incomplete", severity="error", timeout=10)
        except CodeassistError as exc:
            call(turn.show_usage, "no answer")
            call(turn.add_notice, str(exc))
            call(self.notify, str(exc), title=type(exc).__name__, severity="error", timeout=10)
        finally:
            self.asking = False
            call(self._show_pins)

    # ------------------------------------------------------------------ actions
    def action_new_conversation(self) -> None:
        if self.asking:
            self.notify("an answer is still streaming; start a new conversation when it is done",
                        severity="warning")
            return
        if self.chat is not None:
            self.chat.reset()
        self.last_usage = None
        self.query_one(ChatView).clear_turns()
        self.notify("new conversation", timeout=2)

    def action_inspect_context(self) -> None:
        turn = self.chat.last_turn if self.chat is not None else None
        steps = list(self.chat.last_steps) if self.chat is not None else []
        self.push_screen(ContextInspector(turn, self.last_usage, steps))

    def action_stop_exploring(self) -> None:
        """esc while the model explores: it answers from what its tools gathered so far."""
        if self.asking and self.chat is not None:
            self.chat.stop_exploring = True
            self.notify("the model will answer from what it has gathered", timeout=4)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one(Sidebar)
        sidebar.display = not sidebar.display

    def action_reindex(self) -> None:
        if self.indexing:
            self.notify("indexing is already running", timeout=3)
            return
        self.run_index()

    def action_pick_model(self) -> None:
        from ..llm.presets import PRESETS

        def chosen(result: tuple[str, str] | None) -> None:
            if result:
                self.switch_backend(*result)

        current = self.project.settings.backend
        self.push_screen(ModelPicker([*PRESETS, "custom"], current, self.project.settings.model), chosen)

    def switch_backend(self, backend: str, model: str) -> None:
        """Use another backend preset and model from the next question on."""
        from ..errors import CodeassistError

        changes: dict[str, object] = {"backend": backend, "model": model}
        if backend != "custom":  # a preset brings its own server, key variable and window
            changes.update(base_url="", api_key_env="", context_window=0)
        settings = dataclasses.replace(self.project.settings, **changes)  # type: ignore[arg-type]
        old = self.project.settings
        self.project.settings = settings
        pins = list(self.chat.pinned) if self.chat is not None else list(self._pending_pins)
        try:
            from ..factory import make_chat_backend

            make_chat_backend(settings)
        except CodeassistError as exc:
            self.project.settings = old
            self.notify(str(exc), title="cannot switch", severity="error", timeout=10)
            return
        self.chat = None
        self._pending_pins = pins
        self._show_backend()
        self.notify(f"now asking {self.backend_label}", timeout=4)
