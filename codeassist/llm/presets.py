"""Backend presets and the resolution of settings + environment into one backend config."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlparse

from ..config import Settings
from ..errors import BackendNotConfiguredError, ConfigError

__all__ = ["Preset", "Prices", "PRESETS", "BackendConfig", "resolve_backend", "is_loopback"]


@dataclass(frozen=True)
class Prices:
    """USD per million tokens."""

    input: float
    cached_input: float
    output: float


@dataclass(frozen=True)
class Preset:
    name: str
    base_url: str
    model: str               # "" = ask the server (its only or first model)
    context_window: int      # 0 = ask the server
    api_key_env: str         # "" = no key needed
    key_required: bool = False


PRESETS: dict[str, Preset] = {
    "deepseek": Preset("deepseek", "https://api.deepseek.com", "deepseek-v4-flash", 1_000_000,
                       "DEEPSEEK_API_KEY", key_required=True),
    "openai": Preset("openai", "https://api.openai.com/v1", "gpt-4.1-mini", 1_047_576,
                     "OPENAI_API_KEY", key_required=True),
    "openrouter": Preset("openrouter", "https://openrouter.ai/api/v1", "deepseek/deepseek-chat",
                         128_000, "OPENROUTER_API_KEY", key_required=True),
    # Ollama truncates silently beyond num_ctx (8192 unless the model file says otherwise)
    "ollama": Preset("ollama", "http://127.0.0.1:11434/v1", "qwen2.5-coder", 8_192, ""),
    "vllm": Preset("vllm", "http://127.0.0.1:8000/v1", "", 0, "VLLM_API_KEY"),
    "llamacpp": Preset("llamacpp", "http://127.0.0.1:8080/v1", "", 0, ""),
    "lmstudio": Preset("lmstudio", "http://127.0.0.1:1234/v1", "", 0, ""),
}

#: published prices (USD per million tokens) of models whose price is known
KNOWN_PRICES: dict[str, Prices] = {
    "deepseek-chat": Prices(0.28, 0.028, 0.42),
    "deepseek-reasoner": Prices(0.28, 0.028, 0.42),
}

_HOW_TO_CONFIGURE = (
    "no model backend is configured; set DEEPSEEK_API_KEY (DeepSeek) or OPENAI_API_KEY, or pass "
    "--backend ollama|vllm|llamacpp|lmstudio for a local server, or --base-url URL for any "
    "OpenAI-compatible server (also `backend = \"...\"` under [llm] in the config file)"
)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (text sent there never leaves it)."""
    host = (urlparse(url).hostname or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class BackendConfig:
    """Everything needed to talk to one backend (the API key itself is never printed)."""

    name: str
    base_url: str
    model: str
    api_key: str
    api_key_env: str
    context_window: int
    answer_tokens: int
    timeout: float
    max_retries: int
    prices: Prices | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    def describe(self) -> dict[str, object]:
        """Settings for display, the key masked."""
        key = self.api_key
        masked = (key[:3] + "…" + key[-4:]) if len(key) > 12 else ("set" if key else "")
        return {
            "backend": self.name, "base_url": self.base_url, "model": self.model or "(from the server)",
            "api_key": f"{masked} (from {self.api_key_env})" if key else
            (f"not set ({self.api_key_env})" if self.api_key_env else "not needed"),
            "context_window": self.context_window or "(from the server)",
            "answer_tokens": self.answer_tokens, "loopback": self.loopback,
            "prices_per_million": None if self.prices is None else vars(self.prices),
        }


def resolve_backend(settings: Settings, env: dict[str, str] | None = None) -> BackendConfig:
    """The backend the settings and environment ask for, or a clear error saying how to set one."""
    env = dict(os.environ if env is None else env)
    name = settings.backend.strip().lower()
    base_url = settings.base_url or env.get("CODEASSIST_BASE_URL", "")
    if not name:
        if base_url or env.get("OPENAI_BASE_URL"):
            name = "openai"
            base_url = base_url or env["OPENAI_BASE_URL"]
        elif env.get("DEEPSEEK_API_KEY"):
            name = "deepseek"
        elif env.get("OPENAI_API_KEY"):
            name = "openai"
        else:
            raise BackendNotConfiguredError(_HOW_TO_CONFIGURE)
    if name == "custom":
        preset = Preset("custom", "", "", 0, "OPENAI_API_KEY")
    elif name in PRESETS:
        preset = PRESETS[name]
    else:
        raise ConfigError(f"unknown backend {name!r}; choose from {', '.join(PRESETS)} or custom")
    if name == "openai" and not base_url and env.get("OPENAI_BASE_URL"):
        base_url = env["OPENAI_BASE_URL"]
    base_url = (base_url or preset.base_url).rstrip("/")
    if not base_url:
        raise BackendNotConfiguredError("backend custom needs a base URL: --base-url or base_url under [llm]")
    key_env = settings.api_key_env or preset.api_key_env
    api_key = env.get(key_env, "") if key_env else ""
    if preset.key_required and not api_key and base_url == preset.base_url:
        raise BackendNotConfiguredError(
            f"No key found for {preset.name} - set {key_env} (or api_key_env under [llm] in the config file)")
    model = settings.model or (preset.model if base_url == preset.base_url or name != "openai" else "")
    prices = None
    if min(settings.price_input, settings.price_output) >= 0:
        cached = settings.price_cached_input if settings.price_cached_input >= 0 else settings.price_input
        prices = Prices(settings.price_input, cached, settings.price_output)
    elif model in KNOWN_PRICES:
        prices = KNOWN_PRICES[model]
    window = settings.context_window or (preset.context_window if base_url == preset.base_url else 0)
    return BackendConfig(name, base_url, model, api_key, key_env, window, settings.answer_tokens,
                         settings.request_timeout, settings.max_retries, prices)
