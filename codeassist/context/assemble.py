"""Context assembly: what the model reads, within a token budget.

Layout, question-independent material first so that follow-up questions reuse the provider's
prompt cache (DeepSeek, vLLM and llama.cpp all match on a shared prefix):

1. overview (name, languages, sizes) and the file tree;
2. whole-project mode: every indexed file verbatim, README and manifests first, then by
   importance (PageRank over the reference graph), tests last;
   graded mode: a repository map (the most-referenced definitions as an outline);
3. the question's part: graded mode packs retrieved code widened to its enclosing symbol (small
   files whole), the definitions it uses, then skeletons of related files, by relevance per
   token; whole-project mode only points at the most relevant places.

Every item carries its path and line range; code lines carry their line numbers. The final text
is counted with cl100k and never exceeds the budget; the same question on the same index gives
byte-identical text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import QueryError
from ..index.reader import ChunkSpan, IndexedFile, IndexReader
from ..parsing.kinds import ENCLOSING_KINDS
from ..parsing.languages import CODE_LANGUAGES
from ..parsing.terms import STOPWORDS, split_identifier
from ..results import Context, ContextItem
from ..search.engine import RankedChunk, about_tests_or_docs
from ..walker import is_test_path, is_test_symbol
from ..index.texts import FileCatalog, FileTexts
from .graph import Ranking, ReferenceGraph, index_generation, load_graph, read_cached, write_cached
from .outline import SymbolRow, SymbolTable, outline_lines, skeleton_lines
from .render import FORMATS, Renderer, numbered, renderer_for
from .tokens import TokenCounter, token_counter

__all__ = ["assemble_context", "render_map", "MIN_BUDGET", "IndexSnapshot"]

MIN_BUDGET = 256
TREE_SHARE = 0.04        # of the budget, at most, for the file tree in graded mode
MAP_SHARE = 0.12         # of the budget for the repository map in graded mode
MAP_SHARE_WHEN_NO_QUERY = 1.0
HITS = 60                # retrieved candidates considered
DEPENDENCY_NAMES = 8     # definitions a full item pulls in, at most
SMALL_FILE_TOKENS = 400  # a hit in a file this small brings the whole file
BIG_SYMBOL_LINES = 150   # a retrieved symbol longer than this is shown around the hit only
POINTERS = 15            # places listed for the question in whole-project mode
#: depth before breadth: the files of the best hits come whole, in hit order, while they fit in
#: this share of the budget (a file too big for what is left comes nearly whole: the functions
#: the question touches); measured with `codeassist eval --history`
DEPTH_SHARE = 0.75
#: ... of what is left after this many tokens stay for the pieces (the hits themselves): small
#: budgets answer a pointed question (the needle check fell 3-5 points at 4k-8k without it)
PIECES_RESERVE = 4_000
DEPTH_FILES_MAX = 10
#: the first of them may take more: whole, when it fits in this share of what the budget has
#: left after the head and ``FIRST_FILE_RESERVE`` tokens (`codeassist eval --history`: +0.05 to
#: +0.10 at 8k-32k on the tuned repositories, held-out ones unchanged, the needle check too)
FIRST_FILE_SHARE = 0.8
FIRST_FILE_RESERVE = 1_500
#: a depth file too big to come whole brings its header (imports, module docs) up to this long
HEADER_LINES_MAX = 80
#: tests, examples and docs weigh this much for a question that is not about them
ASIDE_WEIGHT = 0.5
#: the first depth file comes nearly whole (``fill``) when this many of the best hits are in it
CONCENTRATED_HITS, CONCENTRATED_OF = 5, 10
_EXAMPLE_PATH = re.compile(r"(^|/)(examples?|samples?|demos?|docs?|benchmarks?)(/|$)", re.I)
_MANIFESTS = re.compile(
    r"^(readme|pyproject\.toml|setup\.py|setup\.cfg|package\.json|go\.mod|cargo\.toml|pom\.xml|"
    r"build\.gradle(\.kts)?|gemfile|composer\.json|cmakelists\.txt|makefile|tsconfig\.json|"
    r"requirements[^/]*\.txt)", re.I)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_TREES_KEPT = 8  # file trees a long-lived process keeps (one per format and budget)
#: kept with the generation's graph (versioned: a new codeassist does not read an older one's)
_CATALOG_FILE = "catalog-v1.marshal"
_TREE_FILE = "tree-v1-{fmt}-{budget}.txt"


@dataclass
class _Block:
    """A piece of the question's part: one item of code at some detail level."""

    file_id: int
    start: int
    end: int
    detail: str            # full | skeleton | outline
    score: float
    symbol: str | None = None
    text: str = ""
    tokens: int = 0


@dataclass
class _Parts:
    head: list[str] = field(default_factory=list)            # stable sections, in order
    head_items: list[ContextItem] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)        # the question's part


class IndexSnapshot:
    """Question-independent data of one index generation: the reference graph, its global
    ranking and the symbols loaded so far. A Project keeps one between calls; a changed index
    replaces it."""

    def __init__(self) -> None:
        self.generation = ""
        self.graph: ReferenceGraph | None = None
        self.global_rank: Ranking | None = None
        self.symbols: SymbolTable | None = None
        self.catalog: FileCatalog | None = None
        #: file trees rendered so far: (format, budget) -> text
        self.trees: dict[tuple[str, int], str] = {}

    def refresh(self, index: IndexReader, folder: Path) -> None:
        generation = index_generation(index)
        if generation != self.generation or self.graph is None:
            self.generation = generation
            self.graph = load_graph(index, folder, generation)
            self.global_rank = None
            self.symbols = None
            self.catalog = None
            self.trees = {}
        if self.symbols is None:
            self.symbols = SymbolTable(index)
        else:
            self.symbols.use(index)  # the same generation, read through this call's reader
        if self.catalog is None:
            self.catalog = _catalog(index, folder, generation)


def _catalog(index: IndexReader, folder: Path, generation: str) -> FileCatalog:
    """The file catalog of this generation, from its cache when a process before kept it."""
    data = read_cached(folder, generation, _CATALOG_FILE)
    if data is not None:
        try:
            catalog = FileCatalog.load(data)
            if len(catalog.files) == index.file_count():
                return catalog
        except Exception:  # noqa: BLE001 - damaged: build it again
            pass
    catalog = FileCatalog(index.files())
    write_cached(folder, generation, _CATALOG_FILE, catalog.dump())
    return catalog


class _Assembler:
    def __init__(self, index: IndexReader, root: Path, folder: Path, minified_line_length: int,
                 fmt: str, counter: TokenCounter, line_numbers: bool,
                 snapshot: IndexSnapshot | None = None) -> None:
        if fmt not in FORMATS:
            raise QueryError(f"unknown context format {fmt!r}; choose from {', '.join(FORMATS)}")
        self.index = index
        self.root = root
        self.folder = folder
        self.fmt = fmt
        self.renderer: Renderer = renderer_for(fmt)
        self.counter = counter
        self.line_numbers = line_numbers
        self.snapshot = snapshot or IndexSnapshot()
        self.snapshot.refresh(index, folder)
        self.texts = FileTexts(index, root, minified_line_length, catalog=self.snapshot.catalog)
        self.graph: ReferenceGraph = self.snapshot.graph  # type: ignore[assignment]
        #: the budget holds a good part of the project: offer whole files beyond the hits
        self.large_budget = False
        #: tokens of the budget still free for whole files of the likeliest files (depth), and the budget
        self.depth_left = 0
        self.budget = 0
        #: tokens the head (overview, tree, map) took before the question's part
        self.head_tokens = 0
        #: the question's words (4+ letters, no stopwords), for big files that come nearly whole
        self.query_words: set[str] = set()
        self.about_aside = False  # the question is about tests, examples or docs
        #: full blocks rendered and counted so far: (file id, start, end) -> (text, tokens)
        self._counted: dict[tuple[int, int, int], tuple[str, int]] = {}

    # ------------------------------------------------------------------ shared pieces
    @property
    def global_rank(self) -> Ranking:
        if self.snapshot.global_rank is None:
            self.snapshot.global_rank = self.graph.rank()
        return self.snapshot.global_rank

    @property
    def symbols(self) -> SymbolTable:
        return self.snapshot.symbols  # type: ignore[return-value]  # set by refresh

    def code(self, info: IndexedFile, start: int, end: int) -> str:
        lines = self.texts.lines(info.id)[start - 1 : end]
        return numbered(lines, start) if self.line_numbers else "\n".join(lines)

    def file_order(self) -> list[IndexedFile]:
        """README and manifests, then by PageRank (most depended-on first), tests last."""
        rank = self.global_rank.file_rank

        def key(f: IndexedFile) -> tuple:
            top = f.path.count("/") == 0 and _MANIFESTS.match(f.path) is not None
            return (not top, is_test_path(f.path), -round(rank.get(f.id, 0.0), 12), f.path)

        return sorted(self.texts.files.values(), key=key)

    def overview(self) -> str:
        files = list(self.texts.files.values())
        langs: dict[str, int] = {}
        for f in files:
            langs[f.language or "text"] = langs.get(f.language or "text", 0) + 1
        lang_text = ", ".join(f"{n} {lang}" for lang, n in sorted(langs.items(), key=lambda x: (-x[1], x[0])))
        lines = sum(f.lines for f in files)
        note = ("Paths are relative to the repository root. Each code line starts with its line number "
                "and a tab; cite code as path:start-end." if self.line_numbers else
                "Paths are relative to the repository root; cite code as path:start-end.")
        return self.renderer.section(
            "Overview", f"{len(files)} files ({lang_text}), {lines} lines.\n{note}")

    def tree(self, budget: int) -> str:
        """The file tree to the deepest level that fits ``budget``, climbing from the top and
        stopping at the first level that does not fit (a deeper tree is longer, bar rare cases).
        Kept per index generation: it does not depend on the question."""
        key, trees = (self.fmt, budget), self.snapshot.trees
        if key not in trees:
            if len(trees) >= _TREES_KEPT:
                del trees[next(iter(trees))]  # the oldest
            name = _TREE_FILE.format(fmt=self.fmt, budget=budget)  # kept for the next process
            data = read_cached(self.folder, self.snapshot.generation, name)
            try:
                text = data.decode("utf-8") if data is not None else None
            except UnicodeDecodeError:
                text = None  # damaged: render it again
            if text is None:
                text = self._tree(budget)
                write_cached(self.folder, self.snapshot.generation, name, text.encode("utf-8"))
            trees[key] = text
        return trees[key]

    def _tree(self, budget: int) -> str:
        paths = [p.split("/") for p in sorted(self.texts.by_path)]
        deepest = max((len(p) - 1 for p in paths), default=0)
        best = ""
        for depth in range(1, deepest + 2):
            text = self.renderer.section("File tree", self.renderer.quote(_tree_text(paths, depth)))
            if len(text) / 6 > budget or self.counter.count(text) > budget:
                break
            best = text
        return best

    # ------------------------------------------------------------------ whole project
    def whole_file(self, f: IndexedFile) -> tuple[str, int]:
        """The rendered block of a whole file, and its last line."""
        end = max(1, len(self.texts.lines(f.id)))
        text = self.renderer.block(f"{f.path} (lines 1-{end})", self.code(f, 1, end), f.language,
                                   {"path": f.path, "lines": f"1-{end}", "detail": "full"})
        return text, end

    def whole_project(self, budget: int, head_tokens: int) -> tuple[list[str], list[ContextItem]] | None:
        """Every file whole, in :meth:`file_order`, or None when they do not fit ``budget``."""
        files = self.file_order()
        rendered = [self.whole_file(f) for f in files]
        texts = [text for text, _end in rendered]
        counts = self.counter.count_many(texts)
        if head_tokens + sum(counts) > budget:
            return None
        items = [ContextItem(f.path, 1, end, "full", n) for f, (_t, end), n in zip(files, rendered, counts)]
        return texts, items

    def core_files(self, budget: int, skip: set[int] | frozenset[int] = frozenset()) -> tuple[str, list[ContextItem]]:
        """Whole files in importance order (question-independent) while they fit ``budget``,
        but those in ``skip``."""
        texts, items, spent = [], [], 0
        misses = 0
        for f in self.file_order():
            if f.id in skip or f.size / 6 > budget - spent:
                continue
            text, end = self.whole_file(f)
            n = self.counter.count(text)
            if spent + n > budget:
                misses += 1
                if misses > 20:
                    break
                continue
            texts.append(text)
            items.append(ContextItem(f.path, 1, end, "full", n))
            spent += n
        return "".join(texts), items

    def ranking_for(self, query: str, ranked: Sequence[RankedChunk],
                    held_files: Sequence[str]) -> tuple[Ranking, set[str]]:
        """PageRank personalised on the files of the best hits, the files the conversation
        holds and the files the query names, with the names it mentions weighted up; the
        global ranking when there is nothing to personalise on. Also returns those names."""
        personal: dict[int, float] = {}
        top = [chunk_id for chunk_id, _s, _score in ranked[:20]]
        if top:
            chunks = self.index.chunk_spans(top)
            for chunk_id, _s, score in ranked[:20]:
                if chunk_id in chunks:
                    file_id = chunks[chunk_id].file_id
                    personal[file_id] = personal.get(file_id, 0.0) + score
        held_weight = max(personal.values()) if personal else 1.0
        for path in held_files:
            if path in self.texts.by_path:
                file_id = self.texts.by_path[path].id
                personal[file_id] = personal.get(file_id, 0.0) + held_weight
        for path in re.findall(r"[\w./-]+\.\w+", query):
            for p, f in self.texts.by_path.items():
                if p == path or p.endswith("/" + path):
                    personal[f.id] = personal.get(f.id, 0.0) + 1.0
        mentioned = set(self.symbols.named(_IDENT.findall(query))) if query else set()
        if not (personal or mentioned):
            return self.global_rank, mentioned
        return self.graph.rank(personal or None, mentioned), mentioned

    def spans_of(self, ranges: Iterable[tuple[str, int, int]]) -> dict[int, list[tuple[int, int]]]:
        """(path, start, end) ranges grouped by file id (paths not in the index are ignored)."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for path, start, end in ranges:
            if path in self.texts.by_path:
                spans.setdefault(self.texts.by_path[path].id, []).append((start, end))
        return spans

    # ------------------------------------------------------------------ repository map
    def map_section(self, ranking: Ranking, budget: int, title: str,
                    mentioned: set[str] = frozenset(),
                    skip: set[tuple[int, int]] = frozenset()) -> tuple[str, list[ContextItem]]:
        """The best-ranked definitions as an outline grouped by file, within ``budget``."""
        if budget <= 0:
            return "", []
        chosen: dict[int, list[SymbolRow]] = {}
        shown: dict[int, set[int]] = {}
        file_score: dict[int, float] = {}
        # selection by estimated size (4 characters a token), then an exact count and trimming
        spent = self.counter.count(self.renderer.section(title, self.renderer.quote("")))
        for (file_id, name), score in self._map_candidates(ranking, mentioned):
            if file_id not in self.texts.files:
                continue
            syms = [s for s in self.symbols.named_in_file(file_id, name) if (file_id, s.id) not in skip][:3]
            if not syms:
                continue
            seen = shown.setdefault(file_id, set())
            new: dict[int, SymbolRow] = {}
            for sym in syms:
                for a in [*self.symbols.ancestors(sym), sym]:
                    if a.id not in seen:
                        new[a.id] = a
            if not new:
                continue
            cost = sum(len(self.symbols.signature(a)) + 8 + 4 * self.symbols.depth(a) for a in new.values()) // 4
            if file_id not in chosen:
                cost += len(self.texts.files[file_id].path) // 3 + 2
            if spent + cost > budget:
                if spent > budget * 0.97:
                    break
                continue
            spent += cost
            seen.update(new)
            chosen.setdefault(file_id, []).extend(syms)
            file_score.setdefault(file_id, score)
        order = sorted(chosen, key=lambda f: (-file_score[f], self.texts.files[f].path))
        while True:
            blocks = []
            for file_id in order:
                path = self.texts.files[file_id].path
                blocks.append(f"{path}:\n" + "\n".join(outline_lines(self.symbols, chosen[file_id])))
            text = self.renderer.section(title, self.renderer.quote("\n\n".join(blocks))) if blocks else ""
            tokens = self.counter.count(text)
            if tokens <= budget or not order:
                break
            order = order[: max(0, len(order) - max(1, len(order) // 10))]  # drop the lowest tenth
        items = []
        for file_id, block in zip(order, blocks):
            syms = chosen[file_id]
            items.append(ContextItem(self.texts.files[file_id].path, min(s.start_line for s in syms),
                                     max(s.start_line for s in syms), "outline",
                                     self.counter.count(block)))
        return text, items

    def _map_candidates(self, ranking: Ranking, mentioned: set[str]) -> Iterator[tuple[tuple[int, str], float]]:
        """Definitions best first: names the question mentions, those the graph ranks, then the
        remaining top-level and second-level definitions of files in file-rank order
        (unreferenced code still shows)."""
        named = sorted(((f, s.name) for m in mentioned for f, s in self.symbols.definitions(m)[:5]),
                       key=lambda key: (-ranking.file_rank.get(key[0], 0.0), key))
        yield from ((key, float("inf")) for key in named)
        done = set(named)
        batch: list[tuple[tuple[int, str], float]] = []
        size = 32  # definitions whose files' symbols are read in one query (doubling: most maps stop early)
        for candidate in ranking.best_definitions():
            batch.append(candidate)
            if len(batch) >= size:
                yield from self._with_symbols_loaded(batch, done)
                batch, size = [], min(size * 2, 1024)
        yield from self._with_symbols_loaded(batch, done)
        files = sorted(self.texts.files, key=lambda f: (-ranking.file_rank.get(f, 0.0), self.texts.files[f].path))
        for level in (0, 1):
            for i, file_id in enumerate(files):
                if i % 64 == 0:  # in batches: most maps stop after a few files
                    self.symbols.load(files[i:i + 64])
                for sym in self.symbols.of_file(file_id):
                    key = (file_id, sym.name)
                    if key not in done and self.symbols.depth(sym) == level and not sym.name.startswith("_"):
                        done.add(key)
                        yield key, 0.0

    def _with_symbols_loaded(self, batch: list[tuple[tuple[int, str], float]],
                             done: set[tuple[int, str]]) -> Iterator[tuple[tuple[int, str], float]]:
        self.symbols.load_named(key for key, _score in batch)
        for key, score in batch:
            done.add(key)
            yield key, score

    # ------------------------------------------------------------------ the question's part
    def question_blocks(self, ranked: Sequence[RankedChunk], ranking: Ranking,
                        exclude: dict[int, list[tuple[int, int]]], depth_files: Sequence[int] = ()) -> list[_Block]:
        """Candidates for the question's part, each with a relevance score (not yet fitted)."""
        blocks: list[_Block] = []
        chunk_rows = self.index.chunk_spans(c for c, _s, _score in ranked)
        self.symbols.load(row.file_id for row in chunk_rows.values())
        top = ranked[0][2] if ranked else 1.0
        seen_units: set[tuple[int, int, int]] = set()
        # depth first: the files most likely to matter, whole while they fit in the depth
        # budget, each scored like the hit of the same rank (just under it)
        order = list(depth_files) or list(dict.fromkeys(row.file_id for c, _s, _sc in ranked
                                                       if (row := chunk_rows.get(c)) is not None))
        deep = [f for f in order if f in self.texts.files and self._is_code(self.texts.files[f])][:DEPTH_FILES_MAX]
        self.symbols.load(deep)
        for i, file_id in enumerate(deep):
            score = (ranked[i][2] if i < len(ranked) else top * 0.5) * 0.99
            if i == 0 and (whole := self._first_file_whole(file_id, score)) is not None:
                blocks.append(whole)
                continue
            if self.depth_left <= 0:
                break
            nearly_whole = i == 0 and _hits_in(file_id, ranked[:CONCENTRATED_OF], chunk_rows) >= CONCENTRATED_HITS
            blocks.extend(self._depth_blocks(file_id, score, nearly_whole))
        for chunk_id, symbol_id, score in ranked:
            row = chunk_rows.get(chunk_id)
            if row is None:
                continue
            _id, file_id, c_start, c_end, chunk_symbol = row
            info = self.texts.files.get(file_id)
            if info is None:
                continue
            sym = self.symbols.get(symbol_id if symbol_id is not None else chunk_symbol)
            # the retrieved chunk, widened to its symbol and to every whole function it overlaps
            # (a chunk can hold several small methods, or the tail of one and the head of another)
            start, end = c_start, c_end
            label = sym.qualname if sym is not None else None
            if sym is not None and sym.end_line - sym.start_line <= BIG_SYMBOL_LINES:
                start, end = min(start, sym.start_line), max(end, sym.end_line)
            elif sym is not None:  # a big type: the rest of it as skeleton
                blocks.append(_Block(file_id, sym.start_line, sym.end_line, "skeleton",
                                     score * 0.3, sym.qualname))
            for other in self.symbols.of_file(file_id):
                if (other.start_line <= end and other.end_line >= start
                        and other.end_line - other.start_line <= BIG_SYMBOL_LINES
                        and other.kind not in ENCLOSING_KINDS):
                    start, end = min(start, other.start_line), max(end, other.end_line)
            if info.size <= SMALL_FILE_TOKENS * 4:
                start, end, label = 1, max(1, info.lines), None
            if (file_id, start, end) in seen_units:
                continue
            seen_units.add((file_id, start, end))
            blocks.append(_Block(file_id, start, end, "full", score, label))
            blocks.extend(self._dependencies(file_id, start, end, score * 0.5, ranking))
            blocks.append(_Block(file_id, 1, max(1, info.lines), "skeleton", score * 0.3))
        # the next ring: files the personalised ranking puts high, as skeletons, and (for budgets
        # that hold much of the project) whole
        ranked_files = sorted(ranking.file_rank.items(), key=lambda kv: (-kv[1], kv[0]))
        best = ranked_files[0][1] if ranked_files else 1.0
        for i, (file_id, rank) in enumerate(ranked_files):
            info = self.texts.files.get(file_id)
            if info is None or best <= 0:
                continue
            weight = top * rank / best
            if i < 40:
                blocks.append(_Block(file_id, 1, max(1, info.lines), "skeleton", 0.25 * weight))
            if self.large_budget:
                blocks.append(_Block(file_id, 1, max(1, info.lines), "full", 0.1 * weight))
        if self.code_question:
            # tests, examples and docs are evidence for questions about them, not for code questions
            for block in blocks:
                info = self.texts.files[block.file_id]
                if self._aside(info) or (block.symbol and is_test_symbol(block.symbol, info.language)):
                    block.score *= ASIDE_WEIGHT
        return [b for b in blocks if not _covered(b, exclude)]

    def _first_file_whole(self, file_id: int, score: float) -> _Block | None:
        """The file most likely to matter, whole, when it fits in ``FIRST_FILE_SHARE`` of what
        the budget has left (more than the depth share: a fix often touches a file in several
        places, and a whole file is what holds them all); its cost comes off the depth budget."""
        fits = self._whole_if_fits(file_id, score, self._first_file_allowance())
        if fits is None:
            return None
        whole, cost = fits
        self.depth_left = max(0, self.depth_left - cost)
        return whole

    def _first_file_allowance(self) -> int:
        return int(FIRST_FILE_SHARE * max(0, self.budget - self.head_tokens - FIRST_FILE_RESERVE))

    def _whole_if_fits(self, file_id: int, score: float, room: int) -> tuple[_Block, int] | None:
        """A file as one full block and its exact tokens, when they are at most ``room`` (a
        file of more than 6 bytes a token of room is not rendered to find out)."""
        info = self.texts.files[file_id]
        whole = _Block(file_id, 1, max(1, info.lines), "full", score)
        if info.size // 6 > room or (cost := self.block_tokens(whole)) > room:
            return None
        return whole, cost

    def _depth_blocks(self, file_id: int, score: float, nearly_whole: bool = False) -> list[_Block]:
        """A file whole, when it fits in what is left of the depth budget (a whole file replaces
        the pieces of it chosen elsewhere); else every function the question's words touch, and
        with ``nearly_whole`` (the first file, where the hits concentrate) its other functions
        too, up to the first file's allowance."""
        if (fits := self._whole_if_fits(file_id, score, self.depth_left)) is not None:
            whole, cost = fits
            self.depth_left -= cost
            return [whole]
        fill = self._first_file_allowance() if nearly_whole else None
        touched = self._touched_functions(file_id, score * 0.99, fill)
        symbols = self.symbols.of_file(file_id)
        header_end = min((s.start_line for s in symbols), default=1) - 1  # imports and module docs
        if 0 < header_end <= HEADER_LINES_MAX:
            touched.append(_Block(file_id, 1, header_end, "full", score * 0.985, "header"))
        self.depth_left -= sum(self.estimate(b) for b in touched)
        return touched

    @property
    def code_question(self) -> bool:
        """Whether the question is about code, not about tests, examples or docs."""
        return bool(self.query_words) and not self.about_aside

    def _aside(self, info: IndexedFile) -> bool:
        return not self._is_code(info) or is_test_path(info.path) or _EXAMPLE_PATH.search(info.path) is not None

    def _is_code(self, info: IndexedFile) -> bool:
        """Depth is for code: not docs, changelogs or data."""
        return info.language is not None and info.language in CODE_LANGUAGES

    def _touched_functions(self, file_id: int, score: float, fill: int | None = None) -> list[_Block]:
        """The functions of a big file that the question's words touch (in their name or code),
        those named by it first; at most a quarter of the budget's worth. With ``fill``, then
        its other functions (those holding one of the words first, else in line order), whichever
        still fit in ``fill`` tokens."""
        if not self.query_words:
            return []
        lines = self.texts.lines(file_id)
        language = self.texts.files[file_id].language
        found: list[tuple[int, SymbolRow]] = []
        for sym in self.symbols.of_file(file_id):
            if sym.kind in ENCLOSING_KINDS or sym.end_line - sym.start_line > BIG_SYMBOL_LINES * 2:
                continue
            if self.code_question and is_test_symbol(sym.qualname, language):  # inline tests are not the code
                continue
            named = len(self.query_words & {w.lower() for w in _IDENT.findall(sym.name)} |
                        self.query_words & set(split_identifier(sym.name)))
            body = "\n".join(lines[sym.start_line - 1: sym.end_line]).lower()
            used = sum(1 for w in self.query_words if w in body)
            if named or used >= 2:
                found.append((named * 10 + used, sym))
            elif fill is not None:
                found.append((used - 100, sym))  # after every touched one
        found.sort(key=lambda item: (-item[0], item[1].start_line))
        out, spent = [], 0
        cap = self.budget // 4 if fill is None else max(fill, self.budget // 4)
        for i, (strength, sym) in enumerate(found):
            size = sum(len(line) for line in lines[sym.start_line - 1: sym.end_line]) // 3
            if spent + size > cap:
                if strength < 0:  # filling: a smaller one may still fit
                    continue
                break
            spent += size
            out.append(_Block(file_id, sym.start_line, sym.end_line, "full", score * (1 - 0.002 * i), sym.qualname))
        return out

    def block_tokens(self, block: _Block) -> int:
        """Exact tokens of a full block as it would be rendered (counted once)."""
        key = (block.file_id, block.start, block.end)
        if key not in self._counted:
            text = self.render_block(block, [])
            self._counted[key] = (text, self.counter.count(text))
        return self._counted[key][1]

    def _dependencies(self, file_id: int, start: int, end: int, score: float,
                      ranking: Ranking) -> list[_Block]:
        """Definitions used inside ``start..end`` of a file: same file first, then by rank."""
        names = self.index.names_used_in(file_id, start, end)
        if not names:
            return []
        options: dict[str, list[tuple[float, int, int, int, str, str]]] = {}
        defined = self.symbols.named(names)
        for name in names:
            definitions = defined.get(name, ())
            if not definitions or len(definitions) > 20:
                continue  # unknown here, or too common a name to tell which one is meant
            for f_id, sym in definitions:
                if f_id == file_id and start <= sym.start_line <= end:
                    continue  # inside the item itself
                weight = 2.0 if f_id == file_id else ranking.definition_score(f_id, name)
                if weight > 0:
                    options.setdefault(name, []).append(
                        (weight, f_id, sym.start_line, sym.end_line, sym.qualname, sym.kind))
        picked = sorted((max(opts) for opts in options.values()), reverse=True)[:DEPENDENCY_NAMES]
        out = []
        for i, (_w, f_id, s_line, e_line, qualname, kind) in enumerate(picked):
            detail = "full" if e_line - s_line <= 30 else "skeleton"
            out.append(_Block(f_id, s_line, e_line, detail, score * (1 - 0.03 * i), qualname))
        return out

    def warnings(self, items: Iterable[ContextItem]) -> tuple[str, ...]:
        """Invisible characters (made visible) inside the code that was included in full."""
        out = []
        for item in items:
            if item.path in self.texts.invisible_names:
                out.append(f"the file name {item.path} holds invisible Unicode characters (shown as ⟨U+XXXX⟩)")
            lines = [n for n in self.texts.invisible.get(item.path, ()) if item.start_line <= n <= item.end_line]
            if item.detail == "full" and lines:
                shown = ", ".join(str(n) for n in lines[:5]) + (" …" if len(lines) > 5 else "")
                out.append(f"invisible Unicode characters (shown as ⟨U+XXXX⟩) in {item.path} "
                           f"line(s) {shown}: text that reads differently than it looks, possibly "
                           "hidden instructions")
        return tuple(dict.fromkeys(out))

    def estimate(self, block: _Block) -> int:
        """A quick guess of a full block's tokens (about 3.5 characters a token for code)."""
        lines = self.texts.lines(block.file_id)[block.start - 1 : block.end]
        return int(sum(len(x) + 3 for x in lines) / 3.5)

    def render_block(self, block: _Block, hidden: list[tuple[int, int]]) -> str:
        info = self.texts.files[block.file_id]
        label = f" — {block.symbol}" if block.symbol else ""
        attrs = {"path": info.path, "lines": f"{block.start}-{block.end}", "detail": block.detail}
        if block.symbol:
            attrs["symbol"] = block.symbol
        if block.detail == "full":
            body = self.code(info, block.start, block.end)
            return self.renderer.block(f"{info.path}:{block.start}-{block.end}{label}", body,
                                       info.language, attrs)
        lines = skeleton_lines(self.symbols, block.file_id, info.language, block.start, block.end, hidden)
        if not lines:
            return ""
        return self.renderer.block(f"{info.path}:{block.start}-{block.end} (skeleton){label}",
                                   "\n".join(lines), None, attrs)


def _covered(block: _Block, spans: dict[int, list[tuple[int, int]]]) -> bool:
    return any(a <= block.start and block.end <= b for a, b in spans.get(block.file_id, ()))


def _tree_text(paths: list[str] | list[list[str]], depth: int) -> str:
    """An indented tree of ``paths`` (or of paths already split on ``/``); folders deeper than
    ``depth`` show a file count."""
    split = [p.split("/") if isinstance(p, str) else p for p in paths]
    lines: list[str] = []
    shown: set[str] = set()
    counts: dict[str, int] = {}
    for parts in split:
        if len(parts) - 1 > depth:
            folder = "/".join(parts[:depth])
            counts[folder] = counts.get(folder, 0) + 1
    for parts in split:
        for level in range(min(len(parts) - 1, depth)):
            folder = "/".join(parts[: level + 1])
            if folder not in shown:
                shown.add(folder)
                more = f" ({counts[folder]} more files below)" if folder in counts and level == depth - 1 else ""
                lines.append(f"{'  ' * level}{parts[level]}/{more}")
        if len(parts) - 1 <= depth:
            lines.append(f"{'  ' * (len(parts) - 1)}{parts[-1]}")
    return "\n".join(lines)


def _hits_in(file_id: int, ranked: Sequence[RankedChunk], chunk_rows: dict[int, ChunkSpan]) -> int:
    """How many of ``ranked`` are chunks of the file."""
    return sum(1 for chunk_id, _s, _score in ranked
               if (row := chunk_rows.get(chunk_id)) is not None and row.file_id == file_id)


def assemble_context(index: IndexReader, root: Path, folder: Path, query: str, budget: int, *,
                     fmt: str = "markdown",
                     ranked: Sequence[RankedChunk] = (),
                     depth_files: Sequence[int] = (),
                     held_files: Sequence[str] = (),
                     exclude: Sequence[tuple[str, int, int]] = (),
                     minified_line_length: int = 1000,
                     line_numbers: bool = True,
                     question_only: bool = False,
                     pinned: Sequence[tuple[str, int, int]] = (),
                     counter: TokenCounter | None = None,
                     snapshot: IndexSnapshot | None = None) -> Context:
    """The context for ``query`` within ``budget`` tokens (see the module docstring).

    ``ranked`` are the retrieval results (chunk id, symbol id, score), best first;
    ``depth_files`` the ids of the files most likely to matter, best first (whole-file evidence
    included), which come whole first (default: the files of ``ranked``, in order);
    ``held_files`` are paths the conversation already holds (they steer the ranking);
    ``exclude`` are (path, start, end) ranges already sent earlier in the conversation;
    ``question_only`` leaves out the question-independent sections (a follow-up turn, whose
    conversation already holds them).
    """
    budget = int(budget)
    if budget < MIN_BUDGET:
        raise QueryError(f"a context budget of {budget} tokens is too small; use at least {MIN_BUDGET}")
    counter = counter or token_counter()
    asm = _Assembler(index, root, folder, minified_line_length, fmt, counter, line_numbers, snapshot)
    r = asm.renderer
    name = root.name or "repository"
    if question_only:
        return _follow_up(asm, query, budget, ranked, held_files, exclude, pinned)
    head = [asm.overview()]
    wrapper_cost = counter.count(r.wrap("", {"name": name})) + 4
    used = wrapper_cost + counter.count(head[0])
    tree_budget = max(0, min(int(budget * TREE_SHARE), budget - used))
    tree = asm.tree(max(tree_budget, 0)) if tree_budget > 0 else ""

    # whole project when it fits (the file tree is then always shown in full)
    pointer_reserve = 40 * POINTERS if query else 0
    whole = None
    total_size = sum(f.size for f in asm.texts.files.values())
    if total_size <= budget * 8:  # cl100k needs at least one token per ~8 bytes: else it cannot fit
        full_tree = r.section("File tree", r.quote(_tree_text(sorted(asm.texts.by_path), 10_000)))
        whole = asm.whole_project(budget - pointer_reserve, used + counter.count(full_tree))
    items: list[ContextItem] = []
    mode = "whole-project" if whole else "graded"

    if whole:
        texts, items = whole
        head += [full_tree, r.section("Files", "".join(texts))]
        question = _pointers(asm, ranked) if query else ""
        sections = head + ([question] if question else [])
        text = r.wrap("".join(sections), {"name": name})
        tokens = counter.count(text)
        if tokens > budget:  # the estimate was off: drop pointers first, then fall back
            text = r.wrap("".join(head), {"name": name})
            tokens = counter.count(text)
        if tokens <= budget:
            return Context(query, budget, tokens, mode, tuple(items), text, fmt, asm.warnings(items))
        mode, items, head = "graded", [], [asm.overview()]

    head.append(tree)
    used = wrapper_cost + sum(counter.count_many(head))
    map_budget = int(budget * (MAP_SHARE if query else MAP_SHARE_WHEN_NO_QUERY)) if query else budget - used
    map_text, map_items = asm.map_section(asm.global_rank, min(map_budget, budget - used), "Repository map")
    head.append(map_text)
    items += map_items
    used += counter.count(map_text)

    asm.large_budget = budget * 4 > total_size * 0.25
    asm.budget = budget
    asm.depth_left = int(DEPTH_SHARE * max(0, budget - used - PIECES_RESERVE))
    asm.head_tokens = used
    asm.query_words = {w for w in (x.lower() for x in _IDENT.findall(query)) if len(w) >= 4 and w not in STOPWORDS}
    asm.about_aside = about_tests_or_docs(query)
    spans = asm.spans_of(exclude)
    blocks: list[_Block] = []
    if query:
        ranking, _mentioned_names = asm.ranking_for(query, ranked, held_files)
        blocks = _fit(asm, _pinned_blocks(asm, pinned) + asm.question_blocks(ranked, ranking, spans, depth_files),
                      budget - used - 30)
    if asm.large_budget and query:
        # a budget that holds much of the project: with what the question's part left, its most
        # important files, whole and in a question-independent order, join the stable prefix
        # (the provider's cache reuses them). The question's part is fitted first, so that a
        # bigger budget never loses code a smaller one had
        whole = {b.file_id for b in blocks if b.detail == "full" and b.start == 1
                 and b.end >= asm.texts.files[b.file_id].lines}
        room = budget - used - sum(b.tokens for b in blocks) - 60
        core_text, core_items = asm.core_files(room, skip=whole)
        if core_text:
            head.append(r.section("Core files", core_text))
            items += core_items
            used += counter.count(head[-1])
            core = {asm.texts.by_path[item.path].id for item in core_items}
            blocks = [b for b in blocks if b.file_id not in core]  # in the prefix, whole
    while True:
        body = "".join(b.text for b in _ordered(blocks))
        section = r.section("Code relevant to the question", body) if body else ""
        text = r.wrap("".join(head) + section, {"name": name})
        tokens = counter.count(text)
        if tokens <= budget:
            break
        if blocks:
            blocks.remove(min(blocks, key=lambda b: (b.score, -b.tokens)))
        elif len(head) > 3 and head[-1]:  # the core files, newest first
            head.pop()
            items = [i for i in items if i in map_items]
        elif head[-1]:
            head[-1], items = "", [i for i in items if i not in map_items]
        elif tree:
            head.remove(tree)
            tree = ""
        else:
            raise QueryError(f"a context budget of {budget} tokens cannot hold this repository's "
                             "overview; use a larger budget")
    q_items = [ContextItem(asm.texts.files[b.file_id].path, b.start, b.end, b.detail, b.tokens)
               for b in _ordered(blocks)]
    return Context(query, budget, tokens, mode, tuple(items + q_items), text, fmt,
                   asm.warnings(items + q_items))


def _pinned_blocks(asm: _Assembler, pinned: Sequence[tuple[str, int, int]]) -> list[_Block]:
    """The user's pinned ranges: first in line, in full (skeletons when they cannot fit)."""
    out = []
    for i, (path, start, end) in enumerate(pinned):
        info = asm.texts.by_path.get(path)
        if info is not None:
            last = max(1, info.lines)
            out.append(_Block(info.id, max(1, start), min(end, last) if end else last, "full",
                              1e6 - i, "pinned"))
    return out


def _follow_up(asm: _Assembler, query: str, budget: int,
               ranked: Sequence[RankedChunk], held_files: Sequence[str],
               exclude: Sequence[tuple[str, int, int]],
               pinned: Sequence[tuple[str, int, int]] = ()) -> Context:
    """The question's part alone: code not sent before, then pointers to the relevant places."""
    counter, r = asm.counter, asm.renderer
    ranking, _mentioned_names = asm.ranking_for(query, ranked, held_files)
    spans = asm.spans_of(exclude)
    pointers = _pointers(asm, ranked)
    room = budget - counter.count(pointers) - 20
    candidates = [b for b in _pinned_blocks(asm, pinned) if not _covered(b, spans)]
    blocks = _fit(asm, candidates + asm.question_blocks(ranked, ranking, spans), room) if room > 0 else []
    while True:
        body = "".join(b.text for b in _ordered(blocks))
        text = (r.section("More code relevant to the question", body) if body else "") + pointers
        tokens = counter.count(text)
        if tokens <= budget or not (blocks or pointers):
            break
        if blocks:
            blocks.remove(min(blocks, key=lambda b: (b.score, -b.tokens)))
        else:
            pointers = ""
    items = tuple(ContextItem(asm.texts.files[b.file_id].path, b.start, b.end, b.detail, b.tokens)
                  for b in _ordered(blocks))
    return Context(query, budget, tokens, "follow-up", items, text, asm.fmt, asm.warnings(items))


def _fit(asm: _Assembler, candidates: list[_Block], budget: int) -> list[_Block]:
    """Greedy by relevance: each candidate in score order joins if it fits; a full item that
    does not fit is offered as a skeleton instead."""
    chosen: list[_Block] = []
    counted = asm._counted  # full blocks already rendered and counted (the depth files)
    if asm.large_budget:  # most full candidates will be taken: count them in one threaded batch
        fulls, guess, seen = [], 0, set(counted)
        for b in sorted(candidates, key=lambda b: (-b.score, b.file_id, b.start, b.end)):
            if b.detail == "full" and (b.file_id, b.start, b.end) not in seen:
                seen.add((b.file_id, b.start, b.end))
                fulls.append(b)
                guess += asm.estimate(b)
                if guess > budget * 1.2:
                    break
        texts = [asm.render_block(b, []) for b in fulls]
        for b, text, n in zip(fulls, texts, asm.counter.count_many(texts)):
            counted[(b.file_id, b.start, b.end)] = (text, n)
    full_spans: dict[int, list[tuple[int, int]]] = {}
    skeleton_files: set[tuple[int, int, int]] = set()
    spent = 0
    for cand in sorted(candidates, key=lambda b: (-b.score, b.file_id, b.start, b.end, b.detail)):
        if spent >= budget:
            break
        spans = full_spans.setdefault(cand.file_id, [])
        if any(a <= cand.start and cand.end <= b for a, b in spans):
            continue
        if cand.detail == "skeleton":
            key = (cand.file_id, cand.start, cand.end)
            if key in skeleton_files:
                continue
        elif asm.estimate(cand) > (budget - spent) * 1.5:
            cand = _Block(cand.file_id, cand.start, cand.end, "skeleton", cand.score * 0.5, cand.symbol)
            if (cand.file_id, cand.start, cand.end) in skeleton_files:
                continue
        if cand.detail == "full" and (cand.file_id, cand.start, cand.end) in counted:
            cand.text, cand.tokens = counted[(cand.file_id, cand.start, cand.end)]
        else:
            cand.text = asm.render_block(cand, spans)
            cand.tokens = -1
        if not cand.text:
            continue
        if cand.detail == "skeleton" and len(cand.text) / 6 > max(400, budget // 10):
            continue  # a huge outline says little per token
        if cand.tokens < 0:
            cand.tokens = _count_if_it_may_fit(asm, cand.text, budget - spent)
        if spent + cand.tokens > budget and cand.detail == "full":
            cand = _Block(cand.file_id, cand.start, cand.end, "skeleton", cand.score * 0.5, cand.symbol)
            if (cand.file_id, cand.start, cand.end) in skeleton_files:
                continue
            cand.text = asm.render_block(cand, spans)
            cand.tokens = _count_if_it_may_fit(asm, cand.text, budget - spent) if cand.text else 0
        if not cand.text or spent + cand.tokens > budget:
            continue
        if cand.detail == "skeleton" and cand.tokens > max(400, budget // 10):
            continue  # a huge outline says little per token
        if cand.detail == "full":
            # a full item covering earlier ones replaces them
            for old in [b for b in chosen if b.file_id == cand.file_id and b.detail == "full"
                        and cand.start <= b.start and b.end <= cand.end]:
                chosen.remove(old)
                spent -= old.tokens
            spans.append((cand.start, cand.end))
        else:
            skeleton_files.add((cand.file_id, cand.start, cand.end))
        chosen.append(cand)
        spent += cand.tokens
    return chosen


def _count_if_it_may_fit(asm: _Assembler, text: str, room: int) -> int:
    """Exact tokens of ``text``, or ``room + 1`` when it clearly cannot fit (code and outlines
    run 2.5-5 characters a token, so more than 6 per token never happens in practice)."""
    return room + 1 if len(text) / 6 > room else asm.counter.count(text)


def _ordered(blocks: list[_Block]) -> list[_Block]:
    """Grouped by file (files by their best score), full code before skeletons, by line."""
    best: dict[int, float] = {}
    for b in blocks:
        best[b.file_id] = max(best.get(b.file_id, 0.0), b.score)
    return sorted(blocks, key=lambda b: (-best[b.file_id], b.file_id, b.detail != "full", b.start, b.end))


def _pointers(asm: _Assembler, ranked: Sequence[RankedChunk]) -> str:
    """Whole-project mode: the places most relevant to the question, as ``path:start-end``."""
    lines = []
    for chunk_id, symbol_id, _score in ranked[:POINTERS]:
        chunk = asm.index.chunk(chunk_id)
        if chunk is None or chunk.file_id not in asm.texts.files:
            continue
        sym = asm.symbols.get(symbol_id if symbol_id is not None else chunk.symbol_id)
        start, end = (sym.start_line, sym.end_line) if sym else (chunk.start_line, chunk.end_line)
        label = f" {sym.qualname}" if sym else ""
        lines.append(f"- {asm.texts.files[chunk.file_id].path}:{start}-{end}{label}")
    if not lines:
        return ""
    return asm.renderer.section("Most relevant to the question", asm.renderer.quote("\n".join(lines)))


def render_map(index: IndexReader, root: Path, folder: Path, budget: int, *, query: str = "",
               ranked: Sequence[RankedChunk] = (), held_files: Sequence[str] = (),
               counter: TokenCounter | None = None, snapshot: IndexSnapshot | None = None) -> Context:
    """The repository map alone: the best-ranked definitions as an outline within ``budget``,
    personalised on the query's names, retrieved hits and held files when given."""
    counter = counter or token_counter()
    if budget < 64:
        raise QueryError(f"a map budget of {budget} tokens is too small; use at least 64")
    asm = _Assembler(index, root, folder, 1000, "markdown", counter, True, snapshot)
    ranking, mentioned = asm.ranking_for(query, ranked, held_files)
    text, items = asm.map_section(ranking, budget, "Repository map", mentioned)
    return Context(query, budget, counter.count(text), "map", tuple(items), text, "markdown")
