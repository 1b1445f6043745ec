"""History tools for git repositories: the commits that touched a file or a symbol, and what a
commit changed. Read-only (``GIT_OPTIONAL_LOCKS=0``: not even the index is refreshed), capped,
credentials redacted, and the changes of secret or ignored files never shown."""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from ..redact import redact
from ..walker import IgnoreRules
from .workspace import ToolError, ToolResult, Workspace

__all__ = ["history", "diff", "is_git_repository", "run_git", "HistoryOut", "DiffOut"]

_MAX_DIFF_CHARS = 20_000
_MAX_BODY_CHARS = 1_000
_REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]{0,99}$")
_SEP, _END = "\x1f", "\x1e"


def is_git_repository(root: Path) -> bool:
    return (root / ".git").exists()


def run_git(root: Path, *args: str, timeout: float = 15.0) -> str:
    """``git ARGS`` in ``root``, read-only and non-interactive: its output, or ToolError."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}
    try:  # literal pathspecs: a file named `*env` must not match `.env`
        proc = subprocess.run(["git", "-C", str(root), "--no-pager", "--literal-pathspecs", "-c", "core.quotepath=off",
                               *args],
                              capture_output=True, text=True, errors="replace", timeout=timeout, env=env)
    except FileNotFoundError:
        raise ToolError("git is not installed on the machine that serves this repository") from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"git {args[0] if args else ''} took longer than {timeout:.0f} s; narrow the request") from None
    if proc.returncode != 0:
        raise ToolError(f"git: {proc.stderr.strip()[:300] or 'failed'}")
    return proc.stdout


def _check_git(root: Path) -> None:
    if not is_git_repository(root):
        raise ToolError("this repository is not a git repository: it has no history to show")


class CommitOut(TypedDict):
    commit: str
    author: str
    date: str
    subject: str
    body: str


class HistoryOut(TypedDict):
    repo: str
    target: str
    path: str
    start_line: int | None
    end_line: int | None
    commits: list[CommitOut]


def history(workspace: Workspace, target: Annotated[str, Field(description="a file path (as search shows it) "
            "or a symbol name (`RetryPolicy.backoff`): the commits that touched its lines", max_length=500)],
            limit: Annotated[int, Field(ge=1, le=30, description="how many commits, newest first")] = 10,
            repo: Annotated[str | None, Field(description="which repository, when several are served",
                                              max_length=4096)] = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    _check_git(project.root)
    target = target.strip()
    if not target or target.startswith("-"):
        raise ToolError("target must be a file path or a symbol name")
    with project.reader() as index:
        indexed = index.file(target) is not None
    fmt = f"--format={_END}%h{_SEP}%an{_SEP}%ad{_SEP}%s{_SEP}%b"
    start = end = None
    if indexed:
        path = target
        out = run_git(project.root, "log", "-n", str(limit), "--date=short", fmt, "--follow", "--", path)
    else:
        found = project.symbols(target, limit=1)
        if not found:
            raise ToolError(f"{target!r} is neither an indexed file nor a symbol; search for it first")
        symbol = found[0]
        path, start, end = symbol.path, symbol.start_line, symbol.end_line
        out = run_git(project.root, "log", "-n", str(limit), "--date=short", fmt, "-s", f"-L{start},{end}:{path}")
    commits: list[CommitOut] = []
    for record in out.split(_END)[1:]:
        parts = record.split(_SEP, 4)
        if len(parts) < 5:
            continue
        commit, author, date, subject, body = parts
        body = redact(body.strip()[:_MAX_BODY_CHARS]).text
        commits.append({"commit": commit.strip(), "author": author, "date": date,
                        "subject": redact(subject).text, "body": body})
    where = f"{path}:{start}-{end}" if start else path
    lines = [f"{len(commits)} commit(s) touching {where}, newest first:"]
    for c in commits:
        lines.append(f"{c['commit']} {c['date']} {c['author']}: {c['subject']}")
        if c["body"]:
            lines += [f"    {line}" for line in c["body"].splitlines()[:12]]
    return ToolResult({"repo": repo_name, "target": target, "path": path, "start_line": start, "end_line": end,
                       "commits": commits}, "\n".join(lines))


class DiffOut(TypedDict):
    repo: str
    commit: str
    files: list[str]
    withheld: list[str]
    text: str
    truncated: bool


def diff(workspace: Workspace, commit: Annotated[str, Field(description="a commit hash (from history) or "
         "a revision such as HEAD~1", max_length=100)],
         path: Annotated[str | None, Field(description="only this file's changes", max_length=4096)] = None,
         repo: Annotated[str | None, Field(description="which repository, when several are served",
                                           max_length=4096)] = None) -> ToolResult:
    repo_name, project = workspace.project(repo)
    _check_git(project.root)
    if not _REVISION.match(commit):
        raise ToolError(f"{commit[:100]!r} is not a commit or revision name")
    full = run_git(project.root, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").strip()
    rules = IgnoreRules(project.root, project.settings)
    changed = [p for p in run_git(project.root, "show", "--format=", "--name-only", full).splitlines() if p]
    allowed = [p for p in changed if not rules.skips(p)]
    withheld = sorted(set(changed) - set(allowed))
    if path is not None:
        wanted = posixpath.normpath(path.strip().replace("\\", "/"))
        if "\x00" in path or wanted.startswith(("../", "/")) or wanted == "..":
            raise ToolError("path must be relative to the repository root")
        if wanted not in changed:
            raise ToolError(f"{wanted!r} did not change in {commit}; it changed: {', '.join(allowed[:20])}")
        if wanted not in allowed:
            raise ToolError(f"{wanted!r} is a secret or ignored file; its changes are not shown")
        allowed = [wanted]
    header = run_git(project.root, "show", "-s", "--date=short", "--format=%h %ad %an%n%n%s%n%n%b", full)
    patch = _sections(run_git(project.root, "show", "--format=", "--patch", "--no-renames", full), set(allowed))
    text = redact(f"{header.strip()}\n\n{patch}").text
    truncated = len(text) > _MAX_DIFF_CHARS
    if truncated:
        text = text[:_MAX_DIFF_CHARS] + "\n… (cut; pass path= for one file's changes)"
    if withheld:
        text += f"\n(changes of {len(withheld)} secret or ignored file(s) not shown)"
    data: dict[str, Any] = {"repo": repo_name, "commit": full[:12], "files": allowed, "withheld": withheld,
                            "text": text, "truncated": truncated}
    return ToolResult(data, text)


def _sections(patch: str, allowed: set[str]) -> str:
    """The per-file sections of a whole commit's patch whose file is allowed: filtering the
    output, not asking git for paths, so no pathspec can widen to a withheld file."""
    out: list[str] = []
    keep = False
    for line in patch.splitlines(keepends=True):
        if line.startswith("diff --git "):
            keep = any(line.rstrip("\n") == f"diff --git a/{p} b/{p}" for p in allowed)
        if keep:
            out.append(line)
    return "".join(out)
