"""nnplayground: an interactive neural-network playground served by PyTorch."""

__version__ = "0.1.0"
