"""The wheel carries the collection: notebooks/*.ipynb and data/ go inside the package, under
pyrl_mini/bundled/, so `pip install` of the wheel alone runs every notebook offline
(`pyrl-mini lab`; pyrl_mini.io.shipped finds them). Everything else is in pyproject.toml.

An editable install (`pip install -e .`, as make setup does) bundles nothing: the checkout's
own data/ and notebooks/ are used, so a rebuilt dataset is seen at once.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLE = {"data": ("manifest.json", "*.npz"), "notebooks": ("[0-9][0-9]*_*.ipynb",)}


class BuildPyWithCollection(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, patterns in BUNDLE.items():
            files = sorted({f for p in patterns for f in (HERE / folder).glob(p)})
            if not files:  # a wheel without them would fail only when a student runs it
                raise SystemExit(f"setup.py: {HERE / folder} holds no {', '.join(patterns)}; "
                                 "build from a checkout or an sdist that has them.")
            target = Path(self.build_lib) / "pyrl_mini" / "bundled" / folder
            self.mkpath(str(target))
            for f in files:
                self.copy_file(str(f), str(target / f.name))


setup(cmdclass={"build_py": BuildPyWithCollection})
