"""The command line: flag parsing, precedence of flags over NNPG_* env vars, and `version`."""

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import nnplayground
from nnplayground.__main__ import build_parser, main, settings_from_args
from nnplayground.config import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No NNPG_* variable from the outside world leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("NNPG_"):
            monkeypatch.delenv(name)


def parse(*argv: str) -> Settings:
    return settings_from_args(build_parser().parse_args(list(argv)))


def test_serve_without_flags_gives_the_defaults():
    assert parse("serve") == Settings()
    assert parse("serve").host == "127.0.0.1"
    assert parse("serve").port == 8000
    assert parse("serve").device == "auto"


def test_serve_flags_are_parsed():
    args = build_parser().parse_args(
        [
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "9001",
            "--data-dir",
            "/tmp/x",
            "--device",
            "cpu",
            "--log-level",
            "debug",
        ]
    )
    assert (args.command, args.host, args.port, args.data_dir, args.device, args.log_level) == (
        "serve",
        "0.0.0.0",
        9001,
        Path("/tmp/x"),
        "cpu",
        "debug",
    )


def test_env_vars_apply_when_no_flag_is_given(monkeypatch):
    monkeypatch.setenv("NNPG_HOST", "0.0.0.0")
    monkeypatch.setenv("NNPG_PORT", "9100")
    monkeypatch.setenv("NNPG_DEVICE", "cpu")
    monkeypatch.setenv("NNPG_DATA_DIR", "/srv/nnpg")
    monkeypatch.setenv("NNPG_MAX_SESSIONS", "7")  # a setting without a flag still comes through
    s = parse("serve")
    assert (s.host, s.port, s.device, s.data_dir, s.max_sessions) == (
        "0.0.0.0",
        9100,
        "cpu",
        Path("/srv/nnpg"),
        7,
    )


def test_flags_override_env_vars(monkeypatch):
    monkeypatch.setenv("NNPG_HOST", "0.0.0.0")
    monkeypatch.setenv("NNPG_PORT", "9100")
    monkeypatch.setenv("NNPG_DEVICE", "cuda")
    monkeypatch.setenv("NNPG_DATA_DIR", "/srv/nnpg")
    s = parse("serve", "--host", "127.0.0.2", "--port", "9200", "--device", "cpu", "--data-dir", "here")
    assert (s.host, s.port, s.device, s.data_dir) == ("127.0.0.2", 9200, "cpu", Path("here"))


def test_only_given_flags_override(monkeypatch):
    monkeypatch.setenv("NNPG_PORT", "9100")
    s = parse("serve", "--host", "0.0.0.0")
    assert (s.host, s.port) == ("0.0.0.0", 9100)


@pytest.mark.parametrize(
    "argv", [["serve", "--device", "tpu"], ["serve", "--port", "eighty"], ["serve", "--log-level", "loud"]]
)
def test_bad_flags_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "invalid" in capsys.readouterr().err


def test_bad_env_var_exits_with_a_message(monkeypatch, capsys):
    monkeypatch.setenv("NNPG_PORT", "abc")
    with pytest.raises(SystemExit) as exc:
        main(["serve"])
    assert exc.value.code == 2
    assert "port" in capsys.readouterr().err


def fake_server(monkeypatch) -> dict:
    """Replace create_app and uvicorn.run; return what serve passed to them."""
    seen: dict = {}

    def create_app(settings):
        seen["settings"] = settings
        return "the-app"

    def run(app, **kwargs):
        seen["app"] = app
        seen.update(kwargs)

    monkeypatch.setitem(sys.modules, "nnplayground.app", types.SimpleNamespace(create_app=create_app))
    monkeypatch.setattr("uvicorn.run", run)
    return seen


def test_serve_runs_one_uvicorn_worker_without_deflate(monkeypatch):
    seen = fake_server(monkeypatch)
    main(["serve", "--port", "8123", "--device", "cpu", "--log-level", "warning"])
    assert seen["app"] == "the-app"
    assert seen["settings"].port == 8123 and seen["settings"].device == "cpu"
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    assert seen["workers"] == 1
    assert seen["ws_per_message_deflate"] is False
    assert seen["log_level"] == "warning"
    assert seen["loop"] == "auto"  # uvloop where it is installed


def test_serve_takes_the_event_loop_from_settings(monkeypatch):
    seen = fake_server(monkeypatch)
    monkeypatch.setenv("NNPG_EVENT_LOOP", "asyncio")
    main(["serve"])
    assert seen["loop"] == "asyncio"


def test_no_command_means_serve(monkeypatch):
    seen = fake_server(monkeypatch)
    main([])
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)


def test_version_command(capsys):
    main(["version"])
    assert capsys.readouterr().out.strip() == f"nnplayground {nnplayground.__version__}"


def test_python_dash_m_version_prints_the_version():
    out = subprocess.run(
        [sys.executable, "-m", "nnplayground", "version"], capture_output=True, text=True, check=True
    ).stdout
    assert nnplayground.__version__ in out
    assert out.strip() == f"nnplayground {nnplayground.__version__}"
