"""Symbolic-solver benchmark; the same as ``neurosym bench symbolic`` (see its ``--help``).

Usage: ``python bench/symbolic.py [--quick] [--json out.json] [--data ../shared/data]``
"""

import sys

from neurosym.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "symbolic", *sys.argv[1:]]))
