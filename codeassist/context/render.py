"""Text formats of the context: Markdown (default) and XML-style tags.

Both quote repository content as data: code sits in fences longer than any backtick run inside
it (Markdown) or inside ``<file>`` tags whose closing tag cannot occur in the content (XML), so
text in the repository cannot end the quoted block and pose as instructions.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["Renderer", "MarkdownRenderer", "XmlRenderer", "renderer_for", "FORMATS", "numbered"]

FORMATS = ("markdown", "xml", "json")
_BACKTICKS = re.compile(r"`{3,}")
_FENCE_LANG = {"c_sharp": "csharp", "tsx": "tsx", "typescript": "ts", "javascript": "js"}


def numbered(lines: list[str], start: int) -> str:
    """Lines prefixed with their 1-based line number and a tab."""
    return "\n".join(f"{start + i}\t{line}" for i, line in enumerate(lines))


class Renderer(Protocol):
    def quote(self, text: str) -> str: ...
    def section(self, title: str, body: str) -> str: ...
    def block(self, heading: str, body: str, language: str | None, attrs: dict[str, str]) -> str: ...
    def wrap(self, body: str, attrs: dict[str, str]) -> str: ...


def _fence(body: str) -> str:
    if "```" not in body:
        return "```"
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(body)), default=2)
    return "`" * max(3, longest + 1)


class MarkdownRenderer:
    def quote(self, text: str) -> str:
        fence = _fence(text)
        return f"{fence}\n{text}\n{fence}"

    def section(self, title: str, body: str) -> str:
        return f"## {title}\n\n{body}\n\n"

    def block(self, heading: str, body: str, language: str | None, attrs: dict[str, str]) -> str:
        fence = _fence(body)
        lang = _FENCE_LANG.get(language or "", language or "")
        return f"### {heading}\n{fence}{lang}\n{body}\n{fence}\n"

    def wrap(self, body: str, attrs: dict[str, str]) -> str:
        title = attrs.get("name", "repository")
        return f"# Repository: {title}\n\n{body}"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


_CLOSING = re.compile(r"</(file|section|repository)\b", re.I)


class XmlRenderer:
    def quote(self, text: str) -> str:
        return self._guard(text)

    def section(self, title: str, body: str) -> str:
        return f'<section name="{_attr(title)}">\n{body}\n</section>\n'

    def block(self, heading: str, body: str, language: str | None, attrs: dict[str, str]) -> str:
        attr_text = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items())
        return f"<file {attr_text}>\n{self._guard(body)}\n</file>\n"

    def wrap(self, body: str, attrs: dict[str, str]) -> str:
        attr_text = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items())
        return f"<repository {attr_text}>\n{body}</repository>\n"

    @staticmethod
    def _guard(body: str) -> str:
        # a closing tag inside quoted content is broken up so it cannot end the block
        return _CLOSING.sub(lambda m: "<\u200b/" + m.group(1), body)


def renderer_for(fmt: str) -> Renderer:
    return XmlRenderer() if fmt == "xml" else MarkdownRenderer()
