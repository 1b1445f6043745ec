"""Extraction: symbols with qualified names, docs and signatures; references; AST chunks."""

from __future__ import annotations

from codeassist.parsing.extract import module_name, parse_file
from codeassist.parsing.languages import CODE_LANGUAGES, detect_language
from codeassist.parsing.terms import extra_terms, normalize_name, query_terms, split_identifier

from .conftest import MULTI_LANGUAGE_FILES


def _parse(path: str, source: str, chunk_chars: int = 1200):
    language = detect_language(path, source.encode()[:256])
    assert language is not None, path
    return parse_file(source.encode(), path, language, chunk_chars)


def _symbols(parsed) -> dict[str, tuple[str, int, int]]:
    return {s.qualname: (s.kind, s.start_line, s.end_line) for s in parsed.symbols}


def test_at_least_fifteen_languages_have_grammars():
    required = {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
                "ruby", "php", "kotlin", "swift", "bash"}
    assert required <= set(CODE_LANGUAGES)


def test_python_symbols_docs_signatures_and_parents():
    parsed = _parse("payments/retry.py", MULTI_LANGUAGE_FILES["payments/retry.py"])
    syms = {s.qualname: s for s in parsed.symbols}
    assert _symbols(parsed) == {
        "payments.retry.MAX_ATTEMPTS": ("constant", 6, 6),
        "payments.retry.RetryPolicy": ("class", 9, 25),  # includes the @dataclass decorator line
        "payments.retry.RetryPolicy.backoff": ("method", 15, 17),
        "payments.retry.RetryPolicy.run": ("method", 19, 25),
        "payments.retry.get_user_name": ("function", 28, 30),
    }
    backoff = syms["payments.retry.RetryPolicy.backoff"]
    assert backoff.signature == "def backoff(self, attempt: int) -> float:"
    assert backoff.doc == "Seconds to wait before the given attempt (exponential)."
    assert parsed.symbols[backoff.parent].qualname == "payments.retry.RetryPolicy"
    assert syms["payments.retry.RetryPolicy"].doc == "How often and how long to retry a failed operation."


def test_python_references_with_enclosing_symbols():
    parsed = _parse("payments/retry.py", MULTI_LANGUAGE_FILES["payments/retry.py"])
    refs = {(name, kind, lines, parsed.symbols[sym].qualname if sym is not None else None)
            for name, kind, lines, sym in parsed.references}
    assert ("time", "import", "3", None) in refs
    assert ("dataclasses", "import", "4", None) in refs
    assert ("dataclass", "import", "4", None) in refs
    assert ("backoff", "call", "24", "payments.retry.RetryPolicy.run") in refs
    assert ("sleep", "call", "24", "payments.retry.RetryPolicy.run") in refs
    assert ("title", "call", "30", "payments.retry.get_user_name") in refs


def test_repeated_uses_in_one_symbol_are_grouped_with_all_lines():
    source = "def f():\n    g()\n    g()\n    h()\n    g()\n"
    parsed = _parse("m.py", source)
    refs = {(name, lines) for name, kind, lines, _ in parsed.references if kind == "call"}
    assert refs == {("g", "2,3,5"), ("h", "4")}


def test_every_language_in_the_fixture_yields_symbols():
    expected = {
        "web/app.js": {"renderTotal", "Basket", "Basket.addItem"},
        "web/types.ts": {"Item", "Price", "getUserName"},
        "web/Widget.tsx": {"Widget"},
        "server/main.go": {"Server", "Start", "main"},
        "engine/src/lib.rs": {"Cache", "evict"},
        "engine/Main.java": {"Main", "Main.main"},
        "native/hash.c": {"fnv1a", "SEED"},
        "native/vec.cpp": {"geo", "geo.Vec"},
        "tools/Deploy.cs": {"Tools", "Tools.Deployer", "Tools.Deployer.Deploy"},
        "tools/task.rb": {"Tasks", "Tasks.Runner", "Tasks.Runner.run"},
        "tools/page.php": {"Site", "Page.render"},
        "mobile/App.kt": {"Session", "Session.greet", "start"},
        "mobile/View.swift": {"ViewModel", "ViewModel.refresh"},
        "scripts/build.sh": {"build_all"},
        "analytics/Report.scala": {"Report", "Report.total"},
        "game/init.lua": {"spawn"},
    }
    for path, names in expected.items():
        parsed = _parse(path, MULTI_LANGUAGE_FILES[path])
        got = {s.qualname for s in parsed.symbols}
        missing = {n for n in names if not any(q == n or q.endswith("." + n) for q in got)}
        assert not missing, f"{path}: missing {missing}, got {sorted(got)}"
        assert parsed.chunks, path


def test_doc_comments_in_other_languages():
    go = {s.name: s for s in _parse("server/main.go", MULTI_LANGUAGE_FILES["server/main.go"]).symbols}
    assert go["Start"].doc == "Start begins listening."
    assert go["Server"].doc == "Server answers HTTP requests."
    js = {s.name: s for s in _parse("web/app.js", MULTI_LANGUAGE_FILES["web/app.js"]).symbols}
    assert js["renderTotal"].doc == "Renders the basket total."
    rs = {s.name: s for s in _parse("engine/src/lib.rs", MULTI_LANGUAGE_FILES["engine/src/lib.rs"]).symbols}
    assert rs["new"].doc == "Creates an empty cache."
    c = {s.name: s for s in _parse("native/hash.c", MULTI_LANGUAGE_FILES["native/hash.c"]).symbols}
    assert c["fnv1a"].doc == "FNV-1a hash."
    assert c["fnv1a"].signature == "uint32_t fnv1a(const char *s)"


def test_chunks_cover_code_respect_budget_and_know_their_symbol():
    lines = ['"""Big module."""', ""]
    for i in range(40):
        lines += [f"def function_{i}(x):", f'    """Doc {i}."""'] + [f"    x = x + {j}" for j in range(12)] + ["    return x", ""]
    lines += ["class Holder:", '    """Holds."""']
    for i in range(10):
        lines += [f"    def method_{i}(self):"] + [f"        self.v{j} = {j}" for j in range(15)] + [""]
    source = "\n".join(lines) + "\n"
    parsed = _parse("big.py", source, chunk_chars=600)
    assert len(parsed.chunks) > 10
    for chunk in parsed.chunks:
        non_ws = sum(1 for ch in chunk.text if not ch.isspace())
        assert non_ws <= 600 * 1.2, (chunk.start_line, non_ws)
    # every line with code is inside some chunk
    covered = set()
    for chunk in parsed.chunks:
        covered.update(range(chunk.start_line, chunk.end_line + 1))
    for number, line in enumerate(source.split("\n"), start=1):
        if line.strip():
            assert number in covered, (number, line)
    # chunks are in order and do not overlap
    spans = [(c.start_line, c.end_line) for c in parsed.chunks]
    assert spans == sorted(spans)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    # a chunk inside Holder knows it; the class header joins its first body chunk
    names = [parsed.symbols[c.symbol].qualname if c.symbol is not None else None for c in parsed.chunks]
    assert any(n and n.startswith("big.Holder") for n in names)
    holder = next(s for s in parsed.symbols if s.qualname == "big.Holder")
    first = next(c for c in parsed.chunks if c.start_line <= holder.start_line <= c.end_line)
    assert first.end_line > holder.start_line


def test_small_siblings_are_merged():
    source = "\n".join(f"X{i} = {i}" for i in range(50)) + "\n"
    parsed = _parse("consts.py", source, chunk_chars=1200)
    assert len(parsed.chunks) == 1
    assert (parsed.chunks[0].start_line, parsed.chunks[0].end_line) == (1, 50)


def test_deep_nesting_does_not_blow_the_stack():
    depth = 10_000
    source = "x = " + "[" * depth + "]" * depth + "\n" + "def after():\n    return 1\n"
    parsed = _parse("deep.py", source)
    assert any(s.name == "after" for s in parsed.symbols)
    js = "function f() {" + "if (a) {" * 5000 + "}" * 5000 + "}\n"
    parsed = _parse("deep.js", js)
    assert [s.name for s in parsed.symbols] == ["f"]


def test_syntax_errors_still_yield_what_parses():
    parsed = _parse("broken.py", "def good():\n    return 1\n\ndef bad(:\n    pass\n")
    assert parsed.parse_errors
    assert any(s.name == "good" for s in parsed.symbols)


def test_text_files_get_plain_chunks():
    md = "# Title\n\nIntro.\n\n## Install\n\npip install x\n\n## Usage\n\nRun it.\n"
    parsed = parse_file(md.encode(), "README.md", "markdown", 20)
    starts = [c.text.split("\n")[0] for c in parsed.chunks]
    assert starts[0] == "# Title" and "## Usage" in starts
    yaml = "\n\n".join(f"key{i}: value{i}" for i in range(200)) + "\n"
    parsed = parse_file(yaml.encode(), "c.yaml", "yaml", 200)
    assert len(parsed.chunks) > 5
    assert parsed.symbols == [] and parsed.references == []


def test_language_detection():
    assert detect_language("a/b.py") == "python"
    assert detect_language("x.tsx") == "tsx"
    assert detect_language("Dockerfile") == "dockerfile"
    assert detect_language("Rakefile") == "ruby"
    assert detect_language("bin/tool", b"#!/usr/bin/env python3\nprint(1)\n") == "python"
    assert detect_language("bin/run", b"#!/bin/sh\necho\n") == "bash"
    assert detect_language("data.bin") is None


def test_module_names():
    assert module_name("src/pkg/mod.py", "python") == "pkg.mod"
    assert module_name("pkg/__init__.py", "python") == "pkg"
    assert module_name("scripts/my-tool.py", "python") == ""
    assert module_name("web/app.js", "javascript") == ""


def test_identifier_terms():
    assert split_identifier("parseHTTPResponse2") == ["parse", "http", "response", "2"]
    assert split_identifier("get_user_name") == ["get", "user", "name"]
    assert normalize_name("get_UserName") == "getusername"
    assert extra_terms("getUserName(x) + get_user_name + plain") == (
        "getusername get user name getusername get user name"
    )
    assert query_terms("where is getUserName defined?") == ["getusername", "user", "name", "defined"]


def test_methods_defined_outside_their_type_are_named_after_it():
    go = '''package keys

type Int struct{}
type Float struct{}
type List[T any] struct{}

// Get reads an int.
func (k *Int) Get() int { return 0 }

// Get reads a float.
func (k Float) Get() float64 { return 0 }

func (l *List[T]) Push(x T) {}

func Free() {}
'''
    names = {(s.qualname, s.start_line) for s in _parse("keys/keys.go", go).symbols if s.kind != "struct"}
    assert names == {("Int.Get", 8), ("Float.Get", 11), ("List.Push", 13), ("Free", 15)}
    rust = '''struct Store<T> { items: Vec<T> }
trait Repo { fn get(&self) -> u8; }
impl<T> Repo for Store<T> { fn get(&self) -> u8 { 0 } }
impl crate::other::Cache { fn get(&self) -> u8 { 1 } }
impl Repo for u8 { fn get(&self) -> u8 { 2 } }
impl<'a> Repo for &'a str { fn get(&self) -> u8 { 3 } }
impl Repo for (u8, u8) { fn get(&self) -> u8 { 4 } }
mod imp {
    impl super::Store<u8> { fn get(&self) -> u8 { 5 } }
}
fn get() {}
'''
    methods = sorted(s.qualname for s in _parse("src/lib.rs", rust).symbols if s.name == "get")
    assert methods == ["Cache.get", "Repo.get", "Store.get", "get", "get", "imp.Store.get", "str.get", "u8.get"]


def test_search_keeps_same_named_go_methods_of_two_types_apart(make_repo):
    import codeassist

    padding = "".join(f'\tm.touch({n}, "padding so that each method is a chunk of its own")\n' for n in range(12))
    root = make_repo({"keys/keys.go": f"""package keys

type Int struct{{}}
type Float struct{{}}

// Lookup reads an int label.
func (k *Int) Lookup(m Map) int {{
{padding}\treturn m.intValue(k)
}}

// Lookup reads a float label.
func (k *Float) Lookup(m Map) float64 {{
{padding}\treturn m.floatValue(k)
}}
"""})
    project = codeassist.open(root, embed=False)
    project.index()
    hits = project.search("Lookup", k=5, sources={"symbol"})
    # two hits, not one merged "Lookup" (chunks: the file head with Int's method, then Float's)
    assert [(h.symbol, h.start_line) for h in hits] == [("Int.Lookup", 1), ("Float.Lookup", 24)]
    dotted = project.search("Float.Lookup", k=1, sources={"symbol"})
    assert [h.symbol for h in dotted] == ["Float.Lookup"]
