"""Errors the engine raises for requests it refuses (the API turns them into 422s)."""


class Refused(ValueError):
    """A request the engine cannot carry out as asked (bad index, data it cannot take)."""
