"""Invisible characters in repository text: made visible before a model reads them.

Bidirectional controls ("Trojan Source"), zero-width characters and Unicode tag characters (which
can smuggle whole instructions invisibly) are replaced by a visible ``⟨U+XXXX⟩`` marker, so the
model and the user see the same thing; the places are reported so the user can be warned.
"""

from __future__ import annotations

import re

__all__ = ["INVISIBLE", "reveal"]

INVISIBLE = re.compile(
    "[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def reveal(text: str) -> tuple[str, int]:
    """``text`` with invisible characters replaced by visible markers, and how many there were."""
    count = 0

    def mark(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"⟨U+{ord(m.group(0)):04X}⟩"

    return INVISIBLE.sub(mark, text), count
