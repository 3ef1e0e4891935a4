"""Turn user text (a puzzle line, a grid, an ASCII maze, a JSON task) into a task object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from tasks.arc import ArcTask
from tasks.errors import InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["is_movingai", "parse_task", "task_from_json"]


def _task_tag(value: Any) -> str | None:
    """The union member for a JSON object: its ``kind``, else guessed from its fields."""
    if isinstance(value, (SudokuTask, MazeTask)):
        return value.kind
    if not isinstance(value, Mapping):
        return None
    kind = value.get("kind")
    if kind is not None:
        return kind if kind in ("sudoku", "maze") else None
    if "grid" in value:
        return "sudoku"
    if "rows" in value:
        return "maze"
    return None


_TASK_ADAPTER: TypeAdapter[SudokuTask | MazeTask] = TypeAdapter(
    Annotated[
        Annotated[SudokuTask, Tag("sudoku")] | Annotated[MazeTask, Tag("maze")],
        Discriminator(
            _task_tag,
            custom_error_type="unknown_task_kind",
            custom_error_message="expected an object with kind 'sudoku' (grid, box_rows, "
            "box_cols) or 'maze' (rows, start, goals)",
        ),
    ]
)


def task_from_json(
    data: str | bytes | Mapping[str, Any], *, task_id: str | None = None
) -> SudokuTask | MazeTask | ArcTask:
    """A task from its JSON form (what ``task.model_dump_json()`` writes) or a decoded dict.

    ``kind`` (``"sudoku"``, ``"maze"`` or ``"arc"``) selects the type; when it is missing, a
    ``grid`` field means Sudoku, a ``rows`` field a maze, and ``train`` (the standard ARC JSON
    format) an ARC task, named ``task_id`` unless it names itself.

    Raises
    ------
    InvalidTaskError
        On invalid JSON, an unknown kind, or fields that do not make a valid task.

    Examples
    --------
    >>> maze = MazeTask(rows=("..", "#."), start=(0, 0), goal=(1, 1))
    >>> task_from_json(maze.model_dump_json()) == maze
    True
    >>> task_from_json({"grid": [[1, 0, 0, 0], [0] * 4, [0] * 4, [0] * 4], "box_rows": 2,
    ...                 "box_cols": 2}).n_givens
    1
    """
    if _is_arc_json(data):
        if isinstance(data, Mapping):
            return ArcTask.from_dict(data, task_id=task_id)
        return ArcTask.from_json(data, task_id=task_id)
    try:
        if isinstance(data, (str, bytes, bytearray)):
            return _TASK_ADAPTER.validate_json(data)
        if isinstance(data, Mapping):
            return _TASK_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise InvalidTaskError(f"invalid task JSON: {_describe(exc)}") from None
    raise InvalidTaskError(f"expected task JSON text or a dict, got {type(data).__name__}")


def _is_arc_json(data: Any) -> bool:
    """Whether ``data`` is an ARC task: ``kind`` "arc", or no kind and a ``train`` field."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False  # deep nesting too: pydantic's own reader then says what is wrong
    if not isinstance(data, Mapping):
        return False
    kind = data.get("kind")
    return kind == "arc" or (kind is None and "train" in data)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in error.get("loc", ()))
        cause = error.get("ctx", {}).get("error")
        # the task types validate in __init__ and raise our error; show its message, unwrapped
        msg = str(cause) if isinstance(cause, InvalidTaskError) else error["msg"]
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def is_movingai(text: str) -> bool:
    """Whether ``text`` opens like a MovingAI ``.map`` file (its first line is a header key).

    >>> is_movingai("type octile\\nheight 2"), is_movingai("S.#")
    (True, False)
    """
    head = text.lstrip().splitlines()[:1]
    key = head[0].strip().lower().replace("=", " ").split(" ")[0] if head else ""
    return key in ("type", "height", "width", "mapwidth", "mapheight")


#: Characters of a text that can only be meant as a Sudoku: digits, blanks, rules, spaces.
_SUDOKU_ONLY_CHARS = frozenset("0123456789._*?|+-=:~,; \t\r\n")


def parse_task(
    text: str, *, box: tuple[int, int] | None = None, task_id: str | None = None
) -> SudokuTask | MazeTask | ArcTask:
    """Read any supported text: JSON (``{"kind": ...}``, or ARC's ``{"train": ...}``, named
    ``task_id``), an ASCII maze or a Sudoku.

    A text holding ``#`` or ``@`` is a maze (Sudoku text never holds them); otherwise it is read
    as a Sudoku, and if that fails, as a wall-less maze. When neither reads it, the error names
    both attempts, unless the text holds only digits, blanks and rules (then it can only be a
    Sudoku, and the Sudoku's message stands alone).

    Raises
    ------
    InvalidTaskError
        Naming what is wrong; ``could not read ... as any task kind: ...`` for text that is
        neither a Sudoku nor a maze (a single letter, say).

    Examples
    --------
    >>> parse_task("S..\\n.#.\\n..G").kind
    'maze'
    >>> parse_task("1234" "3412" "2143" "4321").kind
    'sudoku'
    >>> parse_task("S")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.InvalidTaskError: could not read 'S' as any task kind: not a Sudoku (...);
    not a maze (a maze needs at least one 'G' goal cell, found none); not a JSON task ...
    """
    if not isinstance(text, str):
        raise InvalidTaskError(f"expected task text (str), got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidTaskError("empty input: expected a Sudoku, a maze or a JSON task")
    if stripped.startswith("{"):
        return task_from_json(stripped, task_id=task_id)
    if is_movingai(stripped):
        raise InvalidTaskError(
            "a Moving AI map holds no start or goal; use MazeTask.from_movingai(text, start, "
            "goal), tasks.datasets.load_movingai_tasks(folder) or a JSON maze task"
        )
    if "#" in text or "@" in text:
        return MazeTask.parse(text)
    try:
        return SudokuTask.parse(text, box=box)
    except InvalidTaskError as sudoku_error:
        if len(stripped) > 1 and set(stripped) <= _SUDOKU_ONLY_CHARS:
            raise  # digits, blanks and rules only: a Sudoku, and its own message says what's wrong
        try:
            return MazeTask.parse(text)  # a maze needs an 'S' and a 'G', so no Sudoku reads so
        except InvalidTaskError as maze_error:
            shown = f"{stripped!r}" if len(stripped) <= 40 else f"the text ({len(stripped)} chars)"
            raise InvalidTaskError(
                f"could not read {shown} as any task kind: not a Sudoku ({sudoku_error}); "
                f"not a maze ({maze_error}); not a JSON task (that starts with '{{')"
            ) from None
