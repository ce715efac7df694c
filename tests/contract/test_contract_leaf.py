"""footfall.contract is a leaf: it imports only pydantic and the standard library."""

import ast
import sys
from pathlib import Path

import footfall.contract

PACKAGE_DIR = Path(footfall.contract.__file__).resolve().parent
ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core", "typing_extensions"}


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """Absolute imports in ``source`` that are neither stdlib, pydantic nor footfall.contract."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:  # not an import, or relative (inside footfall.contract by construction)
            continue
        for name in names:
            top = name.partition(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                continue
            if name == "footfall.contract" or name.startswith("footfall.contract."):
                continue
            bad.append(f"{filename}:{node.lineno}: import {name}")
    return bad


def test_package_modules_exist() -> None:
    modules = sorted(p.name for p in PACKAGE_DIR.rglob("*.py"))
    assert "__init__.py" in modules and "messages.py" in modules and len(modules) >= 5


def test_contract_imports_only_stdlib_and_pydantic() -> None:
    bad: list[str] = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        bad += forbidden_imports(path.read_text(encoding="utf-8"), str(path))
    assert bad == [], "footfall.contract must stay a leaf:\n" + "\n".join(bad)


def test_checker_flags_forbidden_imports() -> None:
    source = "\n".join(
        [
            "import json, numpy as np",
            "import os.path",
            "from yaml import safe_load",
            "from footfall.site import model",
            "import footfall",
            "from footfall.contract.messages import Message",
            "from pydantic import BaseModel",
            "from . import errors",
            "def f():",
            "    import cv2",
        ]
    )
    assert forbidden_imports(source) == [
        "<string>:1: import numpy",
        "<string>:3: import yaml",
        "<string>:4: import footfall.site",
        "<string>:5: import footfall",
        "<string>:10: import cv2",
    ]
