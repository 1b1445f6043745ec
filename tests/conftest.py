"""Fixtures: real repositories built in tmp dirs, and an isolated CODEASSIST_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import codeassist

from .helpers import free_port, start_chroma_server

REPO_ROOT = Path(__file__).resolve().parent.parent

#: a small multi-language project: each file has definitions, calls, imports and docs
MULTI_LANGUAGE_FILES: dict[str, str] = {
    "README.md": "# Shop\n\nA tiny shop used by the tests.\n\n## Payments\n\nRetries are configured in `payments/retry.py`.\n",
    "pyproject.toml": '[project]\nname = "shop"\nversion = "1.0"\n',
    "payments/__init__.py": '"""Payments package."""\n',
    "payments/retry.py": '''"""Retry policy for failed uploads and payments."""

import time
from dataclasses import dataclass

MAX_ATTEMPTS = 5


@dataclass
class RetryPolicy:
    """How often and how long to retry a failed operation."""

    attempts: int = MAX_ATTEMPTS

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before the given attempt (exponential)."""
        return min(30.0, 0.5 * 2 ** attempt)

    def run(self, operation):
        for attempt in range(self.attempts):
            try:
                return operation()
            except ConnectionError:
                time.sleep(self.backoff(attempt))
        raise RuntimeError("gave up")


def get_user_name(user):
    """Display name of a user."""
    return user.name.title()
''',
    "payments/client.py": '''from payments.retry import RetryPolicy, get_user_name


class PaymentClient:
    def __init__(self):
        self.policy = RetryPolicy()

    def charge(self, user, amount):
        name = get_user_name(user)
        return self.policy.run(lambda: (name, amount))
''',
    "web/app.js": '''// Web front end.
import { formatPrice } from "./format.js";

/** Renders the basket total. */
export function renderTotal(items) {
  const total = items.reduce((a, b) => a + b.price, 0);
  return formatPrice(total);
}

export class Basket {
  addItem(item) {
    this.items.push(item);
    return renderTotal(this.items);
  }
}
''',
    "web/format.js": "export const formatPrice = (cents) => `$${(cents / 100).toFixed(2)}`;\n",
    "web/types.ts": '''export interface Item { price: number; name: string }
export type Price = number;
export function getUserName(user: { name: string }): string {
  return user.name;
}
''',
    "server/main.go": '''package main

import "fmt"

// Server answers HTTP requests.
type Server struct {
	Port int
}

// Start begins listening.
func (s *Server) Start() error {
	fmt.Println("listening", s.Port)
	return nil
}

func main() {
	s := Server{Port: 8080}
	s.Start()
}
''',
    "engine/src/lib.rs": '''/// A cache of computed values.
pub struct Cache { size: usize }

impl Cache {
    /// Creates an empty cache.
    pub fn new() -> Self { Cache { size: 0 } }
}

pub fn evict(cache: &mut Cache) { cache.size = 0; }
''',
    "engine/Main.java": '''package engine;

import java.util.List;

/** Entry point. */
public class Main {
    public static void main(String[] args) {
        System.out.println(List.of(1, 2));
    }
}
''',
    "native/hash.c": '''#include <stdint.h>
#define SEED 42

/* FNV-1a hash. */
uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) { h ^= (uint8_t)*s++; h *= 16777619u; }
    return h;
}
''',
    "native/vec.cpp": '''namespace geo {
class Vec {
public:
  double norm() const;
};
double Vec::norm() const { return 0.0; }
}
''',
    "tools/Deploy.cs": '''namespace Tools {
  public class Deployer {
    public void Deploy(string target) { System.Console.WriteLine(target); }
  }
}
''',
    "tools/task.rb": '''require "json"
module Tasks
  class Runner
    def run(name)
      puts JSON.generate(name: name)
    end
  end
end
''',
    "tools/page.php": '''<?php
namespace Site;
class Page {
    public function render(): string { return strtoupper("x"); }
}
''',
    "mobile/App.kt": '''package mobile
class Session(val user: String) {
    fun greet(): String = "hi $user"
}
fun start() = Session("a").greet()
''',
    "mobile/View.swift": '''import Foundation
class ViewModel {
    func refresh() -> Int { return 1 }
}
''',
    "scripts/build.sh": '''#!/bin/bash
build_all() {
  echo building
}
build_all
''',
    "web/Widget.tsx": '''import React from "react";
export function Widget(props: { label: string }) {
  return <Button label={props.label} />;
}
''',
    "analytics/Report.scala": '''object Report {
  def total(xs: List[Int]): Int = xs.sum
}
''',
    "game/init.lua": '''local M = {}
function M.spawn(x)
  return x + 1
end
return M
''',
    "db/schema.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
    "config/settings.yaml": "retries: 5\ntimeout: 30\n",
    "Dockerfile": "FROM python:3.11\nCOPY . /app\n",
}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own CODEASSIST_HOME, runtime folder (sockets) and no user config file.

    Embeddings are off unless a test turns them on: tests of the lexical index should not pay
    for loading a model (the embedding tests set CODEASSIST_EMBED=1).
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CODEASSIST_HOME", str(home))
    monkeypatch.setenv("CODEASSIST_CONFIG", str(home / "no-config.toml"))
    monkeypatch.setenv("CODEASSIST_EMBED", "0")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("run")))  # a `watch` serves from here
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY",
                 "CODEASSIST_BACKEND", "CODEASSIST_MODEL", "CODEASSIST_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return home


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        root = tmp_path / (name or f"repo{next(counter)}")
        root.mkdir()
        return write_files(root, files)

    return make


@pytest.fixture
def multi_repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(MULTI_LANGUAGE_FILES, name="shop")


@pytest.fixture
def indexed(multi_repo: Path) -> codeassist.Project:
    project = codeassist.open(multi_repo)
    project.index()
    return project


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real command (``python -m codeassist``) in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "codeassist", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def generated_python_files(n: int, functions: int = 20) -> dict[str, str]:
    """``n`` realistic Python modules (for crash and concurrency tests)."""
    files = {}
    for i in range(n):
        body = [f'"""Module {i}."""', "import os", ""]
        for j in range(functions):
            body += [
                f"def func_{i}_{j}(value):",
                f'    """Compute thing {j} of module {i}."""',
                f"    total = value * {j} + len(os.sep)",
                "    for k in range(3):",
                "        total += k",
                "    return total",
                "",
            ]
        files[f"pkg/sub{i % 10}/mod_{i}.py"] = "\n".join(body) + "\n"
    return files


@pytest.fixture
def server():
    """The local OpenAI-compatible backend (tests/openai_server.py) on a free loopback port."""
    from .openai_server import LocalOpenAIServer

    with LocalOpenAIServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, for this module."""
    port = free_port()
    try:
        proc = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield ("127.0.0.1", port)
    proc.terminate()
    proc.wait(timeout=30)
