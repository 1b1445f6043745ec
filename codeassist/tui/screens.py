"""Screens over the chat: the code viewer, the context inspector and the model picker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:  # pragma: no cover
    from ..assistant import PreparedTurn, ToolStep
    from ..llm.events import Usage

__all__ = ["CodeViewer", "ContextInspector", "ModelPicker", "VIEW_MARGIN"]

VIEW_MARGIN = 200  # lines shown around a citation (large files are not rendered whole)


class CodeViewer(Screen[None]):
    """A file at the cited lines, syntax highlighted, the cited lines marked."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "back"),
                Binding("ctrl+g", "pin", "pin into context")]
    DEFAULT_CSS = """
    CodeViewer #where { height: 1; background: $panel; padding: 0 1; }
    CodeViewer VerticalScroll { height: 1fr; }
    """

    def __init__(self, path: str, lines: list[str], start: int, end: int) -> None:
        super().__init__()
        self.path, self.lines, self.start, self.end = path, lines, max(1, start), max(start, end)

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax

        first = max(1, self.start - VIEW_MARGIN)
        last = min(len(self.lines), self.end + VIEW_MARGIN)
        code = "\n".join(self.lines[first - 1 : last])
        syntax = Syntax(code, Syntax.guess_lexer(self.path, code), line_numbers=True, start_line=first,
                        highlight_lines=set(range(self.start, self.end + 1)), word_wrap=False,
                        theme="ansi_dark")
        yield Label(f"{self.path}:{self.start}-{self.end}  ({len(self.lines)} lines)", id="where")
        with VerticalScroll(id="code"):
            yield Static(syntax, id="syntax")
        yield Footer()

    def on_mount(self) -> None:
        first = max(1, self.start - VIEW_MARGIN)
        self.query_one("#code", VerticalScroll).scroll_to(y=max(0, self.start - first - 3), animate=False)

    def action_pin(self) -> None:
        self.app.pin(self.path, self.start, self.end)  # type: ignore[attr-defined]


class ContextInspector(Screen[None]):
    """Exactly what the last turn sent: items, detail levels, tokens, budget, cache hits."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "back")]
    DEFAULT_CSS = """
    ContextInspector #summary { height: auto; padding: 0 1; background: $panel; }
    ContextInspector DataTable { height: 1fr; }
    """

    def __init__(self, turn: PreparedTurn | None, usage: Usage | None, steps: list[ToolStep] | None = None) -> None:
        super().__init__()
        self.turn, self.usage = turn, usage
        self.steps = steps or []

    def compose(self) -> ComposeResult:
        if self.turn is None:
            yield Static("Nothing sent yet: ask a question first.", id="summary")
        else:
            ctx = self.turn.context
            share = f"{self.usage.cache_hit_share:.0%}" if self.usage else "n/a"
            redacted = sum(self.turn.redactions.values())
            yield Static(
                f"context {ctx.tokens:,} of {ctx.budget:,} tokens · {ctx.mode} · {len(ctx.items)} items · "
                f"prompt {self.turn.prompt_tokens:,} tokens in {len(self.turn.messages)} messages · "
                f"prompt cache hit {share}" + (f" · {redacted} credential(s) redacted" if redacted else ""),
                id="summary", markup=False)
            table: DataTable[str] = DataTable(zebra_stripes=True, cursor_type="row")
            table.add_columns("detail", "path", "lines", "tokens")
            for item in ctx.items:
                table.add_row(item.detail, item.path, f"{item.start_line}-{item.end_line}", f"{item.tokens:,}")
            for step in self.steps:  # what the model's own tool calls added
                args = step.arguments if len(step.arguments) <= 60 else step.arguments[:57] + "..."
                table.add_row(f"tool {step.name}" + (" (cached)" if step.cached else ""), args,
                              "error" if step.error else "", f"{step.tokens:,}")
            yield table
        yield Footer()


class ModelPicker(ModalScreen["tuple[str, str] | None"]):
    """Choose a backend preset and (optionally) a model name."""

    BINDINGS = [Binding("escape", "dismiss(None)", "cancel")]
    DEFAULT_CSS = """
    ModelPicker > Vertical { width: 60; height: auto; max-height: 24; border: thick $accent;
                             background: $surface; padding: 1 2; }
    ModelPicker { align: center middle; }
    ModelPicker OptionList { height: auto; max-height: 12; }
    """

    def __init__(self, presets: list[str], current: str, model: str) -> None:
        super().__init__()
        self.presets, self.current, self.model = presets, current, model

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Backend (now: {self.current or 'none'}); Enter picks")
            yield Input(value=self.model, placeholder="model (empty: the preset's default)", id="model")
            yield OptionList(*[Option(name, id=name) for name in self.presets], id="presets")

    def on_mount(self) -> None:
        self.query_one("#presets", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((event.option.id or "", self.query_one("#model", Input).value.strip()))
