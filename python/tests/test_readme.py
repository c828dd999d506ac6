"""The README's Python quick start runs as written and passes mypy --strict
(what a user pastes into a typed project)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


SECTIONS = ["## Python quick start", "## Paying a bill", "## A batch from a file"]


def quick_start(heading: str = SECTIONS[0]) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"the README's {heading!r} has a Python snippet"
    return match.group(1)


@pytest.mark.parametrize("heading", SECTIONS)
def test_the_quick_start_runs(tmp_path: Path, heading: str) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quick_start(heading))
    # In a scratch directory: a snippet may write a journal file.
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].startswith("SUCCESS "), out.stdout


@pytest.mark.parametrize("heading", SECTIONS)
def test_the_quick_start_type_checks_strictly(tmp_path: Path, heading: str) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quick_start(heading))
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
