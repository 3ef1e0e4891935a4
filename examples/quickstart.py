"""Solve a Sudoku and a maze, look at how they were solved, and count solutions.

Run from the repository root: ``python examples/quickstart.py``.
"""

from pathlib import Path

from neurosym import SudokuTask, count_solutions, solve

HERE = Path(__file__).parent

# An 81-character line, a 16x16 grid with letters past 9, and an ASCII maze, all from files.
for name in ["sudoku9.txt", "sudoku16.txt", "maze.txt"]:
    result = solve(HERE / name)
    print(
        f"{name}: verified={result.verified} unique={result.unique} "
        f"backend={result.backend} time={result.time_s * 1e3:.2f} ms effort={result.effort}"
    )

# The same 9x9 with each backend: the instrumented backtracking solver reports search effort.
task = SudokuTask.parse((HERE / "sudoku9.txt").read_text())
for backend in ["sat", "cpsat", "backtrack", "constraint"]:
    result = solve(task, backend=backend)
    print(f"{backend:>10}: {result.time_s * 1e3:8.2f} ms  {result.effort}")

# Remove givens and count how many solutions appear (counted up to the limit).
sparse = SudokuTask.from_grid(
    [[v if (r * 9 + c) % 4 else 0 for c, v in enumerate(row)] for r, row in enumerate(task.grid)]
)
print("solutions with a quarter of the givens removed (up to 100):", count_solutions(sparse, 100))
