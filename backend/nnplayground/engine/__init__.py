"""The engine: the only code that touches torch. See engine.py for the public interface."""

from .engine import Engine, UnknownSession, Watcher
from .errors import Refused
from .session import keeps_weights

__all__ = ["Engine", "Refused", "UnknownSession", "Watcher", "keeps_weights"]
