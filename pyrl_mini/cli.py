"""Command line: `python -m pyrl_mini train --kappa -0.2 --entropy-coef 0.01 --updates 2000`.

Any setting can also be given as --set name=value (task and network settings included), e.g.
--set no_choice_penalty=-1.0 --set wout_std=0. Prints the upstream-style report every
--report-every updates and saves the history (.npz) and final parameters (.pt).
"""

from __future__ import annotations

import argparse
import json
import sys

from .config import SettingsError, TrainSettings


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pyrl_mini", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one network and print diagnostics")
    t.add_argument("--kappa", type=float, default=0.0, help="risk parameter in (-1, 1)")
    t.add_argument("--entropy-coef", type=float, default=0.0)
    t.add_argument("--lr", type=float, default=None, help="policy learning rate")
    t.add_argument("--updates", type=int, default=None)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--network", choices=("gru", "simple"), default=None)
    t.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="any other setting, e.g. --set wout_std=0.1 (repeatable)")
    t.add_argument("--report-every", type=int, default=100)
    t.add_argument("--out", default="history.npz", help="history file (.npz)")
    t.add_argument("--checkpoint", default=None, help="also save parameters here (.pt)")
    t.add_argument("--no-progress", action="store_true")
    return parser


def settings_from_args(args) -> TrainSettings:
    changes = {"kappa": args.kappa, "entropy_coef": args.entropy_coef, "seed": args.seed}
    for flag, name in (("lr", "lr"), ("updates", "updates"), ("batch_size", "batch_size"),
                       ("network", "network_type")):
        if getattr(args, flag) is not None:
            changes[name] = getattr(args, flag)
    for item in args.set:
        if "=" not in item:
            raise SettingsError(f"--set {item!r} must look like NAME=VALUE, e.g. wout_std=0.1")
        name, value = item.split("=", 1)
        changes[name.strip().replace("-", "_")] = _parse_value(value)
    return TrainSettings().replace(**changes)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except (SettingsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from .analysis import report
    from .io import save_checkpoint, save_history
    from .trainer import train

    def show(update: int, row: dict) -> None:
        if args.report_every and (update % args.report_every == 0
                                  or update == settings.updates - 1):
            hist = {k: v.reshape(1, -1) for k, v in row.items()}
            print(report(hist, 0, 0, number=update), flush=True)
            print()

    result = train(settings, progress=not args.no_progress, callback=show)
    path = save_history(args.out, result)
    print(f"saved history of {result.updates_done} updates to {path}")
    if args.checkpoint:
        print(f"saved parameters to {save_checkpoint(args.checkpoint, result)}")
    return 130 if result.interrupted else 0
