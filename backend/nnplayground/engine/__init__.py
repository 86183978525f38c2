"""The engine: the only code that touches torch. See engine.py for the public interface."""

from .engine import Engine, UnknownSession, Watcher
from .errors import Refused

__all__ = ["Engine", "Refused", "UnknownSession", "Watcher"]
