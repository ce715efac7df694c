"""Command-line narrowing of a manifest: other configs, some sequences, fewer frames."""

from __future__ import annotations

from pathlib import Path

from footfall.evaluation.manifest import ConfigEntry, Manifest, ManifestError


def narrow(
    manifest: Manifest,
    config_files: tuple[Path, ...] = (),
    only: tuple[str, ...] = (),
    max_frames: int | None = None,
) -> Manifest:
    """``manifest`` with ``config_files`` instead of its configs (named by file stem), only the
    sequences, crowd entries and multi-camera groups named in ``only``, and every entry capped
    at ``max_frames``."""
    update: dict[str, object] = {}
    if config_files:
        missing = [str(p) for p in config_files if not p.is_file()]
        if missing:
            raise ManifestError(f"Edge config {missing[0]} does not exist; give a YAML file.")
        stems = [p.stem for p in config_files]
        if len(set(stems)) != len(stems):
            raise ManifestError(f"--config files need different names; got {stems}.")
        update["configs"] = [ConfigEntry(name=p.stem, file=str(p.resolve())) for p in config_files]
    sequences, crowd, groups = manifest.sequences, manifest.crowd, manifest.multi_camera
    if only:
        known = {s.name for s in sequences} | {c.name for c in crowd} | {g.name for g in groups}
        unknown = [n for n in only if n not in known]
        if unknown:
            raise ManifestError(
                f"No sequence named {unknown[0]!r} in manifest '{manifest.name}'; valid: "
                f"{', '.join(sorted(known))}."
            )
        sequences = [s for s in sequences if s.name in only]
        crowd = [c for c in crowd if c.name in only]
        groups = [g for g in groups if g.name in only]
        update["end_to_end"] = None
    if max_frames is not None:
        sequences = [
            s.model_copy(update={"max_frames": min(s.max_frames or max_frames, max_frames)})
            for s in sequences
        ]
        crowd = [
            c.model_copy(update={"max_frames": min(c.max_frames or max_frames, max_frames)})
            for c in crowd
        ]
        groups = [
            g.model_copy(update={"max_frames": min(g.max_frames or max_frames, max_frames)})
            for g in groups
        ]
        if manifest.end_to_end is not None and "end_to_end" not in update:
            e2e = manifest.end_to_end
            update["end_to_end"] = e2e.model_copy(
                update={"max_frames": min(e2e.max_frames or max_frames, max_frames)}
            )
    update["sequences"] = sequences
    update["crowd"] = crowd
    update["multi_camera"] = groups
    return manifest.model_copy(update=update)
