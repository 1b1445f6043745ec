"""Short-lived commands answered by a long-lived process: ``codeassist watch`` serves them.

A running ``watch`` listens on a Unix socket of its repository; ``search``, ``context``, ``map``,
``symbols`` and ``refs`` from any shell of the same user send it their parsed options and print
what it answers: the same bytes, the same exit code, without the process start, the imports and
the per-call loading (file list, tokenizer, graph) that dominate them on a big repository.

Any doubt runs the command locally instead: no server, a server of another version or with
other settings (``CODEASSIST_*`` variables, the config file), a failure on either side. The
socket lives in a folder only its user can open (``$XDG_RUNTIME_DIR``, else
``/tmp/codeassist-UID``, checked), and the server also checks the peer's user id.
``CODEASSIST_NO_SERVER=1`` turns the client side off.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import stat
import struct
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from .config import config_path

__all__ = ["SERVED_COMMANDS", "LocalServer", "ask_server", "socket_path", "settings_fingerprint"]

SERVED_COMMANDS = frozenset({"search", "context", "map", "symbols", "refs"})
PROTOCOL = 1
_MAX_REQUEST = 1 << 20
_ACCEPTED = b"codeassist\n"  # the server's first line, sent as soon as it takes a connection
_REQUEST_TIMEOUT_S = 10.0


def _runtime_dir(create: bool) -> Path | None:
    """A folder only this user can use, for sockets (None when none can be had, as on Windows,
    or, without ``create``, when none was made: no server ever ran)."""
    if not hasattr(os, "getuid") or not hasattr(socket, "AF_UNIX"):
        return None
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "codeassist" if base else Path(f"/tmp/codeassist-{os.getuid()}")
    try:
        if create:
            folder.mkdir(mode=0o700, parents=bool(base), exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # someone else's, a link, or open to others: do not use it
    return folder


def socket_path(index_dir: Path, *, create: bool = False) -> Path | None:
    """The socket of the server for the index in ``index_dir`` (None: sockets unavailable);
    ``create`` makes its folder (the server's side: a client only looks)."""
    folder = _runtime_dir(create)
    if folder is None:
        return None
    digest = hashlib.blake2b(str(index_dir).encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()
    return folder / f"{digest}.sock"


def settings_fingerprint(version: str) -> str:
    """What a served command's behaviour depends on besides its options: the version, the
    ``CODEASSIST_*`` variables and the config file (by its stat)."""
    parts = [version, *sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("CODEASSIST_"))]
    path = config_path()
    try:
        info = path.stat()
        parts.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
    except OSError:
        parts.append(f"{path}:missing")
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class _ThreadStreams(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while a server runs: what a request thread writes goes to
    its own buffer, everything else to the stream it replaced."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self._local = threading.local()

    @contextmanager
    def captured(self, buffer: io.StringIO) -> Iterator[None]:
        self._local.buffer = buffer
        try:
            yield
        finally:
            self._local.buffer = None

    def _target(self) -> TextIO:
        return getattr(self._local, "buffer", None) or self.fallback

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self._target().isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fallback, "encoding", "utf-8")


class LocalServer:
    """Serves the commands of :data:`SERVED_COMMANDS` for one index over a Unix socket.

    ``run(options)`` runs one command from its parsed options (a JSON object) and returns its
    exit code, writing to ``sys.stdout``/``sys.stderr`` as the command would. While the server
    runs, those two are replaced by per-thread buffers (restored by :meth:`close`)."""

    def __init__(self, index_dir: Path, fingerprint: Callable[[], str], run: Callable[[dict[str, Any]], int],
                 on_notice: Callable[[str], None] = lambda message: None) -> None:
        self._path = socket_path(index_dir, create=True)
        self._fingerprint = fingerprint
        self._expected = ""  # the fingerprint at start: the projects it keeps hold those settings
        self._run = run
        self._notice = on_notice
        self._sock: socket.socket | None = None
        self._streams: tuple[_ThreadStreams, _ThreadStreams] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def path(self) -> Path | None:
        return self._path if self._sock is not None else None

    def start(self) -> bool:
        """Listen; False (with a notice) when another server has this index or no socket can be
        made. Never raises."""
        import sys

        if self._path is None:
            self._notice("not serving other commands: no private folder for a socket")
            return False
        if self._path.exists():
            if _alive(self._path):
                self._notice("not serving other commands: another `codeassist watch` serves this repository")
                return False
            self._path.unlink(missing_ok=True)  # left by a process that died
        self._expected = self._fingerprint()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self._path))
            os.chmod(self._path, 0o600)
            sock.listen(16)
        except OSError as exc:
            sock.close()
            self._notice(f"not serving other commands: {exc}")
            return False
        self._sock = sock
        self._streams = (_ThreadStreams(sys.stdout), _ThreadStreams(sys.stderr))
        sys.stdout, sys.stderr = self._streams  # type: ignore[assignment]
        self._thread = threading.Thread(target=self._accept, name="codeassist-serve", daemon=True)
        self._thread.start()
        return True

    def close(self) -> None:
        import sys

        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._streams is not None:
            sys.stdout, sys.stderr = self._streams[0].fallback, self._streams[1].fallback
            self._streams = None

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
                threading.Thread(target=self._serve, args=(conn,), name="codeassist-request", daemon=True).start()
            except (OSError, RuntimeError):
                if self._stop.is_set():
                    return  # closed
                time.sleep(0.05)  # out of files or threads for a moment: the client runs locally

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not _same_user(conn):
                    return
                conn.sendall(_ACCEPTED)  # the client waits for the answer only once it has this
                conn.settimeout(_REQUEST_TIMEOUT_S)
                request = json.loads(conn.makefile("rb").readline(_MAX_REQUEST))
                conn.settimeout(None)
                reply = self._answer(request)
                # ASCII JSON: any string (a lone surrogate too) crosses unchanged
                conn.sendall(json.dumps(reply).encode("ascii") + b"\n")
            except (OSError, ValueError):
                return  # the client went away, or sent nonsense: it runs the command itself

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("protocol") != PROTOCOL or request.get("fingerprint") != self._expected:
            return {"declined": "other version or settings"}
        options = request.get("options")
        if not isinstance(options, dict) or options.get("command") not in SERVED_COMMANDS:
            return {"declined": "not a served command"}
        assert self._streams is not None
        out, err = io.StringIO(), io.StringIO()
        with self._streams[0].captured(out), self._streams[1].captured(err):
            try:
                code = self._run(options)
            except BaseException as exc:  # noqa: BLE001 - a request never takes the server down
                return {"declined": f"{type(exc).__name__}: {exc}"}
        return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _same_user(conn: socket.socket) -> bool:
    """The peer runs as this user (checked where the system says who it is; elsewhere the
    folder's permissions alone keep others out)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))[1]
    return uid == os.getuid()


def _alive(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def ask_server(index_dir: Path, options: dict[str, Any], fingerprint: str) -> tuple[int, str, str] | None:
    """(exit code, stdout, stderr) of the command ``options`` as the server of ``index_dir``
    ran it, or None: no server, it declined or failed (run the command locally then)."""
    if os.environ.get("CODEASSIST_NO_SERVER"):
        return None
    path = socket_path(index_dir)
    if path is None or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # a watch that is stopped (ctrl+z) or stuck still lets the system queue the connection:
        # without its word within a second, run the command here
        sock.settimeout(1.0)
        sock.connect(str(path))
        replies = sock.makefile("rb")
        if replies.readline(len(_ACCEPTED)) != _ACCEPTED:
            return None
        request = {"protocol": PROTOCOL, "fingerprint": fingerprint, "options": options}
        sock.sendall(json.dumps(request).encode("ascii") + b"\n")
        sock.settimeout(None)  # an answer may take long (a big context): the server is alive
        reply = json.loads(replies.readline() or b"{}")
    except (OSError, ValueError):
        return None
    finally:
        sock.close()
    if not isinstance(reply, dict) or "code" not in reply:
        return None
    return int(reply["code"]), str(reply.get("stdout", "")), str(reply.get("stderr", ""))
