"""Sweeps: a grid of settings x seeds, trained in ensembles, resumable.

Cells that share array shapes train together in ensembles of at most `chunk` networks (the
fast path). Seeds are used as given, so cells with the same seed share their initial weights
and trial draws (common random numbers): a kappa comparison at one seed is paired.

Stored per cell: the history averaged over blocks of `stride` updates, a final summary
(mean over the last `final_window` updates at full resolution), the behaviour mode, the
update at which the learning criterion was met, and the last batch's trials.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import analysis
from .config import (
    SHARED_FIELDS,
    SHARED_NETWORK_FIELDS,
    SHARED_TASK_FIELDS,
    TrainSettings,
    check_memory,
    planned_bytes,
)
from .io import DataFileError, load_arrays, save_arrays
from .trainer import DIAGNOSTICS, train

# DATA_VERSION names the numbers that the trainer, task and networks compute for given
# settings. Bump it on purpose, and rebuild data/, when a code change alters what a dataset
# holds beyond float32 rounding (a new loss term, another random draw order); a refactor that
# keeps the numbers (faster code, renamed internals) keeps it. Every data file and partial
# chunk stores it with its settings (SweepSpec.key): data.load refuses a file made under
# another version or definition as stale, and a resumed build never reuses such chunks.
DATA_VERSION = "0.2.0"   # 0.2.0: every dataset rebuilt on the C++ fast path (2026-12)

KEEP = ("reward", "abort_rate", "no_choice_rate", "higher_ev_rate", "risky_rate", "left_rate",
        "entropy", "logp_mean", "logp_std", "max_prob", "grad_norm", "grad_norm_W_out",
        "grad_norm_W_rec", "adv_mean", "adv_pos_frac", "dead_fraction", "dormant_fraction",
        "clipped")


@dataclass(frozen=True)
class SweepSpec:
    """A grid of settings x seeds. base and grid use TrainSettings names (task and network
    names too, e.g. wout_std, no_choice_penalty).

    blocks: the seeds as independent blocks (replication): a frequency is measured on each
    block and on all of them together; seeds is then their concatenation and each stored run
    records its block (1, 2, ...). mode_at: updates at which each run's behaviour mode is also
    stored (over the final_window updates before it), e.g. the update a rescue starts."""

    name: str
    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    seeds: tuple = (0, 1, 2)
    stride: int = 10
    final_window: int = 50
    chunk: int = 8
    keep: tuple = KEEP
    record_units: bool = False
    blocks: tuple = ()
    mode_at: tuple = ()

    def __post_init__(self):
        if self.blocks:
            object.__setattr__(self, "blocks", tuple(tuple(b) for b in self.blocks))
            object.__setattr__(self, "seeds", tuple(s for b in self.blocks for s in b))
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"{self.name}: a seed appears twice in its seeds or blocks")
        unknown = [k for k in self.keep if k not in DIAGNOSTICS]
        if unknown:
            raise ValueError(f"keep names unknown diagnostics {unknown}; see trainer.DIAGNOSTICS")
        TrainSettings().replace(**self.base)  # validates names and values now, not mid-sweep
        for k, values in self.grid.items():
            for v in values:
                TrainSettings().replace(**{**self.base, k: v})
        biggest = max(self.settings(), key=lambda s: planned_bytes([s]))
        check_memory([biggest] * self.chunk, what=f"sweep {self.name!r} (ensembles of "
                     f"{self.chunk} networks)")

    def cells(self) -> list[tuple[dict, int]]:
        names = list(self.grid)
        combos = itertools.product(*(self.grid[n] for n in names)) if names else [()]
        return [(dict(zip(names, c, strict=True)), s) for c in combos for s in self.seeds]

    def settings(self) -> list[TrainSettings]:
        base = TrainSettings().replace(**self.base)
        return [base.replace(**values, seed=seed) for values, seed in self.cells()]

    def block_of(self, seed: int) -> int:
        """The block (1, 2, ...) a seed belongs to; 1 for a spec without blocks."""
        for i, block in enumerate(self.blocks, start=1):
            if seed in block:
                return i
        return 1

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        d["keep"] = list(self.keep)
        d["grid"] = {k: list(v) for k, v in self.grid.items()}
        # fields added later are left out at their defaults, so a definition that does not use
        # them reads as it did when it was built
        d["blocks"] = [list(b) for b in self.blocks]
        d["mode_at"] = list(self.mode_at)
        for name in ("blocks", "mode_at"):
            if not d[name]:
                del d[name]
        return d

    def key(self) -> dict:
        """What the stored numbers depend on: this definition, the settings' defaults (which
        fill in what base and grid leave out) and DATA_VERSION. JSON-normalised."""
        return json.loads(json.dumps({"spec": self.to_dict(), "defaults": _flat_defaults(),
                                      "data_version": DATA_VERSION}))

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.key(), sort_keys=True).encode()).hexdigest()[:16]

    def stale_reason(self, meta: dict) -> str | None:
        """Why numbers stored with `meta` (a data file's or chunk's) are not this definition's
        numbers, or None if they are. A file stores its definition and every default setting
        it was built with (so the full settings of each run); a default that changed in code
        since, and that the definition does not override, makes it stale. A setting added to the
        code since (absent from the stored defaults) is assumed to default to the old
        behaviour. The dataset's name is a
        label, not a setting: no number depends on it, so a file made under an earlier name of
        the same definition is not stale (its stored spec keeps the name it was built under)."""
        key = self.key()
        made = meta.get("data_version", meta.get("version"))  # older files: library version
        if made != DATA_VERSION:
            return (f"it was made by data version {made!r}, the code computes version "
                    f"{DATA_VERSION!r}")
        stored = json.loads(json.dumps(meta.get("spec")))
        if not isinstance(stored, dict):
            return "it holds no definition of its settings"
        stored = {k: v for k, v in stored.items() if k != "name"}
        want = {k: v for k, v in key["spec"].items() if k != "name"}
        if stored != want:
            return ("its definition changed in code since it was made: "
                    + "; ".join(_differences(stored, want)))
        old = meta.get("defaults")
        if not isinstance(old, dict):
            return "it holds no record of the default settings it was built with"
        given = {*self.base, *self.grid, "seed"}  # defaults these override do not count
        diffs = [f"{k} {old[k]!r} -> {v!r}" for k, v in key["defaults"].items()
                 if k in old and old[k] != v and k not in given]
        if diffs:
            return "default settings changed in code since it was made: " + "; ".join(diffs)
        return None

    def chunks(self) -> list[list[int]]:
        """Cell indices grouped into ensembles that share shapes, at most `chunk` each.

        Chunk 0 is a probe of two runs, the first and the last cell of the first group (two
        settings, two seeds): data.reproduce trains it again in full. A run's numbers depend
        on the ensemble it is trained in (float rounding of the kernel's per-network products
        depends on where each network's rows lie), so a stored run is reproduced to the bit
        only in its own ensemble, and a small one keeps that check cheap."""
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(self.settings()):
            key = json.dumps([[getattr(s, n) for n in SHARED_FIELDS],
                              [getattr(s.task, n) for n in SHARED_TASK_FIELDS],
                              [getattr(s.network, n) for n in SHARED_NETWORK_FIELDS]])
            groups.setdefault(key, []).append(i)
        out = []
        for g, idx in enumerate(groups.values()):
            if g == 0 and len(idx) > 2:
                out.append([idx[0], idx[-1]])
                idx = idx[1:-1]
            out += [idx[i:i + self.chunk] for i in range(0, len(idx), self.chunk)]
        return out


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """'name: old -> new' for every key that differs, nested dicts (base, grid) by their keys."""
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, "(unset)"), new.get(k, "(unset)")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k} {a!r} -> {b!r}")
    return out[:6] + ([f"and {len(out) - 6} more"] if len(out) > 6 else [])


def _flat_defaults() -> dict:
    d = TrainSettings().to_dict()
    return {**{k: v for k, v in d.items() if k not in ("task", "network")},
            **d["task"], **d["network"]}


def _block_mean(x: np.ndarray, stride: int) -> np.ndarray:
    """(updates, E) -> (E, updates // stride) block means (NaN-aware)."""
    U = (x.shape[0] // stride) * stride
    blocks = x[:U].reshape(U // stride, stride, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(blocks, axis=1).T


def summarise_chunk(spec: SweepSpec, result) -> dict[str, np.ndarray]:
    """Arrays for one trained ensemble, each with leading dim = networks in the chunk."""
    h = result.history
    out = {"h/" + k: _block_mean(h[k], spec.stride).astype(np.float32) for k in spec.keep}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in spec.keep:
            out["final/" + k] = np.nanmean(h[k][-spec.final_window:], axis=0).astype(np.float32)
    out["mode"] = analysis.mode_of_history(h, spec.final_window).astype(np.int8)
    for u in spec.mode_at:
        before = {k: v[:u] for k, v in h.items()}
        out[f"mode_at/{u}"] = analysis.mode_of_history(before, spec.final_window).astype(np.int8)
    out["updates_to_criterion"] = analysis.updates_to_criterion(h).astype(np.int32)
    out["stopped_at"] = result.stopped_at.astype(np.int32)
    out["trials/options"] = result.last_trials["options"].astype(np.int8)
    out["trials/choice"] = result.last_trials["choice"].astype(np.int8)
    if spec.record_units and result.unit_dead is not None:
        out["unit_dead"] = np.transpose(result.unit_dead[::spec.stride], (1, 0, 2))
    return out


def run_sweep(spec: SweepSpec, progress: bool = True, partial_dir: str | Path | None = None,
              chunks: list[int] | None = None, stop_after: int | None = None,
              executor=None, stats: dict | None = None) -> dict[str, np.ndarray]:
    """Train every cell of spec; return arrays with a leading cells dim.

    partial_dir: finished chunks are saved there and reused on a rerun, so an interrupted
    sweep resumes where it stopped. chunks: train only these chunk indices (for tests).
    stop_after: stop every run after this many updates (for tests; schedules still see the
    full length, so the first updates equal those of the full run).
    executor: an object with .map(fn, iterable) (results in order) or .map_unordered(fn,
    iterable) (yielding (index, result) as each finishes; preferred, so every finished chunk
    is saved at once), e.g. distributed.DaskExecutor; default runs them here, in order.
    stats: if a dict, filled with "train_seconds" (training time of every chunk, reused ones
    included), "reused" (chunks taken from partial_dir) and "reused_seconds" (their time).
    A chunk in partial_dir is reused only if it carries this spec's key (SweepSpec.key); a
    corrupt one is trained again, with a note.
    """
    from tqdm.auto import tqdm

    if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(stop_after, int)
                                   or stop_after < spec.stride):
        raise ValueError(
            f"stop_after={stop_after!r} must be an integer >= the sweep's stride "
            f"({spec.stride}): each stored point is the mean of {spec.stride} updates. Use "
            f"stop_after={spec.stride} or a multiple of it.")
    all_settings = spec.settings()
    chunk_list = spec.chunks()
    wanted = range(len(chunk_list)) if chunks is None else chunks
    partial = Path(partial_dir) / f"{spec.name}-{spec.digest()}" if partial_dir else None
    key = spec.key()
    results: dict[int, dict] = {}
    seconds: dict[int, float] = {}
    todo = []
    if partial is not None and stop_after is None:
        for other in sorted(Path(partial_dir).glob(f"{spec.name}-*")):
            if other != partial and other.is_dir():
                tqdm.write(f"note: {other} holds chunks made under another definition or data "
                           f"version of {spec.name}; they are not used (delete the folder).")
    for c in wanted:
        f = partial / f"chunk{c:04d}.npz" if partial else None
        if f is not None and f.exists() and stop_after is None:
            try:
                arrays, meta = load_arrays(f)
            except DataFileError as err:
                tqdm.write(f"note: {err} Training chunk {c} again.")
                f.unlink()
                todo.append(c)
                continue
            if meta.get("key") == key:
                results[c] = arrays
                seconds[c] = float(meta.get("seconds", 0.0))
                continue
            tqdm.write(f"note: {f} was made under another definition; training it again.")
        todo.append(c)
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(todo), desc=spec.name,
               disable=not progress)
    jobs = [([all_settings[i] for i in chunk_list[c]], stop_after, spec.record_units)
            for c in todo]
    if executor is not None and hasattr(executor, "map_unordered"):
        # save each chunk as soon as it finishes, whatever the order
        stream = ((todo[j], res) for j, res in executor.map_unordered(_train_chunk, jobs))
    else:
        mapper = executor.map if executor is not None else map
        stream = zip(todo, mapper(_train_chunk, jobs), strict=True)
    paths = set()
    for c, res in stream:
        paths.add(res.fast_path)
        if res.interrupted:
            raise KeyboardInterrupt(f"sweep {spec.name} interrupted in chunk {c}; finished "
                                    f"chunks are kept in {partial}" if partial else "")
        arrays = summarise_chunk(spec, res)
        if partial is not None and stop_after is None:
            save_arrays(partial / f"chunk{c:04d}.npz", arrays,
                        {"key": key, "seconds": res.seconds})
        results[c] = arrays
        seconds[c] = res.seconds
        bar.update(1)
    bar.close()
    if len(paths) > 1:   # e.g. Dask workers of which some have no kernel: numbers would mix
        raise RuntimeError(f"sweep {spec.name}: some chunks trained on the fast path and some on "
                           "the plain path; build the kernel where every worker runs "
                           "(`python -m pyrl_mini.fast`) and build again.")
    if stats is not None:
        stats["fast_path"] = paths.pop() if paths else None
        stats["train_seconds"] = float(sum(seconds.values()))
        stats["reused"] = len(wanted) - len(todo)
        stats["reused_seconds"] = float(sum(seconds[c] for c in wanted if c not in todo))
    lost = [c for c in wanted if c not in results]
    if lost:
        raise RuntimeError(f"sweep {spec.name}: the executor returned no result for chunks "
                           f"{lost}; run the same command again to train them.")
    order = [i for c in wanted for i in chunk_list[c]]
    merged = {k: np.concatenate([results[c][k] for c in wanted]) for k in results[wanted[0]]}
    cells = spec.cells()
    merged["cell"] = np.array(order, dtype=np.int32)
    merged["seed"] = np.array([cells[i][1] for i in order], dtype=np.int32)
    if spec.blocks:
        merged["block"] = np.array([spec.block_of(cells[i][1]) for i in order], dtype=np.int8)
    for name in spec.grid:
        merged["grid/" + name] = np.array([cells[i][0][name] for i in order])
    return merged


def _train_chunk(job):
    settings, stop_after, record_units = job
    return train(settings, progress=False, stop_after=stop_after, record_units=record_units)


class SweepData:
    """Loaded sweep arrays with selection by grid values.

    s.select(kappa=-0.2, entropy_coef=0.0) -> indices of the matching cells (all seeds).
    s.h("entropy")[idx] -> (cells, points) history; s.final("reward")[idx] -> (cells,).
    """

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict | None = None):
        self.arrays = arrays
        self.meta = meta or {}
        self.grid_names = [k[5:] for k in arrays if k.startswith("grid/")]

    def values(self, name: str) -> list:
        return sorted(set(self.arrays["grid/" + name].tolist()))

    def select(self, **values) -> np.ndarray:
        """Rows whose grid settings equal these values (block=k: of seed block k only)."""
        keep = np.ones(len(self.arrays["seed"]), dtype=bool)
        for name, v in values.items():
            if name == "block" and "block" in self.arrays:
                keep &= self.arrays["block"] == v
                continue
            if name not in self.grid_names:
                raise KeyError(f"{name!r} is not a grid setting of this sweep "
                               f"(grid: {self.grid_names})")
            col = self.arrays["grid/" + name]
            keep &= np.isclose(col, v) if np.issubdtype(col.dtype, np.number) else col == v
        return np.nonzero(keep)[0]

    def by_seed(self, **values) -> np.ndarray:
        """select(**values) ordered by seed, so the rows of two selections pair up run by run
        (cells with the same seed share initial weights and trials)."""
        idx = self.select(**values)
        return idx[np.argsort(self.arrays["seed"][idx], kind="stable")]

    def h(self, name: str) -> np.ndarray:
        return self.arrays["h/" + name]

    def final(self, name: str) -> np.ndarray:
        return self.arrays["final/" + name]

    @property
    def mode(self) -> np.ndarray:
        return self.arrays["mode"]

    @property
    def trapped(self) -> np.ndarray:
        return analysis.is_trapped(self.arrays["mode"])

    @property
    def block(self) -> np.ndarray:
        """Each run's seed block (1, 2, ...; all 1 for a sweep without blocks)."""
        return self.arrays.get("block", np.ones(len(self.arrays["seed"]), dtype=np.int8))

    @property
    def blocks(self) -> list[int]:
        return sorted(set(self.block.tolist()))

    def update_axis(self) -> np.ndarray:
        return (np.arange(self.h("reward").shape[1]) + 0.5) * self.stride

    # --- subsets and row orders that pair runs across settings and sweeps ---------------------
    def sorted_rows(self, *names: str, **values) -> np.ndarray:
        """select(**values) ordered by the grid settings `names` (the first varies slowest),
        then by seed. Two selections that hold the same (names..., seed) cells, of this sweep
        or of another on the same seeds, then pair up row by row; check that they do by
        comparing arrays["seed"] (and the grid columns) of the two."""
        rows = self.select(**values)
        keys = [self.arrays["seed"][rows]] + [self.arrays["grid/" + n][rows]
                                              for n in reversed(names)]
        return rows[np.lexsort(keys)]

    def record_updates(self) -> np.ndarray:
        """The update of each per-unit record (arrays["unit_dead"][:, j] is update
        record_updates()[j]): every stride-th update, from update 0."""
        return np.arange(self.arrays["unit_dead"].shape[1]) * self.stride

    # --- reading stored runs at an update: a setting, values and modes there, a run's log ----
    @property
    def stride(self) -> int:
        """Updates per stored history point: point j is the mean of updates j*stride ..
        (j+1)*stride - 1."""
        return int(self.meta.get("spec", {}).get("stride", 10))

    def setting(self, name: str) -> np.ndarray:
        """The value of a training setting for every run, shape (runs,): its grid column, else
        the sweep's base value, else the default it was made with (TrainSettings names, task
        and network ones too, e.g. entropy_coef, no_choice_penalty)."""
        if name in self.grid_names:
            return self.arrays["grid/" + name]
        base = self.meta.get("spec", {}).get("base", {})
        defaults = self.meta.get("defaults") or _flat_defaults()
        if name not in base and name not in defaults:
            raise KeyError(f"{name!r} is not a training setting (grid: {self.grid_names}; "
                           f"see config.TrainSettings)")
        return np.full(len(self.arrays["seed"]), base.get(name, defaults.get(name)))

    def _point(self, update: int) -> int:
        """Index of the stored point that holds `update`."""
        stored = self.h("reward").shape[1] * self.stride
        if not 0 <= update < stored:
            raise ValueError(f"update={update} is outside the stored {stored} updates "
                             f"(0 to {stored - 1}).")
        return update // self.stride

    def at(self, name: str, update: int) -> np.ndarray:
        """h(name) at the stored point that holds `update` (the mean of its `stride`
        updates), one value per run, shape (runs,)."""
        return self.h(name)[:, self._point(update)]

    def modes_at(self, update: int, window: int = 50) -> np.ndarray:
        """Behaviour mode (index into analysis.MODES) of every run over updates
        [update - window, update), shape (runs,), from the stored points.

        At the last update it equals the stored `mode` (analysis.mode_of_history on the full
        resolution histories) up to NaN handling. Without a stored choice_rate it is
        1 - abort_rate - no_choice_rate. Where the sweep stored the modes at this update
        (SweepSpec.mode_at, over its final_window), those exact modes are returned."""
        stored = self.arrays.get(f"mode_at/{update}")
        if stored is not None and window == self.meta.get("spec", {}).get("final_window", 50):
            return stored
        lo, hi = (update - window) // self.stride, update // self.stride
        if lo < 0 or hi > self.h("reward").shape[1]:
            raise ValueError(f"update={update} with window={window} is outside the stored "
                             f"{self.h('reward').shape[1] * self.stride} updates.")

        def mean(name):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: no choice made
                return np.nanmean(self.h(name)[:, lo:hi], axis=1)

        abort, none = mean("abort_rate"), mean("no_choice_rate")
        choice = mean("choice_rate") if "h/choice_rate" in self.arrays else 1 - abort - none
        return analysis.behaviour_mode(abort, none, choice, mean("left_rate"),
                                      mean("higher_ev_rate"))

    def history(self, rows) -> dict[str, np.ndarray]:
        """The stored histories of some runs as name -> (points, runs), the layout of
        analysis.report and analysis.mode_of_history (one point = the mean of `stride`
        updates). choice_rate is derived and kappa is the run's setting where not stored."""
        rows = np.atleast_1d(rows)
        out = {k[2:]: v[rows].T for k, v in self.arrays.items() if k.startswith("h/")}
        if "choice_rate" not in out:
            out["choice_rate"] = 1 - out["abort_rate"] - out["no_choice_rate"]
        if "kappa" not in out:
            out["kappa"] = np.broadcast_to(self.setting("kappa")[rows],
                                           out["reward"].shape).copy()
        return out

    def report(self, row: int, update: int | None = None, label: str = "") -> str:
        """analysis.report (the upstream debug layout) of run `row` at the stored point that
        holds `update` (None: the last), i.e. the mean of `stride` updates. Diagnostics the
        sweep did not keep print nan."""
        s = self.stride
        b = self.h("reward").shape[1] - 1 if update is None else self._point(update)
        text = analysis.report(self.history(row), b, 0, label=label, number=b * s)
        return text.replace(f"Update {b * s}", f"Updates {b * s}-{b * s + s - 1} (mean)", 1)

    def describe(self, row: int) -> str:
        """A run in words: its grid values and seed, e.g. "kappa=-0.4 lr=0.03 seed=1"."""
        values = [(g, self.arrays["grid/" + g][row]) for g in self.grid_names]
        parts = [f"{g}={v:g}" if isinstance(v, np.number) else f"{g}={v}" for g, v in values]
        return " ".join(parts + [f"seed={self.arrays['seed'][row]}"])

    # --- joins: the runs of some cells as a sweep of their own, two sweeps as one, tables ---
    def take(self, rows) -> SweepData:
        """The given rows (indices, in that order, or a boolean mask) as a sweep of their own,
        with the same meta: d.take(d.trapped) holds d's collapsed runs."""
        return SweepData({name: a[rows] for name, a in self.arrays.items()}, self.meta)

    def subset(self, **values) -> SweepData:
        """take(by_seed(**values)): the runs of the cells with these grid values, in seed order,
        so two subsets of sweeps that share their seeds pair up run by run."""
        return self.take(self.by_seed(**values))

    @property
    def mode_names(self) -> list[str]:
        """Each row's behaviour mode by name (analysis.MODES; "stopped" for a stopped run)."""
        return [analysis.MODES[m] if m >= 0 else "stopped" for m in self.mode]

    def stack(self, other: SweepData, **fill) -> SweepData:
        """The rows of self, then those of other, as one sweep (meta and stride: self's).

        A grid setting that only one of the two varies needs the value the other ran at, in
        fill: collapse_kappa (entropy_coef 0 throughout, so not a grid setting) and
        collapse_entropy (entropy_coef 0.01, 0.05) make the kappa x entropy_coef grid as
        kappa_runs.stack(entropy_runs, entropy_coef=0.0). Arrays only one of them holds are
        left out."""
        names = list(dict.fromkeys(self.grid_names + other.grid_names))
        missing = [n for n in names if n not in fill
                   and not (n in self.grid_names and n in other.grid_names)]
        if missing:
            raise KeyError(f"grid settings {missing} are varied by only one of the two sweeps; "
                           f"give the value the other ran at, e.g. stack(other, "
                           f"{missing[0]}=...)")

        def column(d: SweepData, name: str) -> np.ndarray:
            if name in d.grid_names:
                return d.arrays["grid/" + name]
            return np.full(len(d.arrays["seed"]), fill[name])

        arrays = {k: np.concatenate([a, other.arrays[k]]) for k, a in self.arrays.items()
                  if k in other.arrays and not k.startswith("grid/")}
        for name in names:
            arrays["grid/" + name] = np.concatenate([column(self, name), column(other, name)])
        spec = self.meta.get("spec", {})
        spec = {**spec, "name": f"{spec.get('name', '?')} + "
                                f"{other.meta.get('spec', {}).get('name', '?')}",
                "grid": {n: sorted(set(arrays["grid/" + n].tolist())) for n in names}}
        return SweepData(arrays, {**self.meta, "spec": spec})

    def per_cell(self, values, *names: str) -> np.ndarray:
        """values (one per row: final("reward"), collapsed, ...) arranged by grid cell, shape
        (len(values(name)) for each name) + (seeds,), each cell's runs in seed order, so the
        last index pairs runs across cells. Every cell needs the same number of seeds."""
        values = np.asarray(values)
        axes = [self.values(n) for n in names]
        cells = [values[self.by_seed(**dict(zip(names, combo, strict=True)))]
                 for combo in itertools.product(*axes)]
        if len({len(c) for c in cells}) > 1:
            raise ValueError(f"the cells of {names} hold different numbers of runs "
                             f"{sorted({len(c) for c in cells})}; select a part where every "
                             f"cell has the same seeds (subset) first")
        return np.array(cells).reshape(*(len(a) for a in axes), -1)

    def first_update_above(self, name: str, level: float) -> np.ndarray:
        """Per row, the update by which the history of `name` first rises above level: the end
        of the first stored block (stride updates) whose mean is above it; -1 if none is.
        Shape (rows,)."""
        above = np.nan_to_num(self.h(name), nan=-np.inf) > level
        return np.where(above.any(1), (above.argmax(1) + 1) * self.stride, -1)


    # --- pairing runs: the same seed under two settings, or the same run in two sweeps --------
    def _run_keys(self, rows, names) -> list[tuple]:
        """(seed, value of each grid setting in names) of each row: what makes two runs the
        same run, or a pair that differs only in the settings left out of names."""
        cols = [self.arrays["seed"][rows]] + [self.arrays["grid/" + n][rows] for n in names]
        return [tuple(c[j].item() for c in cols) for j in range(len(rows))]

    @staticmethod
    def _join(keys_a, rows_a, keys_b, rows_b) -> tuple[np.ndarray, np.ndarray]:
        """The rows of a and of b whose keys are equal, aligned, in the order of a's rows."""
        where_b = dict(zip(keys_b, rows_b, strict=True))
        if len(where_b) < len(keys_b) or len(set(keys_a)) < len(keys_a):
            raise ValueError("two runs share a seed and grid values: a sweep holds one run "
                             "per cell and seed")
        pairs = [(i, where_b[k]) for k, i in zip(keys_a, rows_a, strict=True) if k in where_b]
        return (np.array([i for i, _ in pairs], dtype=int),
                np.array([j for _, j in pairs], dtype=int))

    def pair(self, name: str, a, b, **values) -> tuple[np.ndarray, np.ndarray]:
        """Rows (at name=a, at name=b) of the runs at either value of the grid setting `name`
        (among select(**values)), paired run by run: the same seed and the same value of every
        other grid setting, so the two runs of a pair share their initial weights and trials
        and differ only in `name`. Runs without a partner are left out; pairs follow a's
        rows. e.g. d.pair("wout_std", 0.1, 0.01): one pair per (kappa, seed)."""
        others = [n for n in self.grid_names if n != name and n not in values]
        rows_a = self.select(**{**values, name: a})
        rows_b = self.select(**{**values, name: b})
        return self._join(self._run_keys(rows_a, others), rows_a,
                          self._run_keys(rows_b, others), rows_b)

    def match(self, other: SweepData) -> tuple[np.ndarray, np.ndarray]:
        """Rows (of self, of other) that hold the same cell of the two sweeps: the same seed
        and the same value of every grid setting, e.g. a sweep and its longer version, or its
        repeat with an entropy bonus (a paired comparison). Both must vary the same settings;
        runs without a partner are left out; pairs follow self's rows."""
        if sorted(self.grid_names) != sorted(other.grid_names):
            raise KeyError(f"the two sweeps vary different settings ({self.grid_names} and "
                           f"{other.grid_names}): match the same cells with pair() or "
                           f"select() on each")
        names = self.grid_names
        rows, other_rows = np.arange(len(self.arrays["seed"])), np.arange(len(other.arrays["seed"]))
        return self._join(self._run_keys(rows, names), rows,
                          other._run_keys(other_rows, names), other_rows)
