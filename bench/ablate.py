"""The paper's ablations at equal compute, one factor at a time (issue 12, item 2).

The ``ablate`` subcommand's options (:func:`neurosym.study.ablate.register`) as a script: a tqdm
bar over runs on stderr, the summary table on stdout, and ablate.csv, summary.csv, ablate.json
and ablate.png in ``--out`` only (resumable: the same command again continues a killed grid).
Training runs on one torch thread; run it under ``nice`` on a shared machine. Usage:
``python bench/ablate.py --task sudoku6 --grid T n ema grad mixer arch --seeds 3
--cpu-minutes 1 --out DIR`` (see ``--help``). Exit status 0 when it ran, 1 on a bad argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym.study.ablate import add_arguments, main  # noqa: E402
from neurosym.study.common import run_script  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(add_arguments, main, __doc__.splitlines()[0]))
