"""Conversations: question → context → prompt (``prompts/``) → streamed answer + citations.

The layout keeps the provider's prompt cache warm: the system message and the first turn's
context never change, and each follow-up appends the previous answer and a user message holding
only code not sent before, so every request repeats the previous one as its prefix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Protocol, Sequence

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

__all__ = ["Chat", "ChatSource", "Answer", "Restart", "AnswerReady", "ChatEvent", "PreparedTurn",
           "DEFAULT_WINDOW"]

#: the window assumed by --dry-run when no backend is configured
DEFAULT_WINDOW = 128_000
_TEMPLATE_OVERHEAD = 64
_SHRINK = 0.5
_MAX_SHRINKS = 3
_TRUNCATION_RATIO = 0.6  # reported prompt tokens below this share of ours: the server cut the prompt


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

    @property
    def invalid_citations(self) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if not c.valid)

    def to_dict(self) -> dict[str, object]:
        return {
            "question": self.question, "answer": self.text, "reasoning": self.reasoning,
            "citations": [c.to_dict() for c in self.citations], "usage": self.usage.to_dict(),
            "model": self.model, "finish_reason": self.finish_reason, "notices": list(self.notices),
            "redactions": self.redactions,
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


ChatEvent = StreamEvent | Restart | AnswerReady


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


class Chat:
    """A multi-turn conversation about one project (see the module docstring)."""

    def __init__(self, project: ChatSource, backend: ChatBackend | None, *, budget: int | None = None) -> None:
        self.project = project
        self.backend = backend
        self.budget = budget
        self._history: list[dict[str, str]] = []
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
        spent = sum(count(m["content"]) + 4 for m in history) + count(question) + _TEMPLATE_OVERHEAD
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
        tokens = sum(count(m["content"]) + 4 for m in history) + 4 + user_tokens
        return PreparedTurn(messages, ctx, tokens, redactions)

    # ------------------------------------------------------------------ asking
    def stream(self, question: str) -> Iterator[ChatEvent]:
        """Events of one answer, ending with :class:`AnswerReady`; raises a BackendError (an
        IncompleteAnswerError carries the partial answer) when no full answer comes."""
        if self.backend is None:
            from .errors import BackendNotConfiguredError

            raise BackendNotConfiguredError("no model backend is configured; see `codeassist config`")
        deadline = time.monotonic() + self.project.settings.request_timeout
        budget = self.budget
        notices: list[str] = []
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
            text: list[str] = []
            thinking: list[str] = []
            finished: Finished | None = None
            try:
                for event in self.backend.stream(turn.messages, max_tokens=self.answer_tokens(),
                                                 deadline=deadline):
                    if isinstance(event, Content):
                        text.append(event.text)
                    elif isinstance(event, Reasoning):
                        thinking.append(event.text)
                    elif isinstance(event, Finished):
                        finished = event
                        continue
                    elif isinstance(event, Notice):
                        notices.append(event.message)
                    yield event
            except ContextOverflowError as exc:
                if attempt == _MAX_SHRINKS or turn.context.tokens <= MIN_BUDGET:
                    raise ContextOverflowError(f"{exc}; even a {turn.context.budget}-token context was "
                                               "too long: set context_window lower or answer_tokens",
                                               exc.window) from None
                if exc.window and exc.window < self._window():
                    # the server said how large its window is: size the context for it at once
                    self.backend.limit_window(exc.window)
                    budget = None
                    turn = self.prepare(question, budget=self.budget)
                    message = (f"the prompt was too long for the model, whose window is {exc.window:,} tokens; "
                               f"retrying with a {turn.context.budget:,}-token context")
                else:
                    budget = max(MIN_BUDGET, int(min(turn.context.budget, turn.context.tokens) * _SHRINK))
                    turn = self.prepare(question, budget=budget)
                    message = (f"the prompt was too long for the model; retrying with a "
                               f"{budget:,}-token context")
                notices.append(message)
                if text or thinking:
                    yield Restart(message)
                yield Notice(message, "shrink")
                continue
            assert finished is not None
            if not finished.usage.reported:  # say so, with our own count of what was sent
                finished = Finished(finished.finish_reason, Usage.not_reported(turn.prompt_tokens), finished.model)
            reported = finished.usage.prompt_tokens
            if (reported and turn.prompt_tokens > 2_000 and reported < turn.prompt_tokens * _TRUNCATION_RATIO
                    and attempt < _MAX_SHRINKS):
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
            answer_text = "".join(text)
            citations = tuple(self.project.verify_citations(answer_text))
            self._history = [*turn.messages, {"role": "assistant", "content": answer_text}]
            self._sent += [(i.path, i.start_line, i.end_line) for i in turn.context.items if i.detail == "full"]
            self._held = sorted({*self._held, *(i.path for i in turn.context.items if i.detail == "full")})
            self.usage_by_turn.append(finished.usage)
            yield AnswerReady(Answer(question, answer_text, "".join(thinking), citations, finished.usage,
                                     turn.context, finished.model, finished.finish_reason, tuple(notices),
                                     tuple(turn.messages), dict(turn.redactions)))
            return

    def ask(self, question: str) -> Answer:
        """The whole answer (blocking)."""
        for event in self.stream(question):
            if isinstance(event, AnswerReady):
                return event.answer
        raise AssertionError("stream ended without an answer")  # pragma: no cover
