"""The architecture as a checked contract: layers, no import circles, SQL only in the index
package, a thin facade, an explicit public surface, one vocabulary of symbol kinds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import codeassist

PACKAGE = Path(codeassist.__file__).parent
ROOT = PACKAGE.parent


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_import_contracts_hold():
    """`lint-imports` with the contracts in pyproject.toml: layers import only downward, no
    circles between sibling modules, the index's read side apart from its writers."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


_SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+"
                  r"(TABLE|INDEX|VIRTUAL))\b", re.I | re.S)


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            out.append((node.lineno, text))
    return out


#: databases of their own, not the index: the content-addressed embedding cache
_OTHER_DATABASES = {PACKAGE / "embeddings" / "cache.py"}


def test_no_sql_outside_the_index_package():
    offenders = []
    for path in _sources(PACKAGE):
        if path.is_relative_to(PACKAGE / "index") or path in _OTHER_DATABASES:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line, text in _string_constants(path)
                      if _SQL.search(text)]
    assert offenders == []


def test_the_sql_check_finds_sql():
    """The check above is not vacuous: it sees the queries of the index package."""
    found = [text for path in _sources(PACKAGE / "index") for _line, text in _string_constants(path)
             if _SQL.search(text)]
    assert len(found) > 30


@pytest.mark.parametrize("pattern", [r"\._store\(", r"\.rows\(\s*\"", r"\.conn\.execute"])
def test_no_private_reach_through_into_the_index(pattern):
    offenders = [f"{path.relative_to(ROOT)}" for folder in (PACKAGE, ROOT / "tests", ROOT / "examples")
                 for path in _sources(folder)
                 if not path.is_relative_to(PACKAGE / "index") and path.name != "test_architecture.py"
                 and re.search(pattern, path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_project_is_a_thin_facade():
    lines = (PACKAGE / "project.py").read_text(encoding="utf-8").count("\n")
    assert lines < 200


def test_every_package_folder_is_a_package():
    for folder in PACKAGE.rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
            assert (folder / "__init__.py").is_file(), folder


def test_public_surface_is_explicit_and_importable():
    names = set(codeassist.__all__)
    assert len(names) == len(codeassist.__all__), "duplicates in __all__"
    for name in names:
        assert hasattr(codeassist, name), name
    # what the README documents: the API, its results, the stream events, the error tree
    expected = {
        "open", "Project", "Settings", "load_settings", "IndexStats", "IndexStatus", "Progress", "SearchHit",
        "SymbolInfo", "ReferenceInfo", "Context", "ContextItem", "IndexReader", "Chat", "ChatSource", "Answer",
        "Citation", "ChatEvent", "StreamEvent", "Content", "Reasoning", "Notice", "Finished", "Usage", "Restart",
        "AnswerReady", "CodeassistError", "CodeassistWarning", "ConfigWarning", "ConfigError", "UsageError",
        "RepositoryError", "IndexError_", "IndexNotBuiltError", "IndexLockedError", "IndexCorruptError",
        "QueryError", "BackendError", "BackendNotConfiguredError", "BackendUnavailableError",
        "RateLimitedError", "ContextOverflowError", "IncompleteAnswerError", "__version__",
    }
    assert names == expected
    errors = [getattr(codeassist, n) for n in names if n.endswith(("Error", "Error_"))]
    assert all(issubclass(e, codeassist.CodeassistError) for e in errors)
    # every error documented in the tree at the top of errors.py
    tree = codeassist.errors.__doc__ or ""
    assert all(e.__name__ in tree for e in errors)


def test_symbol_kinds_are_one_vocabulary():
    from codeassist.parsing.kinds import (CALLABLE_KINDS, EMBEDDED_KINDS, ENCLOSING_KINDS, KIND_RANK,
                                          NEIGHBOUR_KINDS, TYPE_KINDS, SymbolKind)

    captured = set()
    for query in (PACKAGE / "parsing" / "queries").glob("*.scm"):
        captured |= set(re.findall(r"@definition\.([a-z_]+)", query.read_text(encoding="utf-8")))
    assert captured == {k.value for k in SymbolKind}
    for group in (CALLABLE_KINDS, EMBEDDED_KINDS, ENCLOSING_KINDS, NEIGHBOUR_KINDS, TYPE_KINDS, set(KIND_RANK)):
        assert set(group) <= set(SymbolKind)
    assert SymbolKind.METHOD == "method"


def test_architecture_page_names_every_module_and_only_real_ones():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").split("## Where data lives")[0]
    named = set(re.findall(r"`([a-z_/]+(?:\.py|/))`", page))
    real = [p.relative_to(ROOT).as_posix() for p in (ROOT / "codeassist").rglob("*")] + ["pyproject.toml"]
    real += [p.relative_to(ROOT).as_posix() for p in (*ROOT.glob("*"), *ROOT.glob("tests/*"))]
    for name in named:
        assert any(r == name.rstrip("/") or r.endswith("/" + name.rstrip("/")) for r in real), \
            f"docs/architecture.md names {name}, which does not exist"
    top = {p.name + ("/" if p.is_dir() else "") for p in PACKAGE.iterdir()
           if p.name not in ("__init__.py", "__pycache__") and (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert top - named == set(), "modules missing from docs/architecture.md"
