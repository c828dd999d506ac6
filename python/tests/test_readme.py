"""The README's Python quick start runs as written and passes mypy --strict
(what a user pastes into a typed project)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def quick_start() -> str:
    section = README.split("## Python quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README has a Python quick start"
    return match.group(1)


def test_the_quick_start_runs(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quick_start())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("SUCCESS "), out.stdout


def test_the_quick_start_type_checks_strictly(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(quick_start())
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
