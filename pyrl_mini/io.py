"""Saving and loading without pickle, written atomically.

Histories go to .npz (loaded with allow_pickle=False) with the settings as JSON inside;
checkpoints go to torch files loaded with weights_only=True. Every write goes to a temporary
file in the same folder and is renamed into place, so an interrupted write never leaves a
half-written file under the real name.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from .config import TrainSettings


class DataFileError(RuntimeError):
    """A data file is missing, corrupt or not what it should be."""


PACKAGE = Path(__file__).resolve().parent


def shipped(folder: str) -> Path:
    """The collection's folder `folder` ("data", "notebooks"): inside the package in an
    installed wheel (pyrl_mini/bundled/<folder>, put there by setup.py), next to the package
    in a checkout of the repository."""
    bundled = PACKAGE / "bundled" / folder
    return bundled if bundled.is_dir() else PACKAGE.parent / folder


def atomic_write(path: str | Path, write) -> Path:
    """Call write(file_object) on a temporary file next to path, then rename it into place.
    Only a regular file (or nothing) is replaced: the rename would put a regular file in the
    place of a device node, and fail on a directory."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise DataFileError(f"{path} exists and is not a regular file (a directory or a "
                            "device): give the name of a file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; data files are for everyone
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], meta: dict | None = None):
    """Save named arrays (no object arrays) and a JSON-able meta dict to an .npz file."""
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    for k, v in payload.items():
        if v.dtype == object:
            raise TypeError(f"array {k!r} has dtype object; only numeric/bool/str arrays allowed")
    payload["__meta__"] = np.array(json.dumps(meta or {}, sort_keys=True))
    return atomic_write(path, lambda f: np.savez_compressed(f, **payload))


def load_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Load an .npz written by save_arrays (allow_pickle=False). Raises DataFileError."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path} does not exist.")
    if not zipfile.is_zipfile(path):  # numpy would call any other bytes "pickled data"
        raise DataFileError(f"{path} is corrupt or not an .npz file (not a zip archive).")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise DataFileError(f"{path} is corrupt or not an .npz file ({err}).") from None
    try:
        meta = json.loads(str(arrays.pop("__meta__", np.array("{}"))))
    except json.JSONDecodeError as err:
        raise DataFileError(f"{path} has a __meta__ entry that is not JSON ({err}): it was not "
                            "written by pyrl_mini; rewrite it with save_arrays or rebuild it."
                            ) from None
    if not isinstance(meta, dict):
        raise DataFileError(f"{path} has a __meta__ entry that is not a JSON object: it was not "
                            "written by pyrl_mini; rewrite it with save_arrays or rebuild it.")
    return arrays, meta


def save_history(path: str | Path, result) -> Path:
    """Save a TrainResult's history, stop points and last batch (no parameters)."""
    arrays = {"h/" + k: v for k, v in result.history.items()}
    arrays.update({"t/" + k: v for k, v in result.last_trials.items()})
    arrays["stopped_at"] = result.stopped_at
    if result.unit_dead is not None:
        arrays["unit_dead"] = result.unit_dead
    meta = {"settings": [s.to_dict() for s in result.settings],
            "interrupted": result.interrupted, "seconds": result.seconds}
    return save_arrays(path, arrays, meta)


def load_history(path: str | Path) -> dict:
    """Load a saved history: {"history", "last_trials", "stopped_at", "settings", ...}."""
    arrays, meta = load_arrays(path)
    try:
        settings = [TrainSettings.from_dict(s) for s in meta.get("settings", [])]
    except (TypeError, ValueError, AttributeError) as err:  # not a list of settings dicts
        raise DataFileError(f"{path} has settings that cannot be read ({err}): it was edited "
                            "or not written by save_history; train again to get a history."
                            ) from None
    return {
        "history": {k[2:]: v for k, v in arrays.items() if k.startswith("h/")},
        "last_trials": {k[2:]: v for k, v in arrays.items() if k.startswith("t/")},
        "stopped_at": arrays.get("stopped_at"),
        "unit_dead": arrays.get("unit_dead"),
        "settings": settings,
        "interrupted": meta.get("interrupted", False),
    }


def save_checkpoint(path: str | Path, result) -> Path:
    """Save final parameters and settings; load with load_checkpoint (weights_only=True)."""
    state = {"params": result.params, "baseline_params": result.baseline_params,
             "settings_json": json.dumps([s.to_dict() for s in result.settings])}
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path} does not exist.")
    try:
        state = torch.load(path, weights_only=True)
    except Exception as err:  # torch raises several types for a bad file
        raise DataFileError(f"{path} is not a readable checkpoint ({err}).") from None
    if not isinstance(state, dict) or "settings_json" not in state or "params" not in state:
        raise DataFileError(f"{path} is a torch file but not a pyrl_mini checkpoint (it lacks "
                            "'params' or 'settings_json'); save one with save_checkpoint or "
                            "`python -m pyrl_mini train --checkpoint FILE`.")
    try:
        state["settings"] = [TrainSettings.from_dict(s)
                             for s in json.loads(state["settings_json"])]
    except (json.JSONDecodeError, TypeError, AttributeError, ValueError) as err:
        raise DataFileError(f"{path} has settings that cannot be read ({err}); save the "
                            "checkpoint again with save_checkpoint.") from None
    return state
