"""Repository walk: which files are candidates for indexing, and why the others are not.

Rules, in order: default ignores (VCS folders, dependency and build folders, lock files,
virtualenvs), ``.gitignore``/``.codeassistignore`` at every level (deeper files win, ``!``
negation honoured) plus ``.git/info/exclude``, secret-bearing file names, symlinks (followed only
inside the root, loops detected), permission errors and files that vanish mid-walk. The walk is
iterative, sorted, and never raises for a bad entry: it records a skip reason instead.
Content checks (binary, encoding, minified) happen when the file is read; see ``textfile``.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:  # pragma: no cover
    import pathspec

__all__ = ["WalkEntry", "WalkResult", "walk", "SKIP_REASONS", "is_test_path", "is_test_symbol", "INLINE_TEST_LANGUAGES",
           "IgnoreRules", "TrackedFiles", "git_tracked", "PreviousWalk"]

_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|testdata|__tests__|spec)(/|$)|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(spec|test)\.[jt]sx?$"
)

_TEST_MODULE = re.compile(r"tests?|tests?_\w+|\w+_tests?", re.I)  # test_parse, parser_tests


def is_test_path(path: str) -> bool:
    """Whether ``path`` looks like test code (tests/ folders, test_*.py, *_test.go, *.spec.ts, and
    Go's ``testdata/`` fixtures, which the go tool itself ignores)."""
    return _TEST_PATH.search(path) is not None


#: languages whose tests live inside source files (``#[cfg(test)] mod tests``)
INLINE_TEST_LANGUAGES = frozenset({"rust"})


def is_test_symbol(qualname: str, language: str | None) -> bool:
    """Whether a definition is test code inside a source file of a language that keeps its tests
    there: Rust's ``mod tests`` or what a test module holds (``tests::``, ``parser_tests::``). A
    name alone does not say so elsewhere: C's ``test_bit`` is code, Java's ``Predicate.test``
    too, and whether a Python package is test code is the path's to say."""
    if language not in INLINE_TEST_LANGUAGES:
        return False
    *parents, name = qualname.split(".")
    return name == "tests" or any(_TEST_MODULE.fullmatch(part) for part in parents)


DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", ".sl",
        "node_modules", "bower_components", ".pnpm-store", ".yarn",
        ".venv", "venv", ".virtualenv", "virtualenv", "__pypackages__", "site-packages",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
        ".tox", ".nox", ".eggs", ".ipynb_checkpoints",
        "build", "dist", "target", "out", ".next", ".nuxt", ".svelte-kit", ".parcel-cache",
        ".cache", ".gradle", ".idea", ".terraform", ".serverless",
        "coverage", "htmlcov", ".nyc_output", "vendor", "Pods", "DerivedData", ".build",
        ".codeassist",
    }
)

DEFAULT_IGNORED_FILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
        "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock",
        "composer.lock", "go.sum", "mix.lock", "pubspec.lock", "Podfile.lock", "flake.lock",
        ".DS_Store", "Thumbs.db",
    }
)

#: minified bundles, source maps, bytecode, and editors' backup and swap files (``~``, vim's ``.swp``)
DEFAULT_IGNORED_SUFFIXES = (".min.js", ".min.css", ".map", ".egg-info", ".pyc", ".pyo",
                            "~", ".swp", ".swo", ".swx", ".swn")
#: file name prefixes that mark editors' lock files (Emacs ``.#name``)
DEFAULT_IGNORED_PREFIXES = (".#",)

#: every reason a file can be skipped, walk-time and read-time
SKIP_REASONS = (
    "ignored",          # .gitignore / .codeassistignore / extra_ignores
    "default-ignore",   # VCS, dependency, build and cache folders, lock files
    "secret",           # file name says it holds credentials
    "symlink-outside",  # symlink pointing outside the repository
    "symlink-loop",     # symlink to a folder already being walked
    "broken-symlink",
    "not-regular",      # fifo, socket, device
    "permission-denied",
    "vanished",         # deleted between listing and reading
    "too-large",
    "binary",
    "invalid-utf8",
    "minified",
    "unknown-type",     # no grammar and not a text format we chunk
    "undecodable-name", # a file name that is not valid UTF-8
    "parse-crash",      # the parser process died on this file
)


@dataclass(frozen=True, slots=True)
class WalkEntry:
    """A file that passed the walk's filters."""

    relpath: str
    abspath: str
    size: int
    mtime_ns: int


@dataclass
class WalkResult:
    """Files to consider, plus every skipped path with its reason."""

    files: list[WalkEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: (relative path, mtime_ns) of every folder listed ("" is the root) and of the ignore files
    #: read: a change to one of them is how a cheap freshness check notices added, removed or
    #: renamed files and changed ignore rules without walking again
    landmarks: list[tuple[str, int]] = field(default_factory=list)
    #: entries (a folder counts once) skipped by each ignore rule, ``file:line pattern``
    ignored_by: Counter[str] = field(default_factory=Counter)
    #: the rule that skipped each ignored entry (what the next incremental walk carries over)
    rule_of: dict[str, str] = field(default_factory=dict)
    #: how this walk went: "full", or "incremental" (folders whose listing had not changed were
    #: not listed again)
    mode: str = "full"
    #: when the walk began (wall clock): a folder changed in the same clock tick as it was
    #: listed keeps its mtime, so the next walk lists again folders changed that recently
    started_ns: int = 0

    def memo(self, settings: Settings) -> dict[str, object]:
        """What the next walk needs to skip unchanged folders (stored with the index)."""
        return {"settings": _walk_settings_key(settings), "started_ns": self.started_ns, "landmarks": self.landmarks,
                "skipped": [[rel, reason, self.rule_of.get(rel, "")] for rel, reason in self.skipped]}

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(reason for _, reason in self.skipped)


class _Spec:
    """One ignore file (or pattern list): pathspec's exact gitignore semantics, behind one
    combined regular expression that rules out most paths in a single search (matching a
    kernel's 90k paths pattern by pattern took seconds)."""

    def __init__(self, spec: pathspec.GitIgnoreSpec, lines: list[str]) -> None:
        self.spec = spec
        self.lines = lines
        anywhere, anchored = [], []  # patterns that match at any depth, and the others
        active = [p for p in spec.patterns if p.include is not None]
        combinable = all(isinstance(getattr(p, "regex", None), re.Pattern) for p in active)
        for pattern in active if combinable else ():
            text = _NAMED_GROUP.sub("(?:", pattern.regex.pattern)
            if text.startswith(_ANY_DEPTH):  # "(?:^|/)" finds it without backtracking
                anywhere.append(text[len(_ANY_DEPTH):])
            else:
                anchored.append(text)
        parts = ([f"(?:^|/)(?:{'|'.join(anywhere)})"] if anywhere else []) + [f"(?:{a})" for a in anchored]
        try:
            self.any: re.Pattern[str] | None = re.compile("|".join(parts)) if parts else None
        except re.error:  # a pattern that does not combine: check pattern by pattern
            self.any = None
        self.empty = not active

    def check(self, path: str) -> tuple[bool | None, int | None]:
        """Whether the last pattern matching ``path`` ignores it (None: none matches), and
        that pattern's line (0-based)."""
        if self.empty or (self.any is not None and self.any.search(path) is None):
            return None, None
        result = self.spec.check_file(path)
        return result.include, result.index

    def match(self, path: str) -> bool:
        return self.check(path)[0] is True


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
_ANY_DEPTH = "^(?:.+/)?"


@dataclass
class _IgnoreLayer:
    base: str  # relative dir of the ignore file ("" for root), with trailing "/"
    spec: _Spec
    source: str = ""  # the ignore file, relative to the root, for naming a rule


def _compile(lines: list[str]) -> _Spec | None:
    import pathspec

    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines):
        return None
    kept = [ln if ln.strip() else "#" for ln in lines]  # blank lines kept: a pattern's index is its line
    try:
        return _Spec(pathspec.GitIgnoreSpec.from_lines(kept), kept)
    except Exception:  # malformed pattern: ignore the file rather than crash the walk
        return None


def _read_ignore_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


def _ignoring_rule(layers: list[_IgnoreLayer], relpath: str, is_dir: bool) -> str | None:
    """The rule (``file:line pattern``) that ignores ``relpath``, or None when it is not
    ignored: every layer applies from the root down; the deepest with an opinion wins."""
    verdict: bool | None = None
    rule = ""
    for layer in layers:
        if not relpath.startswith(layer.base):
            continue
        sub = relpath[len(layer.base):]
        include, index = layer.spec.check(sub + "/" if is_dir else sub)
        if include is None and is_dir:
            include, index = layer.spec.check(sub)
        if include is not None:
            verdict = include
            if include and index is not None:
                rule = f"{layer.source or 'settings'}:{index + 1} {layer.spec.lines[index].strip()}"
    return rule if verdict else None


def _is_ignored(layers: list[_IgnoreLayer], relpath: str, is_dir: bool) -> bool:
    return _ignoring_rule(layers, relpath, is_dir) is not None


def _target_skip(target: str, is_dir: bool, layers: list[_IgnoreLayer],
                 secret_spec: _Spec | None) -> str | None:
    """Why a symlink's target (relative to the root) would have been skipped, if it would."""
    parts = target.split("/") if target else []
    folders = parts if is_dir else parts[:-1]
    if any(p in DEFAULT_IGNORED_DIRS or p.endswith(".egg-info") for p in folders):
        return "default-ignore"
    if not is_dir and parts and (parts[-1] in DEFAULT_IGNORED_FILES or parts[-1].endswith(DEFAULT_IGNORED_SUFFIXES)
                                 or parts[-1].startswith(DEFAULT_IGNORED_PREFIXES)):
        return "default-ignore"
    if not is_dir and secret_spec is not None and parts and (
        secret_spec.match(target) or secret_spec.match(parts[-1])
    ):
        return "secret"
    if layers and target and _is_ignored(layers, target, is_dir):
        return "ignored"
    return None


def _add_landmark(result: WalkResult, rel: str, path: str) -> None:
    try:
        result.landmarks.append((rel, os.stat(path).st_mtime_ns))
    except OSError:
        pass


def _root_layers(root_real: str, settings: Settings) -> list[_IgnoreLayer]:
    """The settings' ``extra_ignores`` and ``.git/info/exclude``, in force everywhere."""
    layers = []
    for source, lines in (("settings", list(settings.extra_ignores)),
                          (".git/info/exclude", _read_ignore_file(os.path.join(root_real, ".git", "info", "exclude")))):
        spec = _compile(lines)
        if spec is not None:
            layers.append(_IgnoreLayer("", spec, source))
    return layers


@dataclass(frozen=True)
class TrackedFiles:
    """The files git tracks in a checkout, and the folders that hold them: git applies ignore
    rules to untracked files only, so a tracked file is indexed even when a pattern matches it."""

    files: frozenset[str]
    folders: frozenset[str]

    def holds(self, relpath: str, is_dir: bool) -> bool:
        return relpath in (self.folders if is_dir else self.files)


def git_tracked(root: str) -> TrackedFiles | None:
    """The tracked files under ``root`` (``git ls-files``), or None outside a git checkout or
    without git. Reads only: no index refresh, no lock."""
    import subprocess

    if not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", "ls-files", "-z", "--cached"], cwd=root,
                              capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    files = frozenset(p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p)
    folders = set()
    for path in files:
        cut = path.rfind("/")
        while cut > 0 and path[:cut] not in folders:
            folders.add(path[:cut])
            cut = path.rfind("/", 0, cut)
    return TrackedFiles(files, frozenset(folders))


def _walk_settings_key(settings: Settings) -> str:
    return repr((sorted(settings.extra_ignores), sorted(settings.secret_patterns), settings.include_secrets,
                 settings.max_file_bytes))


@dataclass
class PreviousWalk:
    """The last complete walk, for an incremental one: its memo (``WalkResult.memo``) and the
    files it passed (the index's files)."""

    memo: dict[str, object]
    files: list[str]


def walk(root: Path, settings: Settings, previous: PreviousWalk | None = None) -> WalkResult:
    """Walk ``root`` and return the candidate files (sorted) and the skipped paths.

    With ``previous``, folders whose mtime has not changed since that walk are not listed again:
    their files are those of the previous walk (stat'ed again: edits in place show), their
    skipped entries are carried over, and their subfolders are visited the same way. Anything
    that can change what the rules decide without changing a folder's listing (an ignore file,
    ``.git/info/exclude``, git's index, the settings) makes it a full walk."""
    if previous is not None:
        result = _walk(root, settings, _Previous.of(previous, settings, root))
        if result is not None:
            return result
    result = _walk(root, settings, None)
    assert result is not None
    return result


class _Previous:
    """A previous walk, arranged by folder."""

    def __init__(self, landmarks: dict[str, int], files: dict[str, list[str]],
                 skipped: dict[str, list[tuple[str, str, str]]], folders: dict[str, list[str]],
                 trusted_before_ns: int) -> None:
        self.landmarks = landmarks
        #: a folder mtime at or after this may hide a change made in the same clock tick
        self.trusted_before_ns = trusted_before_ns
        self.files = files          # folder ("" or "a/b") -> relative paths of its files
        self.skipped = skipped      # folder -> (rel, reason, rule) of its skipped entries
        self.folders = folders      # folder -> names of its subfolders that were walked

    @classmethod
    def of(cls, previous: PreviousWalk, settings: Settings, root: Path) -> _Previous | None:
        memo = previous.memo
        if not isinstance(memo, dict) or memo.get("settings") != _walk_settings_key(settings):
            return None
        try:
            landmarks = {str(rel): int(mtime) for rel, mtime in memo["landmarks"]}  # type: ignore[union-attr]
            skipped_rows = [(str(a), str(b), str(c)) for a, b, c in memo["skipped"]]  # type: ignore[union-attr]
        except (KeyError, TypeError, ValueError):
            return None
        if any(reason in ("permission-denied", "vanished") for _rel, reason, _rule in skipped_rows):
            return None  # something it could not list or read may be there now: look at everything
        root_real = os.path.realpath(root)
        for rel in (".git/info/exclude", ".git/index"):  # rules that no folder's listing shows
            before = landmarks.get(rel)
            try:
                now: int | None = os.stat(os.path.join(root_real, rel)).st_mtime_ns
            except OSError:
                now = None
            if rel == ".git/index" and before is None and now is None:
                continue
            if (before is None) != (now is None) or (before is not None and before != now):
                return None
        for rel, mtime in landmarks.items():  # every ignore file unchanged
            if rel.rsplit("/", 1)[-1] in _IGNORE_FILES:
                try:
                    if os.stat(os.path.join(root_real, rel)).st_mtime_ns != mtime:
                        return None
                except OSError:
                    return None
        files: dict[str, list[str]] = {}
        for path in previous.files:
            files.setdefault(path.rpartition("/")[0], []).append(path)
        skipped: dict[str, list[tuple[str, str, str]]] = {}
        for rel, reason, rule in skipped_rows:
            skipped.setdefault(rel.rstrip("/").rpartition("/")[0], []).append((rel, reason, rule))
        folders: dict[str, list[str]] = {}
        for rel in landmarks:
            if rel and rel.rsplit("/", 1)[-1] not in _IGNORE_FILES and not rel.startswith(".git/"):
                parent, _, name = rel.rpartition("/")
                folders.setdefault(parent, []).append(name)
        trusted = int(memo.get("started_ns") or 0) - RACY_NS  # type: ignore[call-overload]
        return cls(landmarks, files, skipped, folders, trusted)


_IGNORE_FILES = (".gitignore", ".codeassistignore")
#: folders modified this close before the previous walk began are listed again (file systems
#: keep mtimes in clock ticks of a few milliseconds; git calls such entries "racy")
RACY_NS = 2_000_000_000


def _walk(root: Path, settings: Settings, previous: _Previous | None) -> WalkResult | None:
    """The walk; None when an incremental one finds it must be a full one."""
    root_real = os.path.realpath(root)
    result = WalkResult(mode="incremental" if previous is not None else "full", started_ns=time.time_ns())
    secret_spec = None if settings.include_secrets else _compile(list(settings.secret_patterns))
    rules = IgnoreRules(root, settings) if previous is not None else None

    root_layers = _root_layers(root_real, settings)
    _add_landmark(result, ".git/info/exclude", os.path.join(root_real, ".git", "info", "exclude"))
    tracked = git_tracked(root_real)
    if tracked is not None:  # adding a file to git can un-ignore it
        _add_landmark(result, ".git/index", os.path.join(root_real, ".git", "index"))

    # stack of (dir path as walked, its real path, relative dir with trailing "/", ignore
    # layers, real paths of the folders above it); an incremental walk leaves the last three
    # None below folders it did not list, and works them out only for a folder that changed
    stack: list[tuple[str, str | None, str, list[_IgnoreLayer] | None, frozenset[str] | None]] = [
        (root_real, root_real, "", root_layers, frozenset({root_real}))
    ]
    root_prefix = root_real.rstrip(os.sep) + os.sep
    while stack:
        dir_abs, dir_real, dir_rel, layers, ancestors = stack.pop()
        # the folder's mtime before listing it: an entry made during the listing shows as a change
        folder = dir_rel.rstrip("/")
        try:
            mtime: int | None = os.stat(dir_abs).st_mtime_ns
        except OSError:
            mtime = None
        if mtime is not None:
            result.landmarks.append((folder, mtime))
        if (previous is not None and mtime is not None and previous.landmarks.get(folder) == mtime
                and mtime < previous.trusted_before_ns):
            _carry_over(result, previous, folder, dir_abs, settings)
            stack.extend((os.path.join(dir_abs, name), None, dir_rel + name + "/", None, None)
                         for name in sorted(previous.folders.get(folder, ()), reverse=True))
            continue
        if previous is not None and (layers is None or dir_real is None or ancestors is None):
            assert rules is not None
            parent = folder.rpartition("/")[0]
            layers = rules._layers_of(parent + "/" if parent else "") if folder else root_layers
            dir_real = os.path.realpath(dir_abs)
            parts = folder.split("/")
            ancestors = frozenset(os.path.realpath(os.path.join(root_real, *parts[:i])) for i in range(len(parts) + 1))
        assert layers is not None and dir_real is not None and ancestors is not None
        try:
            with os.scandir(dir_abs) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            result.skipped.append((dir_rel.rstrip("/") or ".", "permission-denied"))
            continue
        except FileNotFoundError:
            result.skipped.append((dir_rel.rstrip("/") or ".", "vanished"))
            continue
        except OSError:
            result.skipped.append((dir_rel.rstrip("/") or ".", "permission-denied"))
            continue

        names = {e.name for e in entries}
        if previous is not None and any((dir_rel + n in previous.landmarks) != (n in names) for n in _IGNORE_FILES):
            return None  # an ignore file came or went: what it covers below may have changed
        new_layers = layers
        for ignore_name in _IGNORE_FILES:
            if ignore_name in names:
                _add_landmark(result, dir_rel + ignore_name, os.path.join(dir_abs, ignore_name))
                spec = _compile(_read_ignore_file(os.path.join(dir_abs, ignore_name)))
                if spec is not None:
                    new_layers = [*new_layers, _IgnoreLayer(dir_rel, spec, dir_rel + ignore_name)]

        subdirs: list[tuple[str, str, str, list[_IgnoreLayer], frozenset[str]]] = []
        for entry in entries:
            name = entry.name
            rel = dir_rel + name
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:  # surrogate-escaped bytes: not storable, not citable
                result.skipped.append((rel.encode("utf-8", "replace").decode("utf-8"), "undecodable-name"))
                continue
            try:
                is_link = entry.is_symlink()
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                result.skipped.append((rel, "broken-symlink" if entry.is_symlink() else "vanished"))
                continue
            except PermissionError:
                result.skipped.append((rel, "permission-denied"))
                continue
            except OSError:  # ELOOP and friends
                result.skipped.append((rel, "symlink-loop"))
                continue
            is_dir = stat.S_ISDIR(st.st_mode)

            if is_dir:
                if (
                    name in DEFAULT_IGNORED_DIRS
                    or name.endswith(".egg-info")
                    or os.path.isfile(os.path.join(entry.path, "pyvenv.cfg"))
                ):
                    result.skipped.append((rel + "/", "default-ignore"))
                    continue
            elif (name in DEFAULT_IGNORED_FILES or name.endswith(DEFAULT_IGNORED_SUFFIXES)
                  or name.startswith(DEFAULT_IGNORED_PREFIXES)):
                result.skipped.append((rel, "default-ignore"))
                continue
            rule = _ignoring_rule(new_layers, rel, is_dir) if new_layers else None
            if rule is not None and not (tracked is not None and tracked.holds(rel, is_dir)):
                result.skipped.append((rel + "/" if is_dir else rel, "ignored"))
                result.ignored_by[rule] += 1
                result.rule_of[rel + "/" if is_dir else rel] = rule
                continue
            if not is_dir and secret_spec is not None and (
                secret_spec.match(rel) or secret_spec.match(name)
            ):
                result.skipped.append((rel, "secret"))
                continue

            real = entry.path
            if is_link:
                real = os.path.realpath(entry.path)
                if real != root_real and not real.startswith(root_prefix):
                    result.skipped.append((rel, "symlink-outside"))
                    continue
                # the target must pass the same filters as its own path would
                target = real[len(root_prefix):].replace(os.sep, "/") if real != root_real else ""
                reason = _target_skip(target, is_dir, new_layers if target else [], secret_spec)
                if reason:
                    result.skipped.append((rel + "/" if is_dir else rel, reason))
                    continue
            if is_dir:
                real_dir = real if is_link else os.path.join(dir_real, name)
                if real_dir in ancestors:
                    result.skipped.append((rel + "/", "symlink-loop"))
                    continue
                subdirs.append((entry.path, real_dir, rel + "/", new_layers, ancestors | {real_dir}))
                continue
            if not stat.S_ISREG(st.st_mode):
                result.skipped.append((rel, "not-regular"))
                continue
            if st.st_size > settings.max_file_bytes:
                result.skipped.append((rel, "too-large"))
                continue
            result.files.append(WalkEntry(rel, entry.path, st.st_size, st.st_mtime_ns))
        # push in reverse so that the walk visits folders in sorted order
        stack.extend(reversed(subdirs))
    result.files.sort(key=lambda f: f.relpath)
    return result


def _carry_over(result: WalkResult, previous: _Previous, folder: str, dir_abs: str, settings: Settings) -> None:
    """A folder whose listing has not changed: its files again (stat'ed: edits in place show),
    its skipped entries as they were, and its ignore files as landmarks."""
    prefix = folder + "/" if folder else ""
    for name in _IGNORE_FILES:
        if prefix + name in previous.landmarks:
            _add_landmark(result, prefix + name, os.path.join(dir_abs, name))
    for rel in previous.files.get(folder, ()):
        path = os.path.join(dir_abs, rel.rpartition("/")[2])
        try:
            st = os.stat(path)
        except FileNotFoundError:
            result.skipped.append((rel, "vanished"))
            continue
        except OSError:
            result.skipped.append((rel, "permission-denied"))
            continue
        if st.st_size > settings.max_file_bytes:
            result.skipped.append((rel, "too-large"))
            continue
        result.files.append(WalkEntry(rel, path, st.st_size, st.st_mtime_ns))
    for rel, reason, rule in previous.skipped.get(folder, ()):
        if reason == "too-large":  # it may have shrunk
            try:
                st = os.stat(os.path.join(dir_abs, rel.rpartition("/")[2]))
            except OSError:
                continue
            if st.st_size <= settings.max_file_bytes:
                result.files.append(WalkEntry(rel, os.path.join(dir_abs, rel.rpartition("/")[2]), st.st_size,
                                              st.st_mtime_ns))
                continue
        result.skipped.append((rel, reason))
        if rule:
            result.ignored_by[rule] += 1
            result.rule_of[rel] = rule


class IgnoreRules:
    """Whether the walk would skip a path by its name alone (default ignores, ignore files at
    every level, ``extra_ignores``, ``.git/info/exclude``, secret names), without walking: a
    file watcher asks this for every event. Ignore files are read once; :meth:`forget` drops
    them when one changes."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self._root = os.path.realpath(root)
        self._settings = settings
        self._secret = None if settings.include_secrets else _compile(list(settings.secret_patterns))
        self._layers: dict[str, list[_IgnoreLayer]] = {}
        self._tracked: TrackedFiles | None | bool = False  # False: not asked yet

    def forget(self) -> None:
        """Drop what was read: ignore files and git's list of tracked files."""
        self._layers.clear()
        self._tracked = False

    def _tracked_files(self) -> TrackedFiles | None:
        if self._tracked is False:
            self._tracked = git_tracked(self._root)
        return self._tracked  # type: ignore[return-value]

    def _layers_of(self, dir_rel: str) -> list[_IgnoreLayer]:
        """The ignore layers in force inside ``dir_rel`` ("" or ``a/b/``)."""
        cached = self._layers.get(dir_rel)
        if cached is not None:
            return cached
        if dir_rel == "":
            layers = _root_layers(self._root, self._settings)
        else:
            parent = dir_rel[:-1].rpartition("/")[0]
            layers = list(self._layers_of(parent + "/" if parent else ""))
        for name in _IGNORE_FILES:
            spec = _compile(_read_ignore_file(os.path.join(self._root, dir_rel, name)))
            if spec is not None:
                layers.append(_IgnoreLayer(dir_rel, spec, dir_rel + name))
        self._layers[dir_rel] = layers
        return layers

    def skips(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether ``relpath`` (``/``-separated, relative to the root) is ignored, or lies in
        an ignored folder."""
        parts = [p for p in relpath.split("/") if p]
        if not parts:
            return False
        dir_rel = ""
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            folder = not last or is_dir
            rel = dir_rel + name
            if folder and (name in DEFAULT_IGNORED_DIRS or name.endswith(".egg-info")):
                return True
            if not folder and (name in DEFAULT_IGNORED_FILES or name.endswith(DEFAULT_IGNORED_SUFFIXES)
                               or name.startswith(DEFAULT_IGNORED_PREFIXES)):
                return True
            layers = self._layers_of(dir_rel)
            if layers and _is_ignored(layers, rel, folder):
                tracked = self._tracked_files()
                if tracked is None or not tracked.holds(rel, folder):
                    return True
            if not folder and self._secret is not None and (
                    self._secret.match(rel) or self._secret.match(name)):
                return True
            dir_rel = rel + "/"
        return False
