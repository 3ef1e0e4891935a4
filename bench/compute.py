"""Compute per solve: network FLOPs, wall / CPU time and energy of neural, symbolic and hybrid
(issue 12, item 5).

The ``compute`` subcommand's options (:func:`neurosym.study.compute.register`) as a script: it
prints markdown tables and writes CSV/JSON/PNG files into ``--out`` (new or empty) only. The
network runs on one torch thread, each puzzle alone; run it under ``nice`` on a shared machine.
Usage: ``python bench/compute.py --out DIR [options]`` (see ``--help``). Exit status 0 when it
ran, 1 on a bad argument (printed, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym.study.common import run_script  # noqa: E402
from neurosym.study.compute import add_arguments, main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(add_arguments, main, __doc__.splitlines()[0]))
