"""Parsing with tree-sitter: languages, tag queries, symbols, references and chunks."""
