"""Prompt templates: the packaged ones in ``prompts/``, each overridable by a file of the same
name in the user's prompts folder (``prompts_dir``, default ``<config dir>/codeassist/prompts``)."""

from __future__ import annotations

from pathlib import Path
from string import Template

from .config import Settings, config_path
from .errors import ConfigError

__all__ = ["load_prompt", "render_prompt", "packaged_prompts_dir"]


def packaged_prompts_dir() -> Path:
    """``codeassist/prompts`` inside an installed wheel, or ``prompts/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "prompts", here.parent / "prompts"):
        if (candidate / "system.md").is_file():
            return candidate
    raise ConfigError(f"the packaged prompt templates are missing near {here}; reinstall codeassist")


def user_prompts_dir(settings: Settings) -> Path:
    return Path(settings.prompts_dir).expanduser() if settings.prompts_dir else config_path().parent / "prompts"


def load_prompt(name: str, settings: Settings) -> str:
    """The text of template ``name`` (e.g. ``system.md``), the user's copy first."""
    for folder in (user_prompts_dir(settings), packaged_prompts_dir()):
        path = folder / name
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read prompt template {path}: {exc}") from None
    raise ConfigError(f"no prompt template {name!r} in {user_prompts_dir(settings)} or the package")


def render_prompt(name: str, settings: Settings, **values: str) -> str:
    return Template(load_prompt(name, settings)).safe_substitute(values).strip() + "\n"
