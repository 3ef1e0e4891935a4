"""Train a tiny TRM on 6x6 Sudoku from Python, resume it, evaluate it, and solve with it.

Run from the repository root: ``python examples/train_tiny_trm.py`` (about a minute on one CPU
thread with the default 300 steps; use ~2,800 steps for ~98% exact accuracy).
"""

import sys
import tempfile

from neurosym import solve
from tasks.generators import generate_puzzle
from trm import TrainConfig, evaluate, load_model, train
from trm.data import SudokuData, make_eval_set

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
data = SudokuData(box_rows=2, box_cols=3, min_givens=14, max_givens=22, unique=True)

with tempfile.TemporaryDirectory() as run:
    # Half the steps, then resume: the result is bit-identical to one uninterrupted run.
    train(TrainConfig(preset="sudoku6-tiny", data=data, steps=steps // 2, eval_size=0), run)
    result = train(
        TrainConfig(preset="sudoku6-tiny", data=data, steps=steps, eval_size=0), run, resume=True
    )
    print(f"trained {result.step} steps in {result.wall_s:.0f} s -> {result.checkpoint}")

    model = load_model(run)  # EMA weights, eval mode
    held_out = make_eval_set(data, n=200, seed=999)
    print("evaluation:", evaluate(model, held_out.tasks, held_out.solutions))

    task, _ = generate_puzzle(2, 3, n_givens=20, rng=1)
    r = solve(task, method="neural", model=model)
    print(f"neural answer verified: {r.verified} after {r.effort['trm_steps']:.0f} step(s)")
