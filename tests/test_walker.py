"""The walker and the reader: ignores, secrets, symlinks, bad content, permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codeassist
from codeassist.config import load_settings
from codeassist.index.worker import FileTask, process_file
from codeassist.textfile import classify_bytes
from codeassist.walker import walk


def _walk(root: Path, **overrides):
    result = walk(root, load_settings(overrides))
    return [f.relpath for f in result.files], dict(result.skipped)


def test_nested_gitignore_negation_and_codeassistignore(make_repo):
    root = make_repo(
        {
            ".gitignore": "*.log\nbuild_out/\n!keep.log\n",
            "a.py": "x = 1\n",
            "debug.log": "noise\n",
            "keep.log": "kept\n",
            "build_out/gen.py": "y = 2\n",
            "sub/.gitignore": "local_*.py\n!local_ok.py\n",
            "sub/local_tmp.py": "z = 3\n",
            "sub/local_ok.py": "z = 4\n",
            "sub/deep/local_x.py": "z = 5\n",
            ".codeassistignore": "fixtures/\n",
            "fixtures/big.py": "w = 6\n",
            ".git/info/exclude": "excluded.py\n",
            "excluded.py": "v = 7\n",
        }
    )
    files, skipped = _walk(root)
    assert "a.py" in files and "keep.log" in files and "sub/local_ok.py" in files
    assert skipped["debug.log"] == "ignored"
    assert skipped["build_out/"] == "ignored"
    assert skipped["sub/local_tmp.py"] == "ignored"
    assert skipped["sub/deep/local_x.py"] == "ignored"  # a sub-folder's .gitignore applies below it
    assert skipped["fixtures/"] == "ignored"
    assert skipped["excluded.py"] == "ignored"
    assert skipped[".git/"] == "default-ignore"


def test_default_ignores(make_repo):
    root = make_repo(
        {
            "node_modules/lib/index.js": "x",
            "venv_custom/pyvenv.cfg": "home = /usr\n",
            "venv_custom/lib/site.py": "x = 1\n",
            "__pycache__/a.cpython-311.pyc": b"\x00\x01",
            "package-lock.json": "{}",
            "poetry.lock": "",
            "dist/app.js": "x",
            "app.min.js": "var a=1;",
            "src/app.py": "x = 1\n",
        }
    )
    files, skipped = _walk(root)
    assert files == ["src/app.py"]
    for path in ("node_modules/", "venv_custom/", "__pycache__/", "package-lock.json", "poetry.lock",
                 "dist/", "app.min.js"):
        assert skipped[path] == "default-ignore", path


def test_secrets_are_never_indexed_by_default(make_repo):
    secret_files = {
        ".env": "API_KEY=sk-live-123\n",
        ".env.local": "DB_PASSWORD=hunter2\n",
        "deploy/server.pem": "-----BEGIN PRIVATE KEY-----\nabc\n",
        "deploy/tls.key": "key\n",
        "home/.ssh/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        "gcp/credentials.json": '{"private_key": "x"}',
        "config/secrets.yaml": "token: abc\n",
        ".npmrc": "//registry/:_authToken=abc\n",
    }
    root = make_repo({**secret_files, "app.py": "print('hi')\n"})
    files, skipped = _walk(root)
    assert files == ["app.py"]
    for path in secret_files:
        assert skipped[path] == "secret", path

    project = codeassist.open(root)
    stats = project.index()
    assert stats.skipped["secret"] == len(secret_files)
    assert project.search("hunter2") == []
    assert project.search("sk-live-123") == []
    # overridable, explicitly
    files, _ = _walk(root, include_secrets=True)
    assert ".env" in files and "config/secrets.yaml" in files


def test_symlinks_loops_outside_and_broken(make_repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret_plan.py").write_text("x = 1\n")
    root = make_repo({"src/a.py": "def a():\n    pass\n", "src/inner/b.py": "y = 2\n"})
    os.symlink(root, root / "src" / "loop_to_root")
    os.symlink(root / "src", root / "src" / "inner" / "loop_up")
    os.symlink(outside, root / "outside_dir")
    os.symlink(outside / "secret_plan.py", root / "outside_file.py")
    os.symlink("/", root / "slash")
    os.symlink(root / "missing.py", root / "broken.py")
    os.symlink(root / "src" / "a.py", root / "alias.py")  # inside the root: followed
    files, skipped = _walk(root)
    assert files == ["alias.py", "src/a.py", "src/inner/b.py"]
    assert skipped["src/loop_to_root/"] == "symlink-loop"
    assert skipped["src/inner/loop_up/"] == "symlink-loop"
    assert skipped["outside_dir"] == "symlink-outside"
    assert skipped["outside_file.py"] == "symlink-outside"
    assert skipped["slash"] == "symlink-outside"
    assert skipped["broken.py"] == "broken-symlink"


def test_fifo_is_not_read(make_repo):
    root = make_repo({"a.py": "x = 1\n"})
    os.mkfifo(root / "pipe")
    files, skipped = _walk(root)
    assert files == ["a.py"]
    assert skipped["pipe"] == "not-regular"


def test_size_cap(make_repo):
    root = make_repo({"big.py": "x = 1\n" * 1000, "small.py": "y = 2\n"})
    files, skipped = _walk(root, max_file_bytes=1000)
    assert files == ["small.py"]
    assert skipped["big.py"] == "too-large"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"print('hi')\n\x00\x00\x00", "binary"),
        (bytes(range(1, 32)) * 40, "binary"),
        (b"caf\xe9 = 1\n", "invalid-utf8"),
        (b"\xff\xfe" + "x = 1\n".encode("utf-16-le"), None),  # UTF-16 with BOM: transcoded
        (b"\xef\xbb\xbfx = 1\n", None),  # UTF-8 BOM dropped
        (b"var a=1;" * 2000, "minified"),
        (b"x = 1\n" * 10 + b"y" * 50_000 + b"\n", "minified"),
        (b"def f():\n    return 1\n", None),
    ],
)
def test_content_classification(raw: bytes, reason: str | None):
    data, got = classify_bytes(raw, 1000)
    assert got == reason
    if reason is None:
        assert data is not None and b"x = 1" in data or b"def f" in data


def test_bad_files_are_skipped_with_reasons_and_counted(make_repo):
    root = make_repo(
        {
            "good.py": "def ok():\n    return 1\n",
            "image.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
            "nul.py": b"def f():\n    pass\n\x00\x00",
            "latin1.py": b"name = 'caf\xe9'\n",
            "bundle.js": b"function a(){return 1};" * 3000,
            "empty.py": b"",
        }
    )
    stats = codeassist.open(root).index()
    assert stats.skipped == {"binary": 2, "invalid-utf8": 1, "minified": 1}
    assert stats.files == 2  # good.py and empty.py
    assert stats.symbols == 1


def test_vanished_file_is_a_reason_not_a_crash(tmp_path):
    outcome = process_file(FileTask("gone.py", str(tmp_path / "gone.py"), 10, 0, None, 1000, 1200))
    assert outcome.skip == "vanished" and outcome.parsed is None


@pytest.mark.skipif(not shutil.which("setpriv") and os.geteuid() == 0, reason="needs setpriv as root")
def test_permission_denied_files_and_folders(make_repo, tmp_path):
    root = make_repo({"ok.py": "def fine():\n    return 1\n", "locked.py": "x = 1\n", "closed/in.py": "y = 2\n"})
    (root / "locked.py").chmod(0)
    (root / "closed").chmod(0)
    cmd = [sys.executable, "-m", "codeassist", "index", str(root), "--json", "-q"]
    if os.geteuid() == 0:
        # root reads everything; drop the capabilities that let it, so permissions apply
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *cmd]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        (root / "locked.py").chmod(0o644)
        (root / "closed").chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(proc.stdout)
    assert data["skipped"].get("permission-denied") == 2
    assert data["files"] == 1 and data["symbols"] == 1
    # access restored (chmod changes neither size nor mtime): the next run picks the files up
    again = codeassist.open(root).index()
    assert "permission-denied" not in again.skipped
    assert again.files == 3


def test_undecodable_file_names_are_skipped_not_fatal(make_repo):
    root = make_repo({"ok.py": "def fine():\n    return 1\n"})
    with open(os.path.join(os.fsencode(root), b"bad\xffname.py"), "wb") as fh:
        fh.write(b"x = 1\n")
    stats = codeassist.open(root).index()
    assert stats.skipped.get("undecodable-name") == 1
    assert stats.files == 1 and stats.symbols == 1


def test_symlinks_cannot_smuggle_in_secrets_or_ignored_folders(make_repo):
    root = make_repo(
        {".env": "SECRET_TOKEN=abc\n", "node_modules/pkg/x.py": "y = 1\n", "src/a.py": "z = 1\n",
         ".gitignore": "private/\n", "private/p.py": "p = 1\n"}
    )
    os.symlink(root / ".env", root / "notes.txt")
    os.symlink(root / "node_modules", root / "deps")
    os.symlink(root / "private" / "p.py", root / "public.py")
    files, skipped = _walk(root)
    assert files == [".gitignore", "src/a.py"]
    assert skipped["notes.txt"] == "secret"
    assert skipped["deps/"] == "default-ignore"
    assert skipped["public.py"] == "ignored"


def test_long_prose_lines_are_not_minified():
    paragraph = ("This paragraph is long prose written on one line, as Markdown allows. " * 4).encode()
    readme = b"# Title\n\n" + b"\n\n".join([paragraph] * 10) + b"\n"
    data, reason = classify_bytes(readme, 1000)
    assert reason is None and data == readme


def test_binary_behind_a_utf16_bom_is_still_binary():
    raw = b"\xff\xfe" + "x\x00\x00y".encode("utf-16-le")
    assert classify_bytes(raw, 1000) == (None, "binary")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root, check=True,
                   capture_output=True)


def test_tracked_files_are_indexed_even_when_a_gitignore_pattern_matches(make_repo):
    """git applies ignore rules to untracked files only (Debian's kernel tarball ignores `/*`)."""
    root = make_repo({
        ".gitignore": "# packaging\n\n/*\n!/debian/\n*.o\n",
        "src/main.c": "int main(void) { return 0; }\n",
        "src/old.o": "binary-ish\n",
        "docs/notes.txt": "untracked and ignored\n",
        "debian/rules": "#!/usr/bin/make -f\n",
    })
    files, skipped = _walk(root)  # not a git checkout yet: .gitignore applies to everything
    assert files == ["debian/rules"]
    assert skipped["src/"] == "ignored" and skipped["docs/"] == "ignored"
    _git(root, "init", "-q")
    _git(root, "add", "-f", "src/main.c", "src/old.o")
    files, skipped = _walk(root)
    assert "src/main.c" in files and "src/old.o" in files  # tracked: indexed, as git would list them
    assert "debian/rules" in files
    assert skipped["docs/"] == "ignored"  # a folder with nothing tracked stays ignored
    (root / "src" / "new.o").write_text("untracked\n")
    files, skipped = _walk(root)
    assert skipped["src/new.o"] == "ignored"  # untracked in a tracked folder: the rule applies

    from codeassist.walker import IgnoreRules

    rules = IgnoreRules(root, load_settings({}))
    assert not rules.skips("src/main.c") and rules.skips("src/new.o") and rules.skips("docs/notes.txt")


def test_the_summary_names_the_rule_that_skipped_most_of_the_tree(make_repo, tmp_path, monkeypatch):
    root = make_repo({
        ".gitignore": "# Debian packaging\n\n/*\n!/debian/\n",
        "kernel/sched.c": "void schedule(void) {}\n",
        "mm/slab.c": "void kmalloc(void) {}\n",
        "debian/changelog": "linux (6.1)\n",
    })
    result = walk(root, load_settings({}))
    assert result.ignored_by[".gitignore:3 /*"] == 3  # .gitignore, kernel/, mm/
    monkeypatch.setenv("CODEASSIST_HOME", str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "codeassist", "index", str(root), "--no-embed", "-q"],
                          capture_output=True, text=True, check=True)
    assert ".gitignore:3 /* (3 entries)" in done.stdout
    stats = codeassist.open(root).index()
    assert stats.ignored_mostly_by == {".gitignore:3 /*": 3}


def test_the_combined_prefilter_agrees_with_pathspec_pattern_by_pattern():
    """Every ignore file is matched through one combined regex first; it must never rule out
    a path that pathspec itself would match."""
    import pathspec

    from codeassist.walker import _compile

    lines = ["*.o", "/build*/", "foo/**/bar", "!keep.o", "[abc]*.tmp", "docs/*.md", "\\#hash", "a?c",
             "**/logs", "/top.txt", "deep/er/", "x/y/*.z"]
    paths = ["a.o", "x/a.o", "keep.o", "x/keep.o", "build1/", "x/build1/", "build1", "foo/bar", "foo/a/b/bar",
             "b1.tmp", "x/c.tmp", "d.tmp", "docs/a.md", "docs/x/a.md", "#hash", "abc", "a/abc", "logs",
             "x/logs/", "top.txt", "x/top.txt", "deep/er/", "x/deep/er/f", "x/y/q.z", "x/y/q/r.z", "plain.c"]
    spec = _compile(lines)
    reference = pathspec.GitIgnoreSpec.from_lines(lines)
    for path in paths:
        expected = reference.check_file(path)
        include, index = spec.check(path)
        assert (include, index) == (expected.include, expected.index), path


def test_an_incremental_walk_equals_a_full_one_after_every_kind_of_change(make_repo, monkeypatch):
    """Folders whose listing did not change are not listed again; the result must be what a
    full walk finds, whatever changed."""
    import random

    from codeassist import walker as walker_module
    from codeassist.walker import PreviousWalk

    monkeypatch.setattr(walker_module, "RACY_NS", 0)  # the test moves folder clocks itself
    files = {f"pkg/m{i}/mod_{j}.py": f"x = {i * j}\n" for i in range(6) for j in range(4)}
    files.update({".gitignore": "*.log\nbuild/\n", "pkg/m1/.gitignore": "local_*\n", "pkg/m2/app.log": "noise\n",
                  "build/out.py": "y = 1\n", ".env": "SECRET=1\n", "pkg/m3/local_tmp.py": "z = 1\n",
                  "node_modules/x/index.js": "q\n"})
    root = make_repo(files)
    settings = load_settings({})
    clock = [1_700_000_000_000_000_000]

    def touch(folder: Path) -> None:  # the folder's listing changed, a second later
        clock[0] += 1_000_000_000
        os.utime(folder, ns=(clock[0], clock[0]))

    def snapshot(result):
        return ([(f.relpath, f.size, f.mtime_ns) for f in result.files], sorted(result.skipped),
                dict(result.ignored_by))

    rng = random.Random(7)
    full = walk(root, settings)
    for step in range(40):
        folder = root / "pkg" / f"m{rng.randrange(6)}"
        action = rng.choice(["edit", "add", "delete", "rename", "mkdir", "log", "big", "ignore"])
        existing = sorted(folder.rglob("*.py"))
        if action == "edit" and existing:
            target = rng.choice(existing)
            target.write_text(target.read_text() + "# edit\n")  # in place: the folder's mtime stays
        elif action == "add":
            (folder / f"new_{step}.py").write_text("n = 1\n")
            touch(folder)
        elif action == "delete" and existing:
            target = rng.choice(existing)
            target.unlink()
            touch(target.parent)
        elif action == "rename" and existing:
            target = rng.choice(existing)
            target.rename(target.with_name(f"renamed_{step}.py"))
            touch(target.parent)
        elif action == "mkdir":
            sub = folder / f"sub_{step}"
            sub.mkdir()
            (sub / "inner.py").write_text("i = 1\n")
            touch(folder)
        elif action == "log":
            (folder / f"debug_{step}.log").write_text("ignored\n")
            touch(folder)
        elif action == "big":
            (folder / f"huge_{step}.py").write_text("b = 1\n" * 20)
            touch(folder)
        elif action == "ignore":  # a new ignore file: everything below may be decided anew
            (folder / ".gitignore").write_text("new_*\n")
            touch(folder)
        previous = PreviousWalk(full.memo(settings), [f.relpath for f in full.files])
        incremental = walk(root, settings, previous)
        full = walk(root, settings)
        assert snapshot(incremental) == snapshot(full), (step, action)
        if action in ("edit", "delete", "rename", "add", "log", "big"):
            assert incremental.mode == "incremental", (step, action)
    assert full.mode == "full"
