"""What a maze network marks on perfect and looped mazes: exact, superset, subset or both.

Per size and kind, the count of mazes in each class of
:func:`neurosym.study.maze_marks.classify_marks` and their mean extra / missing cells, the
network run with halting off to ``--depth`` steps on one torch thread. Usage:
``python bench/maze_marks.py --model neurosym/models/maze_conv --sizes 9,15 --n 40``.
Exit status 0 when it ran, 1 on a bad argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym.study.common import run_script  # noqa: E402
from neurosym.study.maze_marks import add_arguments, main  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_script(add_arguments, main, __doc__.splitlines()[0]))
