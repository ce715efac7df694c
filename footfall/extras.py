"""Which optional extras are installed, and the sentence to show when one is missing."""

from __future__ import annotations

import importlib.util

# The import names each extra brings, as checked before loading a command group.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "edge": ("torch", "torchvision", "ultralytics", "boxmot", "cv2", "kafka"),
    "cloud": ("fastapi", "uvicorn", "psycopg", "kafka", "numpy", "scipy", "threadpoolctl"),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def missing_extra_message(extra: str, missing: list[str]) -> str:
    return (
        f"`footfall {extra}` needs the '{extra}' extra, which is not installed here "
        f"(missing: {', '.join(missing)}); install it with: pip install 'footfall[{extra}]' "
        f"(or `make venv` in a checkout)."
    )
