"""Halting stability and calibration of the shipped TRMs (issue 12, item 6).

The ``halting`` subcommand's options (:func:`neurosym.study.halting.register`) as a script: it
prints a markdown table and writes CSV/JSON/PNG files into ``--out`` only (a file that would
resolve outside it is refused). Inference runs on one torch thread; run it under ``nice`` on a
shared machine. Usage: ``python bench/halting.py --out DIR [options]`` (see ``--help``).
Exit status 0 when it ran, 1 on a bad argument (printed, no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym.study.common import run_script  # noqa: E402
from neurosym.study.halting import add_arguments, main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(add_arguments, main, __doc__.splitlines()[0]))
