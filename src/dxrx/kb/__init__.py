"""The knowledge base: YAML data, its schema, loader and integrity checks."""

from dxrx.kb.lint import lint
from dxrx.kb.loader import KbError, KnowledgeBase, load_dir, load_kb

__all__ = ["KbError", "KnowledgeBase", "lint", "load_dir", "load_kb"]
