"""The README's scripting example runs against a live server and its session learns."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scripted_session.py"


def test_scripted_session_example_trains_over_rest(live_server: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", live_server],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"final test accuracy: ([0-9.]+)", result.stdout)
    assert match is not None, result.stdout
    assert float(match.group(1)) >= 0.9
