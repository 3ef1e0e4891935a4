"""Loaders: every shared Sudoku collection and the Moving AI mazes load with the right counts,
known solutions verify, task files and JSON read back, and bad files name file and line."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tasks.datasets import (
    MazeQuery,
    SudokuRecord,
    load_movingai_map,
    load_movingai_pairs,
    load_movingai_tasks,
    load_sudoku_csv,
    load_sudoku_txt,
    read_task_file,
    task_from_json,
)
from tasks.errors import InvalidTaskError
from tasks.generators.sudoku import generate_puzzle
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import maze_shortest_length, verify


def _check_solutions(records: list[SudokuRecord]) -> None:
    for record in records:
        if record.solution is not None:
            assert verify(record.task, record.solution).ok, record.id


# ---------------------------------------------------------------------------- shared Sudoku data
def test_tdoku_csv(data_dir: Path) -> None:
    records = load_sudoku_csv(data_dir / "sudoku-tdoku-test-puzzles" / "puzzles.csv")
    assert len(records) == 43
    classes = Counter(min(r.n_solutions, 2) for r in records)  # type: ignore[type-var]
    assert classes == {1: 18, 2: 15, 0: 10}
    assert not any(r.n_solutions_capped for r in records)  # tdoku's counts are exact
    assert max(r.n_solutions for r in records) == 847  # type: ignore[type-var]
    assert Counter(r.status for r in records) == {
        "unique": 18,
        "multiple_solutions": 15,
        "no_solution": 10,
    }
    assert all((r.solution is not None) == (r.n_solutions == 1) for r in records)
    assert [r.id for r in records] == [str(i) for i in range(43)]
    _check_solutions(records)


def test_tdoku_txt_matches_csv(data_dir: Path) -> None:
    folder = data_dir / "sudoku-tdoku-test-puzzles"
    from_txt = load_sudoku_txt(folder / "test_puzzles.txt")
    from_csv = load_sudoku_csv(folder / "puzzles.csv")
    assert [(r.task, r.n_solutions, r.solution) for r in from_txt] == [
        (r.task, r.n_solutions, r.solution) for r in from_csv
    ]


def test_norvig_hardest(data_dir: Path) -> None:
    folder = data_dir / "sudoku-norvig-hardest"
    records = load_sudoku_csv(folder / "hardest.csv")
    assert len(records) == 11
    assert all(r.status == "unique" and r.n_solutions == 1 for r in records)
    assert all(r.solution is not None and not r.n_solutions_capped for r in records)
    _check_solutions(records)
    assert [r.task for r in load_sudoku_txt(folder / "hardest.txt")] == [r.task for r in records]


def test_gecode(data_dir: Path) -> None:
    records = load_sudoku_csv(data_dir / "sudoku-gecode-9x9" / "puzzles.csv")
    assert len(records) == 18
    assert all(r.task.box == (3, 3) and r.status == "unique" for r in records)
    assert all(r.solution is not None for r in records)
    _check_solutions(records)


def test_serg_first_100(data_dir: Path) -> None:
    folder = data_dir / "sudoku-serg-benchmark"
    records = load_sudoku_csv(folder / "puzzles.csv", limit=100)
    assert len(records) == 100
    assert all(r.n_solutions == 2 and r.n_solutions_capped for r in records)
    assert all(r.status == "multiple_solutions" and r.solution is None for r in records)
    assert all(34 <= r.task.n_givens <= 35 for r in records)
    from_txt = load_sudoku_txt(folder / "puzzles7_serg_benchmark.txt", limit=100)
    assert [r.task for r in from_txt] == [r.task for r in records]
    assert load_sudoku_csv(folder / "puzzles.csv", limit=0) == []


def test_movingai_pairs_and_maps(data_dir: Path) -> None:
    folder = data_dir / "maze-movingai-512"
    queries = load_movingai_pairs(folder)
    assert len(queries) == 150
    assert len({q.map_name for q in queries}) == 15
    assert all(isinstance(q, MazeQuery) and q.shortest_length for q in queries)
    capped = [q for q in queries if q.n_shortest_paths_capped]
    assert capped and all(q.n_shortest_paths == 10**18 for q in capped)
    assert all(q.n_shortest_paths == 1 for q in queries if q.map_name.startswith("maze512-1-"))
    assert load_movingai_pairs(folder / "pairs.csv", limit=3) == queries[:3]
    text = load_movingai_map(folder / "maps" / "maze512-1-0.map.txt")
    assert text.startswith("MapWidth=512")


def test_movingai_tasks_match_their_expected_lengths(data_dir: Path) -> None:
    pairs = load_movingai_tasks(data_dir / "maze-movingai-512", limit=20)
    assert len(pairs) == 20
    for query, maze in pairs:
        assert (maze.height, maze.width) == (512, 512)
        assert maze.start == query.start and maze.goals == (query.goal,)
    # BFS on 512x512 in pure Python is slow: check the pairs whose goal is found soonest
    for query, maze in sorted(pairs, key=lambda pair: pair[0].shortest_length or 0)[:3]:
        assert maze_shortest_length(maze) == query.shortest_length


# ---------------------------------------------------------------------------- loaders, bad input
def test_csv_with_a_box_column(tmp_path: Path) -> None:
    puzzle, solution = generate_puzzle(2, 3, n_givens=20, rng=0)
    line = "".join(str(v) for row in solution for v in row)
    path = tmp_path / "six.csv"
    path.write_text(f"id,size,box,puzzle,solution\na,6,2x3,{puzzle.to_line()},{line}\n")
    (record,) = load_sudoku_csv(path)
    assert record.task == puzzle and record.solution == solution
    assert record.n_solutions is None and record.status is None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("id,grid\n1,....\n", "no 'puzzle' column"),
        ("id,puzzle\n1," + "." * 81 + "\n2," + "." * 80 + "\n", r"line 3: bad puzzle"),
        ("id,puzzle,num_solutions_capped2\n1," + "." * 81 + ",many\n", "line 2.*integer"),
        ("id,puzzle,num_solutions_capped2\n1," + "." * 81 + ",-1\n", "line 2.*>= 0"),
        ("id,puzzle,solution\n1,1" + "." * 80 + ",2" + "x" * 80 + "\n", "line 2: bad solution"),
        ("id,puzzle\n1," + "." * 81 + ",extra\n", "line 2: expected 2 fields"),
        ("id,puzzle,size,box\n1," + "." * 81 + ",9,4\n", "does not match size"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidTaskError, match=match) as info:
        load_sudoku_csv(path)
    assert str(path) in str(info.value)


def test_csv_solution_that_does_not_solve_its_puzzle(tmp_path: Path) -> None:
    puzzle, solution = generate_puzzle(3, 3, n_givens=30, rng=2)
    other = [[{1: 2, 2: 1}.get(v, v) for v in row] for row in solution]  # valid, wrong givens
    line = "".join(str(v) for row in other for v in row)
    path = tmp_path / "wrong.csv"
    path.write_text(f"id,puzzle,solution\n0,{puzzle.to_line()},{line}\n")
    with pytest.raises(InvalidTaskError, match="line 2: the solution does not solve"):
        load_sudoku_csv(path)


def test_txt_formats_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    puzzle, solution = generate_puzzle(2, 2, n_givens=6, rng=0)
    line = "".join(str(v) for row in solution for v in row)
    path.write_text(f"# comment\n\n  {puzzle.to_line()}  \n{puzzle.to_line()}:3\n"
                    f"{puzzle.to_line()}:1:{line}\n")  # fmt: skip
    records = load_sudoku_txt(path)
    assert [r.id for r in records] == ["0", "1", "2"]
    assert [r.n_solutions for r in records] == [None, 3, 1]
    assert records[2].solution == solution and records[2].status == "unique"
    assert len(load_sudoku_txt(path, limit=2)) == 2
    path.write_text("." * 16 + "\n" + "." * 16 + ":x\n")
    with pytest.raises(InvalidTaskError, match="line 2"):
        load_sudoku_txt(path)
    path.write_text("." * 16 + ":1:2:3\n")
    with pytest.raises(InvalidTaskError, match="line 1"):
        load_sudoku_txt(path)
    with pytest.raises(InvalidTaskError, match="limit"):
        load_sudoku_txt(path, limit=-1)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidTaskError, match="cannot read"):
        load_sudoku_csv(tmp_path / "missing.csv")
    with pytest.raises(InvalidTaskError, match="cannot read"):
        read_task_file(tmp_path)  # a directory
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(InvalidTaskError, match="UTF-8"):
        read_task_file(binary)


def test_movingai_errors(tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text("map,start_row,start_col,goal_row\nm,0,0,0\n")
    with pytest.raises(InvalidTaskError, match="missing columns"):
        load_movingai_pairs(tmp_path)
    (tmp_path / "pairs.csv").write_text(
        "map,start_row,start_col,goal_row,goal_col\nm,0,0,0,2\nm,0,1,0,2\nnone,0,0,0,0\n"
    )
    (tmp_path / "m.map").write_text("type octile\nheight 1\nwidth 3\nmap\n.@.\n")
    with pytest.raises(InvalidTaskError, match="start .0, 1..*wall"):
        load_movingai_tasks(tmp_path)
    (tmp_path / "pairs.csv").write_text(
        "map,start_row,start_col,goal_row,goal_col\nm,0,0,0,2\nnone,0,0,0,0\n"
    )
    with pytest.raises(InvalidTaskError, match="no map file for 'none'"):
        load_movingai_tasks(tmp_path)
    ((query, maze),) = load_movingai_tasks(tmp_path, limit=1)
    assert maze.rows == (".#.",) and maze_shortest_length(maze) is None


# ---------------------------------------------------------------------------- single tasks
def test_task_from_json_round_trips_and_infers_kind() -> None:
    sudoku = SudokuTask.parse("1.3...1..1...3..")
    maze = MazeTask.parse("S.#\n#.G")
    assert task_from_json(sudoku.model_dump_json()) == sudoku
    assert task_from_json(maze.model_dump_json().encode()) == maze
    assert task_from_json(sudoku.model_dump(exclude={"kind"})) == sudoku
    assert task_from_json({"rows": [".."], "start": [0, 0], "goal": [0, 1]}).goal == (0, 1)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ("{", "invalid task JSON"),
        ("[]", "kind"),
        ('{"kind": "chess"}', "kind"),
        ('{"kind": 5, "grid": []}', "kind"),
        ('{"kind": "sudoku", "box_rows": 2, "box_cols": 2, "grid": [[1]]}', "rows"),
        ('{"kind": "sudoku", "box_rows": 2, "box_cols": 2, "grid": [[5,0,0,0],[0,0,0,0],'
         '[0,0,0,0],[0,0,0,0]]}', "holds 5"),
        ('{"kind": "maze", "rows": [".#"], "start": [0, 1], "goals": [[0, 0]]}', "wall"),
        ('{"kind": "maze", "rows": [".."], "start": [0, 0], "goals": [[0, 1]], "x": 1}', "x"),
        (42, "expected task JSON"),
    ],
)  # fmt: skip
def test_task_from_json_errors(data: object, match: str) -> None:
    with pytest.raises(InvalidTaskError, match=match):
        task_from_json(data)  # type: ignore[arg-type]


def test_read_task_file_decides_by_content(tmp_path: Path) -> None:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    sudoku = SudokuTask.parse(
        "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    )
    assert read_task_file(write("a.txt", sudoku.to_text())) == sudoku
    assert read_task_file(write("a.json", sudoku.model_dump_json(indent=2))) == sudoku
    maze = MazeTask.parse("#####\n#S..#\n###.#\n#G..#\n#####")
    assert read_task_file(write("m.txt", maze.to_text())) == maze
    assert read_task_file(write("m.json", maze.model_dump_json())) == maze
    assert read_task_file(write("open.txt", "S..\n...\n..G\n")) == MazeTask.parse("S..\n...\n..G")
    # a 16x16 Sudoku in letters holds 'G' (16) and must stay a Sudoku
    puzzle, _ = generate_puzzle(4, 4, n_givens=200, rng=3)
    assert "G" in puzzle.to_line()
    assert read_task_file(write("big.txt", puzzle.to_line())) == puzzle
    movingai = write("x.map", "type octile\nheight 1\nwidth 2\nmap\n..\n")
    with pytest.raises(InvalidTaskError, match="from_movingai"):
        read_task_file(movingai)
    for name, text in [("e.txt", ""), ("bad.txt", "S.#\n#.."), ("j.json", '{"kind": "x"}')]:
        with pytest.raises(InvalidTaskError, match=name):
            read_task_file(write(name, text))


@pytest.mark.parametrize("rows", ["[null]", "[1]", "[[0, 1], true]"])
def test_non_iterable_maze_rows_raise_invalid_task_error(rows: str) -> None:
    with pytest.raises(InvalidTaskError):
        task_from_json(f'{{"kind": "maze", "rows": {rows}, "start": [0, 0], "goals": [[0, 1]]}}')
