"""The engine: the only code that touches torch. See engine.py for the public interface."""

from .engine import Engine, UnknownSession, Watcher

__all__ = ["Engine", "UnknownSession", "Watcher"]
