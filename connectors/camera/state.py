"""A camera's baseline on disk, so a restart of the hub or of its capture process keeps it.

One file per camera under the state directory (``<data dir>/cameras`` in the hub): the reference
view's keypoints and descriptors, whether the camera was found MOVED, and ``mark``, which
re-baseline it reflects (the graph's ``camera_baseline_at`` of the ``rebaselineCameras``
mutation), so the same re-baseline is not applied twice and one made while the hub was down is
applied at start. Written atomically (a temporary file renamed over the old one) whenever the
baseline changes; a file that cannot be read is reported and ignored: the camera takes a new
reference, as on its first start.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.health import Baseline

log = logging.getLogger(__name__)
_VERSION = 1


@dataclass(frozen=True, slots=True)
class SavedBaseline:
    baseline: Baseline
    mark: str | None  # the re-baseline it reflects; None: none yet


def state_path(directory: Path, sensor_id: str) -> Path:
    """The camera's file: its id made safe for a file name, and a hash that keeps ids apart
    that only differ in the characters replaced."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", sensor_id)[:80]
    digest = hashlib.sha256(sensor_id.encode()).hexdigest()[:10]
    return directory / f"{safe}-{digest}.npz"


def save(path: Path, saved: SavedBaseline) -> None:
    """Write the baseline (atomically); errors are the caller's to report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "version": np.array(_VERSION),
        "moved": np.array(saved.baseline.moved),
        "mark": np.array("" if saved.mark is None else saved.mark),
    }
    for name, values in (saved.baseline.reference or {}).items():
        arrays[f"reference_{name}"] = values
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as out:
        np.savez(out, allow_pickle=False, **arrays)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def load(path: Path) -> SavedBaseline | None:
    """The saved baseline; ``None`` when there is none or it cannot be read (logged)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != _VERSION:
                raise ValueError(f"version {int(data['version'])}")
            reference = {
                name.removeprefix("reference_"): np.array(data[name])
                for name in data.files
                if name.startswith("reference_")
            }
            mark = str(data["mark"])
            moved = bool(data["moved"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        log.warning("CAMERA_STATE_UNREADABLE: %s: %s; a new reference will be taken", path, exc)
        with contextlib.suppress(OSError):
            path.rename(path.with_name(path.name + ".bad"))
        return None
    return SavedBaseline(Baseline(reference or None, moved), mark or None)


__all__ = ["SavedBaseline", "load", "save", "state_path"]
