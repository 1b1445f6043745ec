"""Context assembly: repository map, whole-project and graded-detail packing within a token
budget, cache-stable layout, cl100k token counting."""

from .assemble import MIN_BUDGET, IndexSnapshot, assemble_context, render_map
from .tokens import TokenCounter, preload_token_counter, token_counter

__all__ = ["IndexSnapshot", "assemble_context", "render_map", "MIN_BUDGET", "TokenCounter", "token_counter",
           "preload_token_counter"]
