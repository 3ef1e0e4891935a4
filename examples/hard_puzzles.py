"""Hard puzzles with the network: test-time depth, noisy trajectories, the verifier's pick,
and one maze model for every size.

Run with ``python examples/hard_puzzles.py`` (about 15 seconds on one CPU thread).
"""

from neurosym import solve
from neurosym.hard_data import guesses_needed, make_hard_sudoku
from tasks.generators import generate_maze_hard
from tasks.sudoku import SudokuTask

# A fresh minimal 9x9 puzzle (no given can be removed) from the project's own generator.
pool = make_hard_sudoku(1, seed=7)
flat = pool["puzzles"][0].tolist()
task = SudokuTask(box_rows=3, box_cols=3, grid=[flat[r * 9 : (r + 1) * 9] for r in range(9)])
print(f"{task.n_givens} givens, {guesses_needed(task)} backtracking guesses needed")

for kwargs in (
    {},  # the shipped model's default depth
    {"max_steps": 128},  # run far deeper than trained; halting still stops early
    {"trajectories": 8, "noise": 0.1, "select": "verify"},  # keep the first verified answer
):
    r = solve(task, method="neural", **kwargs)
    print(f"neural {kwargs}: verified={r.verified}, steps={r.effort['trm_steps']:.0f}")

r = solve(task, method="hybrid", trajectories=8)
print(f"hybrid: verified={r.verified}, stage={r.stage} (neural = the network's own answer)")

# One convolutional maze model for any size: a 30x30 Maze-Hard-style maze (loops, a shortest
# path over 110 moves); several shortest paths may exist, and any of them verifies.
maze = generate_maze_hard(size=30, min_path_length=110, rng=3)
r = solve(maze, method="neural")
print(f"30x30 maze: verified={r.verified}, steps={r.effort['trm_steps']:.0f}")
