"""``python -m dxrx.kb [DIR]``: load and lint a KB without the CLI (for KB authors)."""

import sys
from pathlib import Path

from dxrx.kb import KbError, lint, load_dir, load_kb

try:
    kb = load_dir(Path(sys.argv[1])) if len(sys.argv) > 1 else load_kb()
except KbError as exc:
    print(exc)
    sys.exit(1)
problems = lint(kb)
for line in problems:
    print(line)
print(
    f"{len(kb.muscles)} muscles, {len(kb.nerves)} nerves, {len(kb.conditions)} conditions, "
    f"{len(kb.exercises)} exercises, {len(kb.protocols)} protocols, {len(kb.concepts)} concepts; "
    f"{len(problems)} problems"
)
sys.exit(1 if problems else 0)
