"""Time-limit overruns of ``neurosym.solve`` per method (issue 11, item 2).

Every case runs warm (the engines imported and the models loaded by a first call that is not
counted) and reports the wall time of ``solve(task, method, time_limit_s=L)`` against the goal
``L * 1.1 + 0.05`` s. A case still running after ``--cap`` seconds is stopped (SIGALRM, Unix)
and reported as ``capped``. Cases: Norvig's hardest 9x9 (``--data``), blank 16x16 and 25x25
grids, a generated 16x16, and perfect mazes of 201x201 and 301x301; the network runs with
``--max-steps`` (default 4096) and ``--trajectories`` (default 8). No shipped model covers
16x16 or 25x25, so those run an untrained size-agnostic ``sudoku-peers`` network with a
27-token vocabulary (it never halts: the worst case for the recursion).

Usage: ``nice python bench/time_limits.py [--limits 0.05,0.2,1.0] [--methods ...] [--json F]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from neurosym import solve  # noqa: E402
from tasks.errors import NeurosymError  # noqa: E402
from tasks.generators import generate_perfect_maze, generate_puzzle  # noqa: E402
from tasks.sudoku import SudokuTask  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


class _Capped(Exception):
    """Raised by SIGALRM when a case runs past ``--cap``."""


def _alarm(signum: int, frame: Any) -> None:
    raise _Capped


def _blank(box: int) -> SudokuTask:
    n = box * box
    return SudokuTask(box_rows=box, box_cols=box, grid=tuple((0,) * n for _ in range(n)))


def _untrained_peers() -> Any:
    """A size-agnostic peers TRM with digits up to 25: covers 16x16 and 25x25, never halts."""
    from tasks.encodings import SudokuCodec
    from trm.config import preset
    from trm.inference import LoadedModel
    from trm.model import TRM

    net = TRM(preset("sudoku-peers", vocab_size=27)).eval()
    return LoadedModel(
        model=net, config=net.config, codec=SudokuCodec(box_rows=5, box_cols=5), meta={}
    )


def cases(data: Path, n_hard: int) -> list[tuple[str, Any, Any]]:
    """``(name, task, model)``: model None takes the shipped default."""
    out: list[tuple[str, Any, Any]] = []
    path = data / "sudoku-norvig-hardest" / "hardest.csv"
    if path.is_file():
        with path.open(encoding="utf-8") as f:
            for row in list(csv.DictReader(f))[:n_hard]:
                out.append((f"norvig-{row['id']}", SudokuTask.parse(row["puzzle"]), None))
    big = _untrained_peers()
    out.append(("blank-16x16", _blank(4), big))
    out.append(("gen-16x16", generate_puzzle(4, 4, n_givens=100, rng=0)[0], big))
    out.append(("blank-25x25", _blank(5), big))
    out.append(("maze-201x201", generate_perfect_maze(201, 201, rng=0), None))
    out.append(("maze-301x301", generate_perfect_maze(301, 301, rng=1), None))
    return out


def run_case(task: Any, model: Any, method: str, limit: float, args: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if method != "symbolic":
        kwargs = {"model": model, "max_steps": args.max_steps, "trajectories": args.trajectories}
    signal.setitimer(signal.ITIMER_REAL, args.cap)
    t0 = time.perf_counter()
    try:
        r = solve(task, method=method, time_limit_s=limit, **kwargs)
        outcome = ("verified" if r.verified else "unverified") + (f":{r.stage}" if r.stage else "")
        steps = r.effort.get("trm_steps")
    except _Capped:
        outcome, steps = "capped", None
    except NeurosymError as exc:
        outcome, steps = type(exc).__name__, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - t0
    goal = limit * 1.1 + 0.05
    return {
        "elapsed_s": elapsed,
        "goal_s": goal,
        "over": elapsed > goal,
        "outcome": outcome,
        "trm_steps": steps,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limits", default="0.05,0.2,1.0")
    p.add_argument("--methods", default="symbolic,neural,hybrid")
    p.add_argument("--only", default="", help="comma-separated case-name prefixes")
    p.add_argument("--max-steps", type=int, default=4096)
    p.add_argument("--trajectories", type=int, default=8)
    p.add_argument("--n-hard", type=int, default=3, help="Norvig puzzles (of 11)")
    p.add_argument("--cap", type=float, default=20.0, help="seconds before a case is stopped")
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)
    limits = [float(x) for x in args.limits.split(",")]
    methods = args.methods.split(",")
    only = [x for x in args.only.split(",") if x]
    rows = []
    for name, task, model in cases(args.data, args.n_hard):
        if only and not any(name.startswith(x) for x in only):
            continue
        for method in methods:
            # warm-up: imports, model load, the SAT encoding of this box shape
            run_case(task, model, method, 0.05, args)
            for limit in limits:
                row = {"case": name, "method": method, "limit_s": limit}
                row.update(run_case(task, model, method, limit, args))
                rows.append(row)
                flag = "OVER" if row["over"] else "ok"
                print(
                    f"{name:14s} {method:8s} L={limit:<5g} {row['elapsed_s']:8.3f} s "
                    f"(goal {row['goal_s']:.3f}) {flag:4s} {row['outcome']} "
                    f"steps={row['trm_steps']}",
                    flush=True,
                )
    over = [r for r in rows if r["over"]]
    print(f"{len(over)} of {len(rows)} cases over the goal")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
