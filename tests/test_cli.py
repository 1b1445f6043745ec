"""The real command, run as a user would (``python -m codeassist`` in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import run_cli


def test_index_search_status_json_contracts(multi_repo: Path):
    proc = run_cli("index", str(multi_repo), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["files"] > 20 and summary["symbols"] > 40
    assert summary["languages"]["python"] == 3
    assert set(summary) >= {"files", "languages", "symbols", "references", "chunks", "skipped", "seconds"}

    proc = run_cli("search", "RetryPolicy backoff", "-k", "3", "--json", cwd=multi_repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"] == "RetryPolicy backoff"
    assert 1 <= len(data["hits"]) <= 3
    hit = data["hits"][0]
    assert set(hit) >= {"path", "start_line", "end_line", "symbol", "kind", "score", "text"}
    assert hit["path"] == "payments/retry.py"
    assert isinstance(hit["start_line"], int) and hit["start_line"] <= hit["end_line"]
    assert isinstance(hit["score"], float)
    assert "/" in hit["path"] and not hit["path"].startswith("/")

    proc = run_cli("status", "--repo", str(multi_repo), "--json")
    status = json.loads(proc.stdout)
    assert status["indexed"] is True and status["pending_changes"] == 0
    assert status["files"] == summary["files"]


def test_human_output_and_progress_goes_to_stderr(multi_repo: Path):
    proc = run_cli("index", str(multi_repo))
    assert proc.returncode == 0
    assert "symbols" in proc.stdout and "files" in proc.stdout
    assert "codeassist:" not in proc.stdout  # progress lines are on stderr only
    proc = run_cli("search", "fnv1a", cwd=multi_repo)
    assert proc.stdout.startswith("native/hash.c:")
    proc = run_cli("symbols", "Basket", "--repo", str(multi_repo))
    assert "web/app.js:10" in proc.stdout and "class Basket" in proc.stdout
    proc = run_cli("refs", "renderTotal", "--repo", str(multi_repo))
    assert "web/app.js:13  call  in Basket.addItem" in proc.stdout


def test_errors_are_one_actionable_line_and_non_zero(tmp_path: Path, make_repo):
    proc = run_cli("search", "anything", "--repo", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr

    repo = make_repo({"a.py": "x = 1\n"})
    proc = run_cli("search", "x", "--repo", str(repo))
    assert proc.returncode == 3
    assert "run `codeassist index`" in proc.stderr and "Traceback" not in proc.stderr

    proc = run_cli("index", str(repo), "--workers", "lots")
    assert proc.returncode == 2 and "invalid int value" in proc.stderr

    proc = run_cli("index", str(repo), env={"CODEASSIST_MAX_FILE_BYTES": "big"})
    assert proc.returncode == 2
    assert "CODEASSIST_MAX_FILE_BYTES" in proc.stderr and "Traceback" not in proc.stderr


def test_console_script_and_no_heavy_imports_for_lexical_commands(multi_repo: Path):
    run_cli("index", str(multi_repo), "-q")
    code = (
        "import sys, runpy; sys.argv=['codeassist','search','retry','--repo',%r];"
        "import codeassist.cli as c; c.main(sys.argv[1:]);"
        "heavy=[m for m in ('torch','sentence_transformers','chromadb','textual','openai','transformers')"
        " if m in sys.modules]; print('HEAVY', heavy)" % str(multi_repo)
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    start = time.perf_counter()
    proc = run_cli("search", "retry policy", "--repo", str(multi_repo))
    assert proc.returncode == 0
    assert time.perf_counter() - start < 5  # generous: the real budget is measured by the benchmark


def test_a_wrong_embed_precision_is_a_config_error():
    from codeassist.config import load_settings
    from codeassist.errors import ConfigError

    with pytest.raises(ConfigError, match="embed_precision must be auto, fp32 or bf16"):
        load_settings({"embed_precision": "fp16"})


def test_config_file_env_and_arguments_precedence(tmp_path: Path, monkeypatch):
    from codeassist.config import load_settings

    config = tmp_path / "config.toml"
    config.write_text("max_file_bytes = 111\nchunk_chars = 500\n[index]\nextra_ignores = ['gen/']\n")
    monkeypatch.setenv("CODEASSIST_CONFIG", str(config))
    settings = load_settings()
    assert (settings.max_file_bytes, settings.chunk_chars, settings.extra_ignores) == (111, 500, ("gen/",))
    monkeypatch.setenv("CODEASSIST_MAX_FILE_BYTES", "222")
    assert load_settings().max_file_bytes == 222
    assert load_settings({"max_file_bytes": 333}).max_file_bytes == 333
    assert load_settings({"max_file_bytes": None}).max_file_bytes == 222


def test_a_mistyped_command_names_the_closest_one_and_opens_nothing(tmp_path: Path):
    proc = run_cli("serach", "retry", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown command 'serach'; did you mean `codeassist search`?" in proc.stderr
    assert proc.stdout == "" and not (tmp_path / "serach").exists()
    proc = run_cli("no-such-thing-at-all", cwd=tmp_path)
    assert proc.returncode == 2 and "neither a command nor a folder" in proc.stderr
    assert "commands: index, watch, mcp, search" in proc.stderr  # the commands are listed


def test_repo_is_accepted_as_positional_path_or_option_on_every_command(multi_repo: Path, tmp_path: Path):
    assert run_cli("index", "--repo", str(multi_repo), "--json", "-q").returncode == 0
    for args in (("status", str(multi_repo)), ("status", "--repo", str(multi_repo))):
        proc = run_cli(*args, "--json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["indexed"] is True
    for command in ("search", "symbols", "refs"):
        positional = run_cli(command, "RetryPolicy", str(multi_repo), "--json", cwd=tmp_path)
        option = run_cli(command, "RetryPolicy", "--repo", str(multi_repo), "--json", cwd=tmp_path)
        assert positional.returncode == option.returncode == 0, positional.stderr + option.stderr
        assert json.loads(positional.stdout) == json.loads(option.stdout)
        assert json.loads(positional.stdout) not in ({"query": "RetryPolicy", "hits": []},)
    proc = run_cli("map", str(multi_repo), "--budget", "500", "--json", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["items"]
    proc = run_cli("status", str(multi_repo), "--repo", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "two repositories given" in proc.stderr


def test_index_and_status_print_the_same_counts(multi_repo: Path):
    index = run_cli("index", str(multi_repo), "-q")
    status = run_cli("status", str(multi_repo))
    assert index.returncode == status.returncode == 0, index.stderr + status.stderr
    rows = lambda text: [ln for ln in text.splitlines() if ln.split()[:1] in (["files"], ["symbols"],  # noqa: E731
                                                                           ["references"], ["chunks"], ["skipped"])]
    assert rows(index.stdout) == rows(status.stdout) and len(rows(index.stdout)) >= 4


def test_unknown_config_keys_warn_with_the_closest_known_key(tmp_path: Path, multi_repo: Path, monkeypatch):
    from codeassist.config import load_settings
    from codeassist.errors import ConfigWarning

    config = tmp_path / "config.toml"
    config.write_text("max_file_byte = 111\n[indx]\nworkers = 1\n[llm]\nmodle = 'x'\n")
    proc = run_cli("status", str(multi_repo), "--json", env={"CODEASSIST_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert "unknown key 'max_file_byte' is ignored (did you mean 'max_file_bytes'?)" in proc.stderr
    assert "unknown key 'modle' is ignored (did you mean 'model'?)" in proc.stderr
    assert "unknown table [indx] is ignored (did you mean 'index'?)" in proc.stderr
    assert all(line.startswith("codeassist: warning: ") for line in proc.stderr.splitlines())
    assert json.loads(proc.stdout)["indexed"] is False  # data still on stdout, untouched
    monkeypatch.setenv("CODEASSIST_CONFIG", str(config))
    with pytest.warns(ConfigWarning, match="did you mean 'max_file_bytes'"):
        assert load_settings().max_file_bytes == 2_000_000
