"""``codeassist eval --history``: a benchmark from the repository's own past fixes.

Commits whose message describes a bug (or references an issue) become cases: the message is the
question, and the lines the commit changed in non-test code files, as they stood before the fix
(the pre-image), are the target; test code inside a code file (Rust's ``#[cfg(test)]`` modules)
is not part of it, and a commit that changed only tests is not a case. The repository is indexed as it was at the fix's parent commit,
in a private shared clone (the user's repository is only read), then:

* search: does a file the fix changed come first, in the top 5, in the top 10 files of the hits;
  and in the files the context brings whole first (hits fused with whole-file evidence);
* context: at each budget, are all the changed lines inside ``full`` items of the context;

each next to a plain BM25 baseline over whole files computed in the same run (files ranked by
BM25 of the question; for the context, whole files packed in rank order while they fit).
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .errors import CodeassistError
from .project import Project, open_project
from .tools.history import run_git
from .walker import is_test_path

__all__ = ["FixCase", "HistoryReport", "find_cases", "evaluate_history", "BUDGETS"]

BUDGETS = (8_000, 16_000, 32_000, 64_000, 128_000)
_BUG = re.compile(r"\b(fix(e[sd])?|fixing|bug|crash(es|ed)?|regression|broken|incorrect(ly)?|wrong|"
                  r"error|exception|fail(s|ed|ure)?)\b|#\d+|\bissue \d+", re.I)
_NOT_A_FIX = re.compile(r"\b(typo|docs?|documentation|readme|changelog|lint|format(ting)?|style|revert|merge|"
                        r"release|bump|version|ci|test(s|ing)? only|refactor)\b", re.I)
_CODE_SUFFIXES = (".py", ".go", ".rs", ".js", ".ts", ".tsx", ".jsx", ".java", ".c", ".h", ".cc", ".cpp", ".hpp",
                  ".cs", ".rb", ".php", ".kt", ".swift", ".scala", ".lua", ".sh")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", re.M)
#: sign-offs and other people's names and addresses are not part of the report (a kernel commit
#: can hold a dozen); "Fixes:" and "Link:" lines stay: they name what broke
_TRAILER = re.compile(r"^(signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|"
                      r"suggested-by|reviewed-on|change-id|cc):.*\n?", re.I | re.M)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CFG_TEST = re.compile(r"#\[cfg\((all\()?test\b")  # #[cfg(test)], #[cfg(all(test, ...))]


@dataclass(frozen=True)
class FixCase:
    """One past fix: the question, and the pre-image lines it changed, per file."""

    commit: str
    parent: str
    question: str
    targets: dict[str, tuple[tuple[int, int], ...]]


@dataclass
class HistoryReport:
    repo: str
    cases: int
    #: file accuracy of search (its hits' files), of the files the context brings whole first
    #: (hits fused with whole-file evidence) and of the BM25 baseline:
    #: {"search": {1: .., 5: .., 10: ..}, "files": ..., "bm25": ...}
    file_accuracy: dict[str, dict[int, float]] = field(default_factory=dict)
    #: share of cases whose changed lines are all in full items: {"codeassist": {budget: ..}, "bm25": ...}
    full_coverage: dict[str, dict[int, float]] = field(default_factory=dict)
    seconds: float = 0.0
    per_case: list[dict[str, object]] = field(default_factory=list)
    #: (case, budget) pairs where a budget lost a fix that the next smaller budget covered
    #: (coverage should only grow with the budget)
    coverage_drops: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def find_cases(root: Path, *, limit: int = 50, max_files: int = 4, max_lines: int = 120,
               scan: int = 3000) -> list[FixCase]:
    """Up to ``limit`` bug-fix commits, newest first, that change 1..``max_files`` non-test code
    files by at most ``max_lines`` lines."""
    if not (root / ".git").exists():
        raise CodeassistError(f"{root} is not a git repository; eval --history needs its history")
    log = run_git(root, "log", "--no-merges", f"-n{scan}", "--format=%x1e%H%x1f%P%x1f%s%x1f%b", timeout=120)
    cases: list[FixCase] = []
    for record in log.split("\x1e")[1:]:
        commit, parents, subject, body = (record.split("\x1f", 3) + ["", "", ""])[:4]
        if " " in parents.strip() or not parents.strip():
            continue
        message = f"{subject}\n\n{_TRAILER.sub('', body).strip()}".strip()
        if not _BUG.search(message) or _NOT_A_FIX.search(subject):
            continue
        numstat = [line.split("\t") for line in run_git(root, "diff", "--numstat", "--no-renames",
                                                          parents.strip(), commit, timeout=120).splitlines() if line.count("\t") >= 2]
        code = [(a, b, p) for a, b, p in numstat if p.endswith(_CODE_SUFFIXES) and not is_test_path(p)]
        if not code or len(code) > max_files or any(a == "-" for a, _b, _p in code):
            continue
        if sum(int(a) + int(b) for a, b, _p in code) > max_lines:
            continue
        targets: dict[str, tuple[tuple[int, int], ...]] = {}
        for _a, _b, path in code:
            patch = run_git(root, "diff", "-U0", "--no-renames", parents.strip(), commit, "--", path, timeout=120)
            spans = []
            for match in _HUNK.finditer(patch):
                start, count = int(match.group(1)), int(match.group(2) or 1)
                # a pure insertion changes no old line: the line it follows is the place to see
                spans.append((max(1, start), max(1, start + count - 1)) if count else (max(1, start), max(1, start)))
            # test code inside a code file (Rust's `#[cfg(test)] mod tests`) is not what was fixed
            tests = _inline_test_modules(root, parents.strip(), path) if path.endswith(".rs") else []
            spans = [(a, b) for a, b in spans if not any(t0 <= a and b <= t1 for t0, t1 in tests)]
            if spans:
                targets[path] = tuple(spans)
        if targets:
            cases.append(FixCase(commit, parents.strip(), message[:4000], targets))
        if len(cases) >= limit:
            break
    return cases


def _inline_test_modules(root: Path, commit: str, path: str) -> list[tuple[int, int]]:
    """Line ranges of the ``#[cfg(test)]`` modules of a Rust file as it was at ``commit``."""
    from .parsing.extract import parse_file

    try:
        text = run_git(root, "show", f"{commit}:{path}", timeout=120)
    except CodeassistError:  # the file is new in the fix
        return []
    lines = text.split("\n")

    def attributes(start_line: int) -> Iterator[str]:  # the attribute lines right above an item
        for line in reversed(lines[: start_line - 1]):
            stripped = line.strip()
            if not stripped.startswith(("#[", "//")):
                return
            yield stripped

    parsed = parse_file(text.encode(), path, "rust", 2000)
    return [(s.start_line, s.end_line) for s in parsed.symbols if s.kind == "module"
            and any(_CFG_TEST.match(a) for a in attributes(s.start_line))]


# ---------------------------------------------------------------------- the BM25 baseline
def _terms(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text):
        low = word.lower()
        out.append(low)
        parts = [p.lower() for p in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", word) if p]
        if len(parts) > 1:
            out += parts
    return out


def _bm25_rank(files: dict[str, str], question: str, k1: float = 1.2, b: float = 0.75) -> list[str]:
    """Paths by BM25 of the question over whole files, best first."""
    bags = {path: Counter(_terms(text)) for path, text in files.items()}
    lengths = {path: sum(bag.values()) for path, bag in bags.items()}
    average = sum(lengths.values()) / max(1, len(lengths))
    query = set(_terms(question))
    frequency = {t: sum(1 for bag in bags.values() if t in bag) for t in query}
    n = len(bags)
    scores = {}
    for path, bag in bags.items():
        score = 0.0
        for t in query:
            tf = bag.get(t, 0)
            if tf:
                idf = math.log(1 + (n - frequency[t] + 0.5) / (frequency[t] + 0.5))
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[path] / average))
        scores[path] = score
    return sorted(scores, key=lambda p: (-scores[p], p))


def _covered(targets: dict[str, tuple[tuple[int, int], ...]], full: dict[str, list[tuple[int, int]]]) -> bool:
    return all(any(s <= start and end <= e for s, e in full.get(path, ())) for path, spans in targets.items()
               for start, end in spans)


def _context_files(project: Project, question: str) -> list[str]:
    """The files the context brings whole first, best first: hits fused with whole-file
    evidence (BM25 of the question over each file's chunks), as ``Project.context`` ranks them
    (with the dense source when the project has embeddings)."""
    from .search import ranked_for_context

    with project.reader() as index:
        dense = project._dense_searcher().function(index)  # noqa: SLF001 - the same search as context's
        _pieces, files = ranked_for_context(index, question, dense)
        paths = index.paths_of(files)
    return [paths[f] for f in files if f in paths]


def _file_accuracy(ranked_files: list[str], targets: set[str]) -> dict[int, bool]:
    return {k: bool(targets & set(ranked_files[:k])) for k in (1, 5, 10)}


# ---------------------------------------------------------------------- the run
def evaluate_history(root: Path, *, limit: int = 50, budgets: tuple[int, ...] = BUDGETS, embed: bool = False,
                     progress: Callable[[str], None] | None = None, **settings: object) -> HistoryReport:
    """Run the benchmark on the git repository at ``root`` (see the module docstring)."""
    from .context import token_counter

    say = progress or (lambda message: None)
    started = time.perf_counter()
    cases = find_cases(root, limit=limit)
    if not cases:
        raise CodeassistError("no bug-fix commits found in this repository's history to build cases from")
    say(f"{len(cases)} fix commits; indexing each parent in a private clone")
    counter = token_counter()
    found = {"search": Counter(), "files": Counter(), "bm25": Counter()}
    covered = {"codeassist": Counter(), "bm25": Counter()}
    per_case = []
    with tempfile.TemporaryDirectory(prefix="codeassist-history-") as tmp:
        clone = Path(tmp) / "repo"
        run_git(Path(tmp), "clone", "--quiet", "--shared", "--no-checkout", str(root), str(clone), timeout=600)
        for n, case in enumerate(sorted(cases, key=lambda c: c.commit), start=1):
            run_git(clone, "checkout", "--quiet", "--force", "--detach", case.parent, timeout=600)
            run_git(clone, "clean", "-qfdx", timeout=120)
            project: Project = open_project(clone, home=Path(tmp) / "home", embed=embed, **settings)
            project.index()
            say(f"case {n}/{len(cases)}: {case.commit[:10]}")
            targets = set(case.targets)
            hits = project.search(case.question[:2000], k=30)
            ranked = list(dict.fromkeys(h.path for h in hits))
            ours = _file_accuracy(ranked, targets)
            by_files = _file_accuracy(_context_files(project, case.question[:2000]), targets)
            files = {path: "\n".join(project.source(path)) for path in project.files()}
            bm25 = _bm25_rank(files, case.question)
            theirs = _file_accuracy(bm25, targets)
            for k in (1, 5, 10):
                found["search"][k] += ours[k]
                found["files"][k] += by_files[k]
                found["bm25"][k] += theirs[k]
            sizes = {path: counter.count(text) + 20 for path, text in files.items()}
            row: dict[str, object] = {"commit": case.commit[:12], "targets": {p: list(s) for p, s in case.targets.items()},
                                      "search_rank": next((i for i, p in enumerate(ranked, 1) if p in targets), 0),
                                      "bm25_rank": next((i for i, p in enumerate(bm25, 1) if p in targets), 0)}
            for budget in budgets:
                ctx = project.context(case.question[:8000], budget)
                full: dict[str, list[tuple[int, int]]] = {}
                for item in ctx.items:
                    if item.detail == "full":
                        full.setdefault(item.path, []).append((item.start_line, item.end_line))
                ok = _covered(case.targets, full)
                packed, spent = set(), 0
                for path in bm25:
                    if spent + sizes[path] <= budget:
                        packed.add(path)
                        spent += sizes[path]
                base = targets <= packed
                covered["codeassist"][budget] += ok
                covered["bm25"][budget] += base
                row[f"full@{budget}"] = ok
                row[f"bm25@{budget}"] = base
            per_case.append(row)
    total = len(cases)
    drops = sum(1 for row in per_case for small, big in zip(budgets, budgets[1:])
                if row[f"full@{small}"] and not row[f"full@{big}"])
    return HistoryReport(
        str(root), total,
        {name: {k: round(count[k] / total, 3) for k in (1, 5, 10)} for name, count in found.items()},
        {name: {b: round(count[b] / total, 3) for b in budgets} for name, count in covered.items()},
        round(time.perf_counter() - started, 1), per_case, drops)
