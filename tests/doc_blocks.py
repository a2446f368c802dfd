"""The runnable code blocks of README.md and docs/*.md: ```sh blocks run in a shell, ```python blocks with the
clone's venv Python in that same shell (so they see what it exported, e.g. TOKEN). Used by test_first_hour.py,
which runs them all, and by the tests that run a block this machine's namespace cannot (test_backup_restore.py)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)
PYTHON_END = "@@end of python@@"


@dataclass(frozen=True)
class Block:
    file: str
    lang: str
    text: str

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]

    def as_shell(self) -> str:
        """The block as a shell runs it: itself, or a Python block fed to the venv's interpreter."""
        if self.lang == "sh":
            return self.text
        return f".venv/bin/python - <<'{PYTHON_END}'\n{self.text}{PYTHON_END}\n"


def documented_blocks() -> list[Block]:
    return [Block(name, match.group(1), match.group(2))
            for name in DOCS for match in BLOCK.finditer((ROOT / name).read_text())]


def block_of(file: str, holding: str) -> Block:
    """The one block of `file` whose text holds `holding`."""
    (found,) = [b for b in documented_blocks() if b.file == file and holding in b.text]
    return found


def json_documents(out: str) -> list:
    """The JSON documents a block printed (curl prints no newline after them)."""
    found, decoder, at = [], json.JSONDecoder(), 0
    while (start := min((i for i in (out.find("{", at), out.find("[", at)) if i != -1), default=-1)) != -1:
        try:
            value, at = decoder.raw_decode(out, start)
            found.append(value)
        except json.JSONDecodeError:
            at = start + 1
    return found
