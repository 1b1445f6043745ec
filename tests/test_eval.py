"""`codeassist eval`: the benchmark built from a repository's own documented functions."""

from __future__ import annotations

import json

import codeassist
from codeassist.evaluation import _blank_doc, _query_from_doc, blanked_copy, evaluate, hit_matches, is_test_path
from codeassist.results import SearchHit
from codeassist.parsing.extract import parse_file

from .conftest import run_cli

FILES = {
    "shop/pricing.py": '''def apply_discount(price, percent):
    """Reduce a price by a percentage discount and round to cents."""
    return round(price * (1 - percent / 100), 2)


def shipping_cost(weight_kg, express):
    """Compute the parcel shipping fee from its weight, doubling it for express delivery."""
    base = 4.0 + 1.5 * weight_kg
    return base * 2 if express else base
''',
    "shop/users.py": '''class Accounts:
    def find_user(self, email):
        """Look up a customer account by email address, ignoring case."""
        return self.by_email.get(email.lower())
''',
    "web/util.js": '''/**
 * Format a number of cents as a dollar amount with two decimals.
 */
function formatCents(cents) {
  return "$" + (cents / 100).toFixed(2);
}
''',
    "tests/test_pricing.py": '''def test_apply_discount():
    """Checks that the discount is applied to the price properly."""
    assert True
''',
}


def test_blanking_keeps_offsets_and_valid_python():
    source = FILES["shop/pricing.py"].encode()
    parsed = parse_file(source, "shop/pricing.py", "python", 1200)
    data = bytearray(source)
    for symbol in parsed.symbols:
        _blank_doc(data, symbol.doc_span, python=True)
    assert len(data) == len(source) and data.count(b"\n") == source.count(b"\n")
    again = parse_file(bytes(data), "shop/pricing.py", "python", 1200)
    assert not again.parse_errors
    assert [(s.qualname, s.start_line, s.doc) for s in again.symbols] == [
        ("shop.pricing.apply_discount", 1, ""), ("shop.pricing.shipping_cost", 6, "")]
    assert b"percentage" not in data


def test_query_drops_the_name_and_test_paths_are_excluded():
    assert _query_from_doc("find_user finds a user; see find_user_v2", "find_user") == "finds a user; see find_user_v2"
    assert is_test_path("tests/test_pricing.py") and is_test_path("pkg/foo_test.go")
    assert is_test_path("src/app.spec.ts") and not is_test_path("shop/pricing.py")
    assert is_test_path("go/analysis/testdata/src/a/a.go") and not is_test_path("pkg/testdatabase.go")


def test_evaluate_end_to_end(make_repo):
    root = make_repo(FILES)
    project = codeassist.open(root)
    project.index()
    before = project.search("percentage discount")
    report = evaluate(project, limit=50)
    assert report.targets == 4  # test code excluded
    modes = {r.mode: r for r in report.results}
    assert set(modes) == {"lexical", "hybrid"}
    for result in report.results:
        assert len(result.ranks) == 4
        assert 0.0 <= result.recall_at_1 <= result.recall_at_5 <= result.recall_at_10 <= 1.0
    # a tiny repository: every doc text finds its function in the top 10 by words alone
    assert modes["lexical"].recall_at_10 == 1.0
    # the user's index and repository are untouched
    assert project.search("percentage discount") == before
    assert "percentage discount" in (root / "shop/pricing.py").read_text()


def test_eval_cli_json(make_repo):
    root = make_repo(FILES)
    run_cli("index", str(root), "-q")
    proc = run_cli("eval", "--repo", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["targets"] == 4
    assert [r["mode"] for r in data["results"]] == ["lexical", "hybrid"]
    assert set(data["results"][0]) == {"mode", "recall_at_1", "recall_at_5", "recall_at_10", "mrr"}


def test_overloads_are_one_target_and_shared_docs_are_no_query(make_repo):
    root = make_repo({
        "src/merge.ts": '''/**
 * @deprecated Pass an array of sources instead. Will be removed in the next major.
 */
export function merge(a: number, b: number): number;
/**
 * Combines two sorted number lists into one sorted list, keeping duplicates in place.
 */
export function merge(a: number[], b: number[]): number[];
export function merge(a: any, b: any): any {
  return [...a, ...b].sort();
}
''',
        "src/zip.ts": '''/**
 * @deprecated Pass an array of sources instead. Will be removed in the next major.
 */
export function zip(a: number, b: number): number;
export function zip(a: any, b: any): any {
  return a.map((x: any, i: number) => [x, b[i]]);
}

/**
 * Splits a word list into chunks of a given size for batched uploads.
 */
export function chunk(words: string[], size: number): string[][] {
  return [words.slice(0, size)];
}
''',
    })
    project = codeassist.open(root)
    project.index()
    with blanked_copy(project, limit=50, seed=0, say=lambda m: None) as (copy, targets, candidates):
        # merge: one target, described by its longest doc; zip's only doc is shared: no target
        assert sorted((t.qualname, t.query[:19]) for t in targets) == [
            ("chunk", "Splits a word list "), ("merge", "Combines two sorted")]
        assert candidates == 2
        blanked = (copy.root / "src/merge.ts").read_text()
        assert "deprecated" not in blanked and "Combines" not in blanked  # every overload's doc
        assert "deprecated" in (copy.root / "src/zip.ts").read_text()
        target = next(t for t in targets if t.qualname == "merge")
        hits = copy.search(target.query, k=10, sources={"lexical", "symbol", "path"})
        merged = [h for h in hits if h.path == "src/merge.ts"]
        assert merged and all(hit_matches(h, target) for h in merged)
        other = SearchHit("src/merge.ts", 1, 3, "mergeAll", "function", 1.0, "")
        assert not hit_matches(other, target)
