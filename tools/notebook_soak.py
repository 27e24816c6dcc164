"""Execute every notebook many times in a row on a loaded machine and catch a hang in the act.

    .venv/bin/python tools/notebook_soak.py                       # 10 rounds, 1 CPU burner
    .venv/bin/python tools/notebook_soak.py --rounds 2 --burners 0 notebooks/00b_*.ipynb
    nice -n 10 .venv/bin/python tools/notebook_soak.py --log soak.jsonl > soak.txt 2>&1 &

Each execution goes through nbclient, the library under both nbmake (`make test`) and
`jupyter nbconvert --execute`, with a per-cell timeout. Beside it run `--burners` CPU-bound
processes (busy loops) so the kernel competes for the cores as on a shared machine.

When a cell runs longer than `--dump-after` seconds, three stack dumps are taken while it is
still stuck, so a hang can be told apart: in the kernel or in the client, in Python or in C:
  - the kernel's Python stacks, written by faulthandler inside the kernel (armed at the start
    of every cell by a first cell this script adds; it fires from a C thread, so it works
    while the kernel holds the GIL in C code);
  - the kernel's stacks from outside with py-spy (`py-spy dump`, with native frames), if
    py-spy is on PATH or given by --py-spy (pip install py-spy; optional);
  - this process's own threads (nbclient's side: is it waiting for a reply that never came?),
    and the kernel's state (running or sleeping, CPU seconds), and the load average.
Then the cell's timeout ends the execution; the next one starts with a new kernel.

Every execution is one JSON line in --log (notebook, round, seconds, result, the slowest
cell, load average); the summary at the end gives, per notebook, the count, the median and
the longest wall time, and every hang or error with its dump's file. Exit status 1 if any
execution hung or failed. Results: "ok", "error", "timeout", "dead kernel", and for a cell
that finished only after its dump, "hung until its timeout" (nbclient's poll found the reply
at its timeout: see tools/nbclient_fix.py) or "hung until freed" (by the look at the client's
socket or the kernel_info nudge that follow each dump). Without --without-fix the run uses
tools/nbclient_fix.py, as `make test` and `make site` do.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbclient_fix  # tools/
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

REPO = Path(__file__).resolve().parents[1]

# The first cell of every execution: re-arm a faulthandler dump at the start of each cell and
# cancel it at the end, so a dump appears only for a cell that runs past the threshold; and
# note each cell's start and end in a trace file, which tells whether the kernel ever received
# a cell the client is waiting for.
ARM_CELL = """\
import faulthandler as _soak_fh, time as _soak_time
_soak_file = open({path!r}, "a", buffering=1)
_soak_trace = open({trace!r}, "a", buffering=1)
def _soak_arm(info=None):
    _soak_trace.write(f"{{_soak_time.strftime('%H:%M:%S')}} kernel starts "
                      f"{{(getattr(info, 'raw_cell', '') or '')[:50]!r}}\\n")
    _soak_fh.dump_traceback_later({seconds!r}, file=_soak_file)
def _soak_disarm(result=None):
    _soak_fh.cancel_dump_traceback_later()
    _soak_trace.write(f"{{_soak_time.strftime('%H:%M:%S')}} kernel ends the cell\\n")
get_ipython().events.register("pre_run_cell", _soak_arm)
get_ipython().events.register("post_run_cell", _soak_disarm)
"""

BURN = "while True: pass"


def start_burners(count: int) -> list[subprocess.Popen]:
    """`count` busy-loop processes: the load beside the notebooks."""
    return [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]


def kernel_pid(client: NotebookClient) -> int | None:
    km = getattr(client, "km", None)
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(proc, "pid", None)


def kernel_state(pid: int | None) -> str:
    """One line: the kernel's state and CPU seconds (running, or sleeping = waiting)."""
    if pid is None:
        return "kernel: no pid"
    try:
        import psutil

        p = psutil.Process(pid)
        cpu = p.cpu_times()
        return (f"kernel pid {pid}: {p.status()}, {p.num_threads()} threads, "
                f"cpu user {cpu.user:.1f} s system {cpu.system:.1f} s")
    except Exception as exc:  # the kernel may be gone; the dump must not fail the run
        return f"kernel pid {pid}: {type(exc).__name__}: {exc}"


class Watchdog:
    """Times the running cell; past `after` seconds, dumps every stack once for that cell."""

    def __init__(self, after: float, dump_path: Path, py_spy: str | None, nudge: bool):
        self.after, self.dump_path, self.py_spy, self.nudge = after, dump_path, py_spy, nudge
        self.trace_path = dump_path.with_suffix(".trace")
        self.nudged_cell: int | None = None   # the stuck cell a nudge was sent for
        self.recovered = False                # and it finished after the nudge
        self.recovered_after = 0.0            # seconds from the cell's start
        self.client: NotebookClient | None = None
        self.cell: int | None = None
        self.started = 0.0
        self.dumped = False
        self.dumps = 0
        self.cell_seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    # nbclient's hooks (may be coroutines or plain functions; plain ones are fine); index 0
    # is the arming cell, so notebook cell i is index i + 1
    def cell_start(self, cell, cell_index: int) -> None:
        self.cell, self.started, self.dumped = cell_index, time.monotonic(), False

    def cell_done(self, cell, cell_index: int, **_kwargs) -> None:
        if self.nudged_cell == cell_index:
            self.recovered = True
            self.recovered_after = time.monotonic() - self.started
        if self.cell == cell_index and cell_index > 0:
            self.cell_seconds[cell_index - 1] = time.monotonic() - self.started
        self.cell = None

    def slowest(self) -> tuple[int, float]:
        """(notebook cell index, seconds) of the slowest cell, the unfinished one included."""
        seconds = dict(self.cell_seconds)
        if self.cell is not None and self.cell > 0:
            seconds[self.cell - 1] = time.monotonic() - self.started
        return max(seconds.items(), key=lambda kv: kv[1], default=(-1, 0.0))

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            cell = self.cell
            if cell is None or self.dumped or time.monotonic() - self.started < self.after:
                continue
            self.dumped = True
            self.dumps += 1
            try:
                self._dump(cell)
            except Exception as exc:  # a failed dump is reported, the soak goes on
                print(f"  dump failed: {type(exc).__name__}: {exc}", flush=True)

    def _dump(self, cell: int) -> None:
        pid = kernel_pid(self.client) if self.client else None
        with open(self.dump_path, "a", buffering=1) as f:
            f.write(f"\n== cell {cell - 1} of the notebook has run "
                    f"{time.monotonic() - self.started:.0f} s; load average "
                    f"{os.getloadavg()} ==\n{kernel_state(pid)}\n")
            if self.py_spy and pid:
                run = subprocess.run([self.py_spy, "dump", "--native", "--pid", str(pid)],
                                     capture_output=True, text=True, timeout=60)
                f.write(f"== py-spy dump --native --pid {pid} ==\n{run.stdout}{run.stderr}")
            f.write("== this process (nbclient's side) ==\n")
            f.flush()
            faulthandler.dump_traceback(file=f, all_threads=True)
            if self.trace_path.exists():
                tail = self.trace_path.read_text().splitlines()[-4:]
                f.write("== the kernel's last cell events ==\n" + "\n".join(tail) + "\n")
            if self.nudge and self.client is not None:
                self.nudged_cell = cell
                f.write(f"== the client's shell socket: {self._client_socket()} ==\n")
                f.flush()
                time.sleep(5)
                if self.recovered:
                    f.write("== the cell finished within 5 s of that look: the reply had "
                            "been waiting in the client's socket ==\n")
                else:
                    f.write(f"== nudge: {self._nudge()} ==\n")
        print(f"  cell {cell - 1} past {self.after:g} s: stacks in {self.dump_path}",
              flush=True)

    def _client_socket(self) -> str:
        """Is a message waiting in the client's shell socket while it waits for one? Reading
        ZMQ_EVENTS also re-arms the socket's edge-triggered wake-up, so a reply the client's
        event loop missed is then read (the cell finishes)."""
        import zmq

        try:
            events = self.client.kc.shell_channel.socket.getsockopt(zmq.EVENTS)
        except Exception as exc:
            return f"cannot be read ({type(exc).__name__}: {exc})"
        return ("a message is waiting in it (ZMQ_EVENTS has POLLIN)" if events & zmq.POLLIN
                else "no message waiting")

    def _nudge(self) -> str:
        """Ask the kernel for kernel_info on a new connection. A request stranded unread in
        the kernel's shell socket (ipykernel 7: ipython/ipykernel#1554) is read when another
        message arrives on that socket; if the stuck cell then finishes, that was the hang."""
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self.client.kc.get_connection_info(session=True))
        kc.start_channels()
        try:
            t0 = time.monotonic()
            kc.kernel_info(reply=True, timeout=10)
            return f"a new client's kernel_info_request was answered in " \
                   f"{time.monotonic() - t0:.1f} s"
        except Exception as exc:
            return f"a new client's kernel_info_request failed: {type(exc).__name__}: {exc}"
        finally:
            kc.stop_channels()

    def stop(self) -> None:
        self._stop.set()


def execute(path: Path, cell_timeout: float, watchdog: Watchdog, dump_path: Path,
            kernel: str) -> tuple[str, str]:
    """Run one notebook to the end; ("ok" | "timeout" | "error" | "dead kernel", detail)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nb.cells.insert(0, nbformat.v4.new_code_cell(ARM_CELL.format(
        path=str(dump_path), trace=str(watchdog.trace_path), seconds=watchdog.after)))
    client = NotebookClient(nb, timeout=int(cell_timeout), kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_execute=watchdog.cell_start,
                            on_cell_executed=watchdog.cell_done)
    watchdog.client = client
    try:
        client.execute()
    except CellTimeoutError as exc:
        return "timeout", str(exc).splitlines()[0]
    except DeadKernelError as exc:
        return "dead kernel", str(exc).splitlines()[0] if str(exc) else "DeadKernelError"
    except CellExecutionError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        return "error", lines[-1][:300] if lines else "CellExecutionError"
    finally:
        watchdog.client = None
    return "ok", ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--rounds", type=int, default=10, help="times to run each notebook")
    parser.add_argument("--burners", type=int, default=1,
                        help="CPU-bound processes beside the notebooks (default 1)")
    parser.add_argument("--cell-timeout", type=float, default=300,
                        help="seconds one cell may run before the execution is ended")
    parser.add_argument("--dump-after", type=float, default=120,
                        help="seconds of one cell after which every stack is dumped")
    parser.add_argument("--log", type=Path, default=Path("notebook_soak.jsonl"),
                        help="one JSON line per execution (appended)")
    parser.add_argument("--dump-dir", type=Path, default=Path("notebook_soak_dumps"),
                        help="where the stack dumps go, one file per execution that had one")
    parser.add_argument("--py-spy", default=shutil.which("py-spy"),
                        help="the py-spy program (default: from PATH; none: no outside dump)")
    parser.add_argument("--kernel", default="python3", help="the Jupyter kernel's name")
    parser.add_argument("--without-fix", dest="fix", action="store_false",
                        help="run nbclient as it comes, without tools/nbclient_fix.py (which "
                        "`make test` and `make site` install): to see the hang it prevents")
    parser.add_argument("--no-nudge", dest="nudge", action="store_false",
                        help="after a dump, do not send the stuck kernel a kernel_info_request "
                        "on a new connection (which frees a request stranded in its socket)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give 1 or more")
    if args.burners < 0:
        parser.error(f"--burners {args.burners}: give 0 or more")
    if not 0 < args.dump_after < args.cell_timeout:
        parser.error(f"--dump-after {args.dump_after:g} must be above 0 and below "
                     f"--cell-timeout {args.cell_timeout:g}, so the dump comes while the cell "
                     "still runs")
    if args.fix:
        nbclient_fix.install()
    paths = args.notebooks or sorted((REPO / "notebooks").glob("*.ipynb"))
    for p in paths:
        if not p.is_file():
            parser.error(f"{p} is not a notebook file")
    args.dump_dir.mkdir(parents=True, exist_ok=True)
    print(f"{len(paths)} notebooks x {args.rounds} rounds, {args.burners} burners, cell "
          f"timeout {args.cell_timeout:g} s, dumps after {args.dump_after:g} s, py-spy "
          f"{args.py_spy or 'not found (kernel dump by faulthandler only)'}, "
          f"{'with' if args.fix else 'WITHOUT'} tools/nbclient_fix.py", flush=True)

    # `kill PID` ends the soak through the finally below, which stops the burners too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    burners = start_burners(args.burners)
    results: list[dict] = []
    try:
        for rnd in range(1, args.rounds + 1):
            for path in paths:
                dump = args.dump_dir / f"{path.stem}-round{rnd}.txt"
                watchdog = Watchdog(args.dump_after, dump, args.py_spy, args.nudge)
                t0 = time.monotonic()
                result, detail = execute(path, args.cell_timeout, watchdog, dump, args.kernel)
                seconds = time.monotonic() - t0
                watchdog.stop()
                if result == "ok" and watchdog.recovered:  # a hang all the same
                    # nbclient's one long poll checks the socket once more at its timeout
                    result = ("hung until its timeout" if watchdog.recovered_after >=
                              args.cell_timeout - 2 else "hung until freed")
                slow = watchdog.slowest()
                row = {"notebook": path.name, "round": rnd, "seconds": round(seconds, 1),
                       "result": result, "detail": detail, "slowest_cell": slow[0],
                       "slowest_cell_seconds": round(slow[1], 1),
                       "load": [round(x, 2) for x in os.getloadavg()],
                       "dump": str(dump) if watchdog.dumps or result != "ok" else None,
                       "nudged": watchdog.nudged_cell is not None,
                       "recovered_after_nudge": watchdog.recovered,
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
                if dump.exists() and dump.stat().st_size == 0:
                    dump.unlink()  # the kernel opened it; nothing was written
                watchdog.trace_path.unlink(missing_ok=True)
                results.append(row)
                with open(args.log, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"round {rnd} {path.name}: {result} in {seconds:.0f} s (slowest cell "
                      f"{row['slowest_cell']}: {row['slowest_cell_seconds']:.0f} s; load "
                      f"{row['load'][0]:.1f}){' ' + detail if detail else ''}", flush=True)
    finally:
        for b in burners:
            b.kill()
            b.wait()

    print("\nnotebook: executions, median s, longest s, not ok")
    for path in paths:
        rows = [r for r in results if r["notebook"] == path.name]
        secs = [r["seconds"] for r in rows]
        bad = [f"round {r['round']} {r['result']} ({r['dump']})" for r in rows
               if r["result"] != "ok"]
        print(f"  {path.name}: {len(rows)}, {statistics.median(secs):.0f}, {max(secs):.0f}, "
              f"{'; '.join(bad) or 'none'}")
    slow = [r for r in results if r["dump"]]
    print(f"{len(results)} executions, {sum(r['result'] == 'ok' for r in results)} ok, "
          f"{len(slow)} with a cell past {args.dump_after:g} s, "
          f"{sum(r['result'] == 'hung until its timeout' for r in results)} of them ended "
          f"only at the cell's timeout, {sum(r['result'] == 'hung until freed' for r in results)}"
          " freed by the look or the nudge")
    return 0 if all(r["result"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
