"""SudokuTask parsing, rendering, JSON and box inference for every box shape; verify's verdicts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.datasets import task_from_json
from tasks.errors import InvalidTaskError
from tasks.generators.sudoku import generate_solution
from tasks.strategies import malformed_sudoku_texts, sudoku_lines, sudoku_tasks
from tasks.sudoku import SudokuTask, infer_box
from tasks.verify import verify

# (box, max_examples): big grids are slower to draw and parse, so fewer examples
SHAPES = [
    ((2, 2), 40), ((2, 3), 30), ((3, 2), 30), ((2, 4), 20), ((4, 2), 20), ((3, 3), 30),
    ((2, 5), 10), ((3, 4), 15), ((4, 3), 10), ((2, 6), 10), ((4, 4), 10), ((5, 5), 5),
    ((6, 6), 3),
]  # fmt: skip
_FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("box", "examples"), SHAPES, ids=[f"{b[0]}x{b[1]}" for b, _ in SHAPES])
def test_text_line_and_json_round_trips(box: tuple[int, int], examples: int) -> None:
    @settings(_FAST, max_examples=examples)
    @given(sudoku_tasks(box=box))
    def check(task: SudokuTask) -> None:
        assert task.box == box
        assert SudokuTask.parse(task.to_text(), box=box) == task
        assert SudokuTask.parse(task.to_line(), box=box) == task
        assert task_from_json(task.model_dump_json()) == task
        assert SudokuTask.model_validate_json(task.model_dump_json()) == task
        if infer_box(task.size) == box:  # the conventional box needs no hint
            assert SudokuTask.parse(task.to_text()) == task
            assert SudokuTask.parse(task.to_line()) == task

    check()


def test_round_trip_beyond_the_letters() -> None:
    # side 36 > 35 letters: the line and grid forms fall back to integers
    grid = generate_solution(6, 6, rng=0)
    task = SudokuTask.from_grid(
        [[v if (r + c) % 3 else 0 for c, v in enumerate(row)] for r, row in enumerate(grid)],
        box=(6, 6),
    )
    assert SudokuTask.parse(task.to_line()) == task
    assert SudokuTask.parse(task.to_text()) == task
    assert task_from_json(task.model_dump_json()) == task


@settings(max_examples=150, deadline=None)
@given(sudoku_lines(max_side=16))
def test_every_text_format_parses_to_its_task(pair: tuple[str, SudokuTask]) -> None:
    text, task = pair
    assert SudokuTask.parse(text) == task


@settings(max_examples=10, deadline=None)
@given(sudoku_lines(box=(5, 5)))
def test_text_formats_25x25(pair: tuple[str, SudokuTask]) -> None:
    text, task = pair
    assert SudokuTask.parse(text) == task


@pytest.mark.parametrize(
    ("side", "box"),
    [(1, (1, 1)), (4, (2, 2)), (6, (2, 3)), (8, (2, 4)), (9, (3, 3)), (10, (2, 5)),
     (12, (3, 4)), (16, (4, 4)), (18, (3, 6)), (25, (5, 5)), (49, (7, 7))],
)  # fmt: skip
def test_infer_box(side: int, box: tuple[int, int]) -> None:
    assert infer_box(side) == box


@pytest.mark.parametrize("side", [0, -3, 2, 3, 5, 7, 11, 13])
def test_infer_box_rejects_prime_and_nonpositive_sides(side: int) -> None:
    with pytest.raises(InvalidTaskError):
        infer_box(side)


def test_explicit_box_and_tall_box_inference() -> None:
    tall = generate_solution(3, 2, rng=1)
    text = SudokuTask.from_grid(tall, box=(3, 2)).to_line()
    # a complete tall-box grid breaks the wide boxes, so the parser picks the tall ones itself
    assert SudokuTask.parse(text).box == (3, 2)
    assert SudokuTask.parse(text, box=(3, 2)).box == (3, 2)
    # an empty grid fits either: the conventional wide box wins unless told otherwise
    assert SudokuTask.parse("." * 36).box == (2, 3)
    assert SudokuTask.parse("." * 36, box=(3, 2)).box == (3, 2)
    # a prime side needs its box: a 5x5 Latin square with 1x5 boxes
    latin = "".join(str((r + c) % 5 + 1) for r in range(5) for c in range(5))
    with pytest.raises(InvalidTaskError, match="prime"):
        SudokuTask.parse(latin)
    assert SudokuTask.parse(latin, box=(1, 5)).n_givens == 25
    with pytest.raises(InvalidTaskError):
        SudokuTask.parse("." * 81, box=(2, 3))
    with pytest.raises(InvalidTaskError, match="box"):
        SudokuTask.parse("." * 81, box="3x3")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(malformed_sudoku_texts())
def test_malformed_texts_raise_invalid_task_error(text: str) -> None:
    with pytest.raises(InvalidTaskError):
        SudokuTask.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t\n",
        "---+---\n---+---",
        "." * 80,
        "." * 82,
        "12",  # 2 cells: not a square count ("1" alone is a valid 1x1 grid)
        "12\n34",
        "1234\n5678\n1234\n1234",  # values past 4
        "1.3.\n..1.\n.1..",  # 3 rows of 4
        "1.3.\n..1\n.1..\n...1",  # ragged
        "1.3.!..1..1....1",
        "x" * 16,
        "." * 2500,  # 50x50: above the maximum side
        "10 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
        '{"kind": "sudoku"}',
    ],
)
def test_malformed_examples(text: str) -> None:
    with pytest.raises(InvalidTaskError):
        SudokuTask.parse(text)


@pytest.mark.parametrize("value", [None, 81, b"." * 81, ["." * 81]])
def test_non_text_input_raises(value: object) -> None:
    with pytest.raises(InvalidTaskError):
        SudokuTask.parse(value)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300))
def test_any_text_parses_or_raises_invalid_task_error(text: str) -> None:
    try:
        SudokuTask.parse(text)
    except InvalidTaskError:
        pass


@pytest.mark.parametrize("text", ["²² 0 0 0", "1 2\n²² 1", "ı" * 256, "١٢ 0 0 0"])
def test_superscript_digits_raise_invalid_task_error(text: str) -> None:
    with pytest.raises(InvalidTaskError):
        SudokuTask.parse(text)


# ---------------------------------------------------------------------------- verify
SOLUTION = SudokuTask.parse(
    "859612437723854169164379528986147352375268914241593786432981675617425893598736241"
)
PUZZLE = SudokuTask.parse(
    "85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4."
)


def _rules(answer: object) -> set[str]:
    return {v.rule for v in verify(PUZZLE, answer).violations}


def test_verify_accepts_the_solution() -> None:
    assert verify(PUZZLE, SOLUTION.grid).ok
    assert verify(PUZZLE, [list(row) for row in SOLUTION.grid])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_verify_accepts_generated_solutions(data: st.DataObject) -> None:
    from tasks.strategies import sudoku_task_with_solution

    task, solution = data.draw(sudoku_task_with_solution(max_side=12))
    assert verify(task, solution).ok


def test_verify_names_each_broken_rule() -> None:
    grid = [list(row) for row in SOLUTION.grid]
    assert _rules(grid[:8]) == {"shape"}
    assert _rules([row[:8] for row in grid]) == {"shape"}
    assert _rules(42) == {"shape"}
    for bad in (0, 10, -1, True, "5", 5.0):
        g = [row[:] for row in grid]
        g[4][4] = bad
        assert _rules(g) == {"value"}, bad
    g = [row[:] for row in grid]
    g[0][0] = grid[0][1]  # a given changed: reported before any unit check
    assert _rules(g) == {"given"}
    relabelled = [[{1: 2, 2: 1}.get(v, v) for v in row] for row in grid]
    assert verify(SudokuTask.from_grid([[0] * 9] * 9), relabelled).ok
    assert _rules(relabelled) == {"given"}
    blank = SudokuTask.from_grid([[0] * 9] * 9)

    def rules(answer: list[list[int]]) -> set[str]:
        return {v.rule for v in verify(blank, answer).violations}

    g = [row[:] for row in grid]
    g[0][0], g[0][1] = g[0][1], g[0][0]  # same row, same box: only columns break
    assert rules(g) == {"column"}
    g = [row[:] for row in grid]
    g[0][0], g[1][0] = g[1][0], g[0][0]  # same column, same box: only rows break
    assert rules(g) == {"row"}
    g = [row[:] for row in grid]
    g[0], g[3] = g[3], g[0]  # rows swapped across bands: rows and columns intact
    assert rules(g) == {"box"}
    g = [row[:] for row in grid]
    g[0][0] = g[0][2]
    assert rules(g) == {"row", "column", "box"}
    dup = next(v for v in verify(blank, g).violations if v.rule == "row")
    assert dup.cells == ((0, 0), (0, 2)) and "row 0" in dup.message
