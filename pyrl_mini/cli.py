"""Command line: `python -m pyrl_mini train --kappa -0.2 --entropy-coef 0.01 --updates 2000`,
and `python -m pyrl_mini lab` (also installed as `pyrl-mini lab`: the notebooks in a folder of
your own, in JupyterLab; see pyrl_mini/lab.py).

Any setting can also be given as --set name=value (task and network settings included), e.g.
--set no_choice_penalty=-1.0 --set wout_std=0; `train --list-settings` lists them with their
defaults and meaning. Prints the upstream-style report every --report-every updates and saves
the history (.npz) and final parameters (.pt).

Outputs are written to a temporary file beside them and renamed into place when the run has
ended, so an existing file is only ever replaced by a finished result: an existing --out or
--checkpoint is refused unless --force is given, a run interrupted before its first update
writes nothing, and anything that is not a regular file (a folder, a device, a link) is refused
before training.

Exit status: 0 done, 2 bad input (nothing trained), 3 a network diverged (non-finite loss or
gradient; the history is saved), 130 interrupted (the history so far is saved, if any).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import stat
import sys
import tempfile
import warnings
from pathlib import Path

from .config import SettingsError, TrainSettings, settings_table

EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


class _HelpFormatter(argparse.RawDescriptionHelpFormatter,
                     argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's line breaks and shows each option's default."""


class _Parser(argparse.ArgumentParser):
    """An unknown option gets the closest valid one (`--kapa` -> `--kappa`, or `--set NAME=`)."""

    def error(self, message: str):
        if "unrecognized arguments" in message or "ambiguous option" in message:
            words = message.split(":", 1)[-1].split()
            hints = [_suggest(self, w) for w in words if w.startswith("-")]
            hints = [h for h in hints if h]
            if hints:
                message += ". " + " ".join(hints)
        super().error(message)


def _suggest(parser: argparse.ArgumentParser, word: str) -> str:
    flag = word.split("=", 1)[0]
    options = [o for a in parser._actions for o in a.option_strings]
    for action in parser._actions:  # the subcommand's own options
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                options += [o for a in sub._actions for o in a.option_strings]
    name = flag.lstrip("-").replace("-", "_")
    names = [row[1] for row in settings_table()]
    if name in names:
        return f"Use --set {name}=VALUE."
    close = difflib.get_close_matches(flag, options, n=1)
    if close:
        return f"Did you mean {close[0]}?"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"Did you mean --set {close[0]}=VALUE?"
    return "See --help, and --list-settings for the names --set takes."


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give N >= 1 to print every N "
                                         "updates, or 0 to print no report")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pyrl_mini", description=__doc__,
                     formatter_class=_HelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train one network and print diagnostics",
                       description=__doc__, formatter_class=_HelpFormatter)
    default = TrainSettings()
    t.add_argument("--kappa", type=float, default=0.0,
                   help="risk parameter in (-1, 1): < 0 risk-seeking, > 0 risk-averse")
    t.add_argument("--entropy-coef", type=float, default=0.0,
                   help="weight of the entropy bonus (0: none)")
    t.add_argument("--lr", type=float, default=default.lr, help="policy learning rate")
    t.add_argument("--updates", type=int, default=default.updates, help="number of updates")
    t.add_argument("--batch-size", type=int, default=default.batch_size,
                   help="trials per update")
    t.add_argument("--seed", type=int, default=0, help="random seed of weights and trials")
    t.add_argument("--network", choices=("gru", "simple"),
                   default=default.network.network_type, help="network type")
    t.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any other setting, e.g. --set wout_std=0.1 (repeatable; applied "
                   "after the options above; --list-settings shows the names)%(default).0s")
    t.add_argument("--list-settings", action="store_true",
                   help="list every name --set takes, with its default and meaning, and exit")
    t.add_argument("--report-every", type=_non_negative_int, default=100, metavar="N",
                   help="print the upstream-style report every N updates and at the last; "
                   "0: never")
    t.add_argument("--out", default="history.npz", help="history file (.npz) to write")
    t.add_argument("--checkpoint", default=None,
                   help="also save the final parameters here (.pt); None: not saved")
    t.add_argument("--force", action="store_true",
                   help="replace --out and --checkpoint files that exist (when the run ends, "
                   "and only if it finished an update)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    from . import lab  # the standard library and the editions only; nothing trains

    lb = sub.add_parser("lab", help="copy the notebooks to a folder and open JupyterLab there",
                        description=lab.__doc__, formatter_class=_HelpFormatter,
                        epilog="Other options go to JupyterLab, e.g. --port=8889.")
    lb.add_argument("folder", nargs="?", default=lab.DEFAULT_FOLDER,
                    help="the working folder (created if needed; notebooks already in it are "
                    "kept as they are)")
    lb.add_argument("--edition", choices=lab.editions.EDITIONS,
                    default="self-study",
                    help="self-study: solutions and Think! answers a click away; student: "
                    "removed; instructor: shown, each exercise cell holding its solution")
    lb.add_argument("--execute", action="store_true",
                    help="run every notebook in the folder top to bottom instead of opening "
                    "JupyterLab, and report what the exercise checkers said")
    lb.add_argument("--no-build", action="store_true",
                    help="do not build the C++ fast path first (the notebooks then train on "
                    "the plain path unless it is built)")
    lb.add_argument("--timeout", type=int, default=600,
                    help="seconds a cell may take with --execute")
    return parser


def settings_from_args(args) -> TrainSettings:
    changes = {"kappa": args.kappa, "entropy_coef": args.entropy_coef, "seed": args.seed}
    for flag, name in (("lr", "lr"), ("updates", "updates"), ("batch_size", "batch_size"),
                       ("network", "network_type")):
        changes[name] = getattr(args, flag)
    for item in args.set:
        if "=" not in item:
            raise SettingsError(f"--set {item!r} must look like NAME=VALUE, e.g. wout_std=0.1")
        name, value = item.split("=", 1)
        changes[name.strip().replace("-", "_")] = _parse_value(value)
    return TrainSettings().replace(**changes)


def _name_limits(folder: Path) -> tuple[int, int]:
    """The longest file name and path this file system takes (Linux: 255 and 4096 bytes)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX, or no answer: the usual limits
        return 255, 4096


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def describe_existing(path: Path) -> str:
    """What an existing output file holds, in a few words (for the overwrite messages)."""
    from .io import DataFileError, load_checkpoint, load_history

    try:
        if path.suffix == ".pt":
            load_checkpoint(path)
            return "a pyrl_mini checkpoint"
        return f"a pyrl_mini history of {len(load_history(path)['history']['reward'])} updates"
    except (DataFileError, KeyError, OSError, ValueError):
        return f"{path.stat().st_size:,} bytes that are not a pyrl_mini result"


def check_writable(path: str | Path, flag: str, force: bool = False) -> Path:
    """Refuse, before any training, a path the result could not or should not be written to:
    a name too long, anything but a regular file or a new path, a folder without write
    permission, and an existing file unless force."""
    path = Path(path).expanduser()
    example = "history.npz" if flag == "--out" else "params.pt"
    parent = path.absolute().parent
    while not parent.exists():  # atomic_write creates missing folders; check where it would
        parent = parent.parent
    name_max, path_max = _name_limits(parent if parent.is_dir() else Path("/"))
    longest = max(path.absolute().parts, key=lambda part: len(os.fsencode(part)))
    if len(os.fsencode(longest)) > name_max:
        raise SettingsError(f"{flag} {str(path)[:60]}...: a name in it is "
                            f"{len(os.fsencode(longest))} bytes long, and this file system "
                            f"takes at most {name_max}: give a shorter name, e.g. {flag} "
                            f"{example}")
    if len(os.fsencode(str(path.absolute()))) > path_max:
        raise SettingsError(f"{flag} {str(path)[:60]}...: the path is longer than the "
                            f"{path_max} bytes this system takes: give a shorter one")
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # a new path (or one under a file, refused below)
    except OSError as err:
        raise SettingsError(f"{flag} {path} cannot be checked ({err.strerror}): give another "
                            f"path, e.g. {flag} /tmp/{example}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise SettingsError(f"{flag} {path} is a directory: give a file name, e.g. "
                            f"{flag} {path / example}")
    if mode is not None and not stat.S_ISREG(mode):
        # writing would replace it by a regular file (a device node, as root) or follow it
        raise SettingsError(f"{flag} {path} is {_kind(mode)}, not a regular file: give a new "
                            f"file name, e.g. {flag} {path.parent / example}")
    if mode is not None and not force:
        raise SettingsError(f"{flag} {path} exists ({describe_existing(path)}): add --force "
                            "to replace it when this run ends, or give a new name")
    if not parent.is_dir():
        raise SettingsError(f"{flag} {path}: {parent} is a file, not a folder. Give a path in "
                            f"a folder, e.g. {flag} /tmp/{example}")
    try:  # what atomic_write will do: a temporary file in that folder
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".pyrl_mini_probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise SettingsError(f"{flag} {path} cannot be written ({err.strerror} in {parent}): "
                            f"give a path in a folder you can write to, e.g. {flag} /tmp/{example}"
                            ) from None
    return path


def _save(save, path: Path, result, what: str, write) -> Path | None:
    """Save with save(path, result); if that fails after all, save to a temporary file so the
    run is not lost."""
    try:
        return save(path, result)
    except OSError as err:
        fd, fallback = tempfile.mkstemp(prefix="pyrl_mini_", suffix=path.suffix or ".npz")
        os.close(fd)
        saved = save(fallback, result)
        write(f"error: could not write the {what} to {path} ({err}); saved it to {saved} "
              "instead.")
        return None


def list_settings() -> str:
    rows = settings_table()
    width = max(len(r[1]) for r in rows)
    lines = ["Settings --set takes (NAME=VALUE; values are JSON: 0.1, -1, \"gru\"):"]
    group = None
    for g, name, default, meaning in rows:
        if g != group:
            lines.append(f"{g}:")
            group = g
        lines.append(f"  {name:<{width}}  default {json.dumps(default):<10}  {meaning}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":  # options it does not know go to JupyterLab (--port=8889, ...)
        from . import lab

        return lab.main(args.folder, args.edition, run=args.execute, timeout=args.timeout,
                        build=not args.no_build, extra=extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.list_settings:
        print(list_settings())
        return 0
    try:
        settings = settings_from_args(args)
        out = check_writable(args.out, "--out", args.force)
        checkpoint = (check_writable(args.checkpoint, "--checkpoint", args.force)
                      if args.checkpoint else None)
        if checkpoint is not None and checkpoint.resolve() == out.resolve():
            raise SettingsError(f"--out and --checkpoint are the same file {out}: give two "
                                "names, e.g. --checkpoint params.pt")
    except (SettingsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from tqdm.auto import tqdm

    from .analysis import report
    from .io import save_checkpoint, save_history
    from .trainer import train

    def write(text: str, err: bool = False) -> None:  # below a running progress bar, not on it
        tqdm.write(text, file=sys.stderr if err else sys.stdout)

    def show(update: int, row: dict) -> None:
        if args.report_every and (update % args.report_every == 0
                                  or update == settings.updates - 1):
            hist = {k: v.reshape(1, -1) for k, v in row.items()}
            write(report(hist, 0, 0, number=update) + "\n")

    with warnings.catch_warnings(record=True) as caught:  # one line each, below the bar
        warnings.simplefilter("always", RuntimeWarning)
        result = train(settings, progress=not args.no_progress, callback=show)
    for w in caught:
        write(f"warning: {w.message}", err=True)
    if result.updates_done == 0:  # Ctrl-C before the first update: nothing worth a file
        write(f"interrupted before the first update: nothing saved, {out} left as it was",
              err=True)
        return EXIT_INTERRUPTED
    for target, save, what in ((out, save_history, "history"),
                               (checkpoint, save_checkpoint, "parameters")):
        if target is None:
            continue
        replaced = f" (replacing {describe_existing(target)})" if target.exists() else ""
        path = _save(save, target, result, what, lambda t: write(t, err=True))
        if path is not None:
            write(f"saved {what} of {result.updates_done} updates to {path}{replaced}")
    if result.interrupted:
        return EXIT_INTERRUPTED
    stopped = int(result.stopped_at[0])
    if stopped >= 0:
        write(f"error: the network diverged at update {stopped} (non-finite loss or gradient); "
              "its history ends there. Lower the learning rate (e.g. --lr 0.001).",
              err=True)
        return EXIT_DIVERGED
    return 0
