"""Turn user text (a puzzle line, a grid, an ASCII maze, a JSON task) into a task object."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["Task", "parse_task", "task_from_json"]

Task = Annotated[SudokuTask | MazeTask, Field(discriminator="kind")]
_TASK_ADAPTER: TypeAdapter[SudokuTask | MazeTask] = TypeAdapter(Task)


def task_from_json(text: str | bytes) -> SudokuTask | MazeTask:
    """Read a task written by ``task.model_dump_json()``; the ``kind`` field picks the type.

    Examples
    --------
    >>> t = SudokuTask.parse("12.." "34.." "...." "....")
    >>> task_from_json(t.model_dump_json()) == t
    True
    """
    try:
        return _TASK_ADAPTER.validate_json(text)
    except ValidationError as exc:
        raise InvalidTaskError(f"not a valid task JSON: {exc}") from None


def parse_task(text: str, *, box: tuple[int, int] | None = None) -> SudokuTask | MazeTask:
    """Read any supported text: JSON (``{"kind": ...}``), an ASCII maze or a Sudoku.

    A text holding ``#`` or ``@`` is a maze (Sudoku text never holds them); otherwise it is read
    as a Sudoku, and if that fails and the text has an ``S`` and a ``G``, as a wall-less maze.

    Examples
    --------
    >>> parse_task("S..\\n.#.\\n..G").kind
    'maze'
    >>> parse_task("1234" "3412" "2143" "4321").kind
    'sudoku'
    """
    if not isinstance(text, str):
        raise InvalidTaskError(f"expected task text (str), got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidTaskError("empty input: expected a Sudoku, a maze or a JSON task")
    if stripped.startswith("{"):
        return task_from_json(stripped)
    if "#" in text or "@" in text:
        return MazeTask.parse(text)
    try:
        return SudokuTask.parse(text, box=box)
    except InvalidTaskError as sudoku_error:
        if "S" in text and "G" in text:
            try:
                return MazeTask.parse(text)
            except InvalidTaskError:
                pass
        raise sudoku_error
