"""`codeassist mcp` driven by the official MCP SDK's client: a real server process over stdio and
over Streamable HTTP, every tool, hostile inputs, auth and Origin, concurrency, killed clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

import codeassist

from .conftest import MULTI_LANGUAGE_FILES

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def served(make_repo, tmp_path) -> Path:
    """A repository with secrets, ignored files and symlinks pointing out, indexed."""
    root = make_repo({**MULTI_LANGUAGE_FILES, ".env": "API_KEY=sk-live-123456\n", "config/secrets.yaml": "p: 1\n",
                      ".gitignore": "build/\n", "build/gen.py": "def generated():\n    pass\n",
                      "big.py": "".join(f"def f{i}():\n    return {i}\n\n" for i in range(400))},
                     name="shop")
    outside = tmp_path / "outside.txt"
    outside.write_text("top secret outside the repository\n")
    os.symlink(outside, root / "link_out.txt")
    os.symlink(root / ".env", root / "env_link.txt")
    codeassist.open(root).index()
    return root


def _env() -> dict[str, str]:
    return {**os.environ, "CODEASSIST_EMBED": "0"}


def _stdio(*args: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "codeassist", "mcp", *args], env=_env())


async def _call(client: Any, tool: str, **arguments: Any) -> Any:
    return await client.call_tool(tool, arguments)


# ---------------------------------------------------------------------- every tool over stdio
async def test_every_tool_over_stdio_with_schemas_structured_and_text_output(served):
    async with Client(_stdio(str(served), "--no-watch")) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"search", "symbols", "references", "read", "outline", "map", "context", "status",
                              "refresh"}
        for name, tool in tools.items():
            assert tool.output_schema and tool.output_schema["type"] == "object", name
            assert len(tool.description) > 80, name  # written for a model: when to use it, what it returns
            assert tool.annotations.read_only_hint is (name != "refresh")
            assert "repo" in tool.input_schema["properties"]
        assert "grep" in tools["search"].description

        hits = await _call(client, "search", query="how are failed payments retried with backoff?", k=3)
        assert not hits.is_error and hits.structured_content["hits"][0]["path"] == "payments/retry.py"
        assert "payments/retry.py:" in hits.content[0].text and len(hits.structured_content["hits"]) <= 3
        found = await _call(client, "symbols", name="RetryPolicy.backoff")
        assert found.structured_content["symbols"][0]["qualname"].endswith("RetryPolicy.backoff")
        refs = await _call(client, "references", name="RetryPolicy")
        assert refs.structured_content["total"] >= 1 and refs.structured_content["references"][0]["path"]
        outline = await _call(client, "outline", path="payments/retry.py")
        assert any(s["name"] == "RetryPolicy" for s in outline.structured_content["symbols"])
        mapped = await _call(client, "map", budget=600)
        assert 0 < mapped.structured_content["tokens"] <= 600 and mapped.structured_content["mode"] == "map"
        ctx = await _call(client, "context", question="how are payments retried?", budget=2000)
        assert ctx.structured_content["tokens"] <= 2000 and ctx.structured_content["items"]
        assert "retry" in ctx.content[0].text
        status = await _call(client, "status")
        assert status.structured_content["indexed"] and status.structured_content["up_to_date"]
        assert status.structured_content["repositories"] == ["shop"]

        # pagination: read continues with next_start_line, references with next_offset
        first = await _call(client, "read", path="big.py")
        data = first.structured_content
        assert data["start_line"] == 1 and data["end_line"] == 400 and data["next_start_line"] == 401
        assert "more available: call read with start_line=401" in first.content[0].text
        rest = await _call(client, "read", path="big.py", start_line=data["next_start_line"])
        assert rest.structured_content["end_line"] == 800 and rest.structured_content["next_start_line"] == 801
        assert rest.structured_content["text"].split("\n")[0] == "401\t    return 133"  # numbered lines
        last = await _call(client, "read", path="big.py", start_line=801)
        assert last.structured_content["end_line"] == last.structured_content["total_lines"] == 1200
        assert last.structured_content["next_start_line"] is None


async def test_refresh_reports_progress_and_the_server_sees_other_processes_changes(served):
    async with Client(_stdio(str(served), "--no-watch")) as client:
        (served / "payments" / "refunds.py").write_text("def refund_everything():\n    return 0\n")
        subprocess.run([sys.executable, "-m", "codeassist", "index", str(served), "-q"], env=_env(), check=True)
        found = await _call(client, "symbols", name="refund_everything")  # a CLI index, seen without a restart
        assert found.structured_content["symbols"]
        (served / "payments" / "more.py").write_text("def more_refunds():\n    return 1\n")
        status = await _call(client, "status")
        assert status.structured_content["up_to_date"] is False and status.structured_content["changed_folders"]
        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.append((value, total, message))

        result = await client.call_tool("refresh", {}, progress_callback=on_progress)
        assert not result.is_error and result.structured_content["added"] == 1
        assert progress and progress[-1][0] == 100.0 and all(t == 100.0 for _v, t, _m in progress)
        assert [v for v, _t, _m in progress] == sorted(v for v, _t, _m in progress)
        assert (await _call(client, "symbols", name="more_refunds")).structured_content["symbols"]


async def test_watching_by_default_keeps_the_index_current(served):
    async with Client(_stdio(str(served))) as client:
        (served / "payments" / "watched.py").write_text("def seen_by_the_watcher():\n    return 0\n")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (await _call(client, "symbols", name="seen_by_the_watcher")).structured_content["symbols"]:
                break
            await anyio.sleep(0.1)
        else:
            raise AssertionError("the server's watcher did not index the new file")
        status = await _call(client, "status")
        assert status.structured_content["watcher"]["pid"] > 0


# ---------------------------------------------------------------------- hostile input
HOSTILE_PATHS = [
    "../outside.txt", "..", "/etc/passwd", "payments/../../outside.txt", "%2e%2e/outside.txt", "%2e%2e%2fetc",
    ".env", "./.env", ".ENV", "config/secrets.yaml", "env_link.txt", "link_out.txt", "build/gen.py", ".git/config",
    "payments/retry.py\x00.png", "PAYMENTS/RETRY.PY", "payments\\..\\..\\outside.txt", "a" * 5000, "", "   ",
    "payments/retry.py/../../../outside.txt", "~/.ssh/id_rsa", "file:///etc/passwd",
]


async def test_read_refuses_every_path_trick(served):
    async with Client(_stdio(str(served), "--no-watch")) as client:
        absolute_secret = str(served / ".env")
        for path in [*HOSTILE_PATHS, absolute_secret, str(served.parent / "outside.txt")]:
            for tool in ("read", "outline"):
                result = await _call(client, tool, path=path)
                assert result.is_error, (tool, path)
                text = result.content[0].text
                assert "sk-live" not in text and "top secret" not in text
        ok = await _call(client, "read", path=str(served / "payments" / "retry.py"), start_line=1, end_line=3)
        assert not ok.is_error and ok.structured_content["path"] == "payments/retry.py"
        near = await _call(client, "read", path="payments/retyr.py")
        assert near.is_error and "did you mean payments/retry.py" in near.content[0].text


async def test_bad_arguments_are_errors_and_the_server_keeps_serving(served):
    async with Client(_stdio(str(served), "--no-watch")) as client:
        cases = [("search", {"query": "x" * 1_000_000}), ("search", {"query": 42}), ("search", {"query": "a", "k": 0}),
                 ("search", {"query": "a", "k": "many"}), ("search", {}), ("symbols", {"name": ""}),
                 ("references", {"name": "x", "kind": "everything"}), ("references", {"name": "x", "offset": -1}),
                 ("read", {"path": "big.py", "start_line": 0}), ("read", {"path": "big.py", "start_line": 99_999}),
                 ("read", {"path": "big.py", "start_line": 5, "end_line": 2}), ("map", {"budget": 10}),
                 ("context", {"question": "q", "budget": 10**9}), ("context", {"question": "q", "format": "pdf"}),
                 ("status", {"repo": "elsewhere"}), ("no_such_tool", {})]
        for tool, arguments in cases:
            result = await client.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments)
            assert len(result.content[0].text) < 2_000
        huge = await client.call_tool("search", {"query": "x" * 1_000_000})
        assert "at most 10,000" in huge.content[0].text
        assert not (await _call(client, "search", query="RetryPolicy")).is_error  # still serving


async def test_several_repositories_need_repo_and_name_it_clearly(served, make_repo):
    other = make_repo({"lib/tool.py": "def helper():\n    return 1\n"}, name="other")
    codeassist.open(other).index()
    async with Client(_stdio("--repo", str(served), "--repo", str(other), "--no-watch")) as client:
        ambiguous = await _call(client, "search", query="helper")
        assert ambiguous.is_error and "several repositories are served (shop, other)" in ambiguous.content[0].text
        by_name = await _call(client, "symbols", name="helper", repo="other")
        assert by_name.structured_content["repo"] == "other" and by_name.structured_content["symbols"]
        by_path = await _call(client, "symbols", name="RetryPolicy", repo=str(served))
        assert by_path.structured_content["repo"] == "shop"
        status = await _call(client, "status", repo="shop")
        assert status.structured_content["repositories"] == ["shop", "other"]


# ---------------------------------------------------------------------- Streamable HTTP
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HttpServer:
    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        bind = args[0] if args and not args[0].startswith("-") else f"127.0.0.1:{self.port}"
        extra = args[1:] if args and not args[0].startswith("-") else args
        self.proc = subprocess.Popen([sys.executable, "-m", "codeassist", "mcp", str(root), "--no-watch", "--http",
                                      bind, *extra], env={**_env(), **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.stderr_lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            self.stderr_lines.append(line)
            if "serving" in line and "/mcp" in line:
                return
            if self.proc.poll() is not None:
                raise AssertionError("server exited: " + "".join(self.stderr_lines) + self.proc.stderr.read())
        raise AssertionError("server did not start")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(ln for ln in status.splitlines() if ln.startswith("VmRSS")).split()[1]) / 1024

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _http_client(url: str, headers: dict[str, str] | None = None) -> Any:
    http = httpx2.AsyncClient(headers=headers or {}, timeout=httpx2.Timeout(60, read=300))
    return http, Client(streamable_http_client(url, http_client=http))


async def test_http_loopback_serves_tools_and_checks_origin(served):
    server = HttpServer(served)
    try:
        http, client = _http_client(server.url)
        async with http, client:
            hits = await _call(client, "search", query="RetryPolicy backoff", k=2)
            assert hits.structured_content["hits"][0]["path"] == "payments/retry.py"
            progress = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append(value)

            await client.call_tool("refresh", {}, progress_callback=on_progress)
            assert progress and progress[-1] == 100.0
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        async with httpx2.AsyncClient(timeout=30) as raw:
            evil = await raw.post(server.url, json=init, headers={**headers, "Origin": "http://evil.example"})
            assert evil.status_code == 403
            rebinding = await raw.post(server.url, json=init, headers={**headers, "Host": "evil.example"})
            assert rebinding.status_code in (403, 421)
            local = await raw.post(server.url, json=init, headers={**headers, "Origin": f"http://localhost:{server.port}"})
            assert local.status_code == 200
    finally:
        server.stop()


async def test_http_bearer_token_missing_wrong_right(served):
    server = HttpServer(served, "--token-env", "CODEASSIST_TEST_TOKEN", env={"CODEASSIST_TEST_TOKEN": "s3cret-token"})
    try:
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        async with httpx2.AsyncClient(timeout=30) as raw:
            missing = await raw.post(server.url, json=init, headers=headers)
            wrong = await raw.post(server.url, json=init, headers={**headers, "Authorization": "Bearer nope"})
            odd = await raw.post(server.url, json=init, headers={**headers, "Authorization": "Bearer t\xe9st".encode(
                "latin-1")})
            assert missing.status_code == wrong.status_code == odd.status_code == 401
            assert "sk-live" not in missing.text and missing.headers["www-authenticate"].startswith("Bearer")
        http, client = _http_client(server.url, {"Authorization": "Bearer s3cret-token"})
        async with http, client:
            assert not (await _call(client, "status")).is_error
    finally:
        server.stop()


async def test_binding_beyond_loopback_requires_a_token_generated_once(served):
    port = _free_port()
    server = HttpServer(served, f"0.0.0.0:{port}")
    server.port, server.url = port, f"http://127.0.0.1:{port}/mcp"  # the test talks to it on loopback only
    try:
        text = "".join(server.stderr_lines)
        assert "generated one (shown once):" in text and "(bearer token required)" in text
        token = text.split("generated one (shown once): ")[1].split()[0]
        async with httpx2.AsyncClient(timeout=30) as raw:
            denied = await raw.post(server.url, json={}, headers={"Content-Type": "application/json"})
            assert denied.status_code == 401
        http, client = _http_client(server.url, {"Authorization": f"Bearer {token}"})
        async with http, client:
            assert not (await _call(client, "search", query="RetryPolicy")).is_error
    finally:
        server.stop()


async def test_eight_concurrent_clients_and_a_client_killed_mid_call(served):
    server = HttpServer(served)
    errors: list[str] = []
    calls = [("search", {"query": "retry backoff"}), ("symbols", {"name": "RetryPolicy"}),
             ("read", {"path": "payments/retry.py", "start_line": 1, "end_line": 20}),
             ("references", {"name": "RetryPolicy"}), ("outline", {"path": "payments/retry.py"}),
             ("status", {}), ("context", {"question": "how are payments retried?", "budget": 1500}),
             ("map", {"budget": 500})]
    try:
        async def one_client(n: int) -> None:
            http, client = _http_client(server.url)
            async with http, client:
                for i in range(200):
                    tool, arguments = calls[(n + i) % len(calls)]
                    result = await client.call_tool(tool, arguments)
                    if result.is_error:
                        errors.append(f"{tool}: {result.content[0].text[:200]}")

        async with anyio.create_task_group() as group:
            for n in range(8):
                group.start_soon(one_client, n)
        assert errors == []
        after_first = server.rss_mb()
        # a client killed in the middle of a call (context of a 1M budget takes a while)
        script = ("import anyio, httpx2\nfrom mcp import Client\nfrom mcp.client.streamable_http import "
                  "streamable_http_client\nasync def main():\n"
                  f"    async with httpx2.AsyncClient(timeout=300) as h, Client(streamable_http_client({server.url!r}, "
                  "http_client=h)) as c:\n        print('connected', flush=True)\n"
                  "        await c.call_tool('context', {'question': 'everything', 'budget': 1000000})\n"
                  "anyio.run(main)\n")
        victim = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert victim.stdout.readline().strip() == "connected"
        time.sleep(0.3)
        victim.kill()
        victim.wait(timeout=10)
        http, client = _http_client(server.url)
        async with http, client:
            for _ in range(50):
                assert not (await _call(client, "search", query="retry backoff")).is_error
        assert server.proc.poll() is None
        assert server.rss_mb() < after_first * 1.25
    finally:
        server.stop()


def test_a_busy_port_is_one_clear_error(served):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "codeassist", "mcp", str(served), "--no-watch", "--http",
                               f"127.0.0.1:{port}"], env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "cannot listen on 127.0.0.1:" in proc.stderr and "Traceback" not in proc.stderr


def test_the_server_never_writes_to_the_repository(served):
    before = sorted((p.relative_to(served).as_posix(), p.stat().st_mtime_ns) for p in served.rglob("*")
                    if not p.is_symlink())

    async def session() -> None:
        async with Client(_stdio(str(served))) as client:
            for tool, arguments in (("refresh", {}), ("search", {"query": "x"}), ("context", {"question": "x"})):
                await client.call_tool(tool, arguments)

    anyio.run(session)
    after = sorted((p.relative_to(served).as_posix(), p.stat().st_mtime_ns) for p in served.rglob("*")
                   if not p.is_symlink())
    assert after == before
