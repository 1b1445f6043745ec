"""Code-aware terms for the lexical index.

The FTS5 tokenizer (unicode61) already splits ``get_user_name`` into ``get user name`` and
lowercases ``getUserName`` into ``getusername``. What it cannot do is the other half: the parts of
camelCase words and the joined form of snake_case words. :meth:`TermExpander.extra` supplies
exactly those, once per distinct compound word, so that ``getUserName``, ``get_user_name`` and
``GetUserName`` all match both "user name" and the whole identifier. Queries go through
:func:`query_terms`, which produces the same forms.
"""

from __future__ import annotations

import re

__all__ = ["TermExpander", "split_identifier", "extra_terms", "normalize_name", "query_terms"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

#: words that carry no meaning in a question about code
STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how i if in into is it its me my of on or
    our should so that the their then there these this those to was we were what when where which
    who why will with you your find show tell give get""".split()
)


def split_identifier(word: str) -> list[str]:
    """``parseHTTPResponse2`` → ``["parse", "http", "response", "2"]`` (lowercased)."""
    return [p.lower() for p in _PART.findall(word)]


def normalize_name(name: str) -> str:
    """Case- and underscore-insensitive form of an identifier: ``get_UserName`` → ``getusername``."""
    return name.replace("_", "").lower()


class TermExpander:
    """Expands text into index terms, memoising each distinct word (they repeat a lot).

    One expander per process is the intended use; the memo is bounded.
    """

    __slots__ = ("_memo",)

    _MEMO_LIMIT = 500_000

    def __init__(self) -> None:
        self._memo: dict[str, str] = {}

    def extra(self, text: str) -> str:
        """Terms the FTS tokenizer misses: for each distinct compound identifier in ``text``,
        its joined form and its parts, in order of first appearance (deterministic: contentless
        FTS deletes must repeat exactly the same terms)."""
        memo = self._memo
        out: list[str] = []
        for word in dict.fromkeys(_WORD.findall(text)):
            terms = memo.get(word)
            if terms is None:
                if len(memo) >= self._MEMO_LIMIT:
                    memo.clear()
                terms = memo[word] = _compound_terms(word)
            if terms:
                out.append(terms)
        return " ".join(out)

    def with_extra(self, text: str) -> str:
        """A short text (a path, a qualified name) followed by its extra terms."""
        extra = self.extra(text)
        return f"{text} {extra}" if extra else text


def _compound_terms(word: str) -> str:
    """Joined form plus parts for a compound word; "" for a word FTS handles alone."""
    parts = split_identifier(word)
    if len(parts) < 2:
        return ""
    return " ".join([normalize_name(word), *parts])


def extra_terms(text: str) -> str:
    """One-off :meth:`TermExpander.extra` (use a long-lived expander for bulk work)."""
    return TermExpander().extra(text)


def query_terms(query: str) -> list[str]:
    """Distinct, meaningful terms of a query, in order: whole identifiers and their parts."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query):
        parts = split_identifier(word)
        whole = normalize_name(word)
        if len(parts) > 1 and whole:
            seen.setdefault(whole)
        for part in parts:
            if part not in STOPWORDS:
                seen.setdefault(part)
        if len(parts) <= 1 and whole and whole not in STOPWORDS:
            seen.setdefault(whole)
    return list(seen)
