"""Conversations: question → context → prompt (``prompts/``) → streamed answer + citations.

The layout keeps the provider's prompt cache warm: the system message and the first turn's
context never change, and each follow-up appends the previous answer and a user message holding
only code not sent before, so every request repeats the previous one as its prefix.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generator, Iterator, Protocol, Sequence

from .citations import Citation
from .config import Settings
from .context import MIN_BUDGET, token_counter
from .errors import ContextOverflowError
from .llm.events import Content, Finished, Notice, Reasoning, StreamEvent, Usage
from .prompts import render_prompt
from .redact import redact
from .results import Context

if TYPE_CHECKING:  # pragma: no cover
    from .llm.backend import ChatBackend

__all__ = ["Chat", "ChatSource", "ChatTools", "ToolStep", "Answer", "Restart", "AnswerReady", "ChatEvent",
           "PreparedTurn", "DEFAULT_WINDOW"]

#: the window assumed by --dry-run when no backend is configured
DEFAULT_WINDOW = 128_000
_TEMPLATE_OVERHEAD = 64
_SHRINK = 0.5
_MAX_SHRINKS = 3
_TRUNCATION_RATIO = 0.6  # reported prompt tokens below this share of ours: the server cut the prompt
_MAX_REPEATS = 2         # the same tool call answered from the cache this often, then refused
_TOOL_RESULT_TOKENS = 8_000  # one tool result at most


@dataclass(frozen=True)
class Answer:
    """A finished answer and everything needed to audit it."""

    question: str
    text: str
    reasoning: str
    citations: tuple[Citation, ...]
    usage: Usage
    context: Context
    model: str
    finish_reason: str
    notices: tuple[str, ...] = ()
    #: the messages exactly as sent (after redaction)
    messages: tuple[dict[str, str], ...] = field(default=(), repr=False)
    #: credentials redacted from the request, by kind
    redactions: dict[str, int] = field(default_factory=dict)
    #: the tool calls the model made before answering
    tool_steps: tuple[ToolStep, ...] = ()

    @property
    def invalid_citations(self) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if not c.valid)

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question, "answer": self.text, "reasoning": self.reasoning,
            "citations": [c.to_dict() for c in self.citations], "usage": self.usage.to_dict(),
            "model": self.model, "finish_reason": self.finish_reason, "notices": list(self.notices),
            "redactions": self.redactions, "tool_calls": [step.to_dict() for step in self.tool_steps],
            "context": {"budget": self.context.budget, "tokens": self.context.tokens,
                        "mode": self.context.mode, "items": [i.to_dict() for i in self.context.items]},
        }


@dataclass(frozen=True)
class Restart:
    """Discard the answer streamed so far: it is being asked again (with a smaller context)."""

    reason: str


@dataclass(frozen=True)
class AnswerReady:
    answer: Answer




@dataclass(frozen=True)
class PreparedTurn:
    messages: list[dict[str, str]]
    context: Context
    prompt_tokens: int
    redactions: dict[str, int]


class ChatSource(Protocol):
    """What a conversation needs of a project: its settings, a context for each question, and
    a check of the answer's citations against the index. :class:`codeassist.Project` is one."""

    settings: Settings

    def context(self, query: str, budget: int | None = None, *, format: str = "markdown",
                held_files: Sequence[str] = (), exclude: Sequence[tuple[str, int, int]] = (),
                question_only: bool = False, pinned: Sequence[tuple[str, int, int]] = ()) -> Context: ...

    def verify_citations(self, text: str) -> list[Citation]: ...


class ToolResultLike(Protocol):
    text: str
    error: bool


class ChatTools(Protocol):
    """The functions a conversation offers its model (``codeassist.tools.runner.ToolRunner``)."""

    def definitions(self) -> list[dict[str, Any]]: ...

    def call(self, name: str, arguments: str) -> ToolResultLike: ...


@dataclass(frozen=True)
class ToolStep:
    """One tool call the model made while answering: what it asked, how much came back."""

    name: str
    arguments: str
    #: tokens of the result added to the conversation (cl100k)
    tokens: int
    error: bool = False
    #: answered from the turn's cache (the same call was made before)
    cached: bool = False
    result: str = field(default="", repr=False)

    def describe(self) -> str:
        args = self.arguments if len(self.arguments) <= 120 else self.arguments[:117] + "..."
        what = "error" if self.error else f"{self.tokens:,} tokens" + (", cached" if self.cached else "")
        return f"{self.name}({args}) → {what}"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "arguments": self.arguments, "tokens": self.tokens, "error": self.error,
                "cached": self.cached}


ChatEvent = StreamEvent | Restart | AnswerReady | ToolStep


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        return arguments


class Chat:
    """A multi-turn conversation about one project (see the module docstring)."""

    def __init__(self, project: ChatSource, backend: ChatBackend | None, *, budget: int | None = None,
                 tools: ChatTools | None = None) -> None:
        self.project = project
        self.backend = backend
        self.budget = budget
        #: the functions the model may call (None: answer from the context alone)
        self.tools = tools
        self._tools_refused = False
        #: set (e.g. by the UI's esc) to make the model answer from what its tools gathered so far
        self.stop_exploring = False
        self.last_steps: list[ToolStep] = []
        self._history: list[dict[str, Any]] = []
        self._sent: list[tuple[str, int, int]] = []
        self._held: list[str] = []
        self._counter = token_counter()
        self._counts: dict[str, int] = {}
        #: (path, start, end) ranges the user pinned: sent in full with the next question
        self.pinned: list[tuple[str, int, int]] = []
        #: the last turn's context and request, for inspection (the TUI's context view)
        self.last_turn: PreparedTurn | None = None
        self.usage_by_turn: list[Usage] = []

    def _count(self, text: str) -> int:
        """Token count, memoised: the conversation's messages are counted once each."""
        n = self._counts.get(text)
        if n is None:
            n = self._counts[text] = self._counter.count(text)
        return n

    def _message_tokens(self, message: dict[str, Any]) -> int:
        tokens = self._count(message.get("content") or "") + 4
        if message.get("tool_calls"):
            tokens += self._count(json.dumps(message["tool_calls"]))
        if message.get("reasoning_content"):
            tokens += self._count(message["reasoning_content"])
        return tokens

    def _tools_tokens(self, tools: list[dict[str, Any]]) -> int:
        """What the tool definitions cost in every request (they are part of the prompt)."""
        return self._count(json.dumps(tools))

    def _tool_overhead(self) -> int:
        if self.tools is None or self._tools_refused:
            return 0
        return self._tools_tokens(self.tools.definitions())

    def reset(self) -> None:
        """Start a new conversation (the next question gets a fresh full context)."""
        self._history.clear()
        self._sent.clear()
        self._held.clear()
        self.usage_by_turn.clear()
        self.last_turn = None

    @property
    def turns(self) -> int:
        return sum(1 for m in self._history if m["role"] == "assistant")

    # ------------------------------------------------------------------ building requests
    def answer_tokens(self) -> int:
        """Tokens reserved for the answer: the setting, but never more than a quarter of the
        window (an 8k local model cannot reserve 8k for the answer)."""
        return max(256, min(self.project.settings.answer_tokens, self._window() // 4))

    def _window(self) -> int:
        if self.backend is not None:
            return self.backend.context_window()
        return self.project.settings.context_window or DEFAULT_WINDOW

    def _redacting(self) -> bool:
        settings = self.project.settings
        return self.backend is None or not self.backend.config.loopback or settings.redact_loopback

    def prepare(self, question: str, *, budget: int | None = None) -> PreparedTurn:
        """The request for ``question``: context assembled within what the window leaves."""
        settings = self.project.settings
        count = self._count
        history = self._history
        if not history:
            history = [{"role": "system", "content": render_prompt("system.md", settings)}]
        spent = (sum(self._message_tokens(m) for m in history) + count(question) + _TEMPLATE_OVERHEAD
                 + self._tool_overhead())
        window = self._window()
        available = int(window * 0.95) - self.answer_tokens() - spent
        follow_up = len(history) > 1
        if follow_up and available < MIN_BUDGET * 2:
            # the conversation outgrew the window: start over with a fresh context
            self.reset()
            return self.prepare(question, budget=budget)
        cap = budget or self.budget
        if follow_up:
            # follow-ups add only code not sent before; several must fit in what is left
            room = min(available // 2, settings.context_budget, cap or settings.context_budget)
        else:
            # the first context leaves a quarter of the window for the conversation that follows
            room = min(available * 3 // 4, cap) if cap else available * 3 // 4
        ctx_budget = max(MIN_BUDGET, room)
        ctx = self.project.context(question, ctx_budget, held_files=self._held, exclude=self._sent,
                                   question_only=follow_up, pinned=self.pinned)
        template = "followup.md" if follow_up else "question.md"
        user = render_prompt(template, settings, context=ctx.text, question=question)
        redactions: dict[str, int] = {}
        if self._redacting():
            cleaned = redact(user)
            user, redactions = cleaned.text, cleaned.found
        messages = [*history, {"role": "user", "content": user}]
        if redactions:  # the context text changed: count the message as it will be sent
            user_tokens = self._counter.count(user)
        else:  # the context was counted when it was assembled: count only the rest
            user_tokens = ctx.tokens + self._counter.count(user.replace(ctx.text, "", 1))
        tokens = sum(self._message_tokens(m) for m in history) + 4 + user_tokens  # the messages alone: servers differ in how they count tool definitions
        return PreparedTurn(messages, ctx, tokens, redactions)

    # ------------------------------------------------------------------ asking
    def stream(self, question: str) -> Iterator[ChatEvent]:
        """Events of one answer, ending with :class:`AnswerReady`; raises a BackendError (an
        IncompleteAnswerError carries the partial answer) when no full answer comes. With tools,
        the model may look further first: each call is a :class:`ToolStep`."""
        if self.backend is None:
            from .errors import BackendNotConfiguredError

            raise BackendNotConfiguredError("no model backend is configured; see `codeassist config`")
        deadline = time.monotonic() + self.project.settings.request_timeout
        budget = self.budget
        notices: list[str] = []
        self.stop_exploring = False
        turn = self.prepare(question, budget=budget)
        for warning in turn.context.warnings:
            notices.append(warning)
            yield Notice(warning, "warning")
        if turn.redactions:
            message = (f"redacted {sum(turn.redactions.values())} credential(s) "
                       f"({', '.join(sorted(turn.redactions))}) before sending")
            notices.append(message)
            yield Notice(message, "info")
        for attempt in range(_MAX_SHRINKS + 1):
            self.last_turn = turn
            self.last_steps = []
            streamed: list[str] = []  # content shown so far in this attempt (for Restart)
            try:
                outcome = yield from self._rounds(turn, deadline, notices, streamed)
            except ContextOverflowError as exc:
                if attempt == _MAX_SHRINKS or turn.context.tokens <= MIN_BUDGET:
                    raise ContextOverflowError(f"{exc}; even a {turn.context.budget}-token context was "
                                               "too long: set context_window lower or answer_tokens",
                                               exc.window) from None
                if exc.window and exc.window < self._window():
                    # the server said how large its window is: size the context for it at once
                    self.backend.limit_window(exc.window)
                    turn = self.prepare(question, budget=self.budget)
                    message = (f"the prompt was too long for the model, whose window is {exc.window:,} tokens; "
                               f"retrying with a {turn.context.budget:,}-token context")
                else:
                    budget = max(MIN_BUDGET, int(min(turn.context.budget, turn.context.tokens) * _SHRINK))
                    turn = self.prepare(question, budget=budget)
                    message = (f"the prompt was too long for the model; retrying with a "
                               f"{budget:,}-token context")
                notices.append(message)
                if streamed:
                    yield Restart(message)
                yield Notice(message, "shrink")
                continue
            finished, answer_text, thinking, steps, messages = outcome
            reported = finished.usage.prompt_tokens
            if (reported and not steps and turn.prompt_tokens > 2_000
                    and reported < turn.prompt_tokens * _TRUNCATION_RATIO and attempt < _MAX_SHRINKS):
                # Ollama-style silent truncation: the server read only part of the prompt
                self.backend.limit_window(reported + self.answer_tokens())
                budget = max(MIN_BUDGET, int(turn.context.tokens * reported / turn.prompt_tokens * 0.8))
                message = (f"the server read only {reported:,} of about {turn.prompt_tokens:,} prompt tokens "
                           f"(it truncates silently beyond its context size); asking again with a "
                           f"{budget:,}-token context")
                notices.append(message)
                yield Restart(message)
                yield Notice(message, "truncated")
                turn = self.prepare(question, budget=budget)
                continue
            citations = tuple(self.project.verify_citations(answer_text))
            self._history = [*messages, {"role": "assistant", "content": answer_text}]
            self._sent += [(i.path, i.start_line, i.end_line) for i in turn.context.items if i.detail == "full"]
            self._held = sorted({*self._held, *(i.path for i in turn.context.items if i.detail == "full")})
            self.usage_by_turn.append(finished.usage)
            yield AnswerReady(Answer(question, answer_text, thinking, citations, finished.usage,
                                     turn.context, finished.model, finished.finish_reason, tuple(notices),
                                     tuple(messages), dict(turn.redactions), tuple(steps)))
            return

    def _rounds(self, turn: PreparedTurn, deadline: float, notices: list[str],
                streamed: list[str]) -> Generator[ChatEvent, None, tuple[Finished, str, str, list[ToolStep],
                                                                          list[dict[str, Any]]]]:
        """Ask, run the tools the model calls, ask again (appending, so every request repeats the
        previous one as its prefix), until it answers or a limit makes it answer from what it has."""
        from .llm.backend import ToolsUnsupportedError

        assert self.backend is not None
        settings = self.project.settings
        messages: list[dict[str, Any]] = list(turn.messages)
        tools = self.tools.definitions() if self.tools is not None and not self._tools_refused else None
        steps: list[ToolStep] = []
        seen: dict[tuple[str, str], str] = {}
        repeats: dict[tuple[str, str], int] = {}
        spent = 0  # tokens of tool output added to the conversation
        window_room = (int(self._window() * 0.95) - self.answer_tokens() - turn.prompt_tokens
                       - (self._tools_tokens(tools) if tools else 0))
        budget = max(0, min(settings.tool_output_tokens, window_room))
        rounds = 0
        closing = False  # the model is asked to answer now
        thinking: list[str] = []
        usage: Usage | None = None  # every round is a request of its own: its usage counts
        sent = 0  # our count of what the rounds sent, for servers that report no usage
        while True:
            text: list[str] = []
            reasoning: list[str] = []
            finished: Finished | None = None
            try:
                for event in self.backend.stream(messages, max_tokens=self.answer_tokens(), deadline=deadline,
                                                 tools=tools, tool_choice="none" if closing and tools else None):
                    if isinstance(event, Content):
                        text.append(event.text)
                        streamed.append(event.text)
                    elif isinstance(event, Reasoning):
                        reasoning.append(event.text)
                    elif isinstance(event, Finished):
                        finished = event
                        continue
                    elif isinstance(event, Notice):
                        notices.append(event.message)
                    yield event
            except ToolsUnsupportedError as exc:
                self._tools_refused = True
                tools = None
                message = f"this server or model does not take tools ({exc}); answering from the context alone"
                notices.append(message)
                yield Notice(message, "warning")
                continue
            assert finished is not None
            thinking += reasoning
            sent += sum(self._message_tokens(m) for m in messages) + (self._tools_tokens(tools) if tools else 0)
            usage = finished.usage if usage is None else usage + finished.usage
            if not finished.tool_calls or tools is None:
                total = usage if usage.reported else Usage.not_reported(sent)
                return (Finished(finished.finish_reason, total, finished.model, finished.tool_calls),
                        "".join(text), "".join(thinking), steps, messages)
            if rounds > settings.max_tool_rounds + 1:
                from .errors import BackendError

                raise BackendError(f"the model kept calling tools after being asked to answer ({rounds} rounds); "
                                   "ask again, or with --no-tools")
            # a tool round: what the model said alongside the calls is part of its exploration
            if text:
                yield Restart("the model is looking further")
                streamed.clear()
            assistant: dict[str, Any] = {
                "role": "assistant", "content": "".join(text) or None,
                "tool_calls": [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                               for c in finished.tool_calls]}
            if reasoning:  # DeepSeek's thinking mode needs it back in every later request of the turn
                assistant["reasoning_content"] = "".join(reasoning)
            messages.append(assistant)
            for call in finished.tool_calls:
                key = (call.name, _canonical(call.arguments))
                repeats[key] = repeats.get(key, 0) + 1
                cached = False
                error = False
                if closing:
                    content, error = ("not run: the exploration is over; answer now from what you have gathered",
                                      True)
                elif repeats[key] > _MAX_REPEATS:
                    content, error = (f"refused: you made this exact {call.name} call {repeats[key] - 1} times "
                                      "already; use its result above, change the arguments, or answer", True)
                elif key in seen:
                    content, cached = seen[key] + "\n(the same call as before: its earlier result)", True
                else:
                    result = self.tools.call(call.name, call.arguments)  # type: ignore[union-attr]
                    content, error = result.text, result.error
                    if self._redacting():  # tool output leaves the machine like the context does
                        cleaned = redact(content)
                        content = cleaned.text
                        for kind, n in cleaned.found.items():
                            turn.redactions[kind] = turn.redactions.get(kind, 0) + n
                    content = self._fit(content, max(0, budget - spent))
                    seen[key] = content
                tokens = self._counter.count(content)
                spent += tokens if not cached else 0
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
                step = ToolStep(call.name, call.arguments, tokens, error, cached, content)
                steps.append(step)
                self.last_steps.append(step)
                yield step
            rounds += 1
            if closing:
                tools = None  # it called tools again though asked to answer: ask without them
            elif rounds >= settings.max_tool_rounds or spent >= budget or self.stop_exploring:
                closing = True
                why = ("stopped" if self.stop_exploring else f"{rounds} tool round(s)" if rounds >=
                       settings.max_tool_rounds else f"{spent:,} tokens of tool output")
                message = f"exploration ended ({why}); asking the model to answer from what it gathered"
                notices.append(message)
                yield Notice(message, "info")

    def _fit(self, text: str, room: int) -> str:
        """A tool result within ``room`` tokens, cut with a note the model can act on."""
        room = min(room, _TOOL_RESULT_TOKENS)
        if room <= 0:
            return "not run: the tool-output budget of this answer is spent; answer from what you have"
        tokens = self._counter.count(text)
        if tokens <= room:
            return text
        keep = text[: max(0, int(len(text) * room / tokens) - 200)]
        return keep + f"\n… (cut: about {tokens - room:,} more tokens; ask for less, e.g. a line range or fewer hits)"

    def ask(self, question: str) -> Answer:
        """The whole answer (blocking)."""
        for event in self.stream(question):
            if isinstance(event, AnswerReady):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover
