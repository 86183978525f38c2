"""Command line: `nnplayground serve | version | lessons check` (also `python -m nnplayground ...`).

Settings come from `NNPG_*` environment variables; flags given on the command line override them.
"""

import argparse
import copy
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import __version__
from .config import Settings

LOG_LEVELS = ["critical", "error", "warning", "info", "debug", "trace"]

# Flags of `serve` that map one to one onto Settings fields (argparse dest -> field name).
_SETTINGS_FLAGS = ("host", "port", "data_dir", "device")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; `serve` flags default to None so env vars and defaults show through."""
    parser = argparse.ArgumentParser(
        prog="nnplayground",
        description="An interactive neural-network playground served by PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"nnplayground {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the web server (default command)",
        description="Run the web server. Flags override NNPG_* environment variables.",
    )
    serve.add_argument("--host", default=None, help="address to bind (NNPG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to bind (NNPG_PORT, default 8000)")
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where sessions and checkpoints are stored (NNPG_DATA_DIR, default ./data)",
    )
    serve.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default=None,
        help="torch device; auto picks cuda when available (NNPG_DEVICE, default auto)",
    )
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="uvicorn log level")

    commands.add_parser("version", help="print the version and exit")

    lessons = commands.add_parser("lessons", help="lesson files", description="Work with lesson files.")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", metavar="COMMAND", required=True)
    check = lesson_commands.add_parser(
        "check",
        help="check lesson files; exit 1 if any is invalid",
        description="Check lesson files (YAML) and print every problem with its line. Without files: the "
        "shipped lessons and NNPG_LESSONS_DIR.",
    )
    check.add_argument("files", nargs="*", type=Path, metavar="FILE", help="lesson files (<id>.yaml)")
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with every flag the user gave taking precedence."""
    overrides: dict[str, Any] = {
        name: getattr(args, name) for name in _SETTINGS_FLAGS if getattr(args, name, None) is not None
    }
    return Settings(**overrides)


_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Hides `token=…` in log lines: uvicorn logs a websocket's path with its query string, and
    the session token travels there (`/ws/sessions/{id}?token=…`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging config with RedactTokens on every handler."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config


def serve(settings: Settings, log_level: str = "info") -> None:
    """Run uvicorn with one worker: sessions live in the process that owns the device."""
    import uvicorn

    from .app import create_app  # imported here so `version` and `--help` stay light (no torch)

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        loop=settings.event_loop,
        log_level=log_level,
        log_config=log_config(),
        ws_per_message_deflate=False,  # frames are already zlib-compressed
        # uvicorn reads a whole websocket message before the app sees it (16 MiB by default); the app
        # closes over max_message_bytes with 1009, so buffer no more than twice that.
        ws_max_size=2 * settings.max_message_bytes,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `nnplayground` means `nnplayground serve`
        args = parser.parse_args(["serve"])
    if args.command == "version":
        print(f"nnplayground {__version__}")
        return
    if args.command == "serve":
        try:
            settings = settings_from_args(args)
        except ValidationError as exc:  # a bad NNPG_* variable or flag: say which, no traceback
            parser.exit(2, f"nnplayground: invalid settings: {exc}\n")
        serve(settings, log_level=args.log_level)
        return
    if args.command == "lessons":
        from .lessons.check import check_lessons  # no torch needed to check a file

        try:
            settings = Settings()
        except ValidationError as exc:
            parser.exit(2, f"nnplayground: invalid settings: {exc}\n")
        raise SystemExit(check_lessons(args.files, settings))
    parser.error(f"unknown command {args.command!r}")  # unreachable: argparse checks choices


if __name__ == "__main__":
    main()
