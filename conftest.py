"""pytest's configuration for every run in this checkout: `make test`, and a notebook run on
its own (`pytest --nbmake notebooks/NN_x.ipynb`), which does not load tests/conftest.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
import nbclient_fix  # noqa: E402

# nbmake runs the notebooks in this process through nbclient: a cell's reply must not wait for
# its timeout when a widget's message took the socket's wake-up (tools/nbclient_fix.py)
nbclient_fix.install()
