"""Credential redaction for text that leaves the machine.

Before anything is sent to a backend that is not on this machine, the outgoing text is scanned
for credentials: private key blocks, well-known token formats (cloud, VCS, chat, payment and AI
providers, JWTs, URLs with passwords) and values assigned to names such as ``password``,
``secret``, ``api_key`` or ``token``. Each is replaced by ``[REDACTED:<kind>]``; line structure
is kept so line numbers in the context stay right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Redaction", "redact"]

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # a whole key block, or (when the context cut it off) the BEGIN line and the base64 lines
    # that follow it, with or without the context's line-number prefixes
    ("private-key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"|(?:\n[ \t]*(?:\d+\t)?[A-Za-z0-9+/=:,\- ]*(?=\n|$))*)")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|ant-|or-v1-)?[A-Za-z0-9_\-]{20,}\b")),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b")),
    ("url-password", re.compile(r"(?<=://)[^/\s:@]{1,64}:[^/\s@]{3,128}(?=@)")),
]
# name = "value" / "name": "value" / name: value / NAME=value for credential-like names; the
# value is redacted (quoted values may hold spaces and punctuation)
_NAME = (r"""(?P<name>["']?\b[\w.-]*(?:passw(?:or)?d|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?key|"""
         r"""auth[_-]?token|access[_-]?token|refresh[_-]?token|private[_-]?key|client[_-]?secret|token)\b["']?)"""
         r"""(?P<sep>\s*(?::|=|:=|=>)\s*)""")
_ASSIGNMENT = re.compile(
    _NAME + r"""(?:(?P<quote>["'])(?P<qvalue>[^"'\n]{6,200})(?P=quote)|(?P<value>[^\s"',;]{6,}))""",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(
    r"(?i)^(?:none|null|nil|true|false|changeme|example|placeholder|your[_-].*|<.*>|\$\{.*\}|\{\{.*\}\}|"
    r"os\.environ.*|env\(.*|getenv.*|process\.env.*|settings\..*|config\..*|self\..*|[A-Za-z_]+\(.*)$")


@dataclass(frozen=True)
class Redaction:
    text: str
    #: kind -> how many were replaced
    found: dict[str, int]


def redact(text: str) -> Redaction:
    """``text`` with credentials replaced by ``[REDACTED:<kind>]`` markers."""
    found: dict[str, int] = {}

    def marker(kind: str, original: str) -> str:
        found[kind] = found.get(kind, 0) + 1
        # keep the line count of multi-line secrets (private keys) so line numbers stay true
        return f"[REDACTED:{kind}]" + "\n" * original.count("\n")

    for kind, pattern in _PATTERNS:
        text = pattern.sub(lambda m, k=kind: marker(k, m.group(0)), text)

    def assignment(m: re.Match[str]) -> str:
        quote = m.group("quote") or ""
        value = m.group("qvalue") if quote else m.group("value")
        # password = password_var (a name, not a literal): unquoted, identifier-like, no digits
        unquoted_name = not quote and value.isidentifier() and not any(c.isdigit() for c in value)
        if "[REDACTED:" in value or _NOT_SECRET.match(value) or unquoted_name:
            return m.group(0)
        return f"{m.group('name')}{m.group('sep')}{quote}{marker('assigned-secret', value)}{quote}"

    text = _ASSIGNMENT.sub(assignment, text)
    return Redaction(text, found)
