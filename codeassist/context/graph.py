"""The reference graph of a repository and personalised PageRank over it (as in aider's map).

Nodes are files. Each use of a name in file A that some file B defines adds an edge A → B for
that name, weighted by ``sqrt(uses)``; private names (``_x``) and names defined in many files
weigh less, long distinctive identifiers and names the question mentions weigh more. Ranking
files with PageRank and handing each file's rank out along its edges ranks *definitions*:
``(file, name)`` pairs, which the repository map renders as an outline.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

from ..index.reader import IndexReader

__all__ = ["ReferenceGraph", "Ranking", "build_graph", "load_graph", "index_generation"]

DAMPING = 0.85
ITERATIONS = 40
UBIQUITOUS_FILES = 5  # a name defined in more files than this says little about which one is used
_DISTINCT = re.compile(r"^(?=.{8,})(?:[a-z0-9]+_[a-z0-9_]+|[A-Za-z][a-z0-9]+[A-Z][A-Za-z0-9]*)$")


@dataclass(frozen=True)
class Ranking:
    """PageRank of every file and of every definition (file id, name)."""

    file_rank: dict[int, float]
    definition_rank: dict[tuple[int, str], float]


@dataclass
class ReferenceGraph:
    file_ids: np.ndarray      # node index -> file id
    names: list[str]          # name index -> name
    src: np.ndarray           # per edge: node index of the using file
    dst: np.ndarray           # per edge: node index of the defining file
    name: np.ndarray          # per edge: name index
    weight: np.ndarray        # per edge: base weight
    pair: np.ndarray          # per edge: index into pairs
    pairs: np.ndarray         # (k, 2): node index, name index of each definition

    def rank(self, personal: Mapping[int, float] | None = None,
             mentioned: Iterable[str] = ()) -> Ranking:
        """Personalised PageRank: ``personal`` maps file ids to teleport weights; edges for
        ``mentioned`` names weigh ten times more."""
        import numpy as np

        n = len(self.file_ids)
        if n == 0:
            return Ranking({}, {})
        weight = self.weight
        mentioned = {m for m in mentioned if m}
        if mentioned and len(self.names):
            hot = np.fromiter((i for i, nm in enumerate(self.names) if nm in mentioned), dtype=np.int64)
            if len(hot):
                weight = weight * np.where(np.isin(self.name, hot), 10.0, 1.0)
        teleport = np.full(n, 1.0 / n)
        if personal:
            index = {int(f): i for i, f in enumerate(self.file_ids)}
            vec = np.zeros(n)
            for file_id, w in personal.items():
                if file_id in index and w > 0:
                    vec[index[file_id]] += w
            if vec.sum() > 0:
                teleport = vec / vec.sum()
        out_weight = np.bincount(self.src, weights=weight, minlength=n)
        dangling = out_weight == 0
        norm = weight / np.where(out_weight == 0, 1.0, out_weight)[self.src]
        rank = teleport.copy()
        for _ in range(ITERATIONS):
            spread = np.bincount(self.dst, weights=rank[self.src] * norm, minlength=n)
            new = DAMPING * (spread + rank[dangling].sum() * teleport) + (1 - DAMPING) * teleport
            if np.abs(new - rank).sum() < 1e-9:
                rank = new
                break
            rank = new
        per_pair = np.bincount(self.pair, weights=rank[self.src] * norm, minlength=len(self.pairs))
        file_rank = {int(f): float(r) for f, r in zip(self.file_ids, rank)}
        definition_rank = {
            (int(self.file_ids[p[0]]), self.names[p[1]]): float(v)
            for p, v in zip(self.pairs, per_pair)
            if v > 0
        }
        return Ranking(file_rank, definition_rank)


def build_graph(index: IndexReader) -> ReferenceGraph:
    """The graph of every indexed file (about 0.1 s per 50k references)."""
    import numpy as np

    from ..walker import is_test_path

    files = sorted(index.files(), key=lambda f: f.id)
    file_ids = [f.id for f in files]
    test_node = [is_test_path(f.path) for f in files]  # definitions in tests rarely serve other code
    node = {f: i for i, f in enumerate(file_ids)}
    defined_in: dict[str, set[int]] = {}
    for file_id, name in index.defined_names():
        if file_id in node:
            defined_in.setdefault(name, set()).add(node[file_id])
    uses: dict[tuple[int, str], int] = {}
    for file_id, last, line_count in index.reference_uses():
        if last in defined_in and file_id in node:
            key = (node[file_id], last)
            uses[key] = uses.get(key, 0) + line_count
    names: list[str] = []
    name_index: dict[str, int] = {}
    pair_index: dict[tuple[int, int], int] = {}
    src, dst, nm, weight, pair = [], [], [], [], []
    using_files: dict[str, int] = {}
    for _s, name in uses:
        using_files[name] = using_files.get(name, 0) + 1
    common = max(20, len(file_ids) // 10)  # used in over 10% of files: a builtin-like name
    for (s, name), count in sorted(uses.items()):
        definers = defined_in[name]
        mul = 1.0
        if using_files[name] > common:
            mul *= 0.1
        if name.startswith("_"):
            mul *= 0.1
        if len(definers) > UBIQUITOUS_FILES:
            mul *= 0.1
        if _DISTINCT.match(name):
            mul *= 10.0
        # an ambiguous use (several files define the name) is shared between its candidates
        w = mul * math.sqrt(count) / max(1, len(definers) - (s in definers))
        ni = name_index.get(name)
        if ni is None:
            ni = name_index[name] = len(names)
            names.append(name)
        for d in sorted(definers):
            if d == s:
                continue
            edge_weight = w * (0.1 if test_node[d] and not test_node[s] else 1.0)
            pi = pair_index.setdefault((d, ni), len(pair_index))
            src.append(s)
            dst.append(d)
            nm.append(ni)
            weight.append(edge_weight)
            pair.append(pi)
    pairs = np.array(list(pair_index), dtype=np.int64).reshape(-1, 2)
    return ReferenceGraph(
        np.array(file_ids, dtype=np.int64), names,
        np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(nm, dtype=np.int64),
        np.array(weight, dtype=np.float64), np.array(pair, dtype=np.int64), pairs,
    )


def index_generation(index: IndexReader) -> str:
    """A digest of which files the index holds and their content: changes exactly when the
    index does."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    # a rebuilt index (new parser, new settings) reuses file ids and hashes: tell it apart
    for key in ("created_at", "schema_version", "extractor_version", "settings"):
        digest.update(f"{key}={index.meta(key)};".encode())
    for file_id, file_hash in index.content_hashes():
        digest.update(f"{file_id}:{file_hash};".encode())
    return digest.hexdigest()


_CACHE_NAME = "graph-cache.pickle"


def load_graph(index: IndexReader, folder: Path, generation: str | None = None) -> ReferenceGraph:
    """The graph for the index in ``folder``, from its cache file when the index is unchanged."""
    import os
    import pickle

    generation = generation or index_generation(index)
    cache = folder / _CACHE_NAME
    try:
        with open(cache, "rb") as fh:
            stored_generation, graph = pickle.load(fh)
        if stored_generation == generation and isinstance(graph, ReferenceGraph):
            return graph
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
        pass  # missing, stale or damaged: rebuild
    graph = build_graph(index)
    tmp = cache.with_name(f"{_CACHE_NAME}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pickle.dump((generation, graph), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only data directory: work without the cache
    return graph
