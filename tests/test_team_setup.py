"""docs/scale.md's team set-up, run as written: a `chroma run` server, an OpenAI-compatible
embedding server (ours stands in for vLLM: no GPU in CI), `codeassist index` with the page's
environment, `codeassist mcp --http` with a bearer token, and an agent (the MCP SDK's client)
querying it over HTTP. Ports, paths and the secret are swapped for the test's own."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from .conftest import MULTI_LANGUAGE_FILES, free_port
from .openai_server import LocalOpenAIServer

PAGE = Path(__file__).resolve().parents[1] / "docs" / "scale.md"


def team_setup_commands() -> list[str]:
    """The commands of the page's ``# team-setup`` block, in order."""
    blocks = re.findall(r"```sh\n# team-setup\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/scale.md has one ```sh block starting with # team-setup"
    return [line for line in blocks[0].splitlines() if line.strip()]


def _wait_http(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers (a 4xx for a bare GET is fine)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start")
            time.sleep(0.1)


def test_the_team_setup_runs_as_written(make_repo, tmp_path):
    repo = make_repo(MULTI_LANGUAGE_FILES, name="app")
    ports = {"8000": str(free_port()), "8765": str(free_port())}
    secret = "t3am-secret-" + os.urandom(8).hex()
    started: list[subprocess.Popen] = []
    env = {**os.environ, "CODEASSIST_EMBED": "1"}
    with LocalOpenAIServer() as embedding_server:
        ports["8001"] = embedding_server.base_url.rsplit(":", 1)[1].split("/")[0]

        def adapt(command: str) -> list[str]:
            for port, ours in ports.items():
                command = re.sub(rf"(?<=[ :]){port}\b", ours, command)
            command = command.replace("/srv/codeassist/chroma", str(tmp_path / "chroma"))
            command = command.replace("/srv/repos/app", str(repo))
            command = command.replace("replace-with-a-long-random-secret", secret)
            return shlex.split(command)

        try:
            for line in team_setup_commands():
                argv = adapt(line)
                if argv[0] == "vllm":  # the GPU embedding server: ours, already listening
                    assert "--port" in argv
                    continue
                if argv[0] == "export":
                    name, _, value = argv[1].partition("=")
                    env[name] = value
                    continue
                if argv[0] == "chroma":
                    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
                    proc = subprocess.Popen([exe, *argv[1:]], env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
                    started.append(proc)
                    _wait_http(f"http://127.0.0.1:{ports['8000']}/api/v2/heartbeat", proc, "chroma run")
                    continue
                assert argv[0] == "codeassist", line
                if argv[1] == "index":
                    done = subprocess.run([sys.executable, "-m", "codeassist", *argv[1:], "--json", "-q"], env=env,
                                          capture_output=True, text=True, timeout=300)
                    assert done.returncode == 0, done.stderr
                    continue
                assert argv[1] == "mcp" and "--http" in argv
                proc = subprocess.Popen([sys.executable, "-m", "codeassist", *argv[1:]], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                started.append(proc)
                deadline = time.monotonic() + 60
                while "serving" not in (proc.stderr.readline() or ""):
                    assert proc.poll() is None and time.monotonic() < deadline, "the MCP server did not start"
            embed_requests = [r for r in embedding_server.state.requests if r["path"].endswith("/embeddings")]
            assert embed_requests, "the index was built with the embedding server"
            assert all(r["body"]["model"] == env["CODEASSIST_EMBED_MODEL"] for r in embed_requests)
            anyio.run(_query_as_an_agent, f"http://127.0.0.1:{ports['8765']}/mcp", secret)
        finally:
            for proc in reversed(started):
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def _query_as_an_agent(url: str, secret: str) -> None:
    async with httpx2.AsyncClient(timeout=30) as raw:  # no token: refused
        refused = await raw.post(url, json={}, headers={"Content-Type": "application/json"})
        assert refused.status_code == 401
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}, timeout=httpx2.Timeout(60, read=300))
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("search", {"query": "how long to wait between payment attempts", "k": 5})
        assert not result.is_error
        hits = result.structured_content["hits"]
        assert hits and any("dense" in h["sources"] for h in hits), hits  # vectors from the shared store
        status = await client.call_tool("status", {})
        assert status.structured_content["embedded"] > 0
