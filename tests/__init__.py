"""Test suite of codeassist."""
