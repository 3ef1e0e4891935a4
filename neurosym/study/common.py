"""Plumbing the study commands share: output paths that cannot leave their folder, option
parsing with clear :class:`~tasks.errors.ConfigError` messages, the shipped models and their
seeded evaluation sets, CSV writing, and the argparse glue of subcommands and bench scripts.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tasks.errors import ConfigError

__all__ = [
    "guarded_path",
    "parse_float_list",
    "parse_int_list",
    "check_int",
    "resolve_models",
    "eval_tasks",
    "write_csv",
    "add_common_options",
    "add_subcommand",
    "run_script",
]


def guarded_path(out_dir: str | os.PathLike[str], name: str) -> Path:
    """``out_dir / name``, refused (:class:`ConfigError`) unless it resolves inside ``out_dir``
    (no ``..``, no absolute name, no link inside the folder leading out of it).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> guarded_path(d, "table.csv").name
    'table.csv'
    >>> guarded_path(d, "../x.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: refusing to write '../x.csv' outside the output folder ...
    """
    root = Path(out_dir).resolve()
    target = (root / name).resolve()
    if target != root and root not in target.parents:
        raise ConfigError(f"refusing to write {name!r} outside the output folder {str(root)!r}")
    return target


def parse_float_list(
    text: str | Sequence[float], what: str, lo: float, hi: float, *, include_lo: bool = False
) -> list[float]:
    """Numbers separated by commas (or a sequence), each in (lo, hi) (``[lo, hi)`` with
    ``include_lo``)."""
    items: Sequence[Any] = text.split(",") if isinstance(text, str) else text
    try:
        values = [float(v) for v in items if str(v).strip()]
    except (TypeError, ValueError):
        raise ConfigError(f"{what} takes numbers separated by commas, got {text!r}") from None
    low_ok = (lambda v: lo <= v) if include_lo else (lambda v: lo < v)
    if not values or any(not (low_ok(v) and v < hi) for v in values):
        interval = f"{'[' if include_lo else '('}{lo:g}, {hi:g})"
        raise ConfigError(f"{what} takes numbers in {interval}, got {text!r}")
    return values


def check_int(value: object, what: str, lo: int, hi: int | None = None) -> int:
    """``value`` if it is an int in ``lo..hi`` (no upper bound without ``hi``), else
    :class:`ConfigError` naming ``what``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < lo
        or (hi is not None and value > hi)
    ):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ConfigError(f"{what} must be an int {bound}, got {value!r}")
    return value


def resolve_models(names: str | Sequence[str] | None) -> dict[str, Path]:
    """Model name -> checkpoint folder: shipped names (``neurosym/models/*``) or paths;
    ``None``/``"all"``: every shipped model.

    Raises
    ------
    ConfigError
        For a name that is neither a shipped model nor an existing path.
    """
    from neurosym.neural import default_models

    shipped = default_models()
    if names is None or names == "all":
        if not shipped:
            raise ConfigError("no shipped models found; name checkpoint paths")
        return dict(shipped)
    items = names.split(",") if isinstance(names, str) else list(names)
    out: dict[str, Path] = {}
    for name in (n.strip() for n in items):
        if not name:
            continue
        if name in shipped:
            out[name] = shipped[name]
        elif os.path.exists(name):
            out[Path(name).name or name] = Path(name)
        else:
            raise ConfigError(
                f"model {name!r} is neither a checkpoint path nor a shipped model "
                f"({', '.join(shipped) or 'none shipped'})"
            )
    if not out:
        raise ConfigError(f"no models named in {names!r}")
    return out


def eval_tasks(loaded: Any, n: int, seed: int) -> tuple[list[Any], str]:
    """The seeded evaluation tasks for ``loaded`` and a few words saying what they are.

    Size-agnostic models get the ``neurosym bench neural`` sets
    (:mod:`neurosym.benchmarks.neural`): minimal 9x9 puzzles for a 9x9 Sudoku model, unique 6x6
    puzzles with 10-12 givens for a 6x6 one, 15x15 perfect mazes for a maze model. Fixed-size
    models get fresh puzzles of their own training distribution
    (:func:`trm.data.make_eval_set`, what ``neurosym eval --generate`` scores).
    """
    from neurosym.benchmarks.neural import maze_cases, sudoku_cases

    if not loaded.config.size_agnostic:
        from trm.data import make_eval_set

        own = loaded.meta.get("train_config", {}).get("data") or loaded.codec.spec()
        es = make_eval_set(own, n, seed)
        return es.tasks, "fresh puzzles of its training distribution"
    if loaded.kind == "maze":
        side = loaded.codec.height
        case = maze_cases(sizes=(side,), n=n, seed=seed)[0]
        return case.tasks, case.name
    if loaded.codec.size == 9:
        case = sudoku_cases(n_minimal=n, n_hard=0, n_six=0, seed=seed)[0]
    else:
        case = sudoku_cases(n_minimal=0, n_hard=0, n_six=n, seed=seed)[-1]
    return case.tasks, case.name


def parse_int_list(text: str | Sequence[int], what: str, hi: int) -> list[int]:
    """Distinct integers in ``1..hi`` separated by commas (or a sequence), sorted."""
    items: Sequence[Any] = text.split(",") if isinstance(text, str) else text
    try:
        values = sorted({int(str(v).strip()) for v in items if str(v).strip()})
    except ValueError:
        raise ConfigError(f"{what} takes integers separated by commas, got {text!r}") from None
    if not values or values[0] < 1 or values[-1] > hi:
        raise ConfigError(f"{what} takes integers in 1..{hi}, got {text!r}")
    return values


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """``rows`` as CSV, the columns in first-seen order."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def add_common_options(p: argparse.ArgumentParser, *, out: str, writes: str) -> None:
    """The options every study command here shares: halting threshold, batch, seed, --out."""
    p.add_argument(
        "--halt-threshold",
        type=float,
        default=0.9,
        help="halt when the probability exceeds this, in [0, 1) (default 0.9, as solve)",
    )
    p.add_argument("--batch-size", type=int, default=64, help="tasks per batch (default 64)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the tasks (and the noise)")
    p.add_argument(
        "--out",
        default=out,
        help=f"folder for {writes} (new or existing; nothing is written outside it; default {out})",
    )


def add_subcommand(
    subparsers: Any,
    name: str,
    add: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
) -> argparse.ArgumentParser:
    """A subcommand ``name`` whose options ``add`` declares and whose ``func`` is ``run``."""
    p = subparsers.add_parser(name, help=help, description=description)
    add(p)
    p.set_defaults(func=run)
    return p


def run_script(
    add: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
    description: str,
    argv: Sequence[str] | None = None,
) -> int:
    """A stand-alone script (bench/*.py) on the same options: a neurosym error is printed
    without a traceback and gives exit status 1."""
    from tasks.errors import NeurosymError

    parser = argparse.ArgumentParser(description=description)
    add(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except NeurosymError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
