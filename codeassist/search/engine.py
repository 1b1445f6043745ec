"""Hybrid search over the index: several ranked sources fused with reciprocal-rank fusion.

Sources (each returns chunk ids in rank order):

* ``lexical`` – BM25 over code-aware terms (FTS5), path and symbol columns weighted up;
* ``symbol``  – identifiers and dotted names in the query matched against symbol names;
* ``path``    – file paths and ``file:line`` / stack-trace locations mentioned in the query;
* ``dense``   – nearest symbol vectors (when the index has embeddings);
* ``file``    – whole files ranked by BM25 of the query's terms over all their chunks (an
  issue's words are spread over a file; a symbol holds few of them), each standing for its
  chunk that holds the most of those terms;
* ``graph``   – neighbours of the best hits of the sources above in the reference graph: the
  definitions of what a hit uses, and the symbols that use a hit. A second pass: the other
  sources are fused first, their top hits seed the graph, and its ranking joins the fusion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from ..errors import QueryError
from ..index.reader import IndexReader
from ..parsing.kinds import KIND_RANK, NEIGHBOUR_KINDS
from ..parsing.terms import STOPWORDS, normalize_name, query_terms
from ..results import SearchHit

__all__ = ["search", "ranked_chunks", "ranked_for_context", "RankedChunk", "RRF_K", "SOURCES", "DenseSearch", "CONTEXT_SOURCES",
           "CONTEXT_RRF_K", "about_tests_or_docs"]

#: reciprocal-rank fusion constant: 20 measured better than the customary 60 on every corpus of
#: `codeassist eval` (top ranks of a source count for more)
RRF_K = 20
#: what the context assembler asks for: it follows the reference graph itself (definitions a
#: hit uses, personalised PageRank), and fuses a deeper list (60), where the flatter k = 60
#: keeps more of the candidates several sources agree on (needle check at 16k tokens, textual:
#: 95.0% with these, 91.7% with the search defaults; x/tools 86.7% vs 90.0%: one-two targets)
CONTEXT_SOURCES = frozenset({"lexical", "symbol", "path", "dense", "file"})
CONTEXT_RRF_K = 60
CONTEXT_HITS = 60  # pieces the context assembler considers
SYMBOL_SHARE_EXPONENT = 1.0
#: per-source weights in the fusion; identifiers typed by the user are strong evidence, a plain
#: English word that happens to name a symbol ("simplify") is weak evidence
SOURCE_WEIGHTS = {"lexical": 1.0, "symbol": 1.5, "symbol_word": 0.5, "path": 1.5, "dense": 1.0,
                  "graph": 0.25, "file": 1.0}
#: file source: terms looked at (most specific first), and how many chunks make a term too
#: common to say which file is meant
FILE_TERMS = 40
FILE_TERM_CAP = 2_000
#: tests, examples and docs rank this much lower unless the query is about them: they mention
#: the code they exercise, and are not it
ASIDE_FACTOR = 0.6
_ASIDE_WORDS = frozenset({"test", "tests", "testing", "example", "examples", "doc", "docs", "documentation",
                          "readme", "changelog", "fixture", "fixtures", "doctest", "doctests", "sample", "demo"})
_ASIDE_PATH = re.compile(r"(^|/)(examples?|samples?|demos?|docs?|benchmarks?)(/|$)|(^|/)tests?\.rs$"
                         r"|\.(md|rst|txt)$|(^|/)CHANGE", re.I)
#: a question longer than this many words is about tests or docs only when its first line says so
#: (a bug report that mentions the test it adds is still about the code)
ASIDE_SHORT_QUESTION = 25
#: graph source: how many fused hits seed it, and when a name is too common to follow
GRAPH_SEEDS = 10
_GRAPH_MAX_DEFINERS = 5
_GRAPH_MAX_USERS = 40
_BM25_WEIGHTS = (2.0, 4.0, 1.0, 1.0)  # path, symbol, body, extra
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|#|->)[A-Za-z_][A-Za-z0-9_]*)*")
_LOCATION = re.compile(
    r"(?P<path>[A-Za-z0-9_./\\-]+\.[A-Za-z0-9]{1,8})(?:\"?,? line (?P<l1>\d+)|:(?P<l2>\d+))?"
)


@dataclass
class _Candidate:
    chunk_id: int
    #: source -> (rank, weight) of this chunk in that source
    contrib: dict[str, tuple[int, float]] = field(default_factory=dict)
    symbol_id: int | None = None  # a symbol that matched by name, shown instead of the chunk's
    rrf_k: int = RRF_K
    factor: float = 1.0  # ASIDE_FACTOR for tests, examples and docs

    @property
    def score(self) -> float:
        return self.factor * sum(weight / (self.rrf_k + rank) for rank, weight in self.contrib.values())

    def score_without(self, source: str) -> float:
        return self.factor * sum(weight / (self.rrf_k + rank) for name, (rank, weight) in self.contrib.items()
                                 if name != source)

    @property
    def sources(self) -> dict[str, int]:
        return {source: rank for source, (rank, _w) in self.contrib.items()}


#: every retrieval source this module knows ("dense" needs a ``dense`` function)
SOURCES = ("lexical", "symbol", "path", "dense", "file", "graph")
#: what ``search`` fuses by default: the file source ranks files (it orders the files that come
#: whole in a context), and in a function-level search it cost 0.01-0.05 R@10 on `codeassist eval`
DEFAULT_SOURCES = frozenset(SOURCES) - {"file"}

#: query text, depth -> symbol ids, nearest first
#: dense retrieval for a query: (symbol ids, nearest first, at most ``depth``; the weight of
#: the source in the fusion, below 1 while the embedding stage covers part of the symbols)
DenseSearch = Callable[[str, int], tuple[list[int], float]]


class RankedChunk(NamedTuple):
    """A fused search result before it is materialised: a chunk, the symbol it stands for (a
    symbol matched by name, else None: the chunk's own), and its fused score."""

    chunk_id: int
    symbol_id: int | None
    score: float


#: a source's ranked list: (chunk id, symbol id or None, weight), best first
_SourceList = list[tuple[int, int | None, float]]


def search(index: IndexReader, query: str, k: int = 10, sources: set[str] | frozenset[str] | None = None,
           dense: DenseSearch | None = None) -> list[SearchHit]:
    """Top ``k`` hits for ``query``, fusing ``sources`` (default: ``DEFAULT_SOURCES``, those
    available)."""
    return _materialise(index, _ranked(index, query, k, sources, dense))


def ranked_chunks(index: IndexReader, query: str, k: int, sources: set[str] | frozenset[str] | None = None,
                  dense: DenseSearch | None = None, *, rrf_k: int = RRF_K) -> list[RankedChunk]:
    """Like :func:`search` without materialising, best first."""
    return [RankedChunk(c.chunk_id, c.symbol_id, c.score) for c in _ranked(index, query, k, sources, dense, rrf_k)]


def ranked_for_context(index: IndexReader, query: str, dense: DenseSearch | None, *, k: int = CONTEXT_HITS,
                       sources: set[str] | frozenset[str] | None = CONTEXT_SOURCES,
                       rrf_k: int = CONTEXT_RRF_K) -> tuple[list[RankedChunk], list[int]]:
    """What the context assembler asks for (its sources and fusion by default): the pieces
    (chunks fused from every source but the file source, best first: the code that answers),
    and the files in the order of the full fusion, the file source included (the files most
    likely to matter, for depth)."""
    merged = _ranked(index, query, k, sources, dense, rrf_k, keep_all=True)
    pieces = sorted((c for c in merged if c.score_without("file") > 0),
                    key=lambda c: (-c.score_without("file"), c.chunk_id))[:k]
    file_of = index.chunk_files(c.chunk_id for c in merged[: k * 2])
    files = list(dict.fromkeys(file_of[c.chunk_id] for c in merged[: k * 2] if c.chunk_id in file_of))
    return [RankedChunk(c.chunk_id, c.symbol_id, c.score_without("file")) for c in pieces], files


def _ranked(index: IndexReader, query: str, k: int, sources: set[str] | frozenset[str] | None,
            dense: DenseSearch | None, rrf_k: int = RRF_K, *, keep_all: bool = False) -> list[_Candidate]:
    if not query or not query.strip():
        raise QueryError("the search query is empty; pass some words or an identifier")
    k = max(1, int(k))
    depth = max(50, k * 5)
    candidates: dict[int, _Candidate] = {}

    def add(source: str, ranked: _SourceList) -> None:
        for rank, (chunk_id, symbol_id, weight) in enumerate(ranked, start=1):
            cand = candidates.setdefault(chunk_id, _Candidate(chunk_id, rrf_k=rrf_k))
            cand.contrib.setdefault(source, (rank, weight))
            if symbol_id is not None and cand.symbol_id is None:
                cand.symbol_id = symbol_id

    use = set(DEFAULT_SOURCES if sources is None else sources)
    if unknown := use - set(SOURCES):
        raise QueryError(f"unknown retrieval source(s) {sorted(unknown)}; choose from {', '.join(SOURCES)}")
    if "dense" in use and dense is not None:
        nearest, factor = dense(query, depth)
        chunk_of = index.chunks_for_symbols(nearest)
        add("dense", [(chunk_of[s], s, SOURCE_WEIGHTS["dense"] * factor) for s in nearest if s in chunk_of])
    if "lexical" in use:
        add("lexical", [(cid, None, SOURCE_WEIGHTS["lexical"]) for cid in _lexical(index, query, depth)])
    if "symbol" in use:
        add("symbol", _symbols(index, query, depth))
    if "path" in use:
        add("path", [(cid, None, SOURCE_WEIGHTS["path"]) for cid in _paths(index, query, depth)])
    if "file" in use:
        add("file", _files(index, query, depth))
    aside = _aside_chunks(index, candidates, query)
    merged = _merge_by_symbol(index, list(candidates.values()), aside)
    ranked = sorted(merged, key=lambda c: (-c.score, c.chunk_id))
    if "graph" in use and ranked:
        add("graph", _graph(index, ranked[:GRAPH_SEEDS], depth))
        aside = _aside_chunks(index, candidates, query)
        merged = _merge_by_symbol(index, list(candidates.values()), aside)
        ranked = sorted(merged, key=lambda c: (-c.score, c.chunk_id))
    return ranked if keep_all else ranked[:k]


def _files(index: IndexReader, query: str, limit: int) -> _SourceList:
    """Files by BM25 of the query's terms over all their chunks (term frequency counted in
    chunks), best first, each as its chunk holding the most (idf-weighted) query terms."""
    import math

    terms = sorted(query_terms(query), key=lambda t: (-len(t), t))[:FILE_TERMS]
    if not terms:
        return []
    n_files, mean_lines = index.length_stats()
    found: dict[str, list[int]] = {}
    for term in terms:
        ids = index.term_chunks(term, FILE_TERM_CAP)
        if ids and len(ids) < FILE_TERM_CAP:  # else too common to tell files apart
            found[term] = ids
    if not found:
        return []
    file_of = index.chunk_files({c for ids in found.values() for c in ids})
    tf: dict[int, dict[str, int]] = {}
    chunk_weight: dict[int, float] = {}
    idf: dict[str, float] = {}
    for term, ids in found.items():
        ids = [c for c in ids if c in file_of]
        files = {file_of[c] for c in ids}
        idf[term] = math.log(1 + (n_files - len(files) + 0.5) / (len(files) + 0.5))
        for chunk_id in ids:
            counts = tf.setdefault(file_of[chunk_id], {})
            counts[term] = counts.get(term, 0) + 1
            chunk_weight[chunk_id] = chunk_weight.get(chunk_id, 0.0) + idf[term]
    lengths = index.file_lengths(tf)
    k1, b = 1.2, 0.75
    score = {f: sum(idf[t] * n * (k1 + 1) / (n + k1 * (1 - b + b * lengths.get(f, mean_lines) / max(mean_lines, 1.0)))
                    for t, n in counts.items()) for f, counts in tf.items()}
    best_chunk: dict[int, int] = {}
    for chunk_id, weight in sorted(chunk_weight.items(), key=lambda kv: (-kv[1], kv[0])):
        best_chunk.setdefault(file_of[chunk_id], chunk_id)
    ranked = sorted(score, key=lambda f: (-score[f], f))[:limit]
    return [(best_chunk[f], None, SOURCE_WEIGHTS["file"]) for f in ranked]


def about_tests_or_docs(query: str) -> bool:
    """Whether a question is about tests, examples or docs, so that they are evidence for it:
    such a word in its first line, or anywhere in a short question."""
    def words(text: str) -> set[str]:  # words standing alone: C's test_and_set_bit says nothing of tests
        return {w.lower() for w in re.findall(r"\b[A-Za-z]+\b", text)}

    first = next((line for line in query.splitlines() if line.strip()), "")
    return bool(words(first) & _ASIDE_WORDS) or (len(query.split()) <= ASIDE_SHORT_QUESTION
                                                 and bool(words(query) & _ASIDE_WORDS))


def _aside_chunks(index: IndexReader, candidates: dict[int, _Candidate], query: str) -> set[int]:
    """Candidates in tests, examples and docs, when the query is not about those."""
    if about_tests_or_docs(query) or not candidates:
        return set()
    from ..walker import is_test_path

    file_of = index.chunk_files(candidates)  # ids only: no chunk text to read
    paths = index.paths_of(set(file_of.values()))
    return {cid for cid, f in file_of.items()
            if (p := paths.get(f)) is not None and (is_test_path(p) or _ASIDE_PATH.search(p))}


def _graph(index: IndexReader, seeds: list[_Candidate], limit: int) -> _SourceList:
    """Neighbours of the seed hits, best first: the definitions of names a seed uses (a name
    defined in several places shares its weight; one defined in the seed's own file wins) and
    the symbols that use a seed's name. Each seed counts 1/rank; names defined in more than
    ``_GRAPH_MAX_DEFINERS`` places or used by more than ``_GRAPH_MAX_USERS`` symbols say
    little and are not followed."""
    chunks = index.chunk_spans(c.chunk_id for c in seeds)
    seed_weight: dict[int, float] = {}
    for rank, cand in enumerate(seeds, start=1):
        chunk = chunks.get(cand.chunk_id)
        symbol = cand.symbol_id if cand.symbol_id is not None else (chunk.symbol_id if chunk else None)
        if symbol is not None and symbol not in seed_weight:
            seed_weight[symbol] = 1.0 / rank
    if not seed_weight:
        return []
    seed_rows = index.symbols_by_id(seed_weight)
    uses = index.names_used_by({sid: sym.file_id for sid, sym in seed_rows.items()})
    names = {last for _sid, last in uses} | {sym.name for sym in seed_rows.values()}
    definers: dict[str, list[tuple[int, int]]] = {}
    for sym in index.definitions_of({normalize_name(n) for n in names}, NEIGHBOUR_KINDS):
        if sym.name in names:
            definers.setdefault(sym.name, []).append((sym.id, sym.file_id))
    score: dict[int, float] = {}
    for seed, name in uses:  # what the seed uses
        found = definers.get(name, [])
        seed_file = seed_rows[seed].file_id if seed in seed_rows else None
        local = [d for d in found if d[1] == seed_file]
        targets = local or found
        if not targets or len(targets) > _GRAPH_MAX_DEFINERS:
            continue
        for sym_id, _file in targets:
            if sym_id != seed:
                score[sym_id] = score.get(sym_id, 0.0) + seed_weight[seed] / len(targets)
    for seed, sym in seed_rows.items():  # what uses the seed
        same_name = len(definers.get(sym.name, [])) or 1
        if same_name > _GRAPH_MAX_DEFINERS:
            continue
        users = index.users_of(sym.name, _GRAPH_MAX_USERS + 1)
        if not users or len(users) > _GRAPH_MAX_USERS:
            continue
        for user in users:
            if user != seed:
                score[user] = score.get(user, 0.0) + seed_weight[seed] / (same_name * len(users))
    best = [sym_id for sym_id, _s in sorted(score.items(), key=lambda item: (-item[1], item[0]))[:limit]]
    chunk_of = index.chunks_for_symbols(best)
    return [(chunk_of[s], s, SOURCE_WEIGHTS["graph"]) for s in best if s in chunk_of]


def _merge_by_symbol(index: IndexReader, candidates: list[_Candidate],
                     aside: set[int] | frozenset[int] = frozenset()) -> list[_Candidate]:
    """One candidate per enclosing symbol: several chunks of one function are one hit, and so
    are the definitions of one name in one file (``@overload`` stubs and the implementation).

    The merged hit keeps each source's best rank and shows its best-scoring chunk.
    """
    if not candidates:
        return []
    for cand in candidates:
        cand.factor = ASIDE_FACTOR if cand.chunk_id in aside else 1.0
    chunks = index.chunk_spans(c.chunk_id for c in candidates)
    symbol_of = {
        c.chunk_id: c.symbol_id if c.symbol_id is not None else (
            chunks[c.chunk_id].symbol_id if c.chunk_id in chunks else None)
        for c in candidates
    }
    identity = {sym_id: (sym.file_id, sym.qualname) for sym_id, sym in index.symbols_by_id(
        s for s in symbol_of.values() if s is not None).items()}
    groups: dict[object, list[_Candidate]] = {}
    first_symbol: dict[object, int] = {}
    for cand in candidates:
        symbol = symbol_of[cand.chunk_id]
        key: object = identity.get(symbol, ("chunk", cand.chunk_id)) if symbol is not None else (
            "chunk", cand.chunk_id)
        groups.setdefault(key, []).append(cand)
        if symbol is not None:
            first_symbol.setdefault(key, symbol)
    merged: list[_Candidate] = []
    for key, members in groups.items():
        best = max(members, key=lambda c: (c.score, -c.chunk_id))
        if len(members) == 1:
            merged.append(best)
            continue
        contrib: dict[str, tuple[int, float]] = {}
        for member in members:
            for source, (rank, weight) in member.contrib.items():
                if source not in contrib or rank < contrib[source][0]:
                    contrib[source] = (rank, weight)
        symbol = best.symbol_id if best.symbol_id is not None else first_symbol.get(key)
        merged.append(_Candidate(best.chunk_id, contrib, symbol, best.rrf_k, best.factor))
    return merged


def _lexical(index: IndexReader, query: str, limit: int) -> list[int]:
    terms = query_terms(query)
    if not terms:
        return []
    return index.lexical_match(" OR ".join(f'"{t}"' for t in terms), _BM25_WEIGHTS, limit)


def _symbols(index: IndexReader, query: str, limit: int) -> _SourceList:
    """Symbols named in the query, best first: (chunk holding the definition, symbol, weight)."""
    found: list[tuple[tuple, int, bool]] = []  # (sort key, symbol id, strong)
    seen: set[int] = set()
    named: set[str] = set()  # distinct names in the query that match some symbol
    words_only = query
    for start, end, _path, _line in reversed(_path_mentions(query)):  # a path is not a symbol name
        words_only = words_only[:start] + " " + words_only[end:]
    for match in _IDENT.finditer(words_only):
        word = match.group(0)
        parts = re.split(r"\.|::|#|->", word)
        last = parts[-1]
        if len(last) < 2 or (last.lower() in STOPWORDS and len(parts) == 1):
            continue
        dotted = ".".join(parts) if len(parts) > 1 else ""
        identifier_like = len(parts) > 1 or "_" in last or last != last.lower()
        rows = []
        if dotted:  # exact dotted matches first, whatever the number of same-named symbols
            rows += index.symbols_by_norm(normalize_name(last), qualname=dotted, limit=100)
        rows += index.symbols_by_norm(normalize_name(last), limit=500)
        for sym_id, _file_id, name, qualname, kind in rows:
            if sym_id in seen:
                continue
            if dotted and not (qualname.lower().endswith(dotted.lower()) or qualname.lower() == dotted.lower()):
                qual_penalty = 1
            else:
                qual_penalty = 0
            key = (
                qual_penalty,
                0 if name == last else 1,
                0 if identifier_like else 1,
                1 if name.startswith("_") else 0,
                KIND_RANK.get(kind, 4),
                len(qualname),
                qualname,
            )
            found.append((key, sym_id, identifier_like))
            seen.add(sym_id)
            named.add(last.lower())
    found.sort()
    # One named identifier is strong evidence; a doc-like text naming twenty is not: split the
    # weight between them (measured by `codeassist eval`: hybrid fell below lexical without it).
    share = 1.0 / max(1, len(named)) ** SYMBOL_SHARE_EXPONENT
    chunk_of = index.chunks_for_symbols(sym_id for _key, sym_id, _strong in found[:limit])
    return [(chunk_of[sym_id], sym_id, SOURCE_WEIGHTS["symbol" if strong else "symbol_word"] * share)
            for _key, sym_id, strong in found[:limit] if sym_id in chunk_of]


def _paths(index: IndexReader, query: str, limit: int) -> list[int]:
    """Files (and lines) the query names: ``pkg/mod.py``, ``mod.py:42``, ``File "x.py", line 3``."""
    out: list[int] = []
    for _start, _end, path, line in _path_mentions(query):
        for file_id in index.files_named(path, limit=5):
            if line:
                chunk = index.chunk_at(file_id, int(line))
                chunk_id = chunk.id if chunk else None
            else:
                chunk_id = index.first_chunk(file_id)
            if chunk_id is not None:
                out.append(chunk_id)
        if len(out) >= limit:
            break
    return out


def _path_mentions(query: str) -> list[tuple[int, int, str, str | None]]:
    """(start, end, path, line) for each file path in the query: it has a ``/``, a known file
    extension, or a line number (``Class.method`` is not a path)."""
    from ..parsing.languages import known_extensions

    out = []
    for match in _LOCATION.finditer(query):
        path = re.sub(r"^(\./|/)+", "", match.group("path").replace("\\", "/"))
        line = match.group("l1") or match.group("l2")
        ext = "." + path.rsplit(".", 1)[-1]
        if "/" in path or line or ext in known_extensions() or ext.lower() in known_extensions():
            out.append((match.start(), match.end(), path, line))
    return out


def _materialise(index: IndexReader, ranked: list[_Candidate]) -> list[SearchHit]:
    chunks = index.chunks(c.chunk_id for c in ranked)
    paths = index.paths_of(c.file_id for c in chunks.values())
    wanted = (c.symbol_id if c.symbol_id is not None else chunks[c.chunk_id].symbol_id
              for c in ranked if c.chunk_id in chunks)
    symbols = index.symbols_by_id(s for s in wanted if s is not None)
    hits: list[SearchHit] = []
    for cand in ranked:
        chunk = chunks.get(cand.chunk_id)
        if chunk is None:
            continue
        symbol_id = cand.symbol_id if cand.symbol_id is not None else chunk.symbol_id
        sym = symbols.get(symbol_id) if symbol_id is not None else None
        if chunk.file_id not in paths:
            continue
        hits.append(SearchHit(paths[chunk.file_id], chunk.start_line, chunk.end_line,
                              sym.qualname if sym else None, sym.kind if sym else None,
                              round(cand.score, 6), chunk.text, dict(cand.sources)))
    return hits
