"""What the set-up says about itself agrees: the Makefile's and the README's size of the first
set-up are one figure, and it is the size of the environment set-up made (issue 19: the Makefile
said "downloads ~7 GB", the README "about 5 minutes")."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE = re.compile(r"about (\d+(?:\.\d+)?) GB installed")


def _tree_bytes(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                total += os.stat(path).st_size
    return total


def test_the_makefile_and_the_readme_give_one_size_of_the_first_set_up() -> None:
    makefile = SIZE.findall((REPO / "Makefile").read_text())
    readme = SIZE.findall((REPO / "README.md").read_text())
    assert makefile and readme and set(makefile) == set(readme), (makefile, readme)
    venv = REPO / ".venv"
    if (venv / "pyvenv.cfg").exists():  # set up here: the figure must be its size
        said = float(makefile[0]) * 1e9
        assert 0.75 * said <= _tree_bytes(venv) <= 1.25 * said
