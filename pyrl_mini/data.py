"""Results computed ahead (data/), with provenance, checksums and a rebuild command.

Each dataset is a SweepSpec that a module of pyrl_mini.datasets registers in
pyrl_mini.registry (re-exported here: DATASETS, FREQUENCY_CLAIMS, PAIRED_WITH, MIN_SEEDS,
register). Importing this module imports the datasets, so `load(name)` needs nothing else.
`python -m pyrl_mini.data build` (or `make data`) trains them with the ensemble trainer and
writes data/<name>.npz plus an entry in data/manifest.json: the command, the library and
torch versions, the settings, the seconds it took and a sha256. `load(name)` verifies the
checksum, then compares the settings and the data version stored in the file with the
dataset's definition in code (sweep.DATA_VERSION says when to bump the version); a missing,
altered or stale file raises DataFileError naming the file and the command that rebuilds it.
`catalogue(names)` pools the runs of several datasets into one table, a row per run and its
settings, so a run can be found by its settings whichever dataset holds it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import (
    __version__,
    datasets,  # noqa: F401  (importing the package registers every dataset)
    fast,
)
from .io import DataFileError, atomic_write, load_arrays, save_arrays, shipped
from .registry import (  # noqa: F401  (data.DATASETS etc.: the registry, under these names)
    ABOUT,
    DATASETS,
    FREQUENCY_CLAIMS,
    MIN_SEEDS,
    PAIRED_WITH,
    register,
)
from .sweep import DATA_VERSION, SweepData, SweepSpec, run_sweep  # noqa: F401

# PYRL_MINI_DATA, else the data/ an installed wheel carries, else the checkout's data/.
DATA_DIR = Path(os.environ.get("PYRL_MINI_DATA") or shipped("data"))
MANIFEST = "manifest.json"


def rebuild_command(name: str) -> str:
    return f"python -m pyrl_mini.data build {name}"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(data_dir: Path = DATA_DIR) -> dict:
    """The manifest ({"files": {file name: entry}}); DataFileError if it is not one."""
    path = Path(data_dir) / MANIFEST
    if not path.exists():
        return {"files": {}}
    # a build records into the manifest, so it cannot repair one: restoring it is the fix
    fix = (f"Restore it with `git checkout {path}` (or delete it, then rebuild every "
           "dataset with `make data`).")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path} is not valid JSON ({err}). {fix}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DataFileError(f"{path} has no \"files\" table. {fix}")
    for name, entry in manifest["files"].items():
        if not isinstance(entry, dict):
            raise DataFileError(f"{path}: the entry for {name} is not a JSON object. {fix}")
    return manifest


def write_manifest(manifest: dict, data_dir: Path = DATA_DIR) -> None:
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    atomic_write(Path(data_dir) / MANIFEST, lambda f: f.write(text.encode()))


def load(name: str, data_dir: Path = DATA_DIR) -> SweepData:
    """Load dataset `name` after checking it against the manifest's sha256."""
    data_dir = Path(data_dir)
    spec = _spec_or_raise(name)
    path = data_dir / f"{name}.npz"
    fix = f"Rebuild it with `{rebuild_command(name)}` (or `make data`)."
    entry = read_manifest(data_dir)["files"].get(path.name)
    if not path.exists():
        raise DataFileError(f"data file {path} is missing. {fix}")
    if not path.is_file():
        raise DataFileError(f"data file {path} is a directory (or another non-file): remove "
                            f"it, then {fix[0].lower()}{fix[1:]}")
    if entry is None:
        raise DataFileError(f"data file {path} is not listed in {data_dir / MANIFEST}. {fix}")
    want = entry.get("sha256")
    if not isinstance(want, str):
        raise DataFileError(f"the entry for {path.name} in {data_dir / MANIFEST} has no sha256, "
                            f"so the file cannot be verified. {fix}")
    digest = sha256(path)
    if digest != want:
        raise DataFileError(f"data file {path} is corrupt or altered: sha256 {digest[:12]}... "
                            f"does not match the manifest's {want[:12]}... {fix}")
    arrays, meta = load_arrays(path)
    reason = spec.stale_reason(meta)
    if reason is not None:
        raise DataFileError(f"data file {path} is stale: {reason}. {fix}")
    return SweepData(arrays, meta)


def _spec_or_raise(name: str) -> SweepSpec:
    if name not in DATASETS:
        import difflib
        close = difflib.get_close_matches(name, list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataFileError(f"unknown dataset {name!r}.{hint} Known: {sorted(DATASETS)}")
    return DATASETS[name]


# --- the catalogue: the runs of several datasets, found by their settings ---------------------
# the datasets the explorer of notebook 05 pools, longest runs first: a setting held by two is
# read from the first
CATALOGUE_DATASETS = ("nb00_main_grid", "nb03_kappa_lr", "nb02_wout_sweep", "nb01_gru",
                      "nb01_simple")
NETWORKS = ("GRU", "SimpleRNN, relu readout", "SimpleRNN, tanh readout")


def network_label(settings) -> str:
    """The catalogue's name of settings.network: one of NETWORKS."""
    if settings.network.network_type == "gru":
        return NETWORKS[0]
    return NETWORKS[1] if settings.network.readout_rate == "relu" else NETWORKS[2]


@dataclass
class Catalogue:
    """Every run of the pooled datasets, one row per run. Columns are arrays of length runs;
    `datasets` maps each dataset name to its SweepData, in the order they are searched."""

    network: np.ndarray
    wout_std: np.ndarray
    lr: np.ndarray
    kappa: np.ndarray
    entropy_coef: np.ndarray
    seed: np.ndarray
    source: np.ndarray       # dataset name
    row: np.ndarray          # row in that dataset
    datasets: dict[str, SweepData]

    def values(self, name: str) -> list:
        """The distinct values of column `name` ("kappa", "lr", ...), sorted."""
        return sorted(set(getattr(self, name).tolist()))

    def match(self, network: str, wout_std: float, lr: float, kappa: float,
              entropy_coef: float) -> tuple[str | None, np.ndarray]:
        """(dataset, rows) of the runs with exactly these settings, from the first dataset
        (in the order of `datasets`) that has them; (None, []) if none has."""
        ok = ((self.network == network) & np.isclose(self.wout_std, wout_std)
              & np.isclose(self.lr, lr) & np.isclose(self.kappa, kappa)
              & np.isclose(self.entropy_coef, entropy_coef))
        for name in self.datasets:
            hit = ok & (self.source == name)
            if hit.any():
                return name, self.row[hit]
        return None, np.array([], dtype=int)

    def available(self, network: str, wout_std: float, lr: float) -> list[tuple]:
        """(kappa, entropy_coef) pairs computed for this network, W_out std and lr."""
        ok = (self.network == network) & np.isclose(self.wout_std, wout_std) & \
            np.isclose(self.lr, lr)
        return sorted(set(zip(self.kappa[ok].tolist(), self.entropy_coef[ok].tolist(),
                              strict=True)))


def catalogue(names=CATALOGUE_DATASETS, data_dir: Path = DATA_DIR) -> Catalogue:
    """The runs of datasets `names` (each loaded and verified as by load), each with the
    settings its dataset's definition gives its cell."""
    runs, loaded = [], {}
    for name in names:
        d = loaded[name] = load(name, data_dir)
        settings = _spec_or_raise(name).settings()
        for r, cell in enumerate(d.arrays["cell"]):
            s = settings[cell]
            runs.append((network_label(s), s.network.wout_std, s.lr, s.kappa, s.entropy_coef,
                         s.seed, name, r))
    columns = ("network", "wout_std", "lr", "kappa", "entropy_coef", "seed", "source", "row")
    return Catalogue(**{k: np.array(v) for k, v in zip(columns, zip(*runs, strict=True),
                                                         strict=True)}, datasets=loaded)


def build(name: str, data_dir: Path = DATA_DIR, progress: bool = True, executor=None) -> Path:
    """Train dataset `name` (resuming finished chunks) and record it in the manifest.
    executor: run the chunks there (e.g. a distributed.DaskExecutor); default in process."""
    spec = _spec_or_raise(name)
    data_dir = Path(data_dir)
    read_manifest(data_dir)  # a broken manifest is refused now, not after the training
    with _build_lock(data_dir, name):
        t0 = time.perf_counter()
        stats: dict = {}
        arrays = run_sweep(spec, progress=progress, partial_dir=data_dir / ".partial",
                           executor=executor, stats=stats)
        here = machine()["path"]
        if stats.get("fast_path") is not None and ("fast" if stats["fast_path"] else
                                                   "plain") != here:
            raise DataFileError(f"{name}: the chunks trained on another path than this "
                                f"process's ({here}); build the kernel where every worker "
                                "runs (`python -m pyrl_mini.fast`) and build again.")
        # this run's wall time plus the training time of chunks an earlier run left
        seconds = time.perf_counter() - t0 + stats["reused_seconds"]
        resumed = stats["reused"]
        key = spec.key()
        meta = {**key, "version": __version__}
        path = save_arrays(data_dir / f"{name}.npz", arrays, meta)
        with _manifest_lock(data_dir):
            _record(path, name, spec, arrays, seconds, data_dir, resumed)
        partial = data_dir / ".partial" / f"{spec.name}-{spec.digest()}"
        if partial.exists():
            for f in partial.glob("*.npz"):
                f.unlink()
            partial.rmdir()
    return path


def reproduce(name: str, data_dir: Path = DATA_DIR) -> dict:
    """Train the probe chunk of dataset `name` again (two of its stored runs, in full, in the
    ensemble that built them: SweepSpec.chunks) and compare every stored record of both runs
    (histories, final means, modes, trials) with the file, exactly.

    Returns {"cells": the two cells, "differences": {array: largest absolute difference},
    "comparable": None, or why this machine cannot reproduce the file to the bit (another
    CPU, torch, BLAS or path than the manifest records: a float difference grows in a chaotic
    run, so nothing is trained then), "seconds"}."""
    data_dir = Path(data_dir)
    spec = _spec_or_raise(name)
    stored = load(name, data_dir)
    entry = read_manifest(data_dir)["files"][f"{name}.npz"]
    out = {"cells": spec.chunks()[0], "differences": {}, "comparable": None, "seconds": 0.0}
    made, here = entry.get("built_on"), machine()
    if not isinstance(made, dict):
        out["comparable"] = "the manifest does not record the machine it was built on"
        return out
    differ = [f"{k}: {made.get(k)!r} there, {here[k]!r} here" for k in here
              if made.get(k) != here[k]]
    if differ:
        out["comparable"] = "built on another machine or path (" + "; ".join(differ) + ")"
        return out
    t0 = time.perf_counter()
    fresh = run_sweep(spec, progress=False, chunks=[0])
    out["seconds"] = time.perf_counter() - t0
    where = {int(c): i for i, c in enumerate(stored.arrays["cell"])}
    rows = [where[int(c)] for c in fresh["cell"]]
    for key, got in fresh.items():
        want = stored.arrays[key][rows] if key in stored.arrays else None
        if want is None or want.shape != got.shape:
            out["differences"][key] = float("inf")
        elif not np.array_equal(want, got, equal_nan=want.dtype.kind == "f"):
            out["differences"][key] = float(np.nanmax(np.abs(want.astype(float)
                                                              - got.astype(float))))
    return out


def frequency_table(data_dir: Path = DATA_DIR) -> str:
    """The frequency datasets as a markdown table (README.md's): what each varies, its seed
    blocks, runs, and the build's wall time and commit as the manifest records them."""
    manifest = read_manifest(data_dir)["files"]
    lines = ["| dataset | what varies | seed blocks | runs | build (wall time) |",
             "| --- | --- | --- | --- | --- |"]
    for name in [n for n in DATASETS if n in FREQUENCY_CLAIMS]:  # in the order registered
        spec, entry = DATASETS[name], manifest.get(f"{name}.npz", {})
        blocks = ", ".join(f"{b[0]}-{b[-1]}" for b in spec.blocks) if spec.blocks else \
            f"{min(spec.seeds)}-{max(spec.seeds)}"
        seconds = entry.get("seconds")
        took = f"{seconds / 60:.0f} min" if seconds is not None else "not built"
        lines.append(f"| `{name}` | {ABOUT[name]} | {blocks} | {len(spec.cells())} | {took} |")
    return "\n".join(lines)


def rebuild_and_compare(name: str, work_dir: Path, data_dir: Path = DATA_DIR,
                        progress: bool = True, executor=None) -> dict[str, float]:
    """Build dataset `name` from scratch into work_dir and compare every array with the copy
    in data_dir. Returns {array: largest absolute difference} for the arrays that differ
    (an empty dict: identical, bit for bit). Both files keep their manifests."""
    stored = load(name, data_dir).arrays
    fresh = load_arrays(build(name, Path(work_dir), progress=progress, executor=executor))[0]
    diffs: dict[str, float] = {}
    for key in sorted(set(stored) | set(fresh)):
        a, b = stored.get(key), fresh.get(key)
        if a is None or b is None or a.shape != b.shape:
            diffs[key] = float("inf")
        elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            diffs[key] = float(np.nanmax(np.abs(a.astype(float) - b.astype(float))))
    return diffs


@contextlib.contextmanager
def _manifest_lock(data_dir: Path):
    """Builds of different datasets may finish at once; the manifest update is serialised."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def _build_lock(data_dir: Path, name: str):
    """One build of a dataset at a time: a second one is refused instead of training every
    chunk again next to the first."""
    folder = data_dir / ".partial"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    with open(path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataFileError(
                f"another process is building {name} in {data_dir} (it holds {path}): wait for "
                f"it to finish, or stop it and run `{rebuild_command(name)}` again to resume "
                "from its finished chunks.") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def machine() -> dict:
    """What float rounding depends on besides the code and the settings: the CPU's features
    (they choose BLAS's kernels and the C++ build's vector code), torch and its BLAS, and the
    path that trains (fast: the C++ kernel; plain: autograd). Two machines with the same
    signature compute the same numbers to the bit."""
    from .trainer import uses_fast_path

    flags = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith(("flags", "Features")):
                flags = line.split(":", 1)[1].strip()
                break
    parts = [p.strip(" -") for p in torch.__config__.show().replace(",", "\n").splitlines()]
    blas = ", ".join(p for p in parts if p.startswith(("BLAS_INFO", "CPU capability",
                                                       "Intel(R) oneAPI Math Kernel")))
    return {"machine": platform.machine(),
            "cpu_flags": hashlib.sha1(flags.encode()).hexdigest()[:12],
            "torch": torch.__version__, "blas": blas,
            "path": "fast" if uses_fast_path() else "plain"}


def code_version() -> str:
    """The commit of the checkout that holds this package, with "+changes" when pyrl_mini/
    differs from it ("unknown" outside a git checkout, e.g. an installed wheel)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                  "pyrl_mini"], capture_output=True, text=True,
                                 check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if changed else "")


def _record(path: Path, name: str, spec: SweepSpec, arrays: dict, seconds: float,
            data_dir: Path, resumed_chunks: int = 0) -> None:
    manifest = read_manifest(data_dir)
    manifest["files"][path.name] = {
        "command": rebuild_command(name),
        "version": __version__,
        "commit": code_version(),
        "built_on": machine(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "settings": spec.to_dict(),
        "cells": int(len(arrays["seed"])),
        "frequency_claims": name in FREQUENCY_CLAIMS,
        "seconds": round(seconds, 1),  # with the training time of resumed chunks
        "resumed_chunks": resumed_chunks,
        "data_version": spec.key()["data_version"],
        "bytes": path.stat().st_size,
        "sha256": sha256(path),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_manifest(manifest, data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyrl_mini.data",
                                     description="Build, list and verify the data/ files.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build datasets (all if none named)")
    b.add_argument("names", nargs="*")
    b.add_argument("--missing", action="store_true", help="only those missing or corrupt")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="train the chunks on this Dask scheduler, e.g. tcp://host:8786 "
                       "(needs pip install -e '.[dask]')")
    where.add_argument("--local-cluster", type=int, metavar="N",
                       help="train the chunks on a Dask LocalCluster of N worker processes here")
    c = sub.add_parser("check", help="rebuild datasets from scratch in a scratch directory "
                       "and compare every array with data/ (all if none named)")
    c.add_argument("names", nargs="*")
    c.add_argument("--work-dir", default=None,
                   help="where to build (default: a new temporary directory, removed after)")
    li = sub.add_parser("list", help="list datasets and their manifest entries")
    li.add_argument("--frequencies", action="store_true",
                    help="print the frequency datasets as the markdown table README.md holds")
    r = sub.add_parser("reproduce", help="train the probe runs of frequency datasets again, in "
                       "full, and compare them with data/ to the bit (all if none named)")
    r.add_argument("names", nargs="*")
    v = sub.add_parser("verify", help="check files against the manifest and their definitions "
                       "in code (all if none named)")
    v.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except DataFileError as err:  # e.g. a broken manifest, or another build running
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file or folder the command cannot read or write
        print(f"error: {err.strerror or err}"
              + (f": {err.filename}" if err.filename else "")
              + " (check the path and its permissions, or set PYRL_MINI_DATA to another "
              "data folder)", file=sys.stderr)
        return 2


def _check_writable(data_dir: Path) -> None:
    """Refuse, before any training, a data folder a build could not write its files to."""
    import tempfile

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise DataFileError(f"the data folder {data_dir} cannot be written ({err.strerror}): "
                            "a build writes its file and the manifest there. Make it writable, "
                            "or set PYRL_MINI_DATA to a folder you can write to.") from None


def _run(args) -> int:
    names = args.names if getattr(args, "names", None) else list(DATASETS)
    for name in names:
        try:
            _spec_or_raise(name)
        except DataFileError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.command == "list" and args.frequencies:
        print(frequency_table())
        return 0
    if args.command == "reproduce":
        names = args.names or sorted(FREQUENCY_CLAIMS)
        bad = 0
        for name in names:
            found = reproduce(name)
            if found["comparable"] is not None:
                print(f"not compared  {name}: {found['comparable']}")
            elif found["differences"]:
                bad += 1
                print(f"DIFFERENT     {name} (cells {found['cells']}): {found['differences']}")
            else:
                print(f"identical     {name} (cells {found['cells']}, "
                      f"{found['seconds']:.0f} s)")
        return 1 if bad else 0
    if args.command == "list":
        manifest = read_manifest()["files"]
        print(f"{'dataset':26s} {'runs':>5s} {'net-updates':>11s} {'MB':>6s} {'build s':>8s}  "
              "seeds per cell")
        total_updates = total_seconds = 0.0
        for name, spec in DATASETS.items():
            entry = manifest.get(f"{name}.npz", {})
            cells = spec.cells()
            updates = sum(s.updates for s in spec.settings())
            seconds = entry.get("seconds")
            total_updates += updates
            total_seconds += seconds or 0.0
            flag = " (frequency claims)" if name in FREQUENCY_CLAIMS else ""
            print(f"{name:26s} {len(cells):5d} {updates:11,d} {entry.get('bytes', 0) / 1e6:6.2f} "
                  f"{seconds if seconds is not None else '-':>8}  {len(spec.seeds)}{flag}")
        print(f"{'total':26s} {'':5s} {int(total_updates):11,d} {'':6s} {total_seconds:8.0f}  "
              "(build s: wall time of each build as recorded, on whatever load it met)")
        return 0
    if args.command == "verify":
        bad = 0
        for name in names:  # every one, whatever the ones before it found
            try:
                load(name, DATA_DIR)
                print(f"ok       {name}")
            except (DataFileError, OSError) as err:
                bad += 1
                print(f"FAILED   {err}")
        return 1 if bad else 0
    if args.command == "check":
        return _check(names, args.work_dir)
    read_manifest(DATA_DIR)  # a broken manifest is refused before any training
    _check_writable(DATA_DIR)  # and so is a folder the result could not be written to
    if args.missing:
        names = [n for n in names if not _loads(n)]
        if not names:
            print("nothing to build: every dataset asked for is present and verified")
            return 0
    torch.set_num_threads(1)
    path = machine()["path"]
    print(f"training on the {path} path" + ("" if path == "fast" else
          f" ({fast.why_not()}): its numbers differ from a fast-path build beyond float32 "
          "rounding over a whole run; build the kernel first (`python -m pyrl_mini.fast`) to "
          "match data/ as committed") + ".", flush=True)
    from .distributed import DaskError, open_executor

    try:
        executor = open_executor(args.scheduler, args.local_cluster)
    except DaskError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with executor as ex:
        for name in names:
            print(f"building {name} ({len(DATASETS[name].cells())} runs)"
                  + (f" on {ex}" if ex is not None else ""), flush=True)
            try:
                print(f"wrote {build(name, executor=ex)}", flush=True)
            except KeyboardInterrupt:
                print(f"interrupted: finished chunks of {name} are kept in "
                      f"{DATA_DIR / '.partial'}; run the same command again to resume.",
                      file=sys.stderr)
                return 130
    return 0


def _check(names: list[str], work_dir: str | None) -> int:
    import tempfile

    torch.set_num_threads(1)  # as the builds that made data/
    bad = 0
    with tempfile.TemporaryDirectory(prefix="pyrl_mini_check_") as tmp:
        where = Path(work_dir) if work_dir else Path(tmp)
        for name in names:
            t0 = time.perf_counter()
            try:
                diffs = rebuild_and_compare(name, where)
            except DataFileError as err:
                bad += 1
                print(f"FAILED   {err}", flush=True)
                continue
            except KeyboardInterrupt:
                keep = (f"its finished chunks are kept in {where / '.partial'}; run the same "
                        "command again to resume" if work_dir else
                        "pass --work-dir DIR to keep finished chunks and resume")
                print(f"interrupted while checking {name}: {keep}.", file=sys.stderr)
                return 130
            took = time.perf_counter() - t0
            if diffs:
                bad += 1
                worst = ", ".join(f"{k} {v:.2e}" for k, v in list(diffs.items())[:5])
                print(f"DIFFERS  {name} ({took:.0f} s): {len(diffs)} arrays, e.g. {worst}",
                      flush=True)
            else:
                print(f"same     {name} ({took:.0f} s): every array identical", flush=True)
    return 1 if bad else 0


def _loads(name: str) -> bool:
    try:
        load(name)
        return True
    except DataFileError:
        return False


if __name__ == "__main__":
    sys.exit(main())
