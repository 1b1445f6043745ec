"""Which grammar parses which file: extension/file name → language spec.

Grammars come from the small per-language wheels (``tree-sitter-python`` ...),
which work offline. Tag queries live beside this module as ``queries/<name>.scm``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import tree_sitter

__all__ = [
    "LanguageSpec",
    "CODE_LANGUAGES",
    "TEXT_LANGUAGES",
    "detect_language",
    "load_language",
    "load_query",
]

QUERY_DIR = Path(__file__).parent / "queries"


@dataclass(frozen=True)
class LanguageSpec:
    """A tree-sitter language: the module and function that build its grammar."""

    name: str
    module: str
    function: str = "language"
    extensions: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    #: query files (in ``queries/``, without ``.scm``) concatenated to make the tag query;
    #: empty means just ``<name>.scm``
    queries: tuple[str, ...] = ()


CODE_LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python", extensions=(".py", ".pyi", ".pyw")),
        LanguageSpec(
            "javascript", "tree_sitter_javascript", extensions=(".js", ".mjs", ".cjs", ".jsx")
        ),
        LanguageSpec(
            "typescript",
            "tree_sitter_typescript",
            "language_typescript",
            extensions=(".ts", ".mts", ".cts"),
        ),
        LanguageSpec(
            "tsx",
            "tree_sitter_typescript",
            "language_tsx",
            extensions=(".tsx",),
            queries=("typescript", "tsx"),  # TSX is TypeScript plus JSX
        ),
        LanguageSpec("go", "tree_sitter_go", extensions=(".go",)),
        LanguageSpec("rust", "tree_sitter_rust", extensions=(".rs",)),
        LanguageSpec("java", "tree_sitter_java", extensions=(".java",)),
        LanguageSpec("c", "tree_sitter_c", extensions=(".c", ".h")),
        LanguageSpec(
            "cpp",
            "tree_sitter_cpp",
            extensions=(".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".inl"),
        ),
        LanguageSpec("csharp", "tree_sitter_c_sharp", extensions=(".cs",)),
        LanguageSpec(
            "ruby",
            "tree_sitter_ruby",
            extensions=(".rb", ".rake", ".gemspec", ".ru"),
            filenames=("Rakefile", "Gemfile", "Guardfile"),
        ),
        LanguageSpec("php", "tree_sitter_php", "language_php", extensions=(".php", ".phtml")),
        LanguageSpec("kotlin", "tree_sitter_kotlin", extensions=(".kt", ".kts")),
        LanguageSpec("swift", "tree_sitter_swift", extensions=(".swift",)),
        LanguageSpec(
            "bash",
            "tree_sitter_bash",
            extensions=(".sh", ".bash", ".zsh", ".ksh", ".bats"),
            filenames=(".bashrc", ".bash_profile", ".profile", ".zshrc"),
        ),
        LanguageSpec("scala", "tree_sitter_scala", extensions=(".scala", ".sc")),
        LanguageSpec("lua", "tree_sitter_lua", extensions=(".lua",)),
    )
}

#: Text formats chunked without a grammar (by headings, blank lines or size).
TEXT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "markdown": (".md", ".markdown", ".mdx"),
    "rst": (".rst",),
    "text": (".txt", ".text", ".adoc", ".org"),
    "yaml": (".yaml", ".yml"),
    "toml": (".toml",),
    "json": (".json", ".jsonc", ".json5"),
    "sql": (".sql",),
    "ini": (".ini", ".cfg", ".conf", ".properties", ".editorconfig"),
    "xml": (".xml", ".xsd", ".xsl", ".svg", ".plist"),
    "html": (".html", ".htm", ".vue", ".svelte"),
    "css": (".css", ".scss", ".sass", ".less"),
    "proto": (".proto", ".thrift", ".graphql", ".gql"),
    "make": (".mk", ".cmake"),
    "gradle": (".gradle",),
    "terraform": (".tf", ".hcl"),
    "r": (".r", ".R"),
    "perl": (".pl", ".pm"),
    "elixir": (".ex", ".exs"),
    "haskell": (".hs",),
    "dart": (".dart",),
    "zig": (".zig",),
    "ocaml": (".ml", ".mli"),
    "clojure": (".clj", ".cljs", ".edn"),
    "tex": (".tex",),
}

_TEXT_FILENAMES: dict[str, str] = {
    "Dockerfile": "dockerfile",
    "Containerfile": "dockerfile",
    "Makefile": "make",
    "makefile": "make",
    "GNUmakefile": "make",
    "CMakeLists.txt": "make",
    "Jenkinsfile": "groovy",
    "Procfile": "text",
    "LICENSE": "text",
    "README": "text",
}

_SHEBANGS: dict[str, str] = {
    "python": "python",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "node": "javascript",
    "ruby": "ruby",
    "php": "php",
    "lua": "lua",
}


def _build_extension_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, exts in TEXT_LANGUAGES.items():
        for ext in exts:
            table[ext] = name
    for spec in CODE_LANGUAGES.values():
        for ext in spec.extensions:
            table[ext] = spec.name
    return table


_BY_EXTENSION = _build_extension_table()
_BY_FILENAME: dict[str, str] = dict(_TEXT_FILENAMES)
for _spec in CODE_LANGUAGES.values():
    for _fname in _spec.filenames:
        _BY_FILENAME[_fname] = _spec.name


def detect_language(relpath: str, head: bytes = b"") -> str | None:
    """Return the language name for a path (and optionally its first bytes), or None.

    ``head`` lets extensionless scripts be recognised by their ``#!`` line.
    """
    name = relpath.rsplit("/", 1)[-1]
    lang = _BY_FILENAME.get(name)
    if lang:
        return lang
    if name.startswith("Dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    dot = name.rfind(".")
    if dot > 0:
        lang = _BY_EXTENSION.get(name[dot:]) or _BY_EXTENSION.get(name[dot:].lower())
        if lang:
            return lang
    if head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0].decode("ascii", "replace")
        words = first[2:].replace("/", " ").split()
        for word in reversed(words):
            base = word.rstrip("0123456789.")
            if base in _SHEBANGS:
                return _SHEBANGS[base]
    return None


def known_extensions() -> frozenset[str]:
    """Every file extension with a language here (``.py``, ``.md`` ...)."""
    return _KNOWN_EXTENSIONS


_KNOWN_EXTENSIONS = frozenset(_BY_EXTENSION)


def is_code_language(name: str | None) -> bool:
    """True when ``name`` has a tree-sitter grammar here."""
    return name in CODE_LANGUAGES


@cache
def load_language(name: str) -> tree_sitter.Language:
    """Build (once per process) the tree-sitter ``Language`` for ``name``."""
    import tree_sitter

    spec = CODE_LANGUAGES[name]
    module = importlib.import_module(spec.module)
    return tree_sitter.Language(getattr(module, spec.function)())


@cache
def load_query(name: str) -> tree_sitter.Query:
    """Compile (once per process) the tag query ``queries/<name>.scm`` (or the spec's list)."""
    import tree_sitter

    files = CODE_LANGUAGES[name].queries or (name,)
    source = "\n".join((QUERY_DIR / f"{f}.scm").read_text(encoding="utf-8") for f in files)
    return tree_sitter.Query(load_language(name), source)
