"""``solve_many()``: :func:`neurosym.solve` over many tasks, in worker processes if asked.

Results come back in input order; a task's :class:`~tasks.errors.NeurosymError` is returned in
its slot (a :class:`ManyResult` with ``error`` set) instead of stopping the run. Also reads a
list of puzzles (one per line, or a CSV column) for ``neurosym solve --many``.
"""

from __future__ import annotations

import csv
import inspect
import io
import math
import os
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from neurosym.api import METHODS, SolveResult, _network_options, solve
from tasks.detect import parse_task
from tasks.errors import ConfigError, InvalidTaskError, NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["PUZZLE_COLUMNS", "ListedPuzzle", "ManyResult", "parse_puzzle_list", "solve_many"]

#: The start method of the worker processes. ``spawn`` rather than ``fork``: a forked child of a
#: process that has started torch's (or OR-Tools') threads can deadlock on a lock one of those
#: threads held, and ``spawn`` behaves the same on Linux, macOS and Windows.
_START_METHOD = "spawn"

#: Tasks per message to a worker, at most. One task per message costs a round trip of pickling
#: per task, which is more than a symbolic 9x9 solve (about 0.6 ms); too many per message leaves
#: a worker idle at the end while another finishes a long chunk.
_MAX_CHUNK = 16

#: The keyword arguments of :func:`neurosym.solve` that ``solve_many`` passes through. Its
#: ``workers`` (CP-SAT threads) is not among them: here the name means processes, and each solve
#: runs with solve's default of one CP-SAT worker.
_SOLVE_OPTIONS = frozenset(inspect.signature(solve).parameters) - {"task", "method", "workers"}


class ManyResult(BaseModel):
    """One task's outcome in :func:`solve_many`: its result, or the error it raised.

    Attributes
    ----------
    index : the task's position in the input (0-based).
    result : the :class:`~neurosym.api.SolveResult`, or None when the task raised.
    error : the class name of the :class:`~tasks.errors.NeurosymError` raised (for example
        ``"InvalidTaskError"``), or None.
    message : that error's message, or None.
    wall_s : wall time of the whole ``solve`` call in its process: parsing, model loading (the
        first task of a process), search, verification and the uniqueness check.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    result: SolveResult | None = None
    error: str | None = None
    message: str | None = None
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the task gave an answer (verified or not) rather than an error."""
        return self.error is None

    @property
    def verified(self) -> bool:
        """Whether the task gave an answer that :func:`tasks.verify.verify` accepted."""
        return self.result is not None and self.result.verified

    def summary(self) -> dict[str, Any]:
        """The outcome as plain JSON-ready data: ``index``, ``wall_s`` and either the result's
        :meth:`~neurosym.api.SolveResult.summary` fields or ``error`` and ``message``."""
        data: dict[str, Any] = {"index": self.index, "wall_s": self.wall_s}
        if self.result is not None:
            data.update(self.result.summary())
        else:
            data.update(error=self.error, message=self.message)
        return data


def solve_many(
    tasks: Iterable[Any],
    *,
    method: str = "symbolic",
    workers: int = 1,
    progress: bool = True,
    **solve_kwargs: Any,
) -> list[ManyResult]:
    """Solve every task with :func:`neurosym.solve`; one :class:`ManyResult` per task, in order.

    Parameters
    ----------
    tasks : iterable of anything :func:`neurosym.solve` accepts (task objects, puzzle text, file
        paths); read to the end before any work starts.
    method : ``"symbolic"`` (default, as for ``solve``), ``"neural"`` or ``"hybrid"``.
    workers : processes solving at once. 1 (default) solves in this process; ``k > 1`` starts
        ``min(k, len(tasks))`` worker processes (``spawn`` start method, torch limited to one
        thread each), which pays off when a task takes longer than a few milliseconds: each
        process imports the solvers, and for the network methods torch and the model, again
        (seconds). A script calling it with ``workers > 1`` needs the usual
        ``if __name__ == "__main__":`` guard.
    progress : show a tqdm progress bar on standard error.
    **solve_kwargs : the other options of ``solve`` (``backend``, ``time_limit_s`` (per task),
        ``seed``, ``box``, ``check_unique``, ``model``, ``givens``, ``max_steps``,
        ``trajectories``, ``noise``, ``select``), the same for every task.

    Returns
    -------
    list of ManyResult
        ``results[i]`` is task ``i``'s: ``result`` set, or ``error`` and ``message`` when its
        ``solve`` raised a :class:`~tasks.errors.NeurosymError` (a malformed puzzle, an
        unsolvable one, a timeout, no model covering it...). Any other exception is a bug and
        is raised, after the remaining work is cancelled.

    Raises
    ------
    ConfigError
        Before any work: ``tasks`` a single puzzle (a string, path or task object) or not
        iterable, ``workers`` not an int >= 1, an unknown ``method``, ``progress`` not a
        bool, a keyword ``solve`` does not take, or a bad ``givens``, ``time_limit_s`` or
        network option.

    Examples
    --------
    >>> out = solve_many(["12..34..........", "1.3...1..1...3..", "not a puzzle"],
    ...                  method="symbolic", progress=False)
    >>> [(r.index, r.verified, r.error) for r in out]
    [(0, True, None), (1, True, None), (2, False, 'InvalidTaskError')]
    >>> out[1].result.unique  # that puzzle has two solutions; either one verifies
    False
    """
    _check_options(method, workers, progress, solve_kwargs)
    items = _task_list(tasks)
    options = {"method": method, **solve_kwargs}
    if workers == 1 or len(items) <= 1:
        return _solve_here(items, options, progress)
    return _solve_in_pool(items, options, workers, progress)


def _check_options(method: str, workers: int, progress: bool, options: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` for what would fail every task alike, before any work."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an int >= 1, got {workers!r}")
    if method not in METHODS:
        raise ConfigError(f"method must be one of {list(METHODS)}, got {method!r}")
    if not isinstance(progress, bool):
        raise ConfigError(f"progress must be True or False, got {progress!r}")
    unknown = sorted(set(options) - _SOLVE_OPTIONS)
    if unknown:
        raise ConfigError(
            f"solve_many got unknown option(s) {unknown}; solve takes {sorted(_SOLVE_OPTIONS)}"
        )
    givens = options.get("givens", "hard")
    if givens not in ("hard", "soft"):
        raise ConfigError(f"givens must be 'hard' or 'soft', got {givens!r}")
    limit = options.get("time_limit_s", 10.0)
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int | float)
        or math.isnan(limit)
        or limit <= 0
    ):
        raise ConfigError(f"time_limit_s must be a number > 0, got {limit!r}")
    # the same depth / trajectory checks solve makes first (and its refusal of them for symbolic)
    _network_options(
        method,
        options.get("max_steps"),
        options.get("trajectories", 1),
        options.get("noise"),
        options.get("select"),
        options.get("seed", 0),
    )


def _task_list(tasks: Any) -> list[Any]:
    """``tasks`` as a list, refusing one puzzle passed alone (a string would iterate by
    character, each character failing as its own puzzle)."""
    if isinstance(tasks, str | bytes | os.PathLike | SudokuTask | MazeTask):
        raise ConfigError(
            f"tasks must be a list (or other iterable) of tasks, got one "
            f"{type(tasks).__name__}; for one puzzle call solve() or pass [task]"
        )
    try:
        return list(tasks)
    except TypeError:
        raise ConfigError(
            f"tasks must be a list (or other iterable) of tasks, got {type(tasks).__name__}"
        ) from None


def _solve_one(index: int, task: Any, options: dict[str, Any]) -> ManyResult:
    start = time.perf_counter()
    try:
        result = solve(task, **options)
    except NeurosymError as exc:
        return ManyResult(
            index=index,
            error=type(exc).__name__,
            message=str(exc),
            wall_s=time.perf_counter() - start,
        )
    return ManyResult(index=index, result=result, wall_s=time.perf_counter() - start)


def _solve_chunk(chunk: list[tuple[int, Any]], options: dict[str, Any]) -> list[ManyResult]:
    """Run in a worker process: the chunk's tasks, one after another."""
    return [_solve_one(index, task, options) for index, task in chunk]


def _init_worker() -> None:
    """One intra-op thread per worker process: ``k`` processes on ``k`` cores, not ``k`` times
    torch's default of one thread per core (set before torch loads, and on it if it has)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _bar(total: int, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="solve", unit="puzzle", disable=not progress, leave=False)


def _solve_here(items: list[Any], options: dict[str, Any], progress: bool) -> list[ManyResult]:
    out = []
    with _bar(len(items), progress) as bar:
        for index, task in enumerate(items):
            out.append(_solve_one(index, task, options))
            bar.update(1)
    return out


def _chunks(items: list[Any], processes: int) -> list[list[tuple[int, Any]]]:
    """Consecutive ``(index, task)`` runs: about eight per process (so a slow run can be
    balanced by the others), at most :data:`_MAX_CHUNK` tasks each."""
    size = max(1, min(_MAX_CHUNK, len(items) // (processes * 8)))
    indexed = list(enumerate(items))
    return [indexed[i : i + size] for i in range(0, len(indexed), size)]


def _solve_in_pool(
    items: list[Any], options: dict[str, Any], workers: int, progress: bool
) -> list[ManyResult]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    processes = min(workers, len(items))
    results: list[ManyResult | None] = [None] * len(items)
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context(_START_METHOD),
        initializer=_init_worker,
    )
    try:
        with _bar(len(items), progress) as bar:
            pending = {pool.submit(_solve_chunk, c, options) for c in _chunks(items, processes)}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for item in future.result():  # a bug in a worker is raised here
                        results[item.index] = item
                        bar.update(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]  # every slot was filled


# ----------------------------------------------------------------------- puzzle lists
class ListedPuzzle(NamedTuple):
    """One puzzle of a list read by :func:`parse_puzzle_list`."""

    line: int  #: its 1-based line in the text (a CSV record's first line)
    text: str  #: the puzzle text, stripped


#: CSV header names of the puzzle column, lower-cased (``quizzes`` is the Kaggle 1M Sudoku set's).
PUZZLE_COLUMNS = ("puzzle", "puzzles", "quizzes", "quiz", "sudoku", "board", "task")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*")


def parse_puzzle_list(text: str, *, as_csv: bool | None = None) -> list[ListedPuzzle]:
    """The puzzles of a list: one per line, or one per CSV record.

    Plain lists skip blank lines and lines starting with ``#``; each other line is a puzzle in
    any one-line form (an 81-character Sudoku, a JSON task). A CSV reads the column whose header
    is one of :data:`PUZZLE_COLUMNS` (case-insensitive), else the first column; its first row is
    a header when it names such a column or its first cell is a word that reads as no puzzle.
    Puzzles are not parsed here, so a malformed one fails alone when it is solved.

    Parameters
    ----------
    text : the list's text.
    as_csv : True or False to say which it is; None (default) guesses CSV when the first line
        that is not blank or a comment holds a comma and is not JSON, starts with a quote, or
        is a puzzle column's name alone (a one-column CSV's header).

    Raises
    ------
    InvalidTaskError
        When the text holds no puzzle, or the CSV is malformed (naming the line).

    Examples
    --------
    >>> [p.text for p in parse_puzzle_list("# two\\n12..34..........\\n\\n1.3...1..1...3..\\n")]
    ['12..34..........', '1.3...1..1...3..']
    >>> parse_puzzle_list("id,quizzes\\n7,12..34..........\\n")
    [ListedPuzzle(line=2, text='12..34..........')]
    """
    if not isinstance(text, str):
        raise InvalidTaskError(f"expected the list's text (str), got {type(text).__name__}")
    lines = text.splitlines()
    first = next((s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")), "")
    if not first:
        what = "is empty" if not text.strip() else "holds only # comments"
        raise InvalidTaskError(f"the list {what}: no puzzles to solve")
    if as_csv is None:
        as_csv = (
            ("," in first and not first.startswith("{"))
            or first.startswith('"')
            or first.lower() in PUZZLE_COLUMNS
        )
    puzzles = _csv_puzzles(text) if as_csv else _line_puzzles(lines)
    if not puzzles:
        raise InvalidTaskError("the list holds no puzzles (a CSV header and no rows)")
    return puzzles


def _line_puzzles(lines: list[str]) -> list[ListedPuzzle]:
    return [
        ListedPuzzle(number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _csv_puzzles(text: str) -> list[ListedPuzzle]:
    reader = csv.reader(io.StringIO(text))
    puzzles: list[ListedPuzzle] = []
    column: int | None = None
    read = 0  # lines read before this record: its first line is read + 1
    try:
        for row in reader:
            line, read = read + 1, reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if column is None:
                column = _puzzle_column(cells)
                if column is not None:
                    continue  # the header row
                column = 0
            if column >= len(cells):
                raise InvalidTaskError(f"line {line}: no column {column + 1} (the puzzles)")
            if cells[column]:
                puzzles.append(ListedPuzzle(line, cells[column]))
    except csv.Error as exc:
        raise InvalidTaskError(f"line {reader.line_num}: bad CSV: {exc}") from None
    return puzzles


def _puzzle_column(first_row: list[str]) -> int | None:
    """The puzzle column's index when ``first_row`` is a header, else None (no header)."""
    names = [cell.lower() for cell in first_row]
    for name in PUZZLE_COLUMNS:
        if name in names:
            return names.index(name)
    if _WORD.fullmatch(first_row[0]) and not _reads_as_task(first_row[0]):
        return 0
    return None


def _reads_as_task(text: str) -> bool:
    try:
        parse_task(text)
    except InvalidTaskError:
        return False
    return True
