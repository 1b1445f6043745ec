"""`codeassist eval --history`: cases from a real git history, run end to end."""

from __future__ import annotations

import json

from codeassist.fix_eval import _bm25_rank, _covered, evaluate_history, find_cases

from .conftest import run_cli, write_files
from .helpers import git_runner


def _history(make_repo):
    root = make_repo({
        "shop/cart.py": "def total(items):\n    s = 0\n    for i in items:\n        s += i.price\n    return s\n\n\n"
                        "def count(items):\n    return len(items)\n",
        "shop/pay.py": "def charge(card, amount):\n    return card.charge(amount)\n",
        "README.md": "# shop\n",
        "tests/test_cart.py": "def test_total():\n    assert True\n",
    })
    run = git_runner(root)
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("commit", "-qm", "Initial shop")
    write_files(root, {"shop/cart.py": "def total(items):\n    s = 0\n    for i in items or []:\n"
                                       "        s += i.price\n    return s\n\n\ndef count(items):\n    return len(items)\n"})
    run("commit", "-qam", "Fix crash in cart total when items is None\n\nTotal raised TypeError on a missing cart.\n\n"
                          "Fixes: 1234abcd (\"Sum the cart\")\nSigned-off-by: Ann Smith <ann@example.org>\n"
                          "Reviewed-by: Bo Lee <bo@example.org>\nCc: stable@example.org")
    write_files(root, {"README.md": "# shop\n\nFix the docs.\n"})
    run("commit", "-qam", "Fix typo in the docs")
    write_files(root, {"tests/test_cart.py": "def test_total():\n    assert 1\n"})
    run("commit", "-qam", "Fix flaky test")
    write_files(root, {"shop/pay.py": "def charge(card, amount):\n    if amount <= 0:\n        raise ValueError(amount)\n"
                                      "    return card.charge(amount)\n"})
    run("commit", "-qam", "Charging zero must fail (#12)")
    return root


def test_cases_are_fixes_of_code_with_their_pre_image_lines(make_repo):
    root = _history(make_repo)
    cases = find_cases(root)
    assert [c.question.splitlines()[0] for c in cases] == ["Charging zero must fail (#12)",
                                                            "Fix crash in cart total when items is None"]
    cart = cases[1]
    assert cart.targets == {"shop/cart.py": ((3, 3),)}  # the line the fix changed, as it was before
    assert cases[0].targets == {"shop/pay.py": ((1, 1),)}  # a pure insertion: the line it follows
    # the report, not who signed, reviewed or was copied; what it fixes stays
    assert cart.question == ("Fix crash in cart total when items is None\n\nTotal raised TypeError on a missing cart."
                             "\n\nFixes: 1234abcd (\"Sum the cart\")")


def test_history_eval_end_to_end_against_the_bm25_baseline(make_repo):
    root = _history(make_repo)
    report = evaluate_history(root, budgets=(2_000, 8_000))
    assert report.cases == 2
    assert report.file_accuracy["search"][1] == 1.0 and report.file_accuracy["bm25"][10] == 1.0
    assert report.full_coverage["codeassist"][8_000] == 1.0
    assert set(report.full_coverage["bm25"]) == {2_000, 8_000}
    assert {row["commit"] for row in report.per_case} == {c.commit[:12] for c in find_cases(root)}
    assert (root / ".git").exists() and "worktrees" not in [p.name for p in (root / ".git").iterdir()]
    proc = run_cli("eval", "--history", str(root), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cases"] == 2


def test_bm25_and_coverage_helpers():
    ranked = _bm25_rank({"a.py": "def retry_backoff(): pass", "b.py": "def render(): pass"}, "retry backoff")
    assert ranked[0] == "a.py"
    assert _covered({"a.py": ((3, 4),)}, {"a.py": [(1, 10)]})
    assert not _covered({"a.py": ((3, 4), (20, 20))}, {"a.py": [(1, 10)]})
    assert not _covered({"a.py": ((3, 4),)}, {"b.py": [(1, 10)]})


def test_rust_inline_tests_are_not_the_target(make_repo):
    code = ("pub fn parse(s: &str) -> u32 {\n    s.len() as u32\n}\n\n"
            "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn parses() {\n"
            "        assert_eq!(parse(\"ab\"), 2);\n    }\n}\n")
    root = make_repo({"src/lib.rs": code})
    run = git_runner(root)
    run("init", "-q", "-b", "main")
    run("add", "-A")
    run("commit", "-qm", "Initial parser")
    write_files(root, {"src/lib.rs": code.replace('parse("ab"), 2', 'parse("abc"), 3')})
    run("commit", "-qam", "Fix the parser test")  # only the inline test module changed
    write_files(root, {"src/lib.rs": code.replace("s.len() as u32", "s.trim().len() as u32")
                       .replace("    }\n}\n", "    }\n\n    #[test]\n    fn trims() {}\n}\n")})
    run("commit", "-qam", "Fix parse counting spaces (#3)")  # code and a new test
    cases = find_cases(root)
    assert [c.question.splitlines()[0] for c in cases] == ["Fix parse counting spaces (#3)"]
    assert cases[0].targets == {"src/lib.rs": ((2, 2),)}  # the code line; the test's place is not
