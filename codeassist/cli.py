"""The ``codeassist`` command: a thin layer over the Python API.

Progress goes to stderr, data to stdout. Failures print one actionable line and exit non-zero.
Only the standard library is imported up front, so lexical commands answer fast.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TextIO, TypeVar

from . import __version__
from .errors import CodeassistError, UsageError
from .index.eta import Eta, format_time_left
from .results import IndexStatus
from .served import SERVED_COMMANDS

if TYPE_CHECKING:  # pragma: no cover
    from .index.indexer import IndexStats
    from .index.catchup import CatchUp
    from .project import Project

__all__ = ["main", "build_parser"]

T = TypeVar("T")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codeassist",
        description="Index a code repository and ask questions about it.",
    )
    parser.add_argument("--version", action="version", version=f"codeassist {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="build or update the index of a repository")
    _add_repo(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--rebuild", action="store_true", help="discard the index and build it anew")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: one per core)")
    p.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="wait this long for another indexer of the same repository (default: fail at once)")
    p.add_argument("--include-secrets", action="store_true", default=None,
                   help="also index files whose names mark them as secrets (.env, *.pem ...)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.add_argument("--no-embed", dest="embed", action="store_false", default=None,
                   help="lexical and symbol index only (no embeddings)")

    p = sub.add_parser("watch", help="keep the index current while files change (ctrl+c stops)")
    _add_repo(p)
    p.add_argument("--no-embed", dest="embed", action="store_false", default=None,
                   help="lexical and symbol index only (no embeddings)")
    p.add_argument("--poll", action="store_true", help="poll for changes instead of file-system events")
    p.add_argument("--json", action="store_true", help="one JSON object per update on stdout")
    p.add_argument("--no-serve", dest="serve", action="store_false",
                   help="do not answer search, context, map, symbols and refs for other shells")

    p = sub.add_parser("mcp", help="serve the index to coding agents over MCP (stdio, or Streamable HTTP)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="repositories to serve (default: .)")
    p.add_argument("--repo", action="append", default=[], metavar="PATH", help="a repository to serve (repeatable)")
    p.add_argument("--http", default=None, metavar="[HOST:]PORT",
                   help="serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (HOST defaults to 127.0.0.1)")
    p.add_argument("--token-env", default=None, metavar="NAME",
                   help="require `Authorization: Bearer $NAME`; off loopback a token is required (one is generated "
                        "and printed once when this is not given)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="a browser origin allowed to call the server (repeatable; none by default)")
    p.add_argument("--no-watch", dest="watch", action="store_false",
                   help="do not keep the indexes current while files change")

    p = sub.add_parser("search", help="hybrid search: words, symbol names, paths and meaning (dense)")
    p.add_argument("query")
    _add_repo(p)
    p.add_argument("-k", type=int, default=10, help="number of hits (default: 10)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("context", help="print exactly what the model would read for a question")
    p.add_argument("query")
    _add_repo(p)
    p.add_argument("--budget", type=int, default=None, metavar="TOKENS",
                   help="token budget, counted with cl100k (default: the context_budget setting, 32000)")
    p.add_argument("--format", choices=("markdown", "xml", "json"), default="markdown",
                   help="markdown (default), xml tags, or one JSON object with the items")
    p.add_argument("--no-line-numbers", dest="line_numbers", action="store_false", default=None,
                   help="leave code lines unnumbered (about 20%% fewer tokens)")

    p = sub.add_parser("map", help="a ranked outline of the repository (its most-used definitions)")
    _add_repo(p)
    p.add_argument("--budget", type=int, default=4000, metavar="TOKENS", help="token budget (default: 4000)")
    p.add_argument("--query", default="", help="personalise the ranking on this question")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("ask", help="ask a question; the answer streams with path:line citations")
    p.add_argument("question")
    _add_repo(p)
    p.add_argument("--backend", default=None,
                   help="preset: deepseek, openai, openrouter, ollama, vllm, llamacpp, lmstudio, custom")
    p.add_argument("--model", default=None, help="model name (default: the preset's)")
    p.add_argument("--base-url", default=None, help="any OpenAI-compatible server, e.g. http://localhost:8000/v1")
    p.add_argument("--budget", type=int, default=None, metavar="TOKENS",
                   help="cap the context (default: what the model's window leaves after the answer)")
    p.add_argument("--dry-run", action="store_true", help="print exactly what would be sent, send nothing")
    p.add_argument("--no-tools", dest="tools", action="store_false", default=None,
                   help="answer from the context alone: the model may not search or read further")
    p.add_argument("--no-reasoning", dest="reasoning", action="store_false",
                   help="do not show the model's reasoning")
    p.add_argument("--json", action="store_true", help="print one JSON object when the answer is complete")

    p = sub.add_parser("tui", help="the terminal UI (also: `codeassist [PATH]`)")
    _add_repo(p)
    p.add_argument("--backend", default=None, help="model backend preset")
    p.add_argument("--model", default=None, help="model name")
    p.add_argument("--base-url", default=None, help="any OpenAI-compatible server")
    p.add_argument("--no-index", dest="index", action="store_false", help="do not update the index on start")
    p.add_argument("--no-watch", dest="watch", action="store_false",
                   help="do not keep the index current while files change")

    p = sub.add_parser("config", help="show the effective settings and model backend (keys masked)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("status", help="what the index of a repository holds")
    _add_repo(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("eval", help="measure retrieval quality on this repository's own documented functions")
    _add_repo(p)
    p.add_argument("--limit", type=int, default=200, help="number of functions to test (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="which sample of functions (default: 0)")
    p.add_argument("--history", action="store_true",
                   help="instead: cases from the repository's own past fixes (git): does search find the files a "
                        "fix changed, does the context hold its lines in full, against a BM25 whole-file baseline")
    p.add_argument("--embed", action="store_true", help="with --history: build embeddings at each commit too")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("symbols", help="where is NAME defined")
    p.add_argument("name")
    _add_repo(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("refs", help="who uses NAME (calls, imports, types, base classes)")
    p.add_argument("name")
    _add_repo(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _add_repo(p: argparse.ArgumentParser) -> None:
    """The repository: a positional PATH or --repo PATH, on every command alike."""
    p.add_argument("path", nargs="?", default=None, metavar="PATH", help="repository folder (default: .)")
    p.add_argument("--repo", default=None, metavar="PATH", help="repository folder, as the positional PATH")


def _repo(args: argparse.Namespace) -> str:
    if args.path is not None and args.repo is not None and args.path != args.repo:
        raise UsageError(f"two repositories given ({args.path!r} and --repo {args.repo!r}); pass one")
    return args.path or args.repo or "."


#: allocations between two young-generation collections of the garbage collector: a command
#: loads a few hundred thousand long-lived objects (a kernel's file list, symbols, rows), which
#: at CPython's default of 700 start hundreds of collections (0.1-0.3 s of a 2 s `context`)
GC_YOUNG_THRESHOLD = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(max(GC_YOUNG_THRESHOLD, gc.get_threshold()[0]), *gc.get_threshold()[1:])
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    warnings.showwarning = _show_warning
    try:
        if not argv or (argv[0] not in _COMMANDS and not argv[0].startswith("-")):
            _check_path_or_command(argv[0] if argv else ".")
            argv = ["tui", *argv]  # `codeassist` and `codeassist PATH` open the terminal UI
        args = parser.parse_args(argv)
        if args.command in SERVED_COMMANDS:
            served = _ask_watch(args)
            if served is not None:
                return served
        return _COMMANDS[args.command](args)
    except CodeassistError as exc:
        print(f"codeassist: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            "codeassist: interrupted; the index stays consistent and the next run finishes the work",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # `codeassist search ... | head`
        sys.stderr.close()
        return 0


def _check_path_or_command(word: str) -> None:
    """``codeassist WORD``: WORD must be a folder (the UI opens it) or a command."""
    if os.path.isdir(word):
        return
    close = difflib.get_close_matches(word, list(_COMMANDS), n=1, cutoff=0.6)
    if close:
        raise UsageError(f"unknown command {word!r}; did you mean `codeassist {close[0]}`? "
                         "(`codeassist --help` lists the commands)")
    what = "a file, not a folder" if os.path.exists(word) else "neither a command nor a folder"
    raise UsageError(f"{word!r} is {what}; pass a repository folder to open the terminal UI, or one of the "
                     f"commands: {', '.join(_COMMANDS)}")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    print(f"codeassist: warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------- served by `watch`
def _fingerprint() -> str:
    """This codeassist (version and location: another checkout declines) and its settings."""
    from .served import settings_fingerprint

    return settings_fingerprint(f"{__version__}:{os.path.dirname(os.path.abspath(__file__))}")


def _ask_watch(args: argparse.Namespace) -> int | None:
    """Run a served command in the `codeassist watch` of its repository, if one runs: its exit
    code, having printed what it printed; None to run it here."""
    from .config import load_settings
    from .index.location import index_dir
    from .served import ask_server

    repo = os.path.realpath(_repo(args))
    if not os.path.isdir(repo):
        return None
    options = {**vars(args), "path": None, "repo": repo}
    with warnings.catch_warnings(record=True) as said:  # about the config file: shown once, below
        warnings.simplefilter("always")
        home = load_settings().home
    answer = ask_server(index_dir(home, Path(repo)), options, _fingerprint())
    if answer is None:
        return None  # the command, run here, warns itself
    for warning in said:  # the watch warned when it started, not to this shell
        _show_warning(warning.message, warning.category, warning.filename, warning.lineno)
    code, out, err = answer
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


def _serve_options(projects: dict[tuple, Project]) -> Callable[[dict[str, Any]], int]:
    """What `watch` runs for a served command: the command itself, on long-lived projects."""

    def run(options: dict[str, Any]) -> int:
        args = argparse.Namespace(**options, projects=projects)
        try:
            return _COMMANDS[args.command](args)
        except CodeassistError as exc:
            print(f"codeassist: error: {exc}", file=sys.stderr)
            return exc.exit_code

    return run


# ---------------------------------------------------------------------- commands
def _open(path: str, **overrides: Any) -> Project:
    from .project import open_project

    return open_project(path, **overrides)


def _open_for(args: argparse.Namespace, **overrides: Any) -> Project:
    """The project a read command works on: opened here, or, served by `watch`, one it keeps
    between requests (its file list, graph and symbols stay loaded)."""
    projects: dict[tuple, Project] | None = getattr(args, "projects", None)
    if projects is None:
        return _open(_repo(args), **overrides)
    key = (_repo(args), tuple(sorted(overrides.items())))
    if key not in projects:
        projects[key] = _open(_repo(args), **overrides)
    return projects[key]


def _catch_up(project: Project) -> CatchUp:
    """Before answering: update a stale index if the change is small, else say it is behind."""
    return _said(project.catch_up())


def _said(fresh: CatchUp) -> CatchUp:
    """``fresh``, its note (if any) printed."""
    if fresh.note:
        print(f"codeassist: {fresh.note}", file=sys.stderr)
    return fresh


def _honour_ctrl_c() -> None:
    """A long-running command stops on ctrl+c (SIGINT) even when the process that started it
    ignored SIGINT (a shell's background job does): Python then leaves it ignored."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)


def _cmd_watch(args: argparse.Namespace) -> int:
    import signal
    import threading

    from .index.watcher import Watcher, WatchUpdate
    from .served import LocalServer

    project = _open(_repo(args), embed=args.embed)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    _honour_ctrl_c()

    def updated(update: WatchUpdate) -> None:
        if args.json:
            _print_json({"at": update.at, "paths": update.paths, "lexical_seconds": round(update.lexical_seconds, 3),
                         "embed_seconds": round(update.embed_seconds, 3), "embed_error": update.embed_error,
                         **update.stats.to_dict()})
            sys.stdout.flush()
        else:
            print(f"{time.strftime('%H:%M:%S')}  {update.describe()}", flush=True)
        if update.embed_error:
            print(f"codeassist: warning: vectors not updated: {update.embed_error}", file=sys.stderr)

    def notice(message: str) -> None:
        print(f"codeassist: {message}", file=sys.stderr)

    watcher = Watcher(project.root, project.index_dir, project.settings, on_update=updated,
                      on_notice=notice, force_polling=args.poll)
    server = LocalServer(project.index_dir, _fingerprint, _serve_options({}), notice)
    print(f"codeassist: watching {project.root} (ctrl+c stops)", file=sys.stderr)
    if args.serve and server.start():
        notice("answering search, context, map, symbols and refs of other shells here (--no-serve: do not)")
    try:
        watcher.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    print("codeassist: stopped watching; the index is consistent", file=sys.stderr)
    return 0


def _cmd_mcp(args: argparse.Namespace) -> int:
    import secrets
    import signal
    import threading

    from .mcp_server import is_loopback, serve_http, serve_stdio
    from .mcp_server.server import start_watchers
    from .tools import Workspace

    paths = [*args.paths, *args.repo] or ["."]
    workspace = Workspace([_open(path) for path in dict.fromkeys(paths)])
    say = lambda message: print(f"codeassist: {message}", file=sys.stderr, flush=True)  # noqa: E731
    stop = threading.Event()
    watchers = start_watchers(workspace, stop, say) if args.watch else []

    def terminate(*_: object) -> None:
        stop.set()
        raise SystemExit(0)  # unwinds the server, so the watchers stop and clear their heartbeats

    signal.signal(signal.SIGTERM, terminate)
    _honour_ctrl_c()
    try:
        if args.http is None:
            serve_stdio(workspace)
            return 0
        host, _, port_text = args.http.rpartition(":")
        host = host or "127.0.0.1"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"--http takes [HOST:]PORT, not {args.http!r}")
        token = None
        if args.token_env:
            token = os.environ.get(args.token_env)
            if not token:
                raise UsageError(f"--token-env {args.token_env}: that environment variable is empty or unset")
        elif not is_loopback(host):
            token = secrets.token_urlsafe(32)
            say(f"serving on {host} needs a token; generated one (shown once): {token}")
        serve_http(workspace, host, int(port_text), token=token, allowed_origins=args.allow_origin,
                   ready=lambda port: say(f"serving {', '.join(workspace.projects)} at http://{host}:{port}/mcp"
                                          + (" (bearer token required)" if token else "")))
        return 0
    finally:
        stop.set()
        for thread in watchers:
            thread.join(timeout=5)


def _cmd_index(args: argparse.Namespace) -> int:
    project = _open(
        _repo(args), workers=args.workers, lock_wait=args.wait, include_secrets=args.include_secrets,
        embed=args.embed,
    )
    bar = None if args.quiet else ProgressBar(sys.stderr)
    stats = project.index(bar, rebuild=args.rebuild)
    if bar:
        bar.close()
    if args.json:
        data = stats.to_dict()
        data["root"] = str(project.root)
        data["index_dir"] = str(project.index_dir)
        _print_json(data)
        return _embed_failure(stats)
    out = sys.stdout
    if stats.rebuilt:
        print(f"rebuilt the index: {stats.rebuilt}", file=out)
    print(
        f"indexed {project.root} in {stats.seconds:.2f}s "
        f"({stats.added} added, {stats.updated} updated, {stats.removed} removed, "
        f"{stats.unchanged} unchanged)",
        file=out,
    )
    _print_counts(stats, out)
    if stats.embed_units or stats.embedded:
        print(f"  vectors     {stats.embedded:>9,}   of {stats.embed_units:,} symbols "
              f"({stats.embed_computed:,} computed, the rest cached)", file=out)
    for error in stats.errors[:10]:
        print(f"  warning: {error}", file=sys.stderr)
    return _embed_failure(stats)


def _print_counts(counts: IndexStats | IndexStatus, out: TextIO) -> None:
    """What the index holds: the same lines after `index` and in `status`."""
    languages = sorted(counts.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    print(f"  files       {counts.files:>9,}   {', '.join(f'{lang} {n}' for lang, n in languages)}", file=out)
    print(f"  symbols     {counts.symbols:>9,}", file=out)
    print(f"  references  {counts.references:>9,}", file=out)
    print(f"  chunks      {counts.chunks:>9,}", file=out)
    if counts.skipped:
        detail = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.skipped.items()))
        print(f"  skipped     {sum(counts.skipped.values()):>9,}   {detail}", file=out)
    stats = None if isinstance(counts, IndexStatus) else counts  # an index run's (the indexer's IndexStats)
    if stats is not None and stats.ignored_mostly_by:
        rules = ", ".join(f"{rule} ({n} entries)" for rule, n in stats.ignored_mostly_by.items())
        print(f"  note: ignore rules skipped more than was indexed, mostly {rules}; edit that file "
              "or add a `!pattern` to .codeassistignore if this is not what you want", file=out)
    if stats is not None and stats.parse_errors:
        print(f"  {stats.parse_errors} file(s) have syntax errors (indexed as far as they parse)", file=out)


def _embed_failure(stats: IndexStats) -> int:
    """Report a failed semantic stage (the lexical index is complete) and give its exit code."""
    if not stats.embed_error:
        return 0
    print(f"codeassist: error: semantic indexing failed, lexical search is ready: {stats.embed_error}",
          file=sys.stderr)
    return 5


def _cmd_search(args: argparse.Namespace) -> int:
    project = _open_for(args)
    fresh, hits = _while_catching_up(project, lambda: project.search(args.query, k=args.k))
    semantic = project.semantic_progress()
    if semantic is not None:
        print(f"codeassist: {semantic.describe()}", file=sys.stderr)
    if args.json:
        _print_json({"query": args.query, "hits": [h.to_dict() for h in hits], "freshness": fresh.to_dict(),
                     "partial": fresh.building.to_dict() if fresh.building else None,
                     "semantic_partial": semantic.to_dict() if semantic else None})
        return 0
    if not hits:
        print("no hits", file=sys.stderr)
        return 0
    for hit in hits:
        label = f"  {hit.symbol} ({hit.kind})" if hit.symbol else ""
        print(f"{hit.path}:{hit.start_line}-{hit.end_line}{label}  [{hit.score:.4f}]")
        lines = hit.text.split("\n")
        for line in lines[:6]:
            print(f"    {line[:160]}")
        if len(lines) > 6:
            print(f"    … {len(lines) - 6} more lines")
    return 0


def _while_catching_up(project: Project, answer: Callable[[], T]) -> tuple[CatchUp, T]:
    """Catch up (the freshness check, a small update if files changed) while ``answer`` runs:
    when the index was current, as it nearly always is, the check costs no wall time (on the
    kernel it stats 83k files); when the catch-up updated the index, answer again from it."""
    import threading

    outcome: list[CatchUp | BaseException] = []

    def catch_up() -> None:  # its note is printed by the caller's thread (a served command's output)
        try:
            outcome.append(project.catch_up())
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            outcome.append(exc)

    # a daemon thread: ctrl+c during the answer does not wait for a walk of a big tree
    worker = threading.Thread(target=catch_up, name="codeassist-catch-up", daemon=True)
    worker.start()
    try:
        result, error = answer(), None
    except CodeassistError as exc:
        result, error = None, exc
    worker.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    fresh = _said(outcome[0])
    if fresh.index_changed or error is not None or result is None:
        result = answer()  # raises the answer's error again when it still stands
    return fresh, result


def _cmd_context(args: argparse.Namespace) -> int:
    project = _open_for(args, line_numbers=args.line_numbers)
    fresh, ctx = _while_catching_up(project, lambda: project.context(args.query, args.budget, format=args.format))
    if args.format == "json":
        _print_json({**ctx.to_dict(), "freshness": fresh.to_dict()})
    else:
        sys.stdout.write(ctx.text)
    for warning in ctx.warnings:
        print(f"codeassist: warning: {warning}", file=sys.stderr)
    print(f"codeassist: {ctx.tokens:,} of {ctx.budget:,} tokens, {ctx.mode}, {len(ctx.items)} items",
          file=sys.stderr)
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    project = _open_for(args)
    _fresh, ctx = _while_catching_up(project, lambda: project.map(args.budget, query=args.query))
    if args.json:
        _print_json(ctx.to_dict())
    else:
        sys.stdout.write(ctx.text)
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import AnswerReady, Chat, Restart, ToolStep
    from .errors import BackendError, BackendNotConfiguredError, IncompleteAnswerError
    from .llm.events import Content, Notice, Reasoning

    project = _open(_repo(args), backend=args.backend, model=args.model, base_url=args.base_url, tools=args.tools)
    _catch_up(project)
    if args.dry_run:
        from .factory import make_chat_backend

        try:
            backend = make_chat_backend(project.settings)
        except BackendNotConfiguredError:
            backend = None  # still show what would be sent, within the default window
        turn = Chat(project, backend, budget=args.budget).prepare(args.question)
        if args.json:
            _print_json({"messages": turn.messages, "prompt_tokens": turn.prompt_tokens,
                         "redactions": turn.redactions, "context": {k: v for k, v in turn.context.to_dict().items()
                                                                    if k != "text"}})
        else:
            for message in turn.messages:
                sys.stdout.write(f"===== {message['role']} =====\n{message['content']}\n")
            print(f"codeassist: dry run: {turn.prompt_tokens:,} prompt tokens, context {turn.context.tokens:,} "
                  f"of {turn.context.budget:,} ({turn.context.mode}); nothing was sent", file=sys.stderr)
        return 0
    chat = project.chat(budget=args.budget)
    out, err = sys.stdout, sys.stderr
    thinking = False
    answer = None
    try:
        for event in chat.stream(args.question):
            if isinstance(event, Reasoning) and args.reasoning and not args.json:
                if not thinking:
                    err.write("\033[2m" if err.isatty() else "")
                    err.write("thinking: ")
                    thinking = True
                err.write(event.text)
                err.flush()
            elif isinstance(event, Content) and not args.json:
                if thinking:
                    err.write("\033[0m\n" if err.isatty() else "\n")
                    thinking = False
                out.write(event.text)
                out.flush()
            elif isinstance(event, Notice):
                label = "warning: " if event.kind == "warning" else ""
                print(f"\ncodeassist: {label}{event.message}", file=err)
            elif isinstance(event, Restart) and not args.json:
                out.write(f"\n\n[{event.reason}: the text above is discarded]\n\n")
            elif isinstance(event, ToolStep) and not args.json:
                if thinking:
                    err.write("\033[0m\n" if err.isatty() else "\n")
                    thinking = False
                print(f"codeassist: → {event.describe()}", file=err, flush=True)
            elif isinstance(event, AnswerReady):
                answer = event.answer
    except IncompleteAnswerError as exc:
        if not args.json:
            out.write("\n")
        else:
            _print_json({"question": args.question, "answer": exc.partial, "incomplete": True, "error": str(exc)})
        print(f"codeassist: error: {exc}", file=err)
        return exc.exit_code
    except BackendError as exc:
        print(f"\ncodeassist: error: {exc}", file=err)
        return exc.exit_code
    assert answer is not None
    if args.json:
        _print_json(answer.to_dict())
    else:
        out.write("\n")
    for c in answer.invalid_citations:
        print(f"codeassist: citation {c} points nowhere: {c.problem}", file=err)
    valid = sum(1 for c in answer.citations if c.valid)
    print(f"codeassist: {answer.model or chat.backend.config.name}: {answer.usage.summary()}; "
          f"{valid} citation(s) checked", file=err)
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    import dataclasses

    from .config import config_path, load_settings
    from .errors import BackendNotConfiguredError
    from .llm.presets import resolve_backend
    from .prompts import user_prompts_dir

    settings = load_settings()
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    values = {k: (str(v) if not isinstance(v, (int, float, bool, str)) else v) for k, v in values.items()
              if k != "secret_patterns"}
    try:
        backend: dict[str, object] = resolve_backend(settings).describe()
    except BackendNotConfiguredError as exc:
        backend = {"configured": False, "how": str(exc)}
    data = {"config_file": str(config_path()), "config_file_exists": config_path().is_file(),
            "prompts_override_dir": str(user_prompts_dir(settings)), "backend": backend, "settings": values}
    if args.json:
        _print_json(data)
        return 0
    print(f"config file   {data['config_file']}{'' if data['config_file_exists'] else ' (none)'}")
    print(f"prompts       {data['prompts_override_dir']} (overrides the packaged templates)")
    print("backend")
    for key, value in backend.items():
        print(f"  {key:<18} {value}")
    print("settings")
    for key, value in values.items():
        print(f"  {key:<18} {value}")
    return 0


def _cmd_tui(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("codeassist: error: the terminal UI needs a terminal; for scripts use `codeassist ask`, "
              "`codeassist search` or `codeassist --help`", file=sys.stderr)
        return 2
    from .tui import make_app

    app = make_app(_repo(args), index_on_start=args.index, watch=args.watch, backend=args.backend, model=args.model,
                   base_url=args.base_url)
    app.run()
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    project = _open(_repo(args))
    status = project.status()
    if args.json:
        _print_json(status.to_dict())
        return 0
    if not status.indexed:
        print(f"{status.root}: not indexed yet; run `codeassist index {status.root}`")
        return 0
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.last_indexed or 0))
    print(f"{status.root}")
    print(f"  index       {status.index_dir} ({status.index_bytes / 1e6:.1f} MB), last run {when}")
    _print_counts(status, sys.stdout)
    if status.embed_units:
        share = status.embedded / status.embed_units
        more = "; the most-used definitions come first, dense search uses those" if share < 1 else ""
        print(f"  vectors     {status.embedded:>9,}   of {status.embed_units:,} symbols ({share:.0%}){more}")
    if status.watcher:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(status.watcher.get("since", 0))))
        how = "polling" if status.watcher.get("polling") else "file-system events"
        print(f"  watched by  pid {status.watcher.get('pid')} since {since} ({how}), "
              f"{status.watcher.get('updates', 0)} update(s)")
    if status.building:
        b = status.building
        state = "being built" if b["running"] else "interrupted (run `codeassist index` to finish it)"
        print(f"  build       {b['files_done']:,} of {b['files_total']:,} files so far, {state}; "
              "answers until then are partial")
    elif status.pending_changes:
        print(f"  {status.pending_changes} file(s) changed since; run `codeassist index` to update"
              + (" (the watcher is on it)" if status.watcher else ""))
    else:
        print("  up to date")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.history:
        return _eval_history(args)
    from .evaluation import evaluate

    project = _open(_repo(args))
    report = evaluate(project, limit=args.limit, seed=args.seed,
                      progress=lambda message: print(f"codeassist: {message} …", file=sys.stderr))
    if args.json:
        _print_json(report.to_dict())
        return 0
    print(f"{report.targets} documented functions of {report.candidates} (doc comments removed from the "
          f"searched copy; query = doc text without the name), {report.seconds:.1f}s")
    print(f"{'mode':<10} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6}")
    for r in report.results:
        print(f"{r.mode:<10} {r.recall_at_1:>6.3f} {r.recall_at_5:>6.3f} {r.recall_at_10:>6.3f} {r.mrr:>6.3f}")
    return 0


def _eval_history(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .fix_eval import evaluate_history

    root = _open(_repo(args)).root
    report = evaluate_history(root, limit=args.limit if args.limit != 200 else 50, embed=args.embed,
                              progress=lambda message: print(f"codeassist: {message} …", file=sys.stderr))
    if args.json:
        _print_json(report.to_dict())
        return 0
    print(f"{report.cases} past fixes of {Path(report.repo).name} ({report.seconds:.0f}s)")
    print(f"{'file accuracy':<16} {'@1':>6} {'@5':>6} {'@10':>6}")
    for name, values in report.file_accuracy.items():
        print(f"{name:<16} {values[1]:>6.3f} {values[5]:>6.3f} {values[10]:>6.3f}")
    budgets = list(next(iter(report.full_coverage.values())))
    print("changed lines all in full items, by budget: " + "  ".join(f"{b // 1000}k" for b in budgets))
    for name, values in report.full_coverage.items():
        print(f"{name:<16} " + "  ".join(f"{values[b]:.3f}" for b in budgets))
    if report.coverage_drops:
        print(f"coverage drops: {report.coverage_drops} time(s) a budget missed a fix the next smaller one covered")
    return 0


def _cmd_symbols(args: argparse.Namespace) -> int:
    project = _open_for(args)
    _fresh, found = _while_catching_up(project, lambda: project.symbols(args.name))
    if args.json:
        _print_json({"name": args.name, "symbols": [s.to_dict() for s in found]})
        return 0
    for s in found:
        print(f"{s.path}:{s.start_line}-{s.end_line}  {s.kind} {s.qualname}")
        print(f"    {s.signature}")
    if not found:
        print(f"no definition of {args.name!r} in the index", file=sys.stderr)
    return 0


def _cmd_refs(args: argparse.Namespace) -> int:
    project = _open_for(args)
    _fresh, found = _while_catching_up(project, lambda: project.references(args.name))
    if args.json:
        _print_json({"name": args.name, "references": [r.to_dict() for r in found]})
        return 0
    for r in found:
        where = f"  in {r.symbol}" if r.symbol else ""
        print(f"{r.path}:{r.line}  {r.kind}{where}    {r.text[:120]}")
    if not found:
        print(f"no references to {args.name!r} in the index", file=sys.stderr)
    return 0


_COMMANDS = {
    "index": _cmd_index,
    "watch": _cmd_watch,
    "mcp": _cmd_mcp,
    "search": _cmd_search,
    "status": _cmd_status,
    "context": _cmd_context,
    "ask": _cmd_ask,
    "config": _cmd_config,
    "tui": _cmd_tui,
    "map": _cmd_map,
    "eval": _cmd_eval,
    "symbols": _cmd_symbols,
    "refs": _cmd_refs,
}


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


class ProgressBar:
    """A one-line progress bar with the time left on a terminal; otherwise a line per phase and,
    in a long phase, one every ``LINE_EVERY_S`` seconds (a log, an agent reading stderr)."""

    LINE_EVERY_S = 30.0

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.width = 30
        self._clock = clock
        self._last = 0.0
        self._phase = ""
        self._eta = Eta(clock)

    def __call__(self, p: Any) -> None:
        now = self._clock()
        phase_changed = p.phase != self._phase
        self._phase = p.phase
        left = self._eta.feed(p)
        eta = f", {format_time_left(left)}" if left is not None else ""
        if not self.tty:
            if phase_changed and p.phase != "finish":
                print(f"codeassist: {p.phase} …", file=self.stream, flush=True)
                self._last = now
            elif p.phase != "walk" and now - self._last >= self.LINE_EVERY_S and p.total:
                print(f"codeassist: {p.phase} {p.done:,} of {p.total:,}{eta}", file=self.stream, flush=True)
                self._last = now
            return
        if not phase_changed and now - self._last < 0.1 and p.done != p.total:
            return
        self._last = now
        if p.phase == "walk":
            line = "walking the repository …"
        else:
            frac = p.done / p.total if p.total else 1.0
            filled = int(frac * self.width)
            name = p.path[-40:] if p.path else ""
            line = (f"{p.phase:<6} [{'#' * filled}{'.' * (self.width - filled)}] {p.done}/{p.total}"
                    f"{eta.replace(',', '')} {name}")
        cols = os.get_terminal_size(self.stream.fileno()).columns if self.tty else 100
        self.stream.write("\r" + line[: cols - 1].ljust(cols - 1))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
