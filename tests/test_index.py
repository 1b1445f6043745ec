"""The durable index through the Python API: build, search, symbols, references, incremental."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

import codeassist
from codeassist.index.location import index_dir
from codeassist.index.store import DB_NAME

from .conftest import generated_python_files
from .helpers import dump_index


def test_index_summary_counts(indexed):
    stats = indexed.index()  # second run: nothing to do
    assert stats.added == stats.updated == stats.removed == 0
    assert stats.unchanged == stats.files
    for language in ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
                     "csharp", "ruby", "php", "kotlin", "swift", "bash", "scala", "lua", "markdown",
                     "sql", "yaml", "toml", "dockerfile"):
        assert stats.languages.get(language, 0) >= 1, language
    assert stats.symbols > 40 and stats.references > 40 and stats.chunks >= stats.files


def test_index_lives_outside_the_repo(indexed, isolated_home):
    assert Path(indexed.index_dir).is_relative_to(isolated_home)
    assert (indexed.index_dir / DB_NAME).exists()
    assert not any(p.name.startswith("index.sqlite") for p in indexed.root.rglob("*"))


def test_search_finds_identifiers_in_any_spelling(indexed):
    for query in ("get_user_name", "getUserName", "user name"):
        hits = indexed.search(query, k=10)
        paths = {h.path for h in hits}
        assert {"payments/retry.py", "web/types.ts"} <= paths, (query, paths)
    top = indexed.search("RetryPolicy.backoff", k=3)[0]
    assert top.path == "payments/retry.py"
    assert top.symbol == "payments.retry.RetryPolicy.backoff"
    assert top.kind == "method"
    assert top.sources.get("symbol") == 1
    assert "def backoff" in top.text
    assert top.start_line <= 15 <= top.end_line


def test_search_natural_language_and_paths(indexed):
    hits = indexed.search("where do we retry failed uploads?", k=5)
    assert hits[0].path == "payments/retry.py"
    hits = indexed.search('File "server/main.go", line 12', k=3)
    assert hits[0].path == "server/main.go" and hits[0].start_line <= 12 <= hits[0].end_line
    assert hits[0].sources.get("path") == 1


def test_search_is_deterministic_and_rejects_empty(indexed):
    assert indexed.search("cache evict") == indexed.search("cache evict")
    with pytest.raises(codeassist.QueryError):
        indexed.search("   ")


def test_symbols_and_references(indexed):
    found = indexed.symbols("RetryPolicy")
    assert [(s.path, s.kind, s.start_line) for s in found] == [("payments/retry.py", "class", 9)]
    assert found[0].doc.startswith("How often")
    assert [s.qualname for s in indexed.symbols("RetryPolicy.backoff")] == [
        "payments.retry.RetryPolicy.backoff"
    ]
    # case and underscores are ignored; the exact spelling comes first
    names = [(s.path, s.qualname) for s in indexed.symbols("get_user_name")]
    assert names == [("payments/retry.py", "payments.retry.get_user_name"), ("web/types.ts", "getUserName")]
    assert [s.path for s in indexed.symbols("getUserName")] == ["web/types.ts", "payments/retry.py"]

    refs = indexed.references("get_user_name")
    where = {(r.path, r.line, r.kind, r.symbol) for r in refs}
    assert ("payments/client.py", 1, "import", None) in where
    assert ("payments/client.py", 9, "call", "payments.client.PaymentClient.charge") in where
    call = next(r for r in refs if r.kind == "call")
    assert call.text == "name = get_user_name(user)"
    assert {r.path for r in indexed.references("RetryPolicy")} == {"payments/client.py"}


def test_status(indexed):
    status = indexed.status()
    assert status.indexed and status.files > 20 and status.pending_changes == 0
    (indexed.root / "new.py").write_text("x = 1\n")
    (indexed.root / "payments" / "client.py").write_text("y = 2\n")
    assert indexed.status().pending_changes == 2


def test_unindexed_repository_gives_an_actionable_error(make_repo):
    project = codeassist.open(make_repo({"a.py": "x = 1\n"}))
    assert project.status().indexed is False
    with pytest.raises(codeassist.IndexNotBuiltError, match="codeassist index"):
        project.search("x")


def test_open_rejects_missing_paths(tmp_path):
    with pytest.raises(codeassist.RepositoryError, match="does not exist"):
        codeassist.open(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(codeassist.RepositoryError, match="not a folder"):
        codeassist.open(tmp_path / "file.txt")


def _fresh_dump(root: Path, home: Path) -> dict:
    """Build a brand-new index of ``root`` in another home and dump it."""
    project = codeassist.open(root, home=home)
    project.index()
    return dump_index(project.index_dir)


@pytest.mark.parametrize("workers", [1, 2])
def test_incremental_equals_fresh_after_edit_add_delete_rename(make_repo, tmp_path, workers):
    files = generated_python_files(80, functions=3)  # enough files to use the worker pool
    files["docs/guide.md"] = "# Guide\n\nUse func_1_1 for things.\n"
    root = make_repo(files)
    project = codeassist.open(root, workers=workers)
    first = project.index()
    assert first.added == 81

    # edit, add, delete, rename (same content under a new path), and touch without change
    mod3 = root / "pkg/sub3/mod_3.py"
    mod3.write_text(mod3.read_text().replace("func_3_0", "renamed_func") + "\ndef brand_new():\n    return 42\n")
    (root / "pkg/new_module.py").write_text("class Fresh:\n    def go(self):\n        return brand_new()\n")
    (root / "pkg/sub4/mod_4.py").unlink()
    os.rename(root / "pkg/sub5/mod_5.py", root / "pkg/sub5/moved_5.py")
    (root / "docs/guide.md").touch()
    os.utime(root / "pkg/sub6/mod_6.py", ns=(1, 1))  # stat changes, content does not
    stats = project.index()
    assert (stats.added, stats.updated, stats.removed) == (2, 1, 2)
    assert stats.unchanged == stats.files - 3

    assert dump_index(project.index_dir) == _fresh_dump(root, tmp_path / "fresh-home")
    assert [s.qualname for s in project.symbols("renamed_func")] == ["pkg.sub3.mod_3.renamed_func"]
    assert project.symbols("func_3_0") == []
    assert project.symbols("func_4_0") == []
    assert [s.path for s in project.symbols("func_5_0")] == ["pkg/sub5/moved_5.py"]
    assert project.search("brand_new")[0].path in {"pkg/sub3/mod_3.py", "pkg/new_module.py"}


def test_noop_reindex_only_stats(make_repo, monkeypatch):
    root = make_repo(generated_python_files(10, functions=2))
    project = codeassist.open(root)
    project.index()
    opened: list[str] = []
    import codeassist.textfile as reader

    real = reader.read_text
    monkeypatch.setattr(reader, "read_text", lambda path, n: opened.append(path) or real(path, n))
    import codeassist.index.worker as worker

    monkeypatch.setattr(worker, "read_text", reader.read_text)
    stats = project.index()
    assert opened == []
    assert stats.unchanged == 10 and stats.added == stats.updated == 0


def test_git_status_is_unchanged_by_indexing(multi_repo):
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is required for this test")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    run = lambda *a: subprocess.run([git, *a], cwd=multi_repo, env=env, capture_output=True, text=True,  # noqa: E731
                                    check=True).stdout
    run("init", "-q")
    run("add", "-A")
    run("commit", "-qm", "init")
    before = run("status", "--porcelain", "--ignored")
    project = codeassist.open(multi_repo)
    project.index()
    project.search("retry")
    project.index()
    assert run("status", "--porcelain", "--ignored") == before == ""


def test_changed_chunk_settings_rebuild_the_index(make_repo):
    root = make_repo({"a.py": "def f():\n    return 1\n"})
    codeassist.open(root).index()
    stats = codeassist.open(root, chunk_chars=300).index()
    assert stats.rebuilt == "chunking settings changed" and stats.added == 1


def test_index_from_an_older_version_is_rebuilt_with_a_message(make_repo):
    root = make_repo({"a.py": "def f():\n    return 1\n"})
    project = codeassist.open(root)
    project.index()
    conn = sqlite3.connect(project.index_dir / DB_NAME)
    conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(codeassist.IndexNotBuiltError, match="another version"):
        project.search("f")
    stats = project.index()
    assert stats.rebuilt.startswith("index format 0/")
    assert stats.added == 1
    assert project.search("f")


def test_damaged_index_file_gives_a_clear_error(make_repo):
    root = make_repo({"a.py": "x = 1\n"})
    project = codeassist.open(root)
    folder = index_dir(project.settings.home, root)
    folder.mkdir(parents=True)
    (folder / DB_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(codeassist.IndexCorruptError, match="--rebuild"):
        project.search("x")


def test_hits_are_deduplicated_to_the_enclosing_symbol(make_repo):
    body = "\n".join(f"    step_{i} = compute_widget_total({i})" for i in range(60))
    root = make_repo(
        {
            "widgets.py": (
                "from typing import overload\n\n"
                "@overload\ndef total(x: int) -> int: ...\n"
                "@overload\ndef total(x: str) -> str: ...\n"
                f"def total(x):\n    \"\"\"Widget total.\"\"\"\n{body}\n    return x\n"
            ),
            "other.py": "def compute_widget_total(n):\n    return n\n",
        }
    )
    project = codeassist.open(root, chunk_chars=300)
    project.index()
    hits = project.search("total compute_widget_total", k=10)
    keys = [(h.path, h.symbol) for h in hits]
    assert len(keys) == len(set(keys)), keys  # one hit per symbol, overloads included
    assert ("widgets.py", "widgets.total") in keys and ("other.py", "other.compute_widget_total") in keys
    merged = next(h for h in hits if h.symbol == "widgets.total")
    assert {"lexical", "symbol"} <= set(merged.sources)  # both chunks' sources kept


def test_exact_dotted_name_wins_among_many_same_named_symbols(make_repo):
    classes = "\n".join(f"class C{i}:\n    def __init__(self):\n        self.v = {i}\n" for i in range(600))
    root = make_repo({"many.py": classes, "zz_target.py": "class Foo:\n    def __init__(self):\n        pass\n"})
    project = codeassist.open(root)
    project.index()
    top = project.search("Foo.__init__", k=3)[0]
    assert top.symbol == "zz_target.Foo.__init__" and top.sources.get("symbol") == 1


def test_hidden_paths_and_dotted_import_references(make_repo):
    root = make_repo(
        {
            ".github/workflows/ci.yml": "name: ci\non: push\n",
            "app.py": "import os.path\nfrom os import path\n\ndef f():\n    return path.join('a')\n",
        }
    )
    project = codeassist.open(root)
    project.index()
    assert project.search(".github/workflows/ci.yml", k=1)[0].path == ".github/workflows/ci.yml"
    refs = {(r.name, r.kind, r.line) for r in project.references("path")}
    assert ("os.path", "import", 1) in refs and ("path", "import", 2) in refs
    assert project.references("Path") == []  # case-sensitive, unlike LIKE


def test_graph_source_adds_what_a_hit_uses_and_what_uses_it(make_repo):
    files = {
        "billing/invoice.py": "def finalize_invoice(inv):\n    total = apply_discounts(inv)\n"
                              "    return settle(total)\n",
        "billing/discounts.py": "def apply_discounts(order):\n    return order * 0.9\n",
        "billing/api.py": "from billing.invoice import finalize_invoice\n\n"
                          "def checkout(cart):\n    return finalize_invoice(cart)\n",
    }
    # `settle` is defined in six places: a use of it says nothing about which one is meant
    files.update({f"pay{i}.py": f"def settle(x):\n    return x + {i}\n" for i in range(6)})
    files.update({f"noise{i}.py": f"def helper_{i}(y):\n    return y - {i}\n" for i in range(20)})
    project = codeassist.open(make_repo(files))
    project.index()
    hits = project.search("finalize the invoice", k=10)
    by_symbol = {h.symbol: h for h in hits}
    assert "billing.invoice.finalize_invoice" in {h.symbol for h in hits[:2]}
    assert "graph" in by_symbol["billing.discounts.apply_discounts"].sources  # what the hit uses
    assert "graph" in by_symbol["billing.api.checkout"].sources  # a caller of the hit
    assert not any(h.symbol and h.symbol.endswith(".settle") for h in hits)
    without = project.search("finalize the invoice", k=10, sources={"lexical", "symbol", "path"})
    assert all("graph" not in h.sources for h in without)
    assert "billing.discounts.apply_discounts" not in {h.symbol for h in without}


def test_file_source_ranks_the_file_that_holds_all_of_an_issues_words(make_repo):
    """An issue's words are spread over the file a fix touches; no single function holds them."""
    spread = "\n\n".join(f"def step_{w}(state):\n    \"\"\"Handle the {w} part.\"\"\"\n    return state.{w}_{i}\n"
                         for i, w in enumerate(["tokenizer", "lexeme", "backslash", "escapes", "quoting",
                                                "terminator"]))
    root = make_repo({
        "shell/split.py": spread,
        "shell/words.py": "def describe():\n    \"\"\"tokenizer tokenizer tokenizer tokenizer\"\"\"\n    return 1\n",
        "shell/other.py": "def backslash_count(s):\n    return s.count('\\\\')\n",
    })
    project = codeassist.open(root)
    project.index()
    question = "The tokenizer splits a lexeme wrongly when backslash escapes meet quoting before the terminator"
    with project.reader() as index:
        from codeassist.search.engine import _files

        files = [index.chunks([cid])[cid].file_id for cid, _s, _w in _files(index, question, 10)]
        assert index.paths_of(files[:1]) == {files[0]: "shell/split.py"}
        from codeassist.search import RRF_K, ranked_for_context

        _pieces, depth_files = ranked_for_context(index, question, None, k=20, rrf_k=RRF_K)
        assert index.paths_of(depth_files[:1]) == {depth_files[0]: "shell/split.py"}  # what comes whole first
    hits = project.search(question, k=5, sources={"lexical", "symbol", "path", "file"})
    assert hits[0].path == "shell/split.py" and "file" in hits[0].sources
    assert "file" not in project.search(question, k=5)[0].sources  # not in a default search


def test_tests_and_examples_rank_below_the_code_they_exercise(make_repo):
    code = "def parse_duration(text):\n    \"\"\"Parse a duration such as 3h20m into seconds.\"\"\"\n    return 0\n"
    test = ("from lib.duration import parse_duration\n\n" + "\n".join(
        f"def test_parse_duration_{i}():\n    \"\"\"Parse a duration such as {i}h into seconds.\"\"\"\n"
        f"    assert parse_duration('{i}h') == {i * 3600}\n" for i in range(6)))
    example = "from lib.duration import parse_duration\n\n# parse a duration into seconds\nprint(parse_duration('3h'))\n"
    root = make_repo({"lib/duration.py": code, "tests/test_duration.py": test, "examples/duration_demo.py": example})
    project = codeassist.open(root)
    project.index()
    hits = project.search("parse a duration into seconds", k=5)
    assert hits[0].path == "lib/duration.py", [h.path for h in hits]
    about_tests = project.search("tests that parse a duration into seconds", k=5)
    assert about_tests[0].path == "tests/test_duration.py"  # asked about tests: no demotion
    report = ("Parse a duration such as 3h into seconds correctly\n\nA duration such as 3h was parsed into the "
              "wrong number of seconds when hours came before minutes, because the units were read in the "
              "wrong order. Parse each unit in turn. Add a test.")
    assert project.search(report, k=5)[0].path == "lib/duration.py"  # a test mentioned in passing


def test_chunk_texts_cut_from_the_stored_source_are_exactly_what_parsing_made(make_repo):
    """The index keeps each file's source once (compressed) and cuts chunk texts from it: every
    chunk as parsing made it, the FTS rows an edit deletes, and a file changed on disk since
    indexing read as the index saw it."""
    from codeassist.index.texts import FileTexts
    from codeassist.parsing.extract import parse_file

    big = "".join(f"def fn_{i}(x):\n    '''doc {i}{SPECIAL if i == 7 else ''}'''\n    return x + {i}\n\n\n"
                  for i in range(300))
    files = {
        "crlf.py": "def a():\r\n    return 1\r\n\r\n\r\nclass B:\r\n    def c(self):\r\n        return 'é'\r\n",
        "trailing.py": "def f():\n    return 2\n\n\n\n",
        "nonl.py": "def g():\n    return 3",
        "notes.md": "# Title\n\nSome text.\n\n\n## More\n\nmore text\n",
        "big.py": big,
        "util.c": "#define LIMIT 10\nint add(int a, int b) { return a + b; }\n"
                  "static inline unsigned long\nspread(int a,\n       int b)\n{\n    return a;\n}\n"
                  "#define LONG(x) " + "x + " * 200 + "x\n",
        "deco.py": "import functools\n\n\n@functools.cache\ndef cached(n):\n    return n\n\n\n"
                   "class K:\n    @property\n    def p(self):\n        return 1\n\n    def q(self, a,\n          b):\n"
                   "        return a\n",
        "lib.rs": "#[derive(Debug)]\npub struct S { a: i32 }\n\nimpl S {\n    #[inline]\n    pub fn get(&self)"
                  " -> i32 {\n        self.a\n    }\n}\n",
    }
    root = make_repo(files)
    (root / "latin.py").write_bytes(b"def h():\n    return '\xe9t\xe9'\n")  # not UTF-8
    project = codeassist.open(root)
    project.index()
    with project.reader() as index:
        seen = with_symbols = same = 0
        for indexed in index.files():
            source = index.source(indexed.id)
            expected = parse_file(source.data, indexed.path, indexed.language or "text", project.settings.chunk_chars)
            ids = [row[0] for row in index._all("SELECT id FROM chunks WHERE file_id=? ORDER BY start_line",
                                                (indexed.id,))]
            chunks = index.chunks(ids)
            assert [chunks[i].text for i in ids] == [c.text for c in expected.chunks], indexed.path
            # signatures, kept a file at a time, each read back exactly as parsed
            got = sorted((d.start_line, d.name, d.signature) for d in index.symbols_in_files([indexed.id]))
            assert got == sorted((x.start_line, x.name, x.signature) for x in expected.symbols), indexed.path
            with_symbols += bool(expected.symbols)
            same += sum(1 for x in expected.symbols if x.qualname == x.name)
            if indexed.path != "latin.py":  # that one is kept as parsed: decoded
                assert source.data == (root / indexed.path).read_bytes()
            seen += len(ids)
        assert seen >= 10
        assert index._one("SELECT COUNT(*) FROM signatures")[0] == with_symbols >= 7
        assert "def fn_7(x):" in {u.signature_in(index.signature_lists([u.file_id])) for u in index.embed_units()}
        assert [(d.name, d.signature) for d in index.symbol_details(name_like="spread")] == [
            ("spread", "static inline unsigned long spread(int a, int b)")]
        assert index.term_chunks("zebraword", 10)
        assert index._one("SELECT COUNT(*) FROM symbols WHERE qualname=''")[0] == same >= 4  # C's: stored once ...
        assert {s.qualname for s in index.symbols_named(["fn_7", "c", "add", "LIMIT"])} == {
            "big.fn_7", "crlf.B.c", "add", "LIMIT"}  # ... and read whole
    (root / "trailing.py").write_text("changed on disk, not indexed yet\n")
    with project.reader() as index:
        texts = FileTexts(index, root, project.settings.minified_line_length)
        assert texts.lines(index.file("trailing.py").id) == ["def f():", "    return 2", "", "", ""]  # as indexed
        assert "trailing.py" in texts.stale
    (root / "big.py").write_text(big.replace(SPECIAL, ""))
    project.index()
    with project.reader() as index:
        assert index.term_chunks("zebraword", 10) == []  # the old rows' FTS terms were deleted exactly
        assert index.source(index.file("big.py").id).data == (root / "big.py").read_bytes()
    assert dump_index(project.index_dir)["chunks"]  # healthy: no integrity problem, no orphaned rows


SPECIAL = " zebraword"


def test_embedding_texts_and_reference_lines_read_from_the_stored_sources(make_repo):
    """What the semantic stage embeds (a symbol's first lines after its signature) and the line
    shown with each reference are cut from the sources exactly as from the chunks' texts."""
    from codeassist.index.embed_stage import _BODY_LINES, _body

    root = make_repo({**generated_python_files(12, functions=4),
                      "lib.c": "int add(int a, int b)\n{\n    return a + b;\n}\n\nint twice(int a)\n{\n"
                               "    return add(a, a);\n}\n"})
    project = codeassist.open(root)
    project.index()
    with project.reader() as index:
        units = index.embed_units()
        sources = index.sources(u.file_id for u in units)
        assert len(units) > 40
        for unit in units:
            span = index.chunk_at(unit.file_id, unit.start_line)
            text = index.chunks([span.id])[span.id].text
            doc_words = set(unit.doc.split()[:8])
            expected = [ln.strip() for ln in text.split("\n")[unit.start_line - span.start_line + 1:]
                        if ln.strip() and not (doc_words and set(ln.split()) <= doc_words)][:_BODY_LINES]
            assert _body(index, sources, unit.file_id, unit.start_line, unit.doc) == "\n".join(expected), unit
        assert [(r.line, r.text) for r in project.references("add")] == [(8, "return add(a, a);")]
        lines = (root / "pkg/sub1/mod_1.py").read_text().split("\n")
        file_id = index.file("pkg/sub1/mod_1.py").id
        got = index.line_texts([(file_id, n) for n in range(1, len(lines) + 2)])
        assert [got[file_id, n] for n in range(1, len(lines) + 1)] == lines and got[file_id, len(lines) + 1] == ""
