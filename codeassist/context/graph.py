"""The reference graph of a repository and personalised PageRank over it (as in aider's map).

Nodes are files. Each use of a name in file A that some file B defines adds an edge A → B for
that name, weighted by ``sqrt(uses)``; private names (``_x``) and names defined in many files
weigh less, long distinctive identifiers and names the question mentions weigh more. Ranking
files with PageRank and handing each file's rank out along its edges ranks *definitions*:
``(file, name)`` pairs, which the repository map renders as an outline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

from ..index.reader import IndexReader

__all__ = ["ReferenceGraph", "Ranking", "build_graph", "load_graph", "index_generation"]

DAMPING = 0.85
ITERATIONS = 40
TOLERANCE = 1e-7  # L1 change of the rank vector (which sums to 1) at which iteration stops
#: a graph this big (a kernel: 83k files, 6.5M edges) stops after fewer iterations: what is left
#: to move then is under 2% of the rank (0.85^25), and each iteration costs ~7 ms
BIG_GRAPH_FILES = 20_000
BIG_GRAPH_ITERATIONS = 25
UBIQUITOUS_FILES = 5  # a name defined in more files than this says little about which one is used
_DISTINCT = re.compile(r"^(?=.{8,})(?:[a-z0-9]+_[a-z0-9_]+|[A-Za-z][a-z0-9]+[A-Z][A-Za-z0-9]*)$")


class Ranking:
    """PageRank of every file, and of every definition (file id, name) as scores per
    definition of ``graph`` (looked up one at a time or best first: a kernel has hundreds of
    thousands); an empty graph has none."""

    def __init__(self, file_rank: dict[int, float], *, pair_scores: np.ndarray | None = None,
                 graph: ReferenceGraph | None = None) -> None:
        self.file_rank = file_rank
        self._pair_scores = pair_scores
        self._graph = graph

    def definition_score(self, file_id: int, name: str) -> float:
        """The rank of one definition (0 when the graph has no edge to it)."""
        if self._graph is None or self._pair_scores is None:
            return 0.0
        pair = self._graph.pair_of(file_id, name)
        return 0.0 if pair is None else float(self._pair_scores[pair])

    def best_definitions(self) -> Iterator[tuple[tuple[int, str], float]]:
        """Definitions best first (ties by file id, then name)."""
        if self._graph is None or self._pair_scores is None:
            return
        import numpy as np

        graph, scores = self._graph, self._pair_scores
        file_ids, names = graph.file_ids, graph.names
        order = np.argsort(-scores, kind="stable")
        batch: list[tuple[tuple[int, str], float]] = []
        for start in range(0, len(order), 2048):
            batch = []
            for p in order[start:start + 2048].tolist():
                v = float(scores[p])
                if v <= 0:
                    break
                node, name = graph.pairs[p]
                batch.append(((int(file_ids[node]), names[int(name)]), v))
            batch.sort(key=lambda kv: (-kv[1], kv[0]))
            yield from batch
            if len(batch) < 2048:
                return


@dataclass
class ReferenceGraph:
    """The graph as two sparse matrices (scipy CSR): ``matrix`` (defining file × using file,
    edge weights summed) for the iteration, and ``pair_matrix`` (definition × using file) that
    hands each using file's rank out to the definitions it uses in one product. A kernel has
    6.5M edges: no per-edge array is read when ranking."""

    file_ids: np.ndarray      # node index -> file id
    names: list[str]          # name index -> name (sorted)
    pairs: np.ndarray         # (k, 2): node index, name index of each definition
    matrix: object            # (n, n) CSR: [defining node, using node] = summed edge weight
    pair_matrix: object       # (k, n) CSR: [definition, using node] = summed edge weight
    out_weight: np.ndarray    # per node: the weight of its outgoing edges (column sums of matrix)
    #: the global ranking (no personalisation), computed once with the graph
    global_file_rank: np.ndarray | None = None
    global_pair_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._lookup: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _lookups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Definitions in name order with their name indices, nodes in file id order with
        their ids (a renumbered graph's file ids are not sorted)."""
        import numpy as np

        if self._lookup is None:
            order = np.argsort(self.pairs[:, 1], kind="stable") if len(self.pairs) else np.zeros(0, np.int64)
            by_id = np.argsort(self.file_ids, kind="stable")
            self._lookup = (order, self.pairs[order, 1].astype(np.int64), by_id, self.file_ids[by_id])
        return self._lookup

    def _name_index(self, name: str) -> int | None:
        import bisect

        ni = bisect.bisect_left(self.names, name)
        return ni if ni < len(self.names) and self.names[ni] == name else None

    def pair_of(self, file_id: int, name: str) -> int | None:
        """The index of definition (file id, name) in :attr:`pairs`, if the graph has it
        (names are in sorted order: a binary search finds one)."""
        import numpy as np

        order, sorted_names, by_id, sorted_ids = self._lookups()
        at = int(np.searchsorted(sorted_ids, file_id))
        ni = self._name_index(name)
        if at >= len(sorted_ids) or sorted_ids[at] != file_id or ni is None:
            return None
        node = int(by_id[at])
        lo, hi = np.searchsorted(sorted_names, ni, "left"), np.searchsorted(sorted_names, ni, "right")
        for p in order[lo:hi].tolist():
            if self.pairs[p, 0] == node:
                return p
        return None

    def rank(self, personal: Mapping[int, float] | None = None,
             mentioned: Iterable[str] = ()) -> Ranking:
        """Personalised PageRank: ``personal`` maps file ids to teleport weights; edges for
        ``mentioned`` names weigh ten times more."""
        if len(self.file_ids) == 0:
            return Ranking({})
        mentioned = {m for m in mentioned if m}
        if not personal and not mentioned and self.global_file_rank is not None:
            rank, per_pair = self.global_file_rank, self.global_pair_scores
        else:
            rank, per_pair = self._scores(personal, mentioned)
        return Ranking(dict(zip(self.file_ids.tolist(), rank.tolist())), pair_scores=per_pair, graph=self)

    def _teleport(self, personal: Mapping[int, float] | None) -> np.ndarray:
        """The teleport vector: ``personal``'s weights on their files' nodes, else uniform."""
        import numpy as np

        n = len(self.file_ids)
        if personal:
            _order, _names, by_id, sorted_ids = self._lookups()
            ids = np.fromiter(personal.keys(), dtype=np.int64, count=len(personal))
            weights = np.fromiter(personal.values(), dtype=np.float64, count=len(personal))
            at = np.minimum(np.searchsorted(sorted_ids, ids), n - 1)
            ok = (sorted_ids[at] == ids) & (weights > 0)
            vec = np.bincount(by_id[at[ok]], weights=weights[ok], minlength=n).astype(np.float64)
            if vec.sum() > 0:
                return vec / vec.sum()
        return np.full(n, 1.0 / n)

    def _scores(self, personal: Mapping[int, float] | None = None,
                mentioned: set[str] | frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """The rank of every node, and the score of every definition (index into ``pairs``)."""
        import numpy as np

        n = len(self.file_ids)
        matrix, pair_matrix = self.matrix, self.pair_matrix
        hot_names = [ni for ni in (self._name_index(m) for m in mentioned) if ni is not None]
        hot_pairs = np.flatnonzero(np.isin(self.pairs[:, 1], hot_names)) if hot_names else np.zeros(0, np.int64)
        out_weight = np.asarray(self.out_weight, dtype=np.float64)
        extra = None
        if len(hot_pairs):  # the mentioned names' edges, nine times more on top of the base
            from scipy.sparse import csr_matrix

            rows = pair_matrix[hot_pairs]  # type: ignore[index]
            dst = np.repeat(self.pairs[hot_pairs, 0], np.diff(rows.indptr))
            extra = csr_matrix((9.0 * rows.data, (dst, rows.indices)), shape=(n, n))
            out_weight = out_weight + np.bincount(rows.indices, weights=9.0 * rows.data, minlength=n)
        teleport = self._teleport(personal)
        dangling = out_weight == 0
        inverse_out = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_weight))
        rank = teleport.copy()
        for _ in range(ITERATIONS if n < BIG_GRAPH_FILES else BIG_GRAPH_ITERATIONS):
            share = rank * inverse_out
            spread = matrix @ share  # type: ignore[operator]
            if extra is not None:
                spread = spread + extra @ share
            new = DAMPING * (spread + rank[dangling].sum() * teleport) + (1 - DAMPING) * teleport
            if np.abs(new - rank).sum() < TOLERANCE:
                rank = new
                break
            rank = new
        per_pair = pair_matrix @ (rank * inverse_out)  # type: ignore[operator]
        if len(hot_pairs):
            per_pair[hot_pairs] *= 10.0
        return rank, per_pair


def build_graph(index: IndexReader) -> ReferenceGraph:
    """The graph of every indexed file, built with array operations (the kernel's 5M
    references take seconds, not minutes)."""
    import numpy as np

    from ..walker import is_test_path

    files = sorted(index.files(), key=lambda f: f.id)
    file_ids = np.array([f.id for f in files], dtype=np.int64)
    test_node = np.array([is_test_path(f.path) for f in files], dtype=bool)  # tests rarely serve other code
    n = len(files)

    def nodes_of(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Node index of each file id, and which ids are indexed files."""
        ids_array = np.array(ids, dtype=np.int64)
        pos = np.minimum(np.searchsorted(file_ids, ids_array), max(n - 1, 0))
        return pos, (file_ids[pos] == ids_array) if n else np.zeros(len(ids), dtype=bool)

    name_id: dict[str, int] = {}
    intern = name_id.setdefault
    def_files, def_names = [], []
    for file_id, name in index.defined_names():
        def_files.append(file_id)
        def_names.append(intern(name, len(name_id)))
    get = name_id.get
    use_files, use_names, use_counts = [], [], []
    for file_id, last, count in index.reference_counts():
        ni = get(last)
        if ni is not None:
            use_files.append(file_id)
            use_names.append(ni)
            use_counts.append(count)
    all_names = list(name_id)
    n_names = max(1, len(all_names))
    def_node, ok = nodes_of(def_files)
    def_name = np.array(def_names, dtype=np.int64)[ok]
    def_node = def_node[ok]
    use_node, ok = nodes_of(use_files)
    # uses summed per (using file, name)
    use_key = (use_node * n_names + np.array(use_names, dtype=np.int64))[ok]
    uses, inverse = np.unique(use_key, return_inverse=True)
    count = np.bincount(inverse, weights=np.array(use_counts, dtype=np.float64)[ok], minlength=len(uses))
    s_node, s_name = uses // n_names, uses % n_names
    # per name: how many files use it, how many define it, and what the name itself says
    using_files = np.bincount(s_name, minlength=n_names)
    definers = np.bincount(def_name, minlength=n_names)
    name_mul = np.ones(n_names)
    name_mul[using_files > max(20, n // 10)] *= 0.1  # used in over 10% of files: a builtin-like name
    name_mul[definers > UBIQUITOUS_FILES] *= 0.1
    for ni in np.flatnonzero(using_files).tolist():
        name = all_names[ni]
        if name.startswith("_"):
            name_mul[ni] *= 0.1
        if _DISTINCT.match(name):
            name_mul[ni] *= 10.0
    # an ambiguous use (several files define the name) is shared between its candidates
    def_key = np.sort(def_node * n_names + def_name)
    pos = np.minimum(np.searchsorted(def_key, uses), max(len(def_key) - 1, 0))
    self_defined = (def_key[pos] == uses) if len(def_key) else np.zeros(len(uses), dtype=bool)
    use_weight = name_mul[s_name] * np.sqrt(count) / np.maximum(1, definers[s_name] - self_defined)
    # one edge per (use, definer): definers grouped by name, then expanded per use
    by_name = np.argsort(def_name * max(n, 1) + def_node, kind="stable")
    grouped_node = def_node[by_name]
    starts = np.concatenate(([0], np.cumsum(definers)[:-1]))
    repeats = definers[s_name]
    edge_use = np.repeat(np.arange(len(uses)), repeats)
    first = np.repeat(np.cumsum(repeats) - repeats, repeats)
    edge_dst = grouped_node[starts[s_name][edge_use] + (np.arange(len(edge_use)) - first)]
    edge_src = s_node[edge_use]
    keep = edge_dst != edge_src
    edge_use, edge_src, edge_dst = edge_use[keep], edge_src[keep], edge_dst[keep]
    edge_name = s_name[edge_use]
    weight = use_weight[edge_use] * np.where(test_node[edge_dst] & ~test_node[edge_src], 0.1, 1.0) \
        if len(edge_use) else np.zeros(0)
    # names that have an edge, in sorted order (a name's index is then a binary search away)
    used = np.unique(edge_name)
    order = sorted(range(len(used)), key=lambda i: all_names[used[i]])
    renumber = np.zeros(n_names, dtype=np.int64)
    renumber[used[order]] = np.arange(len(used))
    names = [all_names[used[i]] for i in order]
    edge_name = renumber[edge_name]
    pair_keys, pair = np.unique(edge_dst * max(len(names), 1) + edge_name, return_inverse=True)
    pairs = np.stack((pair_keys // max(len(names), 1), pair_keys % max(len(names), 1)), axis=1).astype(np.int32)
    from scipy.sparse import csr_matrix

    matrix = csr_matrix((weight, (edge_dst, edge_src)), shape=(n, n))
    matrix.sum_duplicates()
    pair_matrix = csr_matrix((weight, (pair.reshape(-1), edge_src)), shape=(len(pairs), n))
    pair_matrix.sum_duplicates()
    graph = ReferenceGraph(file_ids, names, pairs.reshape(-1, 2), matrix, pair_matrix,
                           np.asarray(matrix.sum(axis=0), dtype=np.float64).ravel())
    if n:
        graph.global_file_rank, graph.global_pair_scores = graph._scores()
    return graph


def index_generation(index: IndexReader) -> str:
    """A digest of which files the index holds and their content: changes exactly when the
    index does."""
    import hashlib

    return hashlib.blake2b(f"{_build_key(index)}|{index.content_digest()}".encode(), digest_size=16).hexdigest()


def _build_key(index: IndexReader) -> str:
    """What tells a rebuilt index (new parser, new settings; file ids and hashes reused) apart."""
    return "".join(f"{key}={index.meta(key)};" for key in ("created_at", "schema_version", "extractor_version",
                                                             "settings"))


_CACHE_DIR = "graph-cache"
#: a big repository's graph is reused, its files matched by path, while few files changed since
#: it was built (it is a ranking prior: a few edits barely move it, and a rebuild takes seconds)
STALE_MIN_FILES = 5_000
STALE_MAX_SHARE = 0.01
_CACHE_FORMAT = 7  # bump when ReferenceGraph changes
_MATRICES = ("matrix", "pair_matrix")
_MATRIX_PARTS = ("data", "indices", "indptr")  # of each matrix, one .npy each
_ARRAYS = ("file_ids", "pairs", "out_weight", "global_file_rank", "global_pair_scores")
_MATRIX_FILES = tuple(f"{matrix}_{part}.npy" for matrix in _MATRICES for part in _MATRIX_PARTS)


def _save(graph: ReferenceGraph, target: Path, files_text: str, build_key: str) -> None:
    """Write ``graph`` as one ``.npy`` file per array (memory-mapped when read) in ``target``."""
    import numpy as np

    for name in _ARRAYS:
        np.save(target / f"{name}.npy", getattr(graph, name), allow_pickle=False)
    for matrix in _MATRICES:
        for part in _MATRIX_PARTS:
            np.save(target / f"{matrix}_{part}.npy", getattr(getattr(graph, matrix), part), allow_pickle=False)
    (target / "names.txt").write_text("\n".join(graph.names), encoding="utf-8")
    (target / "files.txt").write_text(files_text, encoding="utf-8")
    (target / "build.txt").write_text(build_key, encoding="utf-8")


def _load(source: Path) -> ReferenceGraph:
    """The graph saved in ``source``: arrays memory-mapped, not read, so that a short-lived
    command touches only the pages it uses and processes share them."""
    import numpy as np
    from scipy.sparse import csr_matrix

    def mapped(name: str) -> np.ndarray:
        return np.load(source / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    arrays = {name: mapped(name) for name in _ARRAYS}
    n, k = len(arrays["file_ids"]), len(arrays["pairs"])
    matrices = {matrix: csr_matrix(tuple(mapped(f"{matrix}_{part}") for part in _MATRIX_PARTS),
                                   shape=(k if matrix == "pair_matrix" else n, n), copy=False)
                for matrix in _MATRICES}
    text = (source / "names.txt").read_text(encoding="utf-8")
    return ReferenceGraph(names=text.split("\n") if text else [], **arrays, **matrices)


def load_graph(index: IndexReader, folder: Path, generation: str | None = None) -> ReferenceGraph:
    """The graph for the index in ``folder``, from its cache when the index is unchanged."""
    generation = generation or index_generation(index)
    cache = folder / _CACHE_DIR
    current = generation_folder(folder, generation)
    try:
        return _load(current)
    except (OSError, ValueError, TypeError):
        pass  # missing, stale or damaged: rebuild
    stale = _reuse_stale(index, cache)
    if stale is not None:
        graph, source = stale
        # kept under this generation, so the next call maps it instead of renumbering again
        _publish(cache, current, lambda target: _save_renumbered(graph, source, target))
        return graph
    graph = build_graph(index)
    _publish(cache, current, lambda target: _save(graph, target, _files_text(index, graph), _build_key(index)))
    try:
        (folder / "graph-cache.pickle").unlink(missing_ok=True)  # the cache's earlier form
    except OSError:
        pass
    return graph


def generation_folder(folder: Path, generation: str) -> Path:
    """Where the cache of one index generation lives (its graph, and what else a short-lived
    process would otherwise compute again: see ``assemble.IndexSnapshot``)."""
    return folder / _CACHE_DIR / f"v{_CACHE_FORMAT}-{generation}"


def read_cached(folder: Path, generation: str, name: str) -> bytes | None:
    """A file kept with a generation's graph, if it is there."""
    try:
        return (generation_folder(folder, generation) / name).read_bytes()
    except OSError:
        return None


def write_cached(folder: Path, generation: str, name: str, data: bytes) -> None:
    """Keep ``data`` with a generation's graph (atomically; nothing when it cannot be written,
    or once that generation's cache is gone)."""
    import os
    import threading

    target = generation_folder(folder, generation)
    tmp = target / f".{name}.{os.getpid()}.{threading.get_ident()}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target / name)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _publish(cache: Path, current: Path, write: Callable[[Path], None]) -> None:
    """Write a cache entry through ``write`` into a temporary folder, move it to ``current``
    and remove the earlier generations (a reader that maps one keeps its pages). A read-only
    data directory leaves the cache as it was."""
    import os
    import shutil

    tmp = cache / f".tmp-{os.getpid()}"
    try:
        cache.mkdir(exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        write(tmp)
        shutil.rmtree(current, ignore_errors=True)  # a damaged copy
        os.rename(tmp, current)
        for old in cache.iterdir():
            if old.name != current.name and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _save_renumbered(graph: ReferenceGraph, source: Path, target: Path) -> None:
    """A reused graph: every file of its source's graph hard-linked but the renumbered node ids
    (not what else that generation kept: it is another generation's). Its ``files.txt`` stays
    the source's, so the drift is still measured from the build."""
    import os
    import shutil

    import numpy as np

    linked = ({f"{name}.npy" for name in _ARRAYS if name != "file_ids"} | {"names.txt", "files.txt", "build.txt"}
              | set(_MATRIX_FILES))
    for item in source.iterdir():
        if item.name in linked:
            try:
                os.link(item, target / item.name)
            except OSError:
                shutil.copy2(item, target / item.name)
    np.save(target / "file_ids.npy", graph.file_ids, allow_pickle=False)


def _files_text(index: IndexReader, graph: ReferenceGraph) -> str:
    """``path<TAB>content hash`` of each node, in node order."""
    files = {f.id: f for f in index.files()}
    return "\n".join(f"{files[f].path}\t{files[f].hash}" if f in files else "\t"
                     for f in graph.file_ids.tolist())


def _reuse_stale(index: IndexReader, cache: Path) -> tuple[ReferenceGraph, Path] | None:
    """The cached graph of an earlier generation with its nodes renumbered to today's file ids
    (an edited file gets a new id; a removed one none), and its folder, if the repository is
    big and few of its files changed since it was built; else None."""
    import numpy as np

    try:
        candidates = sorted((d for d in cache.iterdir() if d.name.startswith(f"v{_CACHE_FORMAT}-")),
                            key=lambda d: d.stat().st_mtime, reverse=True)
    except OSError:
        return None
    if not candidates:
        return None
    source = candidates[0]
    current = index.files()
    if len(current) < STALE_MIN_FILES:
        return None
    try:
        if (source / "build.txt").read_text(encoding="utf-8") != _build_key(index):
            return None
        stored = [tuple(line.rsplit("\t", 1)) for line in (source / "files.txt").read_text(encoding="utf-8").split("\n")
                  if "\t" in line]
        graph = _load(source)
    except (OSError, ValueError, TypeError):
        return None
    now = {f.path: (f.id, f.hash) for f in current}
    before = {path: h for path, h in stored}
    changed = sum(1 for path, (_f, h) in now.items() if before.get(path) != h)
    changed += sum(1 for path in before if path not in now)
    if changed > STALE_MAX_SHARE * len(current):
        return None
    graph.file_ids = np.array([now.get(path, (-1, ""))[0] for path, _h in stored], dtype=np.int64)
    return graph, source
