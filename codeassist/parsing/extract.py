"""Turn one file's bytes into symbols, references and chunks.

Runs in parser worker processes, so it returns plain picklable records. Symbols and references
come from the tag queries in ``queries/*.scm`` (see that folder's contract); qualified names
come from how definitions nest; chunks from :mod:`.chunker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Iterable, NamedTuple

from .chunker import LineSpan, NonWhitespaceCounter, chunk_text, chunk_tree
from .languages import CODE_LANGUAGES, load_language, load_query
from .terms import TermExpander

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

__all__ = ["Symbol", "Reference", "Chunk", "ParsedFile", "parse_file", "module_name", "pack_signatures",
           "unpack_signatures"]

#: bump when extraction output changes, so indexes are rebuilt
EXTRACTOR_VERSION = 2

_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "type"})
_WRAPPERS = frozenset(
    {"decorated_definition", "export_statement", "template_declaration", "annotated_definition"}
)
_SIGNATURE_LIMIT = 400
_DOC_LIMIT = 2000


class Symbol(NamedTuple):
    """A definition. Lines are 1-based and inclusive; ``parent`` indexes the same file's list."""

    name: str
    qualname: str
    kind: str
    start_line: int
    end_line: int
    signature: str
    doc: str
    parent: int | None
    #: byte range of the doc comment/docstring in the file ((0, 0) when there is none)
    doc_span: tuple[int, int] = (0, 0)


#: Uses of a name (calls, imports, types, base classes) inside one symbol: (name, kind, lines as
#: "12,40,41", index of the enclosing symbol or None). Plain tuples: files carry hundreds of
#: thousands of them between processes, and tuples pickle several times faster than records.
Reference = tuple[str, str, str, "int | None"]


class Chunk(NamedTuple):
    """A piece of the file for retrieval. ``symbol`` is the innermost symbol containing it."""

    start_line: int
    end_line: int
    symbol: int | None
    text: str
    #: extra index terms (see :meth:`TermExpander.extra`)
    terms: str
    #: the enclosing symbol's qualified name with its extra terms ("" at file level)
    symbol_terms: str


@dataclass(slots=True)
class ParsedFile:
    language: str
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    line_count: int = 0
    #: the file's bytes as parsed, zlib-compressed: the index keeps them, and cuts chunk texts
    #: from them (``reader.SourceText``) instead of storing each chunk's text
    source: bytes = b""
    parse_errors: bool = False
    #: the symbols' signatures in order, one a line, zlib-compressed (set with ``symbols``): the
    #: index keeps them a file at a time (``reader.signature_lists``), 5× smaller than a column
    signatures: bytes = b""


#: zlib level of the stored sources: 1 costs the cold kernel index ~8 s of CPU in the parser
#: processes and stores 1 GB of source in ~0.3 GB (a third less than compressing each chunk)
SOURCE_LEVEL = 1


def _packed(data: bytes) -> bytes:
    import zlib

    return zlib.compress(data, SOURCE_LEVEL)


def pack_signatures(signatures: Iterable[str]) -> bytes:
    """Signatures (one line each) as the index stores them, a file's in one block."""
    import zlib

    return zlib.compress("\n".join(signatures).encode("utf-8", "surrogatepass"), 6)


def unpack_signatures(stored: bytes) -> list[str]:
    import zlib

    return zlib.decompress(stored).decode("utf-8", "surrogatepass").split("\n")


def module_name(relpath: str, language: str) -> str:
    """The dotted module a file defines, where the language has that notion (Python)."""
    if language != "python":
        return ""
    path = relpath.rsplit(".", 1)[0]
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] in ("src", "lib") and len(parts) > 1:
        parts = parts[1:]
    if not all(p.isidentifier() for p in parts):
        return ""
    return ".".join(parts)


def _one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _signature(node: tree_sitter.Node, data: bytes) -> str:
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > node.start_byte:
        end = body.start_byte
    else:
        nl = data.find(b"\n", node.start_byte, node.end_byte)
        end = node.end_byte if nl < 0 else nl
    end = min(end, node.start_byte + _SIGNATURE_LIMIT * 4)
    return _one_line(data[node.start_byte : end].decode("utf-8", "replace"), _SIGNATURE_LIMIT).rstrip(
        " {"
    )


_NO_DOC: tuple[str, tuple[int, int]] = ("", (0, 0))


def _python_docstring(node: tree_sitter.Node) -> tuple[str, tuple[int, int]]:
    """The docstring of a function/class and its byte range."""
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return _NO_DOC
    first = body.named_child(0)
    if first is not None and first.type == "expression_statement" and first.named_child_count == 1:
        first = first.named_child(0)
    if first is None or first.type != "string":
        return _NO_DOC
    text = (first.text or b"").decode("utf-8", "replace")
    for quote in ('"""', "'''", '"', "'"):
        idx = text.find(quote)
        if idx >= 0 and text.endswith(quote) and len(text) >= idx + 2 * len(quote):
            text = text[idx + len(quote) : -len(quote)]
            break
    return _clean_doc(text), (first.start_byte, first.end_byte)


def _clean_doc(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines()]
    text = "\n".join(lines).strip()
    return text[:_DOC_LIMIT]


def _comment_doc(node: tree_sitter.Node) -> tuple[str, tuple[int, int]]:
    """Contiguous comment lines immediately above ``node`` (Javadoc, ///, #, -- ...).

    When nothing precedes the node itself, its ancestors that start on the same line are tried
    (Go's ``type X struct`` sits inside a ``type_declaration``; exports wrap declarations).
    """
    for _ in range(3):
        prev = node.prev_sibling
        if prev is not None and "comment" in prev.type:
            break
        parent = node.parent
        if parent is None or parent.parent is None or parent.start_point[0] != node.start_point[0]:
            break
        node = parent
    parts: list[str] = []
    expected_row = node.start_point[0]
    sibling = node.prev_sibling
    span_start = span_end = 0
    while sibling is not None and "comment" in sibling.type:
        if sibling.end_point[0] < expected_row - 1:
            break
        parts.append((sibling.text or b"").decode("utf-8", "replace"))
        if not span_end:
            span_end = sibling.end_byte
        span_start = sibling.start_byte
        expected_row = sibling.start_point[0]
        sibling = sibling.prev_sibling
    if not parts:
        return _NO_DOC
    lines: list[str] = []
    for part in reversed(parts):
        for line in part.splitlines():
            line = line.strip()
            for prefix in ("/**", "/*!", "/*", "*/", "///", "//!", "//", "--[[", "--", "#", "*"):
                if line.startswith(prefix):
                    line = line[len(prefix) :]
                    break
            if line.endswith("*/"):
                line = line[:-2]
            lines.append(line.strip())
    return _clean_doc("\n".join(lines)), (span_start, span_end)


def parse_file(
    data: bytes, relpath: str, language: str, chunk_chars: int, expander: TermExpander | None = None
) -> ParsedFile:
    """Extract symbols, references and chunks from UTF-8 ``data``.

    Pass one long-lived ``expander`` per process: its memo makes term expansion cheap.
    """
    counter = NonWhitespaceCounter(data)
    line_starts = counter.line_starts
    expander = expander or TermExpander()
    if language not in CODE_LANGUAGES:
        spans = chunk_text(data, language, chunk_chars, line_starts)
        parsed = ParsedFile(language, line_count=len(line_starts), source=_packed(data))
        parsed.chunks = _make_chunks(data, line_starts, spans, [], expander, [])
        return parsed

    import tree_sitter

    parser = tree_sitter.Parser(load_language(language))
    tree = parser.parse(data)
    root = tree.root_node
    parsed = ParsedFile(language, line_count=len(line_starts), parse_errors=root.has_error, source=_packed(data))

    definitions: list[tuple[tree_sitter.Node, tree_sitter.Node, str, tree_sitter.Node]] = []
    raw_refs: list[tuple[int, bytes, str, int]] = []
    seen_defs: set[int] = set()
    roles = _capture_roles(language)
    # pattern index -> (tag capture, is a definition, kind); each pattern has one tag capture
    pattern_roles: dict[int, tuple[str, bool, str] | None] = {}
    wrappers = _WRAPPERS
    for pattern, captures in tree_sitter.QueryCursor(load_query(language)).matches(root):
        role = pattern_roles.get(pattern, False)
        if role is False:
            role = next(((c, *roles[c]) for c in captures if c in roles), None)
            pattern_roles[pattern] = role
        names = captures.get("name")
        if role is None or not names:
            continue
        name_node = names[0]
        if role[1]:
            node = captures[role[0]][0]
            if node.id in seen_defs:
                continue
            seen_defs.add(node.id)
            outer = node
            while outer.parent is not None and outer.parent.type in wrappers:
                outer = outer.parent
            definitions.append((node, name_node, role[2], outer))
        else:
            raw_refs.append((name_node.start_byte, name_node.text, role[2], name_node.start_point[0] + 1))

    parsed.symbols, ranges = _build_symbols(definitions, data, relpath, language)
    if parsed.symbols:
        parsed.signatures = pack_signatures(s.signature for s in parsed.symbols)
    parsed.references = _attach(raw_refs, ranges)
    spans = chunk_tree(root, counter, chunk_chars, line_starts)
    parsed.chunks = _make_chunks(
        data, line_starts, spans, ranges, expander, [s.qualname for s in parsed.symbols]
    )
    return parsed


@cache
def _capture_roles(language: str) -> dict[str, tuple[bool, str]]:
    """Capture name → (is a definition, kind) for the language's query."""
    query = load_query(language)
    roles: dict[str, tuple[bool, str]] = {}
    for i in range(query.capture_count):
        name = query.capture_name(i)
        if name.startswith("definition."):
            roles[name] = (True, name[11:])
        elif name.startswith("reference."):
            roles[name] = (False, name[10:])
    return roles


def _receiver_type(node: tree_sitter.Node) -> str:
    """The type a method defined outside its type's body belongs to: the receiver of a Go
    method (``func (s *Store) Get``), the type of a Rust ``impl`` block. Without it every
    ``Get`` of a Go file had the one qualified name ``Get``, and search merged them into one hit."""
    if node.type == "method_declaration":  # Go
        receiver = node.child_by_field_name("receiver")
        typ = None
        if receiver is not None:
            for param in receiver.named_children:
                if param.type == "parameter_declaration":
                    typ = param.child_by_field_name("type")
                    break
    elif node.type == "function_item" and node.parent is not None and node.parent.parent is not None \
            and node.parent.parent.type == "impl_item":  # Rust
        typ = node.parent.parent.child_by_field_name("type")
    else:
        return ""
    while typ is not None and typ.type not in ("type_identifier", "identifier", "primitive_type"):
        if typ.type in ("tuple_type", "array_type", "function_type", "unit_type"):
            return ""  # no one type to name it after
        # *T, T[K], Store<T>, &T, module::Store: the named type inside
        inner = typ.child_by_field_name("type") or typ.child_by_field_name("name")
        typ = inner if inner is not None else (typ.named_children[0] if typ.named_children else None)
    return (typ.text or b"").decode("utf-8", "replace") if typ is not None else ""


def _build_symbols(
    definitions: list, data: bytes, relpath: str, language: str
) -> tuple[list[Symbol], list[tuple[int, int, int]]]:
    """Order definitions, nest them, and compute qualified names, kinds and docs.

    Returns the symbols and their (start_byte, end_byte, index) ranges for later lookups.
    """
    definitions.sort(key=lambda d: (d[3].start_byte, -d[3].end_byte))
    module = module_name(relpath, language)
    symbols: list[Symbol] = []
    ranges: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int]] = []  # (end_byte, symbol index)
    for node, name_node, kind, outer in definitions:
        start, end = outer.start_byte, outer.end_byte
        while stack and stack[-1][0] <= start:
            stack.pop()
        parent = stack[-1][1] if stack else None
        name = (name_node.text or b"").decode("utf-8", "replace")
        if not name:
            continue
        if kind == "function" and parent is not None and symbols[parent].kind in _CONTAINER_KINDS:
            kind = "method"
        prefix = symbols[parent].qualname if parent is not None else module
        if (parent is None or symbols[parent].kind == "module") and (owner := _receiver_type(node)):
            prefix = f"{prefix}.{owner}" if prefix else owner
        qualname = f"{prefix}.{name}" if prefix else name
        doc, doc_span = _python_docstring(node) if language == "python" else _comment_doc(outer)
        index = len(symbols)
        symbols.append(
            Symbol(
                name=name,
                qualname=qualname,
                kind=kind,
                start_line=outer.start_point[0] + 1,
                end_line=outer.end_point[0] + 1,
                signature=_signature(node, data),
                doc=doc,
                parent=parent,
                doc_span=doc_span,
            )
        )
        ranges.append((start, end, index))
        stack.append((end, index))
    return symbols, ranges


def _attach(raw_refs: list[tuple[int, bytes, str, int]], ranges: list[tuple[int, int, int]]) -> list[Reference]:
    """Give each reference its innermost enclosing symbol (one sweep over sorted positions),
    grouping repeated uses of one name in one symbol into a single record with all its lines."""
    raw_refs.sort(key=itemgetter(0))
    grouped: dict[tuple[bytes, str, int | None], list[int]] = {}
    stack: list[tuple[int, int]] = []  # (end_byte, index)
    i = 0
    n = len(ranges)
    for pos, raw, kind, line in raw_refs:
        while i < n and ranges[i][0] <= pos:
            while stack and stack[-1][0] <= ranges[i][0]:
                stack.pop()
            stack.append((ranges[i][1], ranges[i][2]))
            i += 1
        while stack and stack[-1][0] <= pos:
            stack.pop()
        key = (raw, kind, stack[-1][1] if stack else None)
        lines = grouped.get(key)
        if lines is None:
            grouped[key] = [line]
        elif lines[-1] != line:
            lines.append(line)
    out: list[Reference] = []
    for (raw, kind, symbol), lines in grouped.items():
        name = raw.decode("utf-8", "replace").strip("\"'`<>")
        if name:
            out.append((name, kind, ",".join(map(str, lines)), symbol))
    return out


def _make_chunks(
    data: bytes,
    line_starts: list[int],
    spans: list[LineSpan],
    ranges: list[tuple[int, int, int]],
    expander: TermExpander,
    qualnames: list[str],
) -> list[Chunk]:
    chunks: list[Chunk] = []
    n_lines = len(line_starts)
    stack: list[tuple[int, int, int]] = []  # enclosing ranges, innermost on top
    i, n = 0, len(ranges)
    for span in spans:
        b0 = line_starts[span.start]
        b1 = line_starts[span.end + 1] if span.end + 1 < n_lines else len(data)
        raw = data[b0:b1]
        # the index cuts stored chunks from the file's source the same way (``SourceText.span``)
        text = raw.decode("utf-8", "replace").rstrip("\n")
        if not text.strip():
            continue
        first = b0 + (len(raw) - len(raw.lstrip()))
        last = b0 + len(raw.rstrip())
        while i < n and ranges[i][0] <= first:
            while stack and stack[-1][1] <= ranges[i][0]:
                stack.pop()
            stack.append(ranges[i])
            i += 1
        while stack and stack[-1][1] < last:
            stack.pop()
        symbol = stack[-1][2] if stack else None
        chunks.append(
            Chunk(
                span.start + 1,
                span.end + 1,
                symbol,
                text,
                expander.extra(text),
                "" if symbol is None else expander.with_extra(qualnames[symbol]),
            )
        )
    return chunks
