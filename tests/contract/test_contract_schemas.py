"""The committed JSON-schema snapshots match the models."""

import json
from pathlib import Path

import pytest

from footfall.contract.schemas import (
    REGENERATE_COMMAND,
    default_schema_dir,
    generate_schemas,
    main,
    render_schema,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "configs" / "schemas"


def test_default_dir_is_configs_schemas_in_the_repo() -> None:
    assert default_schema_dir() == COMMITTED


@pytest.mark.parametrize("name", sorted(generate_schemas()))
def test_committed_snapshot_matches_models(name: str) -> None:
    path = COMMITTED / name
    hint = f"regenerate with: {REGENERATE_COMMAND}"
    assert path.is_file(), f"{path} is missing; {hint}"
    generated = render_schema(generate_schemas()[name])
    assert path.read_text(encoding="utf-8") == generated, f"{path} differs from the models; {hint}"


def test_snapshots_are_sorted_and_indented() -> None:
    text = (COMMITTED / "frame.v1.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_check_passes_after_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--write", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(generate_schemas())
    assert main(["--check", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_naming_the_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--write", str(tmp_path)])
    capsys.readouterr()
    stale = tmp_path / "heartbeat.v1.json"
    stale.write_text(stale.read_text().replace('"maxLength": 200', '"maxLength": 100000'))
    (tmp_path / "frame.v1.json").unlink()
    assert main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{stale}: differs from the models" in err
    assert f"{tmp_path / 'frame.v1.json'}: missing" in err
    assert "tracklet_end.v1.json" not in err
    assert f"regenerate with: {REGENERATE_COMMAND} {tmp_path}" in err


def test_check_without_dir_uses_the_committed_snapshots(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--check"]) == 0
    assert str(COMMITTED) in capsys.readouterr().out
