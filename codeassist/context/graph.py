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
    file_ids: np.ndarray      # node index -> file id
    names: list[str]          # name index -> name
    src: np.ndarray           # per edge: node index of the using file
    dst: np.ndarray           # per edge: node index of the defining file
    name: np.ndarray          # per edge: name index
    weight: np.ndarray        # per edge: base weight
    pair: np.ndarray          # per edge: index into pairs
    pairs: np.ndarray         # (k, 2): node index, name index of each definition
    #: the global ranking (no personalisation), computed once with the graph
    global_file_rank: np.ndarray | None = None
    global_pair_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._matrix: object = None  # the file-to-file matrix, built once and kept in the cache
        self._lookup: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _file_matrix(self) -> object:
        """Sparse (dst, src) matrix of summed edge weights: one row per defining file."""
        if self._matrix is None:
            from scipy.sparse import csr_matrix

            n = len(self.file_ids)
            self._matrix = csr_matrix((self.weight, (self.dst, self.src)), shape=(n, n))
            self._matrix.sum_duplicates()
        return self._matrix

    def pair_of(self, file_id: int, name: str) -> int | None:
        """The index of definition (file id, name) in :attr:`pairs`, if the graph has it
        (names are in sorted order: a binary search finds one)."""
        import bisect

        import numpy as np

        if self._lookup is None:
            order = np.argsort(self.pairs[:, 1], kind="stable") if len(self.pairs) else np.zeros(0, np.int64)
            by_id = np.argsort(self.file_ids, kind="stable")
            self._lookup = (order, self.pairs[order, 1].astype(np.int64), by_id, self.file_ids[by_id])
        order, sorted_names, by_id, sorted_ids = self._lookup
        at = int(np.searchsorted(sorted_ids, file_id))
        ni = bisect.bisect_left(self.names, name)
        if at >= len(sorted_ids) or sorted_ids[at] != file_id or ni >= len(self.names) or self.names[ni] != name:
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

    def _scores(self, personal: Mapping[int, float] | None = None,
                mentioned: set[str] | frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
        """The rank of every node, and the score of every definition (index into ``pairs``)."""
        import numpy as np

        n = len(self.file_ids)
        matrix = self._file_matrix()
        hot_edges = np.zeros(0, dtype=np.int64)
        if mentioned and len(self.names):
            hot = np.fromiter((i for i, nm in enumerate(self.names) if nm in mentioned), dtype=np.int64)
            if len(hot):
                hot_edges = np.flatnonzero(np.isin(self.name, hot))
        extra = None
        if len(hot_edges):  # the mentioned names' edges, nine times more on top of the base
            from scipy.sparse import csr_matrix

            extra = csr_matrix((9.0 * self.weight[hot_edges], (self.dst[hot_edges], self.src[hot_edges])),
                               shape=(n, n))
        teleport = np.full(n, 1.0 / n)
        if personal:
            index = {int(f): i for i, f in enumerate(self.file_ids)}
            vec = np.zeros(n)
            for file_id, w in personal.items():
                if file_id in index and w > 0:
                    vec[index[file_id]] += w
            if vec.sum() > 0:
                teleport = vec / vec.sum()
        out_weight = np.asarray(matrix.sum(axis=0)).ravel()
        if extra is not None:
            out_weight = out_weight + np.asarray(extra.sum(axis=0)).ravel()
        dangling = out_weight == 0
        inverse_out = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_weight))
        if extra is not None:
            matrix = matrix + extra  # one matrix: one product per iteration
        rank = teleport.copy()
        for _ in range(ITERATIONS if n < BIG_GRAPH_FILES else BIG_GRAPH_ITERATIONS):
            share = rank * inverse_out
            spread = matrix @ share
            new = DAMPING * (spread + rank[dangling].sum() * teleport) + (1 - DAMPING) * teleport
            if np.abs(new - rank).sum() < TOLERANCE:
                rank = new
                break
            rank = new
        edge_share = rank[self.src] * self.weight * inverse_out[self.src]
        if len(hot_edges):
            edge_share[hot_edges] *= 10.0
        return rank, np.bincount(self.pair, weights=edge_share, minlength=len(self.pairs))


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
    graph = ReferenceGraph(
        file_ids, names, edge_src.astype(np.int32), edge_dst.astype(np.int32), edge_name.astype(np.int32),
        weight.astype(np.float64), pair.reshape(-1).astype(np.int32), pairs.reshape(-1, 2),
    )
    graph._file_matrix()  # built once, kept in the cache
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
_CACHE_FORMAT = 6  # bump when ReferenceGraph changes
_MATRIX_PARTS = ("data", "indices", "indptr")  # of the file-to-file matrix, one .npy each
_ARRAYS = ("file_ids", "src", "dst", "name", "weight", "pair", "pairs", "global_file_rank", "global_pair_scores")


def _save(graph: ReferenceGraph, target: Path, files_text: str, build_key: str) -> None:
    """Write ``graph`` as one ``.npy`` file per array (memory-mapped when read) in ``target``."""
    import numpy as np

    for name in _ARRAYS:
        np.save(target / f"{name}.npy", getattr(graph, name), allow_pickle=False)
    matrix = graph._file_matrix()
    for part in _MATRIX_PARTS:
        np.save(target / f"matrix_{part}.npy", getattr(matrix, part), allow_pickle=False)
    (target / "names.txt").write_text("\n".join(graph.names), encoding="utf-8")
    (target / "files.txt").write_text(files_text, encoding="utf-8")
    (target / "build.txt").write_text(build_key, encoding="utf-8")


def _load(source: Path) -> ReferenceGraph:
    """The graph saved in ``source``: arrays memory-mapped, not read, so that a short-lived
    command touches only the pages it uses and processes share them."""
    import numpy as np
    from scipy.sparse import csr_matrix

    arrays = {name: np.load(source / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
    text = (source / "names.txt").read_text(encoding="utf-8")
    graph = ReferenceGraph(names=text.split("\n") if text else [], **arrays)
    n = len(graph.file_ids)
    parts = [np.load(source / f"matrix_{part}.npy", mmap_mode="r", allow_pickle=False)
             for part in _MATRIX_PARTS]
    graph._matrix = csr_matrix(tuple(parts), shape=(n, n), copy=False)
    return graph


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
              | {f"matrix_{part}.npy" for part in _MATRIX_PARTS})
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
