"""Presets, argument definitions and the tqdm progress callback of ``neurosym train`` / ``eval``.

The command handlers, which print, live in :mod:`neurosym.commands.train`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PRESET_DATA", "Progress", "add_train_commands"]

#: The training data each named preset is meant for (the model's vocab/seq come from it).
PRESET_DATA: dict[str, dict[str, Any]] = {
    # unique=True completes each puzzle to a unique solution, so the label is the only answer
    # (without it, label noise held exact accuracy near 73% in a 2,800-step run).
    "sudoku6-tiny": {
        "kind": "sudoku",
        "box_rows": 2,
        "box_cols": 3,
        "min_givens": 14,
        "max_givens": 22,
        "unique": True,
    },
    # The HRM baseline at sudoku6-tiny's size, on sudoku6-tiny's data (trm.hrm).
    "sudoku6-hrm-tiny": {
        "kind": "sudoku",
        "box_rows": 2,
        "box_cols": 3,
        "min_givens": 14,
        "max_givens": 22,
        "unique": True,
    },
    "sudoku9-tiny": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "min_givens": 30,
        "max_givens": 35,
        "unique": True,
    },
    "sudoku9-small": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "min_givens": 30,
        "max_givens": 35,
    },
    "maze-small": {"kind": "maze", "height": 15, "width": 15},
    # Perfect 9x9 mazes (one path between any two cells, so the label is the only optimal
    # answer), start and goal at the ends of a longest path, random square symmetries.
    "maze9-tiny": {"kind": "maze", "height": 9, "width": 9, "maze": "perfect"},
    # Hard 9x9: minimal puzzles from a generated pool file (neurosym.hard_data; pass it with
    # --data '{"pool_path": "..."}'), a third of draws needing > 5 backtracking guesses,
    # and a curriculum that starts with up to 20 givens put back and removes them over 2,000
    # steps. Without a pool file, fresh minimal puzzles are carved on the fly (~30 ms each).
    "sudoku-peers": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "minimal": True,
        "hard_fraction": 0.3,
        "curriculum_steps": 2000,
        "max_extra_givens": 20,
    },
    # Minimal unique 6x6 puzzles carved on the fly (~3 ms each).
    "sudoku6-peers": {"kind": "sudoku", "box_rows": 2, "box_cols": 3, "minimal": True},
    # Mazes of every side 5..15 on a 15x15 canvas, half perfect, half with loops, labelled with
    # every cell on a shortest path (one right answer however many shortest paths exist).
    "maze-conv": {
        "kind": "maze",
        "height": 15,
        "width": 15,
        "maze": "mixed",
        "min_size": 5,
        "loop_prob": 0.5,
        "label": "union",
    },
    "trm-mlp-sudoku": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "min_givens": 17,
        "max_givens": 30,
    },
    "trm-att-sudoku": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "min_givens": 17,
        "max_givens": 30,
    },
    "trm-att-maze": {
        "kind": "maze",
        "height": 30,
        "width": 30,
        "maze": "hard",
        "min_path_length": 110,
    },
    "hrm-sudoku": {
        "kind": "sudoku",
        "box_rows": 3,
        "box_cols": 3,
        "min_givens": 17,
        "max_givens": 30,
    },
}
# maze-conv with the distance hints of MazeData(hint="distance") (preset maze-conv-hint).
PRESET_DATA["maze-conv-hint"] = {**PRESET_DATA["maze-conv"], "hint": "distance"}
# The free-cell message-passing mixer on maze-conv's data (preset maze-graph).
PRESET_DATA["maze-graph"] = dict(PRESET_DATA["maze-conv"])


class Progress:
    """A tqdm bar over training steps, with loss and the last evaluation in its postfix."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None  # opened at the first step, after the run's set-up has succeeded
        self.last_eval: dict[str, Any] = {}

    def on_step(self, state: Any) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total, initial=state.step - 1, unit="step", dynamic_ncols=True
            )
        self.bar.n = state.step
        loss = state.metrics.get("loss")
        post = {"loss": f"{loss:.3f}"} if isinstance(loss, float) else {}
        if self.last_eval:
            post["exact"] = f"{self.last_eval.get('exact_accuracy', 0):.3f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.refresh()

    def on_eval(self, state: Any) -> None:
        self.last_eval = state.eval_metrics or {}
        from tqdm import tqdm

        tqdm.write(
            f"step {state.step}: "
            + json.dumps({k: v for k, v in self.last_eval.items() if isinstance(v, int | float)})
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def add_train_commands(sub: Any, train_handler: Any, eval_handler: Any) -> None:
    """Register ``train`` and ``eval`` on the CLI's subparsers (the CLI owns the handlers,
    which print)."""
    p = sub.add_parser(
        "train",
        help="train a TRM from a preset",
        description="Train a Tiny Recursive Model on seeded, generated data (deep supervision, "
        "ACT halting, EMA). Writes metrics.jsonl, training.png and an atomic checkpoint to --out; "
        "--resume continues a stopped run exactly.",
    )
    p.add_argument("--preset", default="sudoku6-tiny", help=f"one of {sorted(PRESET_DATA)}")
    p.add_argument("--out", default="runs/trm", help="run directory (default runs/trm)")
    p.add_argument(
        "--data",
        default=None,
        help='JSON overrides of the preset\'s data config, e.g. \'{"pool_path": "hard.npz"}\'',
    )
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the preset's)")
    p.add_argument(
        "--batch-size", type=int, default=None, help="examples per step (default: the preset's)"
    )
    p.add_argument(
        "--lr", type=float, default=None, help="peak learning rate (default: the preset's)"
    )
    p.add_argument(
        "--optimizer",
        choices=["adamw", "adamatan2"],
        default=None,
        help="optimiser (default: the preset's)",
    )
    p.add_argument(
        "--lr-min-ratio",
        type=float,
        default=None,
        help="cosine decay of the lr to this fraction (default 1.0: constant after warm-up)",
    )
    p.add_argument("--decay-start", type=int, default=None, help="last step at the full lr")
    p.add_argument("--decay-steps", type=int, default=None, help="length of the cosine decay")
    p.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="evaluate every N steps (default: the preset's)",
    )
    p.add_argument(
        "--eval-size", type=int, default=None, help="puzzles per evaluation (default: the preset's)"
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        help="checkpoint every N steps (default: the preset's)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default 1)")
    p.add_argument(
        "--ema-warmup",
        action="store_true",
        default=None,
        help="EMA decay min(0.999, (1+t)/(10+t)): early evaluations track the weights",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="auto (default: CUDA when available, bf16 autocast), cpu or cuda",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the data, initialisation and exploration (default 0)",
    )
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="CHECKPOINT",
        help="fine-tune: start from this checkpoint's EMA weights (same model config; fresh "
        "optimiser and step count), e.g. neurosym/models/maze_conv",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop (evaluate, checkpoint) after this many minutes; --resume continues exactly "
        "(for fixed-length GPU leases)",
    )
    p.add_argument(
        "--budget-clock",
        choices=["wall", "cpu"],
        default="wall",
        help="what --max-minutes counts: wall time or this process's CPU time",
    )
    p.set_defaults(func=train_handler)

    e = sub.add_parser(
        "eval",
        help="evaluate a TRM checkpoint",
        description="Exact accuracy, valid-answer accuracy, per-cell accuracy and mean steps "
        "(with halting and with all steps) of a checkpoint's EMA weights.",
    )
    e.add_argument("checkpoint", help="run directory or checkpoint file")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--data", default=None, help="a Sudoku CSV with a solution column")
    src.add_argument("--generate", type=int, default=1000, help="fresh generated puzzles")
    e.add_argument("--seed", type=int, default=999, help="seed of the generated set")
    e.add_argument(
        "--halt-threshold",
        type=float,
        default=0.5,
        help="halt probability that stops a puzzle (default 0.5, the reference's; "
        "solve/compare use 0.9)",
    )
    e.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    e.set_defaults(func=eval_handler)
