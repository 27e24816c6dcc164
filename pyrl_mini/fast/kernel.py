"""The fast path's C++ recurrence (recurrence.cpp): built once per machine, loaded by train().

    python -m pyrl_mini.fast            # build it now (make setup does) and say where it is
    python -m pyrl_mini.fast --rebuild  # build it again

Building needs a C++ compiler (g++ or clang) and pip's ninja and takes 30-60 s. The build is
named after the source's content, this CPU's features and torch's version, and is kept in
torch's extension folder (~/.cache/torch_extensions/..., or $TORCH_EXTENSIONS_DIR): a changed
source gets a build of its own, two checkouts of the same source share one. Each build compiles
in a fresh folder and is moved into place only when complete, so a build that is killed leaves
neither a lock for the next one to wait on nor a half-written module.

train() loads a finished build and never compiles: a student's first cell does not wait a
minute (or forever). The switch PYRL_MINI_KERNEL chooses the path:
    unset   the kernel if it is built, else the plain path (autograd) with a one-time note;
    1       the kernel: built now if it is not yet, an error naming the cause if it cannot be;
    0       the plain path.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

SOURCE = Path(__file__).with_name("recurrence.cpp")
NAME = "pyrl_mini_recurrence"
SWITCH = "PYRL_MINI_KERNEL"
STALE_BUILD_SECONDS = 3600   # a build folder this old was left by a killed build

_module = None              # the loaded module (benchmarks swap it for a timed stand-in)
_why_not: str | None = None
_tried = False
_enabled = True


class KernelError(RuntimeError):
    """The kernel was asked for (PYRL_MINI_KERNEL=1, or a build) and cannot be had; the
    message names the cause and the fix."""


def switch() -> str:
    """"auto", "on" or "off" from PYRL_MINI_KERNEL (unset or empty: auto); another value is
    refused by name."""
    value = os.environ.get(SWITCH, "").strip()
    modes = {"": "auto", "1": "on", "0": "off"}
    if value not in modes:
        raise KernelError(f"{SWITCH}={value!r} is not a valid value: use 1 (the C++ kernel, "
                          "built if needed), 0 (the plain path) or leave it unset (the kernel "
                          "when it is built).")
    return modes[value]


def ninja_on_path() -> None:
    """Put the venv's ninja (which torch's builds need) on PATH, when it is not activated."""
    bins = [os.path.dirname(sys.executable)]
    try:
        import ninja

        bins.insert(0, ninja.BIN_DIR)
    except ImportError:
        pass
    os.environ["PATH"] = os.pathsep.join(bins + [os.environ.get("PATH", "")])


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


def _flags() -> list[str]:
    # this CPU's vector instructions where they can be read (the build is named after them,
    # so a home folder shared by machines of other CPUs gets a build of its own)
    return ["-O3", "-march=native"] if _cpu_flags() else ["-O3"]


def build_name() -> str:
    """The build's name: a digest of the source, the compiler flags, the CPU's features and
    the versions of torch and Python that it is built for."""
    import torch

    h = hashlib.sha1(SOURCE.read_bytes())
    for part in (" ".join(_flags()), _cpu_flags(), torch.__version__, sys.version):
        h.update(part.encode())
    return f"{NAME}_{h.hexdigest()[:12]}"


def extensions_dir() -> Path:
    """torch's extension folder, where builds are kept."""
    root = os.environ.get("TORCH_EXTENSIONS_DIR")
    if root:
        return Path(root)
    from torch.utils.cpp_extension import get_default_build_root

    py = f"py{sys.version_info.major}{sys.version_info.minor}{getattr(sys, 'abiflags', '')}"
    return Path(get_default_build_root()) / f"{py}_cpu"


def built_path() -> Path:
    """Where the finished build of this source lives (it may not exist)."""
    name = build_name()
    return extensions_dir() / name / f"{name}{'.pyd' if sys.platform == 'win32' else '.so'}"


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cause(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1][:300] if lines else ''}".rstrip(": ")


def _compiler() -> str | None:
    for cc in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if cc and shutil.which(cc):
            return cc
    return None


def build(verbose: bool = False):
    """Compile recurrence.cpp for this machine and return the module (KernelError with the
    cause and the fix if it cannot be built)."""
    import torch  # noqa: F401  (the extension links against it)

    path = built_path()
    root = path.parent.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-")
        probe.close()
    except OSError as exc:
        raise KernelError(f"the extension folder {root} is not writable ({_cause(exc)}): set "
                          "TORCH_EXTENSIONS_DIR to a folder you can write to and build again "
                          "(`python -m pyrl_mini.fast`).") from None
    if _compiler() is None:
        raise KernelError("no C++ compiler on PATH (looked for $CXX, c++, g++, clang++): "
                          "install one (Debian/Ubuntu: apt-get install g++) and build again "
                          "(`python -m pyrl_mini.fast`).")
    ninja_on_path()
    if shutil.which("ninja") is None:
        raise KernelError("ninja is not installed, and torch builds extensions with it: "
                          "`pip install ninja`, then build again (`python -m pyrl_mini.fast`).")
    for old in root.glob(f"{NAME}_*.build-*"):   # left by builds that were killed
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    name = path.stem
    work = Path(tempfile.mkdtemp(prefix=f"{name}.build-", dir=root))
    try:
        source = work / SOURCE.name
        shutil.copyfile(SOURCE, source)
        from torch.utils.cpp_extension import load

        try:
            module = load(name=name, sources=[str(source)], extra_cflags=_flags(),
                          build_directory=str(work), verbose=verbose)
        except Exception as exc:
            raise KernelError(f"compiling {SOURCE.name} failed ({_cause(exc)}); run "
                              "`python -m pyrl_mini.fast --verbose` to see the compiler's "
                              "output.") from None
        path.parent.mkdir(parents=True, exist_ok=True)
        # (torch names a second build of one name in one process name_v1)
        built = sorted(work.glob(f"{name}*{path.suffix}"))[-1]
        os.replace(built, path)   # whole, or not at all
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return module


def load():
    """The built module, or None (why_not() says why; the plain path is used then). Never
    compiles unless PYRL_MINI_KERNEL=1 asks for the kernel; a build that cannot be read is
    reported with its cause."""
    global _module, _why_not, _tried
    if not _enabled:
        return None
    if _tried:
        return _module
    mode = switch()
    _tried = True
    if mode == "off":
        _why_not = f"{SWITCH}=0 is set"
        return None
    path = built_path()
    if path.exists():
        try:
            _module = _import(path)
            return _module
        except Exception as exc:   # truncated or corrupt: say so, and rebuild if asked to
            _why_not = (f"the build at {path} cannot be loaded ({_cause(exc)}): it is "
                        "truncated or corrupt; rebuild it with `python -m pyrl_mini.fast "
                        "--rebuild`")
    else:
        _why_not = ("the C++ recurrence is not built on this machine; build it once with "
                    "`python -m pyrl_mini.fast` (30-60 s; make setup does it)")
    if mode == "on":
        try:
            _module = build()
            _why_not = None
            return _module
        except KernelError as exc:
            raise KernelError(f"{SWITCH}=1 asks for the C++ kernel: {exc}") from None
    warnings.warn(f"pyrl_mini trains on its plain path: {_why_not}. The plain path gives the "
                  "same updates to float32 rounding, 1.6 times slower at the default settings "
                  "(more where trials end early).", RuntimeWarning,
                  stacklevel=3)
    return None


def release() -> None:
    """Free the work buffers the kernel keeps between updates (train() calls this at its end:
    an ensemble's buffers are 100+ MB)."""
    if _module is not None:
        _module.release()


def why_not() -> str | None:
    """Why the kernel is not in use (None when it is, or has not been asked for yet)."""
    return "turned off by fast.disabled()" if not _enabled else _why_not


def reset() -> None:
    """Forget what load() found (after a build, or for tests of the switch)."""
    global _module, _why_not, _tried
    _module, _why_not, _tried = None, None, False


@contextlib.contextmanager
def disabled():
    """Within this block train() uses the plain path (for comparisons and tests)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pyrl_mini.fast",
        description="Build the trainer's C++ recurrence for this machine (make setup runs "
        "this), or say whether it is built.")
    parser.add_argument("--rebuild", action="store_true", help="build it even if it is built")
    parser.add_argument("--verbose", action="store_true", help="show the compiler's output")
    parser.add_argument("--check", action="store_true",
                        help="only say whether it is built and loads; build nothing")
    args = parser.parse_args(argv)
    try:
        switch()
    except KernelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = built_path()
    if args.check:
        reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = load() is not None
        print(f"pyrl_mini's C++ recurrence: {'built and loads' if ok else why_not()} ({path})")
        return 0 if ok else 1
    if path.exists() and not args.rebuild:
        try:
            _import(path)
            print(f"pyrl_mini's C++ recurrence is built: {path}")
            return 0
        except Exception as exc:
            print(f"the build at {path} cannot be loaded ({_cause(exc)}); building it again.")
    t = time.perf_counter()
    print("building pyrl_mini's C++ recurrence for this machine (30-60 s) ...", flush=True)
    try:
        build(verbose=args.verbose)
    except KernelError as exc:
        print(f"pyrl_mini's C++ recurrence is not available: {exc}", file=sys.stderr)
        print("Training works without it, on the plain path (same updates to float32 "
              "rounding, 1.6 times slower at the default settings).", file=sys.stderr)
        return 0   # make setup goes on: the plain path works
    reset()
    print(f"pyrl_mini's C++ recurrence is ready: {path} ({time.perf_counter() - t:.0f} s).")
    return 0
