"""``load_task()``: a task from whatever a user hands over (a task object, puzzle or maze text,
a file, a Moving AI map with its start and goal), with clear errors for what it is not."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tasks.arc import ArcTask
from tasks.detect import is_movingai, parse_task
from tasks.errors import ConfigError, InvalidTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = ["load_task"]


def load_task(
    source: SudokuTask | MazeTask | ArcTask | str | os.PathLike[str],
    *,
    box: tuple[int, int] | None = None,
    start: tuple[int, int] | None = None,
    goal: tuple[int, int] | None = None,
) -> SudokuTask | MazeTask | ArcTask:
    """A task from a task object, puzzle text, or the path of a file holding one.

    A one-line string naming an existing file is read as that file; one naming a folder is
    refused. Any other string is puzzle text; when it is not, and it looks like a path (it holds
    a path separator or ends in a puzzle-file extension such as ``.txt``), the error says
    ``no such file`` instead of a puzzle-text complaint.

    ``start`` and ``goal`` (0-based ``(row, col)``, both or neither) make a maze of a Moving AI
    ``.map`` (its text or its file), which marks neither.

    Raises
    ------
    InvalidTaskError
        ``no such file: ...``, ``... is a directory``, or the text is no valid task; with
        ``start``/``goal``: the source is no Moving AI map, or a cell is off the map or a wall.
    ConfigError
        Only one of ``start`` and ``goal``, or them with a task object.

    Examples
    --------
    >>> load_task("1.3." "..1." ".1.." "...1").kind
    'sudoku'
    >>> load_task("no/such/puzzle.txt")
    Traceback (most recent call last):
    ...
    tasks.errors.InvalidTaskError: no such file: no/such/puzzle.txt
    >>> m = load_task("type octile\\nheight 2\\nwidth 3\\nmap\\n.@.\\n...\\n",
    ...               start=(0, 0), goal=(0, 2))
    >>> m.rows, m.start, m.goal
    (('.#.', '...'), (0, 0), (0, 2))
    """
    if start is not None or goal is not None:
        return _load_movingai(source, start, goal)
    if isinstance(source, SudokuTask | MazeTask | ArcTask):
        return source
    if isinstance(source, os.PathLike):
        return _read_file(Path(source), box)
    if not isinstance(source, str):
        raise InvalidTaskError(
            "expected a SudokuTask, MazeTask, puzzle text or file path, "
            f"got {type(source).__name__}"
        )
    one_line = "\n" not in source and len(source) < 4096
    if one_line and _is_file(source):
        return _read_file(Path(source), box)
    if one_line and _is_dir(source):
        raise InvalidTaskError(f"{source} is a directory; pass a puzzle file or puzzle text")
    try:
        return parse_task(source, box=box)
    except InvalidTaskError:
        if one_line and _looks_like_path(source):
            raise InvalidTaskError(f"no such file: {source}") from None
        raise


#: File name endings of the puzzle files people pass (a text ending so is a missing file, not
#: a malformed puzzle, when it does not parse).
_PUZZLE_FILE_SUFFIXES = (".txt", ".csv", ".map", ".json", ".sdk", ".ss")


def _looks_like_path(text: str) -> bool:
    """Whether ``text`` reads as a file path rather than puzzle text: a path separator (no
    puzzle text holds one) or a puzzle-file extension. Checked only once parsing failed."""
    text = text.strip()
    if not text or text.startswith("{"):
        return False
    separators = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    if any(sep in text for sep in separators):
        return True
    return text.lower().endswith(_PUZZLE_FILE_SUFFIXES)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def _is_dir(text: str) -> bool:
    try:
        return Path(text).is_dir()
    except (OSError, ValueError):
        return False


def _load_movingai(source: Any, start: Any, goal: Any) -> MazeTask:
    """A Moving AI map (text or file) with the start and goal it does not mark itself."""
    if start is None or goal is None:
        missing = "goal" if goal is None else "start"
        raise ConfigError(f"start and goal come together: a Moving AI map needs both, no {missing}")
    if isinstance(source, SudokuTask | MazeTask):
        raise ConfigError(
            f"start and goal apply to a Moving AI map (its text or file), not a "
            f"{type(source).__name__}"
        )
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and len(source) < 4096
    ):
        path = Path(source)
        where, text = str(path), _read_text(path)
    elif isinstance(source, str):
        where, text = "the text", source
    else:
        raise InvalidTaskError(
            f"expected Moving AI map text or a file path, got {type(source).__name__}"
        )
    if not is_movingai(text):
        raise InvalidTaskError(
            f"{where} is no Moving AI map (expected a header: 'type octile'/'height H'/'width W'"
            "/'map', or MapWidth=/MapHeight=/MapData); start and goal apply to those only, an "
            "ASCII maze marks its own S and G"
        )
    try:
        return MazeTask.from_movingai(text, start, goal)
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"{where}: {exc}") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidTaskError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidTaskError(f"{path} is a directory; pass a puzzle file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTaskError(f"cannot read {path}: {exc}") from None


def _read_file(path: Path, box: tuple[int, int] | None) -> SudokuTask | MazeTask | ArcTask:
    text = _read_text(path)
    try:
        return parse_task(text, box=box, task_id=path.stem)  # an ARC file is named by its stem
    except InvalidTaskError as exc:
        raise InvalidTaskError(f"{path}: {exc}") from None
