"""Loaders for puzzle files: Sudoku CSV/TXT collections, Moving AI maze maps and start/goal pairs,
and single task files (JSON, Sudoku text, ASCII maze).

Every malformed file raises :class:`~tasks.errors.InvalidTaskError` naming the file and line.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
)

from tasks.detect import parse_task, task_from_json
from tasks.errors import InvalidTaskError
from tasks.maze import Cell, MazeTask
from tasks.sudoku import SudokuGrid, SudokuTask
from tasks.verify import verify

__all__ = [
    "MOVINGAI_COUNT_CAP",
    "SudokuRecord",
    "MazeQuery",
    "load_sudoku_csv",
    "load_sudoku_txt",
    "load_movingai_pairs",
    "load_movingai_map",
    "load_movingai_tasks",
    "read_task_file",
    "task_from_json",
]

PathLike = str | os.PathLike[str]

#: Moving AI shortest-path counts at or above this value were capped when the pairs were made.
MOVINGAI_COUNT_CAP = 10**18

# Column names, most trusted first: an exact count beats one capped at 2.
_ID_COLUMNS = ("id", "gecode_index")
_SOLUTION_COLUMNS = ("solution", "tdoku_solution", "sat_solution_if_unique")
_EXACT_COUNT_COLUMNS = ("tdoku_expected_num_solutions",)
_CAPPED_COUNT_COLUMNS = ("num_solutions_capped2", "sat_num_solutions_capped2")
_COUNT_CAP = 2  # num_solutions_capped2: 2 means "two or more"


class SudokuRecord(BaseModel):
    """One Sudoku of a collection, with what the file says about it.

    Attributes
    ----------
    id : str
        The record's id column, else its 0-based position in the file.
    task : SudokuTask
    solution : SudokuGrid or None
        The known solution (only for puzzles with exactly one).
    n_solutions : int or None
        Number of solutions, when the file says.
    n_solutions_capped : bool
        True when ``n_solutions`` is a lower bound: the file counted only up to it
        (``num_solutions_capped2 = 2`` means "two or more"). False for exact counts.
    status : str or None
        ``"unique"``, ``"multiple_solutions"`` or ``"no_solution"``: the file's ``status`` column,
        else derived from an exact count.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    task: SudokuTask
    solution: SudokuGrid | None = None
    n_solutions: int | None = None
    n_solutions_capped: bool = False
    status: str | None = None


class MazeQuery(BaseModel):
    """A start/goal pair on a named Moving AI map, with the expected answer.

    ``n_shortest_paths_capped`` is True when the count reached the file's cap (``10**18``), so
    it is only a lower bound.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    map_name: str
    start: Cell
    goal: Cell
    shortest_length: int | None = None
    n_shortest_paths: int | None = None
    n_shortest_paths_capped: bool = False
    kind: str | None = None


# ---------------------------------------------------------------------------- helpers
def _read_text(path: PathLike) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidTaskError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise InvalidTaskError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _check_limit(limit: object) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidTaskError(f"limit must be a non-negative int or None, got {limit!r}")
    return limit


def _status_from_count(n: int | None) -> str | None:
    if n is None:
        return None
    return {0: "no_solution", 1: "unique"}.get(n, "multiple_solutions")


def _count(value: str, where: str, column: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise InvalidTaskError(f"{where}: {column} is {value!r}, expected an integer") from None
    if count < 0:
        raise InvalidTaskError(f"{where}: {column} is {count}, expected >= 0")
    return count


def _record(
    where: str,
    record_id: str,
    puzzle: str,
    solution: str | None,
    count: int | None,
    capped: bool,
    status: str | None,
    box: tuple[int, int] | None,
) -> SudokuRecord:
    try:
        task = SudokuTask.parse(puzzle, box=box)
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"{where}: bad puzzle: {exc}") from None
    grid = None
    if solution:
        try:
            grid = SudokuTask.parse(solution, box=task.box).grid
        except InvalidTaskError as exc:
            raise InvalidTaskError(f"{where}: bad solution: {exc}") from None
        verdict = verify(task, grid)
        if not verdict.ok:
            raise InvalidTaskError(
                f"{where}: the solution does not solve the puzzle: {verdict.violations[0].message}"
            )
    return SudokuRecord(
        id=record_id,
        task=task,
        solution=grid,
        n_solutions=count,
        # only the cap value itself is a lower bound: 0 and 1 below it are exact
        n_solutions_capped=capped and count is not None and count >= _COUNT_CAP,
        status=status if status is not None else _status_from_count(count),
    )


def _box_from_columns(row: Mapping[str, str], where: str) -> tuple[int, int] | None:
    """Gecode-style ``size``/``box`` columns: ``box`` is a side (square box) or ``RxC``."""
    box = (row.get("box") or "").strip().lower()
    if not box:
        return None
    try:
        if "x" in box:
            rows, cols = (int(part) for part in box.split("x"))
        else:
            rows = cols = int(box)
    except ValueError:
        raise InvalidTaskError(f"{where}: box is {box!r}, expected an int or RxC") from None
    size = (row.get("size") or "").strip()
    if size and size != str(rows * cols):
        raise InvalidTaskError(f"{where}: box {box} does not match size {size}")
    return (rows, cols)


# ---------------------------------------------------------------------------- Sudoku
def load_sudoku_csv(path: PathLike, *, limit: int | None = None) -> list[SudokuRecord]:
    """Read a Sudoku collection in CSV with a header row.

    Needs a ``puzzle`` column; uses, when present: ``id`` (or ``gecode_index``), a solution
    (``solution``, ``tdoku_solution`` or ``sat_solution_if_unique``; empty means unknown), the
    solution count (``tdoku_expected_num_solutions``, exact, else ``num_solutions_capped2``,
    where 2 means "two or more"), ``status``, and ``box``/``size`` for the box shape. Every known
    solution is checked against its puzzle.

    Parameters
    ----------
    path : str or PathLike
    limit : int, optional
        Read at most this many records.

    Raises
    ------
    InvalidTaskError
        If the file cannot be read, has no ``puzzle`` column, or a row holds a malformed puzzle,
        solution or count (the message names the file and line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = path.write_text("id,puzzle,num_solutions_capped2\\n7,1.3...1..1...3..,2\\n")
    >>> [(r.id, r.n_solutions, r.n_solutions_capped, r.status) for r in load_sudoku_csv(path)]
    [('7', 2, True, 'multiple_solutions')]
    """
    limit = _check_limit(limit)
    text = _read_text(path)
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    if "puzzle" not in columns:
        raise InvalidTaskError(f"{path}: no 'puzzle' column in the header {columns}")
    id_col = next((c for c in _ID_COLUMNS if c in columns), None)
    solution_col = next((c for c in _SOLUTION_COLUMNS if c in columns), None)
    exact_col = next((c for c in _EXACT_COUNT_COLUMNS if c in columns), None)
    capped_col = next((c for c in _CAPPED_COUNT_COLUMNS if c in columns), None)
    records: list[SudokuRecord] = []
    try:
        for index, row in enumerate(reader):
            if limit is not None and len(records) >= limit:
                break
            where = f"{path}, line {reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                raise InvalidTaskError(f"{where}: expected {len(columns)} fields")
            count, capped = None, False
            if exact_col and row[exact_col].strip():
                count = _count(row[exact_col].strip(), where, exact_col)
            elif capped_col and row[capped_col].strip():
                count, capped = _count(row[capped_col].strip(), where, capped_col), True
            records.append(
                _record(
                    where,
                    row[id_col].strip() if id_col else str(index),
                    row["puzzle"],
                    row[solution_col].strip() if solution_col else None,
                    count,
                    capped,
                    (row.get("status") or "").strip() or None,
                    _box_from_columns(row, where),
                )
            )
    except csv.Error as exc:
        raise InvalidTaskError(f"{path}, line {reader.line_num}: bad CSV: {exc}") from None
    return records


def load_sudoku_txt(
    path: PathLike, *, limit: int | None = None, box: tuple[int, int] | None = None
) -> list[SudokuRecord]:
    """Read one Sudoku per line, skipping blank lines and ``#`` comments.

    A line is a puzzle in any one-line form :meth:`SudokuTask.parse` reads, optionally followed
    by tdoku's ``:count`` or ``:count:solution`` (an exact solution count). Records are numbered
    from 0 in file order.

    Raises
    ------
    InvalidTaskError
        If the file cannot be read or a line is malformed (naming the file and line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.txt"
    >>> _ = path.write_text("# two puzzles\\n1.3...1..1...3..:2\\n\\n12..34..........\\n")
    >>> [(r.id, r.n_solutions, r.status) for r in load_sudoku_txt(path)]
    [('0', 2, 'multiple_solutions'), ('1', None, None)]
    """
    limit = _check_limit(limit)
    text = _read_text(path)
    records: list[SudokuRecord] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if limit is not None and len(records) >= limit:
            break
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        puzzle, *rest = line.split(":")
        if len(rest) > 2:
            raise InvalidTaskError(f"{where}: expected puzzle[:count[:solution]], got {line!r}")
        count = _count(rest[0].strip(), where, "count") if rest else None
        solution = rest[1].strip() if len(rest) == 2 else None
        records.append(_record(where, str(len(records)), puzzle, solution, count, False, None, box))
    return records


# ---------------------------------------------------------------------------- Moving AI
def _pairs_file(folder: PathLike) -> Path:
    path = Path(folder)
    return path / "pairs.csv" if path.is_dir() else path


def load_movingai_pairs(folder: PathLike, *, limit: int | None = None) -> list[MazeQuery]:
    """Read the start/goal pairs (``pairs.csv``) of a Moving AI maze folder.

    Columns: ``map``, ``start_row``, ``start_col``, ``goal_row``, ``goal_col`` (0-based) and,
    when present, ``shortest_len_4conn``, ``num_shortest_paths_4conn`` and ``pair_kind``.
    ``folder`` may also be the CSV file itself.

    Raises
    ------
    InvalidTaskError
        If the file cannot be read, lacks a needed column or holds a non-integer coordinate.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "pairs.csv").write_text(
    ...     "map,start_row,start_col,goal_row,goal_col,shortest_len_4conn\\nm,1,1,3,3,4\\n")
    >>> q = load_movingai_pairs(folder)[0]
    >>> q.map_name, q.start, q.goal, q.shortest_length
    ('m', (1, 1), (3, 3), 4)
    """
    limit = _check_limit(limit)
    path = _pairs_file(folder)
    reader = csv.DictReader(_read_text(path).splitlines())
    needed = ("map", "start_row", "start_col", "goal_row", "goal_col")
    missing = [c for c in needed if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidTaskError(f"{path}: missing columns {missing} in {reader.fieldnames}")
    queries: list[MazeQuery] = []
    for row in reader:
        if limit is not None and len(queries) >= limit:
            break
        where = f"{path}, line {reader.line_num}"
        if None in row or any(v is None for v in row.values()):
            raise InvalidTaskError(f"{where}: expected {len(reader.fieldnames or [])} fields")

        start = (_cell_part(row, "start_row", where), _cell_part(row, "start_col", where))
        goal = (_cell_part(row, "goal_row", where), _cell_part(row, "goal_col", where))
        n_paths = _optional_count(row, "num_shortest_paths_4conn", where)
        queries.append(
            MazeQuery(
                map_name=row["map"].strip(),
                start=start,
                goal=goal,
                shortest_length=_optional_count(row, "shortest_len_4conn", where),
                n_shortest_paths=n_paths,
                n_shortest_paths_capped=n_paths is not None and n_paths >= MOVINGAI_COUNT_CAP,
                kind=(row.get("pair_kind") or "").strip() or None,
            )
        )
    return queries


def _optional_count(row: Mapping[str, str], column: str, where: str) -> int | None:
    value = (row.get(column) or "").strip()
    return _count(value, where, column) if value else None


def _cell_part(row: Mapping[str, str], column: str, where: str) -> int:
    value = _optional_count(row, column, where)
    if value is None:
        raise InvalidTaskError(f"{where}: {column} is empty")
    return value


def _map_file(folder: Path, name: str) -> Path:
    for candidate in (
        folder / "maps" / f"{name}.map.txt",
        folder / "maps" / f"{name}.map",
        folder / f"{name}.map.txt",
        folder / f"{name}.map",
    ):
        if candidate.is_file():
            return candidate
    raise InvalidTaskError(f"no map file for {name!r} under {folder} (looked for maps/{name}.map*)")


def load_movingai_map(path: PathLike) -> str:
    """The text of a Moving AI ``.map`` file (pass it to :meth:`MazeTask.from_movingai`).

    Raises
    ------
    InvalidTaskError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.map"
    >>> _ = path.write_text("type octile\\nheight 1\\nwidth 3\\nmap\\n.@.\\n")
    >>> MazeTask.from_movingai(load_movingai_map(path), (0, 0), (0, 2)).rows
    ('.#.',)
    """
    return _read_text(path)


def load_movingai_tasks(
    folder: PathLike, *, limit: int | None = None
) -> list[tuple[MazeQuery, MazeTask]]:
    """Every pair of a Moving AI folder as ``(query, maze)``, reading each map file once.

    Maps are looked up as ``maps/<map>.map.txt`` or ``maps/<map>.map`` under ``folder``. The
    mazes of one map share their ``rows`` tuple, so 150 pairs on 15 512x512 maps stay small.

    Raises
    ------
    InvalidTaskError
        If a map is missing or malformed, or a start/goal lies on a wall or off the map.
    """
    folder = Path(folder)
    rows_of: dict[str, tuple[str, ...]] = {}
    out: list[tuple[MazeQuery, MazeTask]] = []
    for query in load_movingai_pairs(folder, limit=limit):
        name = query.map_name
        try:
            if name in rows_of:
                maze = MazeTask(rows=rows_of[name], start=query.start, goals=(query.goal,))
            else:
                path = _map_file(folder, name)
                maze = MazeTask.from_movingai(_read_text(path), query.start, query.goal)
                rows_of[name] = maze.rows
        except InvalidTaskError as exc:
            raise InvalidTaskError(
                f"map {name!r}, start {query.start}, goal {query.goal}: {exc}"
            ) from None
        out.append((query, maze))
    return out


# ---------------------------------------------------------------------------- single tasks
def read_task_file(path: PathLike, *, box: tuple[int, int] | None = None) -> SudokuTask | MazeTask:
    """Read one task from a file, deciding the format by its content.

    * JSON (text starting with ``{``): :func:`task_from_json`.
    * An ASCII maze: any ``#`` or ``@`` wall, or an ``S`` and a ``G`` in a text that does not
      read as a Sudoku (note that ``G`` alone is 16 in letter-form Sudoku).
    * Anything else: a Sudoku text (:meth:`SudokuTask.parse`, box inferred).

    Moving AI ``.map`` files are refused: they hold no start or goal. Use
    :func:`load_movingai_tasks`, ``MazeTask.from_movingai(text, start, goal)``, or a JSON task.

    Raises
    ------
    InvalidTaskError
        If the file cannot be read or does not hold a valid task (the message names the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "maze.txt"
    >>> _ = path.write_text("S.#\\n#.G\\n")
    >>> read_task_file(path).goal
    (1, 2)
    """
    text = _read_text(path)
    try:
        return parse_task(text, box=box)
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"{path}: {exc}") from None
