"""Perturbation and recovery of the shipped TRMs: does the recursion search? (issue 12, item 7).

The ``perturb`` subcommand's options (:func:`neurosym.study.perturb.register`) as a script: it
prints markdown tables and writes perturb.csv/.json/.png into ``--out`` (new or empty; a file
that would resolve outside it is refused), with a progress bar on stderr. Inference runs on one
torch thread; run it under ``nice`` on a shared machine. Usage: ``python bench/perturb.py --out
DIR [options]`` (see ``--help``). Exit status 0 when it ran, 1 on a bad argument (printed, no
traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym.study.common import run_script  # noqa: E402
from neurosym.study.perturb import add_arguments, main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(add_arguments, main, __doc__.splitlines()[0]))
