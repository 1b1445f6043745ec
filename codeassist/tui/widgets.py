"""Widgets of the terminal UI: the chat turns, the question input with history, the sidebar."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Collapsible, Input, Markdown, OptionList, Static, Tree
from textual.widgets.option_list import Option

__all__ = ["TurnView", "ChatView", "HistoryInput", "Sidebar"]


class TurnView(Vertical):
    """One question and its answer: reasoning (collapsed), the answer as Markdown, usage."""

    DEFAULT_CSS = """
    TurnView { height: auto; margin: 0 0 1 0; }
    TurnView .question { color: $accent; text-style: bold; }
    TurnView .usage { color: $text-muted; }
    TurnView .notice { color: $warning; }
    TurnView Collapsible { display: none; }
    TurnView Collapsible.-has-reasoning { display: block; }
    TurnView Collapsible.tools.-has-steps { display: block; }
    TurnView .tools Collapsible { display: block; }
    TurnView .step-result { color: $text-muted; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.answer_text = ""
        self.reasoning_text = ""
        self.notices: list[str] = []
        self.steps: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(f"❯ {self.question}", classes="question", markup=False)
        with Collapsible(title="reasoning", collapsed=True, classes="thinking"):
            yield Static("", classes="reasoning", markup=False)
        with Collapsible(title="explored", collapsed=True, classes="tools"):
            yield Vertical(classes="steps")
        yield Markdown("", open_links=False, classes="answer")
        yield Static("", classes="notice", markup=False)
        yield Static("…", classes="usage", markup=False)

    def show_reasoning(self, text: str) -> None:
        self.reasoning_text = text
        self.query_one(".thinking", Collapsible).add_class("-has-reasoning")
        self.query_one(".reasoning", Static).update(text)

    def add_step(self, title: str, result: str) -> None:
        """A tool call the model made: one line, expandable to its result."""
        self.steps.append(title)
        tools = self.query_one(".tools", Collapsible)
        tools.add_class("-has-steps")
        tools.title = f"explored: {len(self.steps)} tool call(s)"
        step = Collapsible(Static(result[:4000] + ("\n…" if len(result) > 4000 else ""), classes="step-result",
                                  markup=False), title=title, collapsed=True)
        self.query_one(".steps", Vertical).mount(step)

    def show_answer(self, markdown: str) -> None:
        self.answer_text = markdown
        self.query_one(Markdown).update(markdown)

    def add_notice(self, text: str) -> None:
        self.notices.append(text)
        self.query_one(".notice", Static).update("\n".join(f"⚠ {n}" for n in self.notices))

    def show_usage(self, text: str) -> None:
        self.query_one(".usage", Static).update(text)


class ChatView(VerticalScroll):
    """The conversation, newest turn at the bottom."""

    DEFAULT_CSS = """
    ChatView { height: 1fr; padding: 0 1; }
    ChatView .welcome { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Ask a question about this repository. Answers cite path:lines; select a "
                     "citation to open the code. ctrl+p: commands.", classes="welcome")

    def new_turn(self, question: str) -> TurnView:
        turn = TurnView(question)
        self.mount(turn)
        self.scroll_end(animate=False)
        return turn

    def clear_turns(self) -> None:
        for turn in list(self.query(TurnView)):
            turn.remove()


class HistoryInput(Input):
    """An input line with history: up/down walk through earlier questions."""

    BINDINGS = [("up", "history(-1)", "earlier"), ("down", "history(1)", "later")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._position = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else ""
        self.cursor_position = len(self.value)


class Sidebar(Vertical):
    """Indexed files as a tree, a symbol filter and the outline of the selected file."""

    DEFAULT_CSS = """
    Sidebar { width: 34; border-right: solid $panel; }
    Sidebar Tree { height: 1fr; }
    Sidebar Input { height: 3; }
    Sidebar OptionList { height: 1fr; }
    """

    class Picked(Message):
        """A file or symbol was chosen: ``(path, start, end)``; end 0 = the whole file."""

        def __init__(self, path: str, start: int, end: int, label: str, open_code: bool) -> None:
            super().__init__()
            self.path, self.start, self.end, self.label, self.open_code = path, start, end, label, open_code

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("files", id="files")
        tree.show_root = False
        yield tree
        yield Input(placeholder="filter symbols…", id="symbol-filter")
        yield OptionList(id="symbols")

    def show_files(self, paths: list[str]) -> None:
        tree = self.query_one("#files", Tree)
        tree.clear()
        folders: dict[str, object] = {"": tree.root}
        for path in paths:
            parts = path.split("/")
            for depth in range(1, len(parts)):
                key = "/".join(parts[:depth])
                if key not in folders:
                    parent = folders["/".join(parts[: depth - 1])]
                    folders[key] = parent.add(Text(parts[depth - 1] + "/"), data=None)  # type: ignore[attr-defined]
            parent = folders["/".join(parts[:-1])]
            parent.add_leaf(Text(parts[-1]), data=path)  # type: ignore[attr-defined]
        tree.root.expand()

    def show_symbols(self, symbols: list[tuple[str, str, int, int, str]]) -> None:
        """(path, label, start, end, kind) rows in the symbol list."""
        options = self.query_one("#symbols", OptionList)
        options.clear_options()
        options.add_options([Option(Text.assemble(label, (f"  {kind} {path.rsplit('/', 1)[-1]}:{start}", "dim")),
                                    id=f"{path}\0{start}\0{end}\0{label}") for path, label, start, end, kind in symbols])

    @on(Tree.NodeHighlighted, "#files")
    def _file_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        if event.node.data:
            self.post_message(self.Picked(event.node.data, 1, 0, event.node.data, open_code=False))

    @on(Tree.NodeSelected, "#files")
    def _file_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            self.post_message(self.Picked(event.node.data, 1, 0, event.node.data, open_code=True))

    @on(OptionList.OptionHighlighted, "#symbols")
    def _symbol_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._post_symbol(event.option.id, open_code=False)

    @on(OptionList.OptionSelected, "#symbols")
    def _symbol_selected(self, event: OptionList.OptionSelected) -> None:
        self._post_symbol(event.option.id, open_code=True)

    def _post_symbol(self, option_id: str | None, *, open_code: bool) -> None:
        if option_id:
            path, start, end, label = option_id.split("\0")
            self.post_message(self.Picked(path, int(start), int(end), label, open_code))
