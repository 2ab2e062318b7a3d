"""The explicit-state engine: compiled successor functions and breadth-first search."""

from .bfs import Bounds, explore
from .compile import CompiledSpec, compile_spec

__all__ = ["Bounds", "CompiledSpec", "compile_spec", "explore"]
