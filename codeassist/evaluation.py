"""``codeassist eval``: a retrieval benchmark built from the repository itself.

Targets are documented functions and methods (test code excluded). Their doc comments are
removed from a copy of the repository (replaced in place, so every line number and byte offset
stays the same), the copy is indexed, and each doc text, with the function's own name taken out,
becomes a query. Recall@1/5/10 and MRR@10 are reported for each retrieval mode, so that models
and settings can be compared on the user's own code.

The definitions of one name in one file (TypeScript overload signatures, ``@overload`` stubs)
are one target, since search shows them as one hit; a doc text shared by several functions is
not a query.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import IndexNotBuiltError
from .parsing.extract import parse_file
from .project import Project
from .results import SearchHit
from .walker import is_test_path

__all__ = ["EvalTarget", "ModeResult", "EvalReport", "evaluate", "MODES", "NeedleReport", "needle_check",
           "blanked_copy", "hit_matches"]

#: retrieval modes: name -> sources fused ("dense" is added, and joins hybrid, when the
#: repository has embeddings)
MODES: dict[str, frozenset[str]] = {
    "lexical": frozenset({"lexical"}),
    "hybrid": frozenset({"lexical", "symbol", "path", "graph"}),
}
_MIN_DOC_WORDS = 5
_QUERY_WORDS = 64


@dataclass(frozen=True)
class EvalTarget:
    """A documented function and the query made from its doc text."""

    path: str
    qualname: str
    start_line: int
    end_line: int
    query: str


@dataclass(frozen=True)
class ModeResult:
    mode: str
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr: float
    #: rank (1-10) of each target in target order; 0 = not in the top 10
    ranks: tuple[int, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class EvalReport:
    repo: str
    targets: int
    candidates: int
    results: tuple[ModeResult, ...]
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "repo": self.repo,
            "targets": self.targets,
            "candidates": self.candidates,
            "seconds": round(self.seconds, 2),
            "results": [
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in dataclasses.asdict(r).items()
                 if k != "ranks"}
                for r in self.results
            ],
        }


def _query_from_doc(doc: str, name: str) -> str:
    text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", " ", doc)
    words = text.split()
    return " ".join(words[:_QUERY_WORDS])


def _candidates(rows: list[tuple]) -> tuple[list[tuple], dict[tuple[str, str], list[int]]]:
    """Documented functions that make a fair target, and the start lines of every documented
    definition of each (path, qualname).

    Search shows the definitions of one name in one file (overload signatures, ``@overload``
    stubs, a property's getter and setter) as one hit, so they are one target, described by its
    longest doc. A doc text that several functions share ("@deprecated Pass an array of sources
    instead") names none of them and is left out."""
    groups: dict[tuple[str, str], list[tuple]] = {}  # every documented definition, short docs too
    for row in rows:
        if not is_test_path(row[0]):
            groups.setdefault((row[0], row[1]), []).append(row)
    owners: dict[str, set[tuple[str, str]]] = {}  # query text -> the functions it describes
    for key, group in groups.items():
        for row in group:
            owners.setdefault(_query_from_doc(row[5], row[2]), set()).add(key)
    best = [max(group, key=lambda r: (len(r[5]), -r[3])) for group in groups.values()]
    fair = [row for row in best if len(row[5].split()) >= _MIN_DOC_WORDS
            and len(owners[_query_from_doc(row[5], row[2])]) == 1]
    return fair, {key: [r[3] for r in group] for key, group in groups.items()}


def hit_matches(hit: SearchHit, target: EvalTarget) -> bool:
    """Whether a search hit is the target: it overlaps the target's lines, or it is the
    target's name in the target's file (search merges the definitions of one name there)."""
    return hit.path == target.path and (
        hit.symbol == target.qualname
        or (hit.start_line <= target.end_line and hit.end_line >= target.start_line))


def _blank_doc(data: bytearray, span: tuple[int, int], python: bool) -> None:
    """Overwrite a doc in place, keeping offsets: a docstring becomes ``...``, a comment spaces."""
    start, end = span
    for i in range(start, end):
        if data[i] not in (10, 13):
            data[i] = 32
    if python and end - start >= 3:
        data[start : start + 3] = b"..."


@contextmanager
def blanked_copy(project: Project, *, limit: int, seed: int,
                 say: Callable[[str], None]) -> Iterator[tuple[Project, list[EvalTarget], int]]:
    """An indexed copy of ``project`` whose sampled documented functions lost their doc
    comments: yields (copy, targets, number of candidate functions). Removed afterwards."""
    status = project.status(check_pending=False)
    if not status.indexed:
        raise IndexNotBuiltError("eval needs an index; run `codeassist index` first")
    with project.reader() as index:
        files = {f.path: (f.language, f.hash) for f in index.files()}
        rows = [(d.path, d.qualname, d.name, d.start_line, d.end_line, d.doc) for d in index.documented_callables()]
    candidates, siblings = _candidates(rows)
    candidates.sort(key=lambda r: hashlib.blake2b(f"{seed}\0{r[0]}\0{r[1]}\0{r[3]}".encode()).digest())
    chosen = candidates[:limit]
    by_file: dict[str, list[tuple]] = {}
    for row in chosen:
        by_file.setdefault(row[0], []).append(row)

    with tempfile.TemporaryDirectory(prefix="codeassist-eval-") as tmp:
        copy_root = Path(tmp) / "repo"
        say(f"copying {len(files)} files without the doc comments of {len(chosen)} targets")
        targets: list[EvalTarget] = []
        for relpath in files:
            src = project.root / relpath
            dst = copy_root / relpath
            dst.parent.mkdir(parents=True, exist_ok=True)
            if relpath not in by_file:
                try:
                    shutil.copyfile(src, dst)
                except OSError:
                    pass
                continue
            data = bytearray(src.read_bytes())
            language = files[relpath][0] or "text"
            parsed = parse_file(bytes(data), relpath, language, project.settings.chunk_chars)
            spans = {(s.qualname, s.start_line): s.doc_span for s in parsed.symbols}
            for path, qualname, name, start, end, doc in by_file[relpath]:
                span = spans.get((qualname, start))
                if not span or span == (0, 0):
                    continue  # the file changed since it was indexed
                # the overloads sharing the name lose their docs too: search shows them as one hit
                for line in siblings.get((path, qualname), (start,)):
                    if (other := spans.get((qualname, line))) and other != (0, 0):
                        _blank_doc(data, other, python=language == "python")
                query = _query_from_doc(doc, name)
                if query:
                    targets.append(EvalTarget(path, qualname, start, end, query))
            dst.write_bytes(bytes(data))

        from .factory import embedding_cache_dir

        # the copy shares the embedding cache: only the functions whose docs were blanked are new
        settings = dataclasses.replace(project.settings, home=Path(tmp) / "home",
                                       embed_cache_dir=str(embedding_cache_dir(project.settings)),
                                       chroma_url="")
        copy = Project(copy_root, settings)
        say("indexing the copy")
        copy.index()
        yield copy, targets, len(candidates)


def evaluate(
    project: Project,
    *,
    limit: int = 200,
    seed: int = 0,
    modes: dict[str, frozenset[str]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalReport:
    """Run the benchmark on ``project`` (which must be indexed)."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    modes = dict(modes or MODES)
    with blanked_copy(project, limit=limit, seed=seed, say=say) as (copy, targets, candidates):
        if copy.status(check_pending=False).embedded:
            joined = {k: (v | {"dense"} if k == "hybrid" else v) for k, v in modes.items()}
            items = list(joined.items())
            modes = dict(items[:1] + [("dense", frozenset({"dense"}))] + items[1:])
        results = []
        for mode, sources in modes.items():
            say(f"querying: {mode}")
            ranks = []
            for target in targets:
                hits = copy.search(target.query, k=10, sources=set(sources))
                rank = next((i for i, h in enumerate(hits, start=1) if hit_matches(h, target)), 0)
                ranks.append(rank)
            n = max(1, len(ranks))
            results.append(
                ModeResult(
                    mode,
                    sum(1 for r in ranks if r == 1) / n,
                    sum(1 for r in ranks if 1 <= r <= 5) / n,
                    sum(1 for r in ranks if 1 <= r <= 10) / n,
                    sum(1 / r for r in ranks if r) / n,
                    tuple(ranks),
                )
            )
    return EvalReport(str(project.root), len(targets), candidates, tuple(results),
                      time.perf_counter() - started)


@dataclass(frozen=True)
class NeedleReport:
    """Share of targets whose function appears in full in the context, per budget."""

    repo: str
    targets: int
    found: dict[int, float]
    seconds: float
    #: per budget, the targets (path, qualname) missed
    missed: dict[int, tuple[tuple[str, str], ...]] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"repo": self.repo, "targets": self.targets, "seconds": round(self.seconds, 2),
                "found_in_full": {str(b): round(v, 4) for b, v in self.found.items()}}


def needle_check(project: Project, *, budgets: tuple[int, ...] = (4_000, 8_000, 16_000),
                 limit: int = 60, seed: int = 0,
                 progress: Callable[[str], None] | None = None) -> NeedleReport:
    """For documented functions described by their doc text (docs removed from the indexed
    copy), how often the function appears in full in the context of each budget."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    found: dict[int, float] = {}
    missed: dict[int, tuple[tuple[str, str], ...]] = {}
    with blanked_copy(project, limit=limit, seed=seed, say=say) as (copy, targets, _candidates):
        for budget in budgets:
            say(f"building {len(targets)} contexts of {budget} tokens")
            lost = []
            for t in targets:
                ctx = copy.context(t.query, budget)
                if not any(i.detail == "full" and i.path == t.path and i.start_line <= t.start_line
                           and i.end_line >= t.end_line for i in ctx.items):
                    lost.append((t.path, t.qualname))
            found[budget] = 1 - len(lost) / max(1, len(targets))
            missed[budget] = tuple(lost)
    return NeedleReport(str(project.root), len(targets), found, time.perf_counter() - started, missed)
