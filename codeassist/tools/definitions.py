"""The tools, defined once: name, description (written for a model: when to use it, what it
returns), typed arguments, a structured output type, and whether it only reads.

Every tool takes an optional ``repo`` (needed when several repositories are served). Results
are capped; where more is available the result says how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal

from pydantic import Field
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

from ..errors import CodeassistError, IndexNotBuiltError
from ..results import ContextItem, ReferenceInfo, SymbolInfo
from .paths import readable_path
from .workspace import ToolError, ToolResult, Workspace

__all__ = ["TOOLS", "GIT_SPECS", "ToolSpec", "MAX_QUERY_CHARS", "MAX_READ_LINES"]

MAX_QUERY_CHARS = 10_000
MAX_NAME_CHARS = 500
MAX_READ_LINES = 400
MAX_READ_CHARS = 60_000
SNIPPET_LINES = 8
SNIPPET_CHARS = 600

Repo = Annotated[str | None, Field(description="which repository, by name or path; only needed when the "
                                               "server serves several (see status)", max_length=4096)]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: ``run(workspace, **arguments) -> ToolResult``."""

    name: str
    title: str
    description: str
    run: Callable[..., ToolResult]
    output: type
    read_only: bool = True


def _check_text(label: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise ToolError(f"{label} is {len(value):,} characters long; at most {limit:,}: shorten it")
    if not value.strip():
        raise ToolError(f"{label} is empty")
    return value


def _indexed(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except IndexNotBuiltError:
        raise ToolError("this repository has no index yet; call refresh to build it") from None


# ---------------------------------------------------------------------- search
class SearchHitOut(TypedDict):
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    kind: str | None
    score: float
    snippet: str
    sources: dict[str, int]


class SearchOut(TypedDict):
    repo: str
    query: str
    hits: list[SearchHitOut]
    #: while a big index run is unfinished: files_done, files_total, running, started
    partial: dict[str, Any] | None
    #: while the embedding stage is unfinished (dense search covers part): embedded, units, running
    semantic_partial: dict[str, Any] | None


def _snippet(text: str) -> str:
    lines = text.split("\n")
    out = "\n".join(lines[:SNIPPET_LINES])[:SNIPPET_CHARS]
    return out + ("\n…" if len(lines) > SNIPPET_LINES or len(out) == SNIPPET_CHARS else "")


def search(workspace: Workspace, query: Annotated[str, Field(description="a question in plain words, "
           "identifiers, a dotted name, a file path or a stack trace")],
           k: Annotated[int, Field(ge=1, le=50, description="how many hits (1-50)")] = 10,
           repo: Repo = None) -> ToolResult:
    name, project = workspace.project(repo)
    _check_text("query", query, MAX_QUERY_CHARS)
    hits = _indexed(lambda: project.search(query, k=k))
    out: list[SearchHitOut] = [
        {"path": h.path, "start_line": h.start_line, "end_line": h.end_line, "symbol": h.symbol, "kind": h.kind,
         "score": h.score, "snippet": _snippet(h.text), "sources": h.sources} for h in hits]
    building, semantic = project.build_progress(), project.semantic_progress()
    lines = [f"{len(out)} hit(s) for {query[:200]!r} in {name}:"
             + (f" (partial: {building.describe()})" if building else "")
             + (f" ({semantic.describe()})" if semantic else "")]
    for h in out:
        label = f"  {h['symbol']} ({h['kind']})" if h["symbol"] else ""
        lines.append(f"\n{h['path']}:{h['start_line']}-{h['end_line']}{label}  [found by {', '.join(h['sources'])}]")
        lines += [f"    {line}" for line in h["snippet"].split("\n")]
    return ToolResult({"repo": name, "query": query, "hits": out, "partial": building.to_dict() if building else None,
                       "semantic_partial": semantic.to_dict() if semantic else None}, "\n".join(lines))


# ---------------------------------------------------------------------- symbols
class SymbolsOut(TypedDict):
    repo: str
    name: str
    symbols: list[SymbolInfo]
    more_available: bool


_SYMBOL_LIMIT = 50


def symbols(workspace: Workspace, name: Annotated[str, Field(description="a name: plain (`backoff`), dotted "
            "(`RetryPolicy.backoff`) or `Class::method`; case and underscores are ignored")],
            repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    _check_text("name", name, MAX_NAME_CHARS)
    found = _indexed(lambda: project.symbols(name, limit=_SYMBOL_LIMIT + 1))
    more = len(found) > _SYMBOL_LIMIT
    out: list[dict[str, Any]] = [s.to_dict() for s in found[:_SYMBOL_LIMIT]]
    lines = [f"{len(out)} definition(s) of {name!r} in {repo_name}:" if out else
             f"no definition of {name!r} in {repo_name}; try search for the concept"]
    for s in out:
        doc = s["doc"].strip().split("\n", 1)[0][:160]
        lines.append(f"{s['path']}:{s['start_line']}-{s['end_line']}  {s['kind']} {s['qualname']}\n    {s['signature']}"
                     + (f"\n    {doc}" if doc else ""))
    if more:
        lines.append(f"(more than {_SYMBOL_LIMIT}; pass a dotted name to narrow it down)")
    return ToolResult({"repo": repo_name, "name": name, "symbols": out, "more_available": more}, "\n".join(lines))


# ---------------------------------------------------------------------- references
class ReferencesOut(TypedDict):
    repo: str
    name: str
    total: int
    offset: int
    references: list[ReferenceInfo]
    next_offset: int | None


_REFERENCES_LIMIT = 100
_REFERENCES_SCAN = 5_000


def references(workspace: Workspace, name: Annotated[str, Field(description="the name used: plain or dotted "
               "(only its last part is matched)")],
               kind: Annotated[Literal["call", "import", "type", "inherit", "new"] | None,
                               Field(description="only this kind of use")] = None,
               offset: Annotated[int, Field(ge=0, description="skip this many (for the next page)")] = 0,
               repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    _check_text("name", name, MAX_NAME_CHARS)
    found = _indexed(lambda: project.references(name, limit=_REFERENCES_SCAN))
    if kind:
        found = [r for r in found if r.kind == kind]
    page = found[offset: offset + _REFERENCES_LIMIT]
    next_offset = offset + len(page) if offset + len(page) < len(found) else None
    out: list[dict[str, Any]] = [r.to_dict() for r in page]
    what = f"{kind} " if kind else ""
    lines = [f"{len(found)} {what}use(s) of {name!r} in {repo_name}"
             + (f" (showing {offset + 1}-{offset + len(page)})" if found else "; try search or symbols") + ":"]
    lines += [f"{r['path']}:{r['line']}  {r['kind']}" + (f" in {r['symbol']}" if r["symbol"] else "")
              + f"    {r['text'][:160]}" for r in out]
    if next_offset is not None:
        lines.append(f"(more available: call references with offset={next_offset})")
    return ToolResult({"repo": repo_name, "name": name, "total": len(found), "offset": offset, "references": out,
                       "next_offset": next_offset}, "\n".join(lines))


# ---------------------------------------------------------------------- read
class ReadOut(TypedDict):
    repo: str
    path: str
    start_line: int
    end_line: int
    total_lines: int
    text: str
    next_start_line: int | None


def read(workspace: Workspace, path: Annotated[str, Field(description="a file path relative to the repository "
         "root, as search and outline show it")],
         start_line: Annotated[int, Field(ge=1, description="first line (1-based)")] = 1,
         end_line: Annotated[int | None, Field(ge=1, description="last line, inclusive (default: as many as "
                                                                 f"fit, at most {MAX_READ_LINES} lines)")] = None,
         repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    real = _indexed(lambda: readable_path(project, path))
    lines = project.source(real)
    total = len(lines)
    if start_line > max(total, 1):
        raise ToolError(f"{real} has {total} lines; start_line {start_line} is past its end")
    last = min(total, end_line if end_line is not None else total, start_line + MAX_READ_LINES - 1)
    if end_line is not None and end_line < start_line:
        raise ToolError(f"end_line {end_line} is before start_line {start_line}")
    shown, size = [], 0
    for number in range(start_line, last + 1):
        line = f"{number}\t{lines[number - 1]}"
        if size + len(line) > MAX_READ_CHARS and shown:
            last = number - 1
            break
        shown.append(line)
        size += len(line) + 1
    next_start = last + 1 if last < total and (end_line is None or last < end_line) else None
    text = "\n".join(shown)
    note = f"\n(more available: call read with start_line={next_start})" if next_start else ""
    return ToolResult({"repo": repo_name, "path": real, "start_line": start_line, "end_line": last,
                       "total_lines": total, "text": text, "next_start_line": next_start},
                      f"{real}:{start_line}-{last} of {total} lines (each line starts with its number and a tab)\n"
                      f"{text}{note}")


# ---------------------------------------------------------------------- outline
class OutlineOut(TypedDict):
    repo: str
    path: str
    symbols: list[SymbolInfo]


def outline(workspace: Workspace, path: Annotated[str, Field(description="a file path relative to the "
            "repository root")], repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    real = _indexed(lambda: readable_path(project, path))
    found = project.outline(real)
    depth: dict[str, int] = {}
    lines = [f"{real}: {len(found)} definition(s); each line: its line range, kind and signature"]
    for s in found:
        level = depth.get(s.parent, -1) + 1 if s.parent else 0
        depth[s.qualname] = level
        lines.append(f"{'    ' * level}{s.start_line}-{s.end_line}  {s.kind} {s.signature.strip() or s.name}")
    return ToolResult({"repo": repo_name, "path": real, "symbols": [s.to_dict() for s in found]},
                      "\n".join(lines))


# ---------------------------------------------------------------------- map and context
class ContextOut(TypedDict):
    repo: str
    query: str
    budget: int
    tokens: int
    mode: str
    items: list[ContextItem]
    text: str


def _context_result(repo_name: str, ctx: Any) -> ToolResult:
    data = ctx.to_dict()
    return ToolResult({"repo": repo_name, "query": data["query"], "budget": data["budget"], "tokens": data["tokens"],
                       "mode": data["mode"], "items": data["items"], "text": data["text"]}, ctx.text)


def map_(workspace: Workspace, budget: Annotated[int, Field(ge=256, le=32_000, description="tokens (cl100k)")] = 4000,
         query: Annotated[str, Field(description="personalise the ranking on this question", max_length=MAX_QUERY_CHARS)]
         = "", repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    return _context_result(repo_name, _indexed(lambda: project.map(budget, query=query)))


def context(workspace: Workspace, question: Annotated[str, Field(description="the question the context is for")],
            budget: Annotated[int, Field(ge=1000, le=1_000_000, description="tokens (cl100k)")] = 16_000,
            format: Annotated[Literal["markdown", "xml"], Field(description="how code is quoted")] = "markdown",
            repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    _check_text("question", question, MAX_QUERY_CHARS)
    return _context_result(repo_name, _indexed(lambda: project.context(question, budget, format=format)))


# ---------------------------------------------------------------------- status and refresh
class StatusOut(TypedDict):
    repo: str
    root: str
    indexed: bool
    files: int
    symbols: int
    languages: dict[str, int]
    last_indexed: float | None
    up_to_date: bool
    changed_files: int
    changed_folders: int
    embedded: int
    embed_units: int
    watcher: dict[str, Any] | None
    repositories: list[str]


def status(workspace: Workspace, repo: Repo = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    st = project.status(check_pending=False)
    fresh = project.freshness() if st.indexed else None
    data: StatusOut = {
        "repo": repo_name, "root": st.root, "indexed": st.indexed, "files": st.files, "symbols": st.symbols,
        "languages": st.languages, "last_indexed": st.last_indexed,
        "up_to_date": bool(fresh and fresh.up_to_date), "changed_files": fresh.changed_files if fresh else 0,
        "changed_folders": fresh.changed_folders if fresh else 0, "embedded": st.embedded,
        "embed_units": st.embed_units, "watcher": st.watcher, "repositories": list(workspace.projects)}
    if not st.indexed:
        text = f"{repo_name} ({st.root}) has no index yet; call refresh to build it"
    else:
        import time

        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.last_indexed or 0))
        langs = ", ".join(f"{k} {v}" for k, v in list(st.languages.items())[:6])
        text = (f"{repo_name} ({st.root}): {st.files:,} files ({langs}), {st.symbols:,} symbols; last updated {when}; "
                + ("up to date" if fresh and fresh.up_to_date else f"behind: {fresh.describe() if fresh else '?'}")
                + ("; kept current by a watcher" if st.watcher else "; not watched (call refresh after edits)")
                + (f"; {st.embedded:,} of {st.embed_units:,} symbols have vectors" if st.embed_units else ""))
    if len(workspace.projects) > 1:
        text += f"\nrepositories served: {', '.join(workspace.projects)}"
    return ToolResult(dict(data), text)


class RefreshOut(TypedDict):
    repo: str
    files: int
    added: int
    updated: int
    removed: int
    unchanged: int
    seconds: float
    embed_error: str


def refresh(workspace: Workspace, repo: Repo = None, progress: Callable[[Any], None] | None = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    try:
        stats = project.index(progress)
    except CodeassistError as exc:
        raise ToolError(str(exc)) from None
    data: RefreshOut = {"repo": repo_name, "files": stats.files, "added": stats.added, "updated": stats.updated,
                        "removed": stats.removed, "unchanged": stats.unchanged, "seconds": round(stats.seconds, 3),
                        "embed_error": stats.embed_error}
    text = (f"{repo_name} indexed in {stats.seconds:.2f}s: {stats.added} added, {stats.updated} changed, "
            f"{stats.removed} removed, {stats.unchanged} unchanged; {stats.files:,} files")
    if stats.embed_error:
        text += f"; semantic search not updated: {stats.embed_error}"
    return ToolResult(dict(data), text)


# ---------------------------------------------------------------------- the list
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec("search", "Search the code",
             "Hybrid code search over the indexed repository. Finds code by meaning (a question in plain words, "
             "e.g. 'where are failed payments retried?'), by identifiers and dotted names, by file paths and "
             "stack-trace locations, fused into one ranking. Prefer it to grep when you do not know the exact "
             "text, or to find where a concept lives; it reads an index, so it costs far fewer tokens than "
             "opening files. Returns up to k hits: path, line range, enclosing symbol and kind, a short snippet, "
             "and which sources (lexical, symbol, path, dense, graph) ranked it. Then use read for more lines.",
             search, SearchOut),
    ToolSpec("symbols", "Find definitions",
             "Where a name is defined: every function, method, class, struct, interface, type or constant of that "
             "name, with path, line range, kind, signature and the first line of its doc. Exact names; use search "
             "when you only know what it does.", symbols, SymbolsOut),
    ToolSpec("references", "Find uses",
             "Who uses a name: calls, imports, type uses, base classes and constructions, each with path, line, the "
             "enclosing symbol and the line's text. Use it to see the callers of a function before changing it. "
             "Paged: 100 per call, next_offset gives the next page.", references, ReferencesOut),
    ToolSpec("read", "Read lines of a file",
             "Numbered lines of one indexed file of the repository (each line starts with its number and a tab), "
             f"at most {MAX_READ_LINES} lines per call; next_start_line continues. Invisible Unicode characters are "
             "shown as ⟨U+XXXX⟩. Only files of the index are served: nothing outside the repository, ignored or "
             "secret.", read, ReadOut),
    ToolSpec("outline", "Outline a file",
             "The definitions of one file, nested, each with its line range, kind and signature: a cheap look at a "
             "file's structure before reading parts of it.", outline, OutlineOut),
    ToolSpec("map", "Repository map",
             "A ranked outline of the whole repository (its most-used definitions, by PageRank over the reference "
             "graph) within a token budget, optionally personalised on a question: the quickest orientation in an "
             "unfamiliar codebase.", map_, ContextOut),
    ToolSpec("context", "Context for a question",
             "Everything a model should read to answer one question, within a token budget: the whole project when "
             "it fits, else a repository map, the relevant code in full (widened to whole functions) with the "
             "definitions it uses, and skeletons around it, as quoted, numbered code. One call instead of many "
             "searches and reads.", context, ContextOut),
    ToolSpec("status", "Index status",
             "What the index holds (files, languages, symbols, vectors), when it was last updated, whether files "
             "changed since, whether a watcher keeps it current, and which repositories are served.",
             status, StatusOut),
    ToolSpec("refresh", "Update the index",
             "Bring the index up to date with the files on disk (incremental: only what changed is re-parsed), "
             "reporting progress. Needed only when status says the index is behind and no watcher runs. Writes the "
             "index, never the repository.", refresh, RefreshOut, read_only=False),
)


def _git_specs() -> tuple[ToolSpec, ...]:
    from .history import DiffOut, HistoryOut, diff, history

    return (
        ToolSpec("history", "Commits that touched code",
                 "The commits that changed a file, or the lines of one symbol (function, class), newest first, "
                 "each with hash, date, author, subject and message. Use it for 'why is this so?': the answer is "
                 "often in a commit message. Git repositories only.", history, HistoryOut),
        ToolSpec("diff", "What a commit changed",
                 "The message and patch of one commit (from history), optionally only one file's changes; capped, "
                 "credentials redacted, secret and ignored files withheld. Git repositories only.", diff, DiffOut),
    )


#: history and diff, offered where the repository is a git repository
GIT_SPECS: tuple[ToolSpec, ...] = _git_specs()
