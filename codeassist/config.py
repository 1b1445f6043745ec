"""Settings: defaults < config file < ``CODEASSIST_*`` environment < explicit arguments.

The config file is TOML, at ``$CODEASSIST_CONFIG`` or ``<user config dir>/codeassist/config.toml``.
Keys are the field names of :class:`Settings`, either at the top level or under an ``[index]``
table, e.g.::

    max_file_bytes = 2_000_000
    [index]
    include_secrets = false
    extra_ignores = ["fixtures/big/"]
"""

from __future__ import annotations

import difflib
import os
import sys
import tomllib
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import ConfigError, ConfigWarning

__all__ = ["Settings", "load_settings", "data_home", "config_path", "PRECISIONS"]

#: values of the ``embed_precision`` setting (what each means: ``embeddings/sentence_transformers.py``)
PRECISIONS = ("auto", "fp32", "bf16")

#: File name patterns that carry credentials; never indexed unless include_secrets is set.
DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.ppk",
    "credentials",
    "credentials.json",
    "credentials.yml",
    "credentials.yaml",
    "secrets.*",
    "secret.*",
    "*.secret",
    "*.secrets",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "service-account*.json",
    "*.tfstate",
    "*.tfvars",
)


@dataclass(frozen=True)
class Settings:
    """Every tunable of codeassist, with its default."""

    #: where indexes live (one folder per repository); CODEASSIST_HOME moves it
    home: Path = field(default_factory=lambda: _default_home())
    #: files larger than this are skipped ("too-large")
    max_file_bytes: int = 2_000_000
    #: a file whose longest line exceeds this and whose mean line is long is "minified"
    minified_line_length: int = 1000
    #: index files matching the secret patterns anyway (not recommended)
    include_secrets: bool = False
    secret_patterns: tuple[str, ...] = DEFAULT_SECRET_PATTERNS
    #: extra gitignore-style patterns applied at the repository root
    extra_ignores: tuple[str, ...] = ()
    #: parser processes; 0 means one per CPU core
    workers: int = 0
    #: chunk size budget in non-whitespace characters (cAST's measure)
    chunk_chars: int = 1200
    #: seconds to wait for another indexer to finish; 0 fails at once
    lock_wait: float = 0.0
    #: compute embeddings for semantic search while indexing
    embed: bool = True
    #: "sentence-transformers" (local, default) or "openai" (any /v1/embeddings server)
    embedder: str = "sentence-transformers"
    #: model: a local sentence-transformers folder, or the server's model name; "" = packaged MiniLM
    embed_model: str = ""
    #: base URL of the OpenAI-compatible embeddings server (embedder = "openai")
    embed_base_url: str = ""
    #: environment variable holding that server's API key
    embed_api_key_env: str = "OPENAI_API_KEY"
    #: texts per request to that server, and requests in flight at once
    embed_batch: int = 64
    embed_concurrency: int = 4
    #: tokens of each unit's text that are embedded (cost grows faster than linearly)
    embed_max_tokens: int = 48
    #: "auto" (bf16 on CPUs with AMX, where it embeds 2.5-3.5x faster; else fp32), "fp32" or
    #: "bf16" (sentence-transformers on the CPU only). The vectors agree to within cosine 0.9999,
    #: so they share the embedding cache and the model id.
    embed_precision: str = "auto"
    #: also embed test code (test files and folders)
    embed_tests: bool = False
    #: where embeddings are cached, shared by all repositories; "" = <home>/embeddings
    embed_cache_dir: str = ""
    #: "host:port" of a `chroma run` server; "" = embedded Chroma in the index folder
    chroma_url: str = ""
    #: short-lived commands (search, context, ask ...) update a stale index before answering
    #: when at most auto_update_files files changed (lexical and symbols; vectors follow with
    #: the next full run); otherwise, or when off, they say how far behind it is
    auto_update: bool = True
    auto_update_files: int = 200
    #: default token budget of `codeassist context` / `project.context()`
    context_budget: int = 32_000
    #: prefix each code line in the context with its line number (costs ~25% more tokens,
    #: gives the model exact lines to cite)
    line_numbers: bool = True
    # ---- the model backend ([llm] table in the config file)
    #: preset: deepseek, openai, openrouter, ollama, vllm, llamacpp, lmstudio; "" = from the
    #: environment (OPENAI_BASE_URL, DEEPSEEK_API_KEY, OPENAI_API_KEY)
    backend: str = ""
    #: model name; "" = the preset's default (or the server's only model)
    model: str = ""
    #: OpenAI-compatible base URL; "" = the preset's
    base_url: str = ""
    #: environment variable holding the API key; "" = the preset's
    api_key_env: str = ""
    #: the model's context window in tokens; 0 = from the preset or the server's model list
    context_window: int = 0
    #: tokens reserved for the answer (and reasoning)
    answer_tokens: int = 8_192
    #: let the model call tools (search, read, symbols, references, outline, map; history and
    #: diff in git repositories) when the context is not enough
    tools: bool = True
    #: rounds of tool calls before the model is asked to answer from what it has
    max_tool_rounds: int = 8
    #: tokens of tool output one answer may add to the conversation (also capped by the window)
    tool_output_tokens: int = 24_000
    #: seconds an answer may take in all, retries included
    request_timeout: float = 600.0
    #: retries of 429/503/connection errors (with backoff honouring Retry-After)
    max_retries: int = 4
    #: prices in USD per million tokens, for the cost line; negative = unknown (preset's)
    price_input: float = -1.0
    price_cached_input: float = -1.0
    price_output: float = -1.0
    #: also redact credentials when the backend runs on this machine (always done otherwise)
    redact_loopback: bool = False
    #: folder of prompt templates overriding the packaged ones; "" = <config dir>/codeassist/prompts
    prompts_dir: str = ""


def _default_home() -> Path:
    env = os.environ.get("CODEASSIST_HOME")
    if env:
        return Path(env).expanduser()
    return data_home()


def data_home() -> Path:
    """The per-user data directory (XDG on Linux, Library on macOS, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "codeassist"


def config_path() -> Path:
    """Where the config file is read from."""
    env = os.environ.get("CODEASSIST_CONFIG")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "codeassist" / "config.toml"


def _coerce(name: str, kind: Any, value: Any, origin: str) -> Any:
    """Convert a raw value (TOML or env string) to the field's type."""
    try:
        if kind in ("Path", Path):
            return Path(str(value)).expanduser()
        if kind in ("bool", bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if kind in ("int", int):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind in ("float", float):
            return float(value)
        if str(kind).startswith("tuple"):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {name}={value!r} is not a valid {kind}; fix or remove it"
        ) from None
    return value


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}; fix or remove it") from None
    flat: dict[str, Any] = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for table, section in data.items():
        if not isinstance(section, dict):
            continue
        if table in _TABLES:
            flat.update(section)
        else:
            warnings.warn(f"config file {path}: unknown table [{table}] is ignored{_closest(table, _TABLES)}; "
                          f"the tables are {', '.join(f'[{t}]' for t in _TABLES)}", ConfigWarning, stacklevel=3)
    return flat


_TABLES = ("index", "context", "llm")


def _closest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ""."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def load_settings(overrides: Mapping[str, Any] | None = None, *, read_file: bool = True) -> Settings:
    """Build Settings from defaults, the config file, the environment and ``overrides``.

    ``overrides`` with a value of None are ignored, so CLI options can pass through unset.
    """
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    if read_file:
        path = config_path()
        for key, raw in _read_file(path).items():
            if key in known:
                values[key] = _coerce(key, known[key], raw, str(path))
            else:
                warnings.warn(f"config file {path}: unknown key {key!r} is ignored{_closest(key, known)}; "
                              "`codeassist config` lists the settings", ConfigWarning, stacklevel=2)
    for key, kind in known.items():
        env = os.environ.get(f"CODEASSIST_{key.upper()}")
        if env is not None:
            values[key] = _coerce(key, kind, env, f"CODEASSIST_{key.upper()}")
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}{_closest(key, known)}; known settings: "
                              f"{', '.join(sorted(known))}")
        values[key] = _coerce(key, known[key], raw, "argument")
    settings = Settings(**values)
    if settings.max_file_bytes <= 0 or settings.chunk_chars < 100:
        raise ConfigError("max_file_bytes must be > 0 and chunk_chars >= 100")
    if settings.embed_precision not in PRECISIONS:
        raise ConfigError(f"embed_precision must be {', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]},"
                          f" not {settings.embed_precision!r}")
    return settings

