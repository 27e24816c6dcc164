"""The trainer's C++ recurrence (recurrence.cpp), compiled once per machine on first use.

    python -m pyrl_mini.kernel        # compile it now (make setup does), and say where it is

The trainer's fast path (networks.run_readout_fast) uses it when it loads, and otherwise the
Python networks.Recurrence: the same computation op by op from Python (tests/test_kernel.py
compares the two), 1.2-2 times slower (about 1.7 times for one network at the default
settings). Compiling needs a C++ compiler (g++ or clang) and takes about 30 s; the result is
cached by torch under ~/.cache/torch_extensions (or $TORCH_EXTENSIONS_DIR), named after the
CPU's features (it is built for this CPU). PYRL_MINI_KERNEL=0 turns the kernel off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import warnings
from pathlib import Path

SOURCE = Path(__file__).with_name("recurrence.cpp")
NAME = "pyrl_mini_recurrence"

_module = None
_why_not: str | None = None
_enabled = True


def ninja_on_path() -> None:
    """Put the venv's ninja (which torch's builds need) on PATH, when it is not activated."""
    bins = [os.path.dirname(sys.executable)]
    try:
        import ninja

        bins.insert(0, ninja.BIN_DIR)
    except ImportError:
        pass
    os.environ["PATH"] = os.pathsep.join(bins + [os.environ.get("PATH", "")])


def _compile(verbose: bool):
    from torch.utils.cpp_extension import load

    ninja_on_path()
    name, flags = NAME, ["-O3"]
    cpu = _cpu_flags()
    if cpu:   # this CPU's vector instructions; the build is named after them, so a home
        # directory shared by machines of other CPUs gets a build of their own
        name += "_" + hashlib.sha1(cpu.encode()).hexdigest()[:8]
        flags.append("-march=native")
    return load(name=name, sources=[str(SOURCE)], extra_cflags=flags, verbose=verbose)


def _cpu_flags() -> str:
    """The CPU's feature flags (Linux), or "" where they cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def load(verbose: bool = False):
    """The compiled module, or None (the reason is in why_not()); compiles on the first call."""
    global _module, _why_not
    if not _enabled:
        return None
    if _module is not None or _why_not is not None:
        return _module
    if os.environ.get("PYRL_MINI_KERNEL", "1") == "0":
        _why_not = "PYRL_MINI_KERNEL=0 is set"
        return None
    try:
        _module = _compile(verbose)
    except Exception as exc:   # no compiler, no ninja, a build error: the Python path works
        _why_not = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}"
        warnings.warn(
            f"pyrl_mini could not compile its C++ recurrence ({_why_not}). Training uses the "
            "Python recurrence instead: the same numbers, 1.2-2 times slower. To get the kernel, "
            "install a C++ compiler (Debian: apt-get install g++) and run "
            "`python -m pyrl_mini.kernel`.", RuntimeWarning, stacklevel=3)
    return _module


def release() -> None:
    """Free the work buffers the kernel keeps between updates (train() calls this at its end:
    an ensemble's buffers are 100+ MB)."""
    if _module is not None:
        _module.release()


def why_not() -> str | None:
    """Why the kernel is not in use (None when it is, or has not been asked for yet)."""
    return "turned off by kernel.disabled()" if not _enabled else _why_not


@contextlib.contextmanager
def disabled():
    """Within this block the Python recurrence is used (for comparisons and tests)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def main() -> None:
    import time

    t = time.perf_counter()
    module = load(verbose="-v" in sys.argv)
    if module is None:
        print(f"pyrl_mini's C++ recurrence is not available: {why_not()}", file=sys.stderr)
        print("Training uses the Python recurrence (same numbers, slower).", file=sys.stderr)
        sys.exit(0)
    print(f"pyrl_mini's C++ recurrence is ready ({module.__file__}, "
          f"{time.perf_counter() - t:.0f} s).")


if __name__ == "__main__":
    main()
