"""Writing a simulation to a folder: its messages as JSON lines, its ground truth as CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO

from footfall.contract import Message, encode
from footfall.simulate.scenarios import Scenario


class MessageFile:
    """``messages.jsonl``: one encoded contract message per line, in simulation order."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "messages.jsonl"
        self._file: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 (closed by close())

    def write(self, messages: Iterable[Message]) -> None:
        self._file.write(b"".join(encode(m) + b"\n" for m in messages))

    def close(self) -> None:
        self._file.close()


def write_scenario(folder: Path, scenario: Scenario, seed: int, extra: dict[str, object]) -> None:
    """``scenario.json``: the scenario's settings, the seed and the run's figures."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {**asdict(scenario), "site": str(scenario.site), "seed": seed, **extra}
    (folder / "scenario.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
