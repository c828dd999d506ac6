#!/usr/bin/env python3
"""Every code block of the docs, checked as a user would paste it.

    check-snippets.py python PYTHON   run each Python block (through pytest when it
                                      defines tests) and mypy --strict them all
    check-snippets.py node            run each JavaScript block with node, and
                                      tsc --strict the TypeScript ones
    check-snippets.py cli AOPAY       each `aopay …` line of a shell block names
                                      commands and options that exist

The documents are the README, docs/ and each package's README. Rust blocks
are the crates' doctests (lib.rs includes the READMEs); JSON, TOML and text
blocks are data, not programs. A block runs in a scratch directory against
the embedded sandbox, as the docs' blocks are written to.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
        "python/README.md", "node/README.md",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "crates").glob("*/README.md"))]
FENCE = re.compile(r"^```([a-z]+)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(lang: str) -> list[tuple[str, str]]:
    """(`file:line`, code) of every block in `lang`."""
    out = []
    for doc in DOCS:
        text = (ROOT / doc).read_text("utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) == lang:
                out.append((f"{doc}:{text[: m.start()].count(chr(10)) + 1}", m.group(2)))
    return out


def run(what: str, cmd: list[str], cwd: Path, timeout: int = 120) -> bool:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        print(f"FAIL {what}: {' '.join(cmd)} exited {out.returncode}\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
        return False
    print(f"ok   {what}")
    return True


def check_python(python: str) -> bool:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, (where, code) in enumerate(blocks("python")):
            name = f"test_snippet_{i}.py" if "def test_" in code else f"snippet_{i}.py"
            path = Path(tmp) / name
            path.write_text(f"# {where}\n{code}", "utf-8")
            files.append(name)
            work = Path(tmp) / f"work_{i}"
            work.mkdir()
            if "def test_" in code:
                ok &= run(where, [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)], work)
            else:
                ok &= run(where, [python, str(path)], work)
        # One strict type check of them all, as a typed project would see them.
        ok &= run(f"mypy --strict on {len(files)} Python blocks",
                  [python, "-m", "mypy", "--strict", "--no-incremental", *files], Path(tmp), timeout=600)
    return ok


def check_node() -> bool:
    ok = True
    node_dir = ROOT / "node"
    # Inside the package, so `import 'aopay'` resolves to it (self-reference).
    scratch = node_dir / ".snippets"
    scratch.mkdir(exist_ok=True)
    try:
        for i, (where, code) in enumerate(blocks("js")):
            work = scratch / f"work_{i}"
            work.mkdir(exist_ok=True)
            path = scratch / f"snippet_{i}.mjs"
            path.write_text(f"// {where}\n{code}", "utf-8")
            ok &= run(where, ["node", str(path)], work)
        # JavaScript blocks are type-checked too, as a TypeScript user pastes them.
        ts = []
        for i, (where, code) in enumerate(blocks("js") + blocks("ts")):
            path = scratch / f"typed_{i}.mts"
            path.write_text(f"// {where}\n{code}\nexport {{}}\n", "utf-8")
            ts.append(path.name)
        if ts:
            config = scratch / "tsconfig.json"
            config.write_text('{"extends": "../tsconfig.json", "compilerOptions": {"noUnusedLocals": true}, "files": [%s]}'
                              % ", ".join(f'"{t}"' for t in ts), "utf-8")
            ok &= run(f"tsc --strict on {len(ts)} JavaScript and TypeScript blocks",
                      [str(node_dir / "node_modules/.bin/tsc"), "-p", str(config)], scratch, timeout=300)
    finally:
        subprocess.run(["rm", "-rf", str(scratch)], check=False)
    return ok


def check_cli(aopay: str) -> bool:
    helps: dict[tuple[str, ...], str] = {}

    def help_of(words: tuple[str, ...]) -> str | None:
        if words not in helps:
            out = subprocess.run([aopay, *words, "--help"], capture_output=True, text=True)
            helps[words] = out.stdout if out.returncode == 0 else ""
        return helps[words] or None

    ok = True
    checked = 0
    for where, code in blocks("sh"):
        for line in code.splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line.startswith("aopay "):
                continue
            tokens = line.replace("[", " ").replace("]", " ").replace("|", " ").split()[1:]
            words: tuple[str, ...] = ()
            for t in tokens:
                if t.startswith("-"):
                    break
                listed = help_of(words) or ""
                commands = listed.split("Commands:")[1].split("\n\n")[0] if "Commands:" in listed else ""
                if not re.search(rf"^\s+{re.escape(t)}\s", commands, re.M):
                    break
                words += (t,)
            shown = help_of(words)
            flags = [t.split("=")[0] for t in tokens if t.startswith("--")]
            missing = [f for f in flags if shown is None or not re.search(rf"{re.escape(f)}[ ,=\n]", shown)]
            checked += 1
            if not words or missing:
                print(f"FAIL {where}: `{line}`: " + (f"aopay {' '.join(words)} has no {', '.join(missing)}" if words else "no such command"))
                ok = False
    print(f"{'ok  ' if ok else 'FAIL'} the shell blocks' {checked} aopay commands: their commands and options exist")
    return ok and checked > 0


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind == "python" and len(sys.argv) == 3:
        return 0 if check_python(sys.argv[2]) else 1
    if kind == "node":
        return 0 if check_node() else 1
    if kind == "cli" and len(sys.argv) == 3:
        return 0 if check_cli(sys.argv[2]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
