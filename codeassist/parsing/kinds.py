"""The one vocabulary of symbol kinds: what the tag queries (``queries/*.scm``) capture as
``@definition.<kind>``, what the index stores, and the groups the rest of the package uses."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SymbolKind", "TYPE_KINDS", "CALLABLE_KINDS", "EMBEDDED_KINDS", "NEIGHBOUR_KINDS",
           "ENCLOSING_KINDS", "KIND_RANK"]


class SymbolKind(StrEnum):
    """A definition's kind. Members compare equal to the stored strings (``"method"``)."""

    CLASS = "class"
    CONSTANT = "constant"
    ENUM = "enum"
    FUNCTION = "function"
    INTERFACE = "interface"
    MACRO = "macro"
    METHOD = "method"
    MODULE = "module"
    STRUCT = "struct"
    TRAIT = "trait"
    TYPE = "type"


K = SymbolKind
#: kinds that contain other definitions (qualified names nest under them)
TYPE_KINDS = frozenset({K.CLASS, K.STRUCT, K.INTERFACE, K.TRAIT, K.ENUM, K.TYPE})
#: functions and methods
CALLABLE_KINDS = frozenset({K.FUNCTION, K.METHOD})
#: definitions that get a vector for semantic search
EMBEDDED_KINDS = CALLABLE_KINDS | {K.CLASS, K.STRUCT, K.INTERFACE, K.TRAIT, K.ENUM}
#: definitions the search's graph source follows from a hit to its neighbours
NEIGHBOUR_KINDS = EMBEDDED_KINDS | {K.TYPE}
#: definitions that enclose others: a retrieved chunk is widened to a function it overlaps, not to these
ENCLOSING_KINDS = TYPE_KINDS - {K.TYPE} | {K.MODULE}
#: which definition of a name a user most likely means: types, then callables, then the rest
KIND_RANK: dict[str, int] = {K.CLASS: 0, K.STRUCT: 0, K.INTERFACE: 0, K.TRAIT: 0, K.ENUM: 0,
                             K.FUNCTION: 1, K.METHOD: 1, K.TYPE: 2, K.MODULE: 2, K.MACRO: 2, K.CONSTANT: 3}
