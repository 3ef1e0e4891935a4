"""``solve(method="neural")``: the TRM's answer, always checked by ``verify``.

Also the test-time knobs every place the network runs shares (solve, the hybrid, compare,
trace, eval): which shipped model covers a task, how deep it recurses, and how one answer is
chosen among several stochastic trajectories.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tasks.errors import ConfigError, UnsupportedTaskError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = [
    "CELLS_PER_STEP",
    "DEFAULT_DEPTH",
    "DEFAULT_NOISE",
    "HALT_THRESHOLD",
    "MODELS_DIR",
    "PREFERRED_MODELS",
    "SELECT_RULES",
    "check_max_steps",
    "choose",
    "default_max_steps",
    "default_models",
    "evaluate_trajectories",
    "per_cell_depth",
    "prepare",
    "resolve_model",
    "sampling",
    "solve_neural",
    "torch_threads",
]

#: The halt probability at which ``solve``, ``compare`` and the hybrid stop a puzzle's recursion.
#: Higher than the reference's 0.5: measured on 1,000 generated unique 9x9 puzzles (30-35
#: givens) with the shipped model, 0.5 gives 82.4% exact in 2.31 of 4 steps on average, 0.9
#: gives 88.2% in 2.51 (all 4 steps: 89.1%); on 6x6, 98.1% in 1.03 vs 99.2% in 1.06.
HALT_THRESHOLD = 0.9

#: Where default checkpoints ship: one folder per model holding ``checkpoint.json`` and
#: ``checkpoint.safetensors`` (see ``models/README.md`` for how each was trained).
MODELS_DIR = Path(__file__).resolve().parent / "models"

#: Which shipped model answers a task when several cover it: the first of these folder names
#: that covers it (absent folders are skipped; shipped models not listed come after, by name).
#: The order follows measurement (model card: ``models/README.md``): on 300 unique 6x6 puzzles
#: with 10-12 givens ``sudoku6_peers`` is right on 99.7%, ``sudoku6`` on 88.0%; on 200 minimal
#: 9x9 puzzles ``sudoku_peers`` on 77.0% at its default depth, ``sudoku9`` on 33.0% at 16 steps
#: (and on 300 unique 9x9 puzzles with 30-35 givens 99.3% vs 96.0%). ``maze9`` keeps 9x9 mazes
#: (100% there); ``maze_conv`` answers every other size.
PREFERRED_MODELS: tuple[str, ...] = (
    "sudoku6_peers",
    "sudoku_peers",
    "sudoku6",
    "sudoku9",
    "maze9",
    "maze_conv",
)

#: Test-time depth (the cap on supervision steps; halting still stops confident puzzles
#: earlier) of each shipped model folder when the caller gives none: an int, or ``"per-cell"``
#: for :func:`per_cell_depth`. A folder not listed runs its trained ``N_sup``.
DEFAULT_DEPTH: dict[str, int | Literal["per-cell"]] = {
    # Step 34,000, minimal 9x9 (200, bench neural): 82.5% at 8 steps (trained), 86.5% at 16,
    # 89.0% at 32 (7.4 steps on average with halting), 93.0% at 64 (10.0 steps), 93.5% at 128
    # (13.8); > 5 guesses 86/90/94% at 32/64/128: 64 buys 4 points for 1.35x the steps.
    "sudoku_peers": 64,
    "maze_conv": "per-cell",
}

#: Free cells one supervision step is credited with by the ``"per-cell"`` depth rule.
CELLS_PER_STEP = 8

#: How one answer is chosen among K trajectories: :data:`trm.inference.SELECTION_RULES`
#: (``"halt"`` highest final halt probability, ``"first"`` first to halt, ``"vote"`` most
#: frequent answer) plus ``"verify"``: the first trajectory, in trajectory order, whose answer
#: :func:`tasks.verify.verify` accepts, else the ``"halt"`` choice.
SELECT_RULES = ("halt", "first", "vote", "verify")

#: Latent noise std of trajectories 1..K-1 when K > 1 and the caller gives none.
DEFAULT_NOISE = 0.1


def default_models() -> dict[str, Path]:
    """The shipped default checkpoints by name (``{}`` when none are shipped)."""
    if not MODELS_DIR.is_dir():
        return {}
    return {p.parent.name: p.parent for p in sorted(MODELS_DIR.glob("*/checkpoint.json"))}


def _ranked(models: dict[str, Path]) -> list[str]:
    """``models``' names in :data:`PREFERRED_MODELS` order, the others after them by name."""
    listed = [name for name in PREFERRED_MODELS if name in models]
    return listed + sorted(name for name in models if name not in PREFERRED_MODELS)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Any:
    from trm.inference import load_model

    return load_model(path)


def _load_path(path: str | os.PathLike[str]) -> Any:
    """The cached model at ``path``, keyed by the resolved path: a shipped folder passed by
    path is the very model :func:`resolve_model` picks by default (and gets its depth)."""
    return _load(str(Path(path).resolve()))


def _fits(loaded: Any, task: SudokuTask | MazeTask) -> bool:
    codec = loaded.codec
    if codec.kind != task.kind:
        return False
    if loaded.config.size_agnostic:
        from trm.inference import codec_for

        try:
            codec_for(loaded, task)
        except UnsupportedTaskError:
            return False
        return True
    if isinstance(task, SudokuTask):
        return (codec.box_rows, codec.box_cols) == task.box
    # Exact canvas only: the shipped 9x9 maze model scores 0% exact on padded 5x5 and 7x7 mazes.
    return (task.height, task.width) == (codec.height, codec.width)


def _describe(loaded: Any) -> str:
    codec = loaded.codec
    if loaded.config.size_agnostic:
        if codec.kind == "sudoku":
            return f"Sudoku with up to {loaded.config.vocab_size - 2} digits (any box shape)"
        return "mazes of any size"
    if codec.kind == "sudoku":
        return f"{codec.size}x{codec.size} Sudoku ({codec.box_rows}x{codec.box_cols} boxes)"
    return f"{codec.height}x{codec.width} mazes"


def resolve_model(task: SudokuTask | MazeTask, model: Any = None) -> tuple[Any, float]:
    """The loaded model to use for ``task`` and the seconds spent loading it (0 when cached).

    ``model`` may be a loaded model (:class:`trm.inference.LoadedModel`), a checkpoint path, or
    None for a shipped default that covers the task (the first in :data:`PREFERRED_MODELS`
    order). A fixed-size model covers exactly its size; a size-agnostic one every size
    :func:`trm.inference.codec_for` accepts.

    Raises
    ------
    UnsupportedTaskError
        When the model does not cover the task, or no shipped model does (naming what is covered).
    CheckpointError
        When a checkpoint path is missing or invalid.

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=22, rng=1)
    >>> loaded, _ = resolve_model(task)
    >>> loaded.codec.size
    6
    """
    t0 = time.perf_counter()
    if model is None:
        shipped = default_models()
        candidates = [_load_path(shipped[name]) for name in _ranked(shipped)]
        fitting = [m for m in candidates if _fits(m, task)]
        if not fitting:
            covered = ", ".join(_describe(m) for m in candidates) or "none"
            raise UnsupportedTaskError(
                f"no shipped TRM model covers this {_task_words(task)}; covered: {covered}. "
                "Pass model=<checkpoint path> (train one with trm.train.train) or use "
                "method='symbolic'"
            )
        loaded = fitting[0]
    elif isinstance(model, str | os.PathLike):
        loaded = _load_path(model)
    else:
        loaded = model
    if not hasattr(loaded, "codec") or not _fits(loaded, task):
        what = _describe(loaded) if hasattr(loaded, "codec") else type(loaded).__name__
        raise UnsupportedTaskError(f"the model ({what}) does not cover this {_task_words(task)}")
    return loaded, time.perf_counter() - t0


def _task_words(task: SudokuTask | MazeTask) -> str:
    if isinstance(task, SudokuTask):
        return f"{task.size}x{task.size} Sudoku ({task.box_rows}x{task.box_cols} boxes)"
    return f"{task.height}x{task.width} maze"


# --------------------------------------------------------------------------- depth


def per_cell_depth(n_sup: int, n_free: int, cells_per_step: int = CELLS_PER_STEP) -> int:
    """The ``"per-cell"`` depth rule: ``max(n_sup, ceil(n_free / cells_per_step))``.

    A local (convolutional) maze model moves information a bounded distance per supervision
    step, so a larger maze needs proportionally more steps; the trained ``n_sup`` is the floor.

    Examples
    --------
    >>> per_cell_depth(16, 100), per_cell_depth(16, 480)
    (16, 60)
    """
    return max(int(n_sup), math.ceil(int(n_free) / int(cells_per_step)))


def _shipped_name(loaded: Any) -> str | None:
    """The folder name of ``loaded`` if it is a shipped model with a :data:`DEFAULT_DEPTH`."""
    shipped = default_models()
    for name in DEFAULT_DEPTH:
        path = shipped.get(name)
        if path is not None and _load_path(path) is loaded:
            return name
    return None


def default_max_steps(loaded: Any, task: SudokuTask | MazeTask) -> int | None:
    """The test-time depth for ``task`` when the caller gives none (see :data:`DEFAULT_DEPTH`).

    None (the model's trained ``N_sup``) for a model without an entry, which is every checkpoint
    that is not a shipped one. ``"per-cell"`` counts a maze's free cells (a Sudoku's blanks);
    the result never exceeds :data:`trm.inference.MAX_TEST_STEPS`.

    Examples
    --------
    >>> from tasks.generators import generate_puzzle
    >>> task, _ = generate_puzzle(2, 3, n_givens=22, rng=1)
    >>> default_max_steps(resolve_model(task)[0], task) is None  # no entry: trained depth
    True
    """
    name = _shipped_name(loaded)
    if name is None:
        return None
    rule = DEFAULT_DEPTH[name]
    if rule != "per-cell":
        return int(rule)
    from trm.inference import MAX_TEST_STEPS

    if isinstance(task, MazeTask):
        free = task.n_free
    else:
        free = sum(1 for row in task.grid for v in row if not v)
    return min(per_cell_depth(loaded.config.max_supervision_steps, free), MAX_TEST_STEPS)


def check_max_steps(max_steps: int | None) -> int | None:
    """``max_steps`` if it is None or an int in ``1..trm.inference.MAX_TEST_STEPS``.

    Raises
    ------
    ConfigError
        Otherwise, naming the value.
    """
    if max_steps is None:
        return None
    from trm.inference import MAX_TEST_STEPS

    if isinstance(max_steps, bool) or not isinstance(max_steps, int):
        raise ConfigError(f"max_steps must be an int in 1..{MAX_TEST_STEPS}, got {max_steps!r}")
    if not 1 <= max_steps <= MAX_TEST_STEPS:
        raise ConfigError(f"max_steps must be an int in 1..{MAX_TEST_STEPS}, got {max_steps!r}")
    return max_steps


# --------------------------------------------------------------------------- trajectories


def sampling(
    trajectories: int = 1, noise: float | None = None, select: str | None = None
) -> tuple[int, float, str | None]:
    """Checked ``(trajectories, noise, select)``: noise defaults to :data:`DEFAULT_NOISE` when
    ``trajectories > 1`` (0 otherwise); ``select`` stays None when not given (each method has
    its default: ``"halt"`` for the network alone, ``"verify"`` for the hybrid).

    Raises
    ------
    ConfigError
        On a count outside ``1..MAX_TRAJECTORIES``, noise outside ``[0, 10]`` or given with a
        single trajectory (which runs without noise), or an unknown rule.

    Examples
    --------
    >>> sampling(4)
    (4, 0.1, None)
    >>> sampling(1, select="verify")
    (1, 0.0, 'verify')
    """
    from trm.inference import check_trajectories

    check_trajectories(trajectories)
    if select is not None and select not in SELECT_RULES:
        raise ConfigError(f"select must be one of {list(SELECT_RULES)}, got {select!r}")
    if noise is None:
        return trajectories, DEFAULT_NOISE if trajectories > 1 else 0.0, select
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 10:
        raise ConfigError(f"noise must be a number in [0, 10], got {noise!r}")
    if noise > 0 and trajectories == 1:
        raise ConfigError(
            f"noise {noise} has no effect with one trajectory (trajectory 0 runs without noise); "
            "pass trajectories > 1"
        )
    return trajectories, float(noise), select


def choose(
    task: SudokuTask | MazeTask,
    candidates: Sequence[Any],
    rule: str,
    *,
    check: Callable[[Any, Any], bool] | None = None,
) -> int:
    """The index of the candidate ``rule`` (one of :data:`SELECT_RULES`) picks.

    ``candidates`` are :class:`trm.inference.Candidate` (``answer``, ``tokens``, ``steps``,
    ``halt_prob``) in trajectory order. ``"halt"``, ``"first"`` and ``"vote"`` are the rules
    :func:`trm.inference.predict` applies (ties as there: the earlier trajectory, for
    ``"first"`` the higher halt probability, for ``"vote"`` the higher mean halt probability);
    ``"verify"`` takes the first candidate ``check(task, answer)`` accepts (default:
    :func:`tasks.verify.verify`), else the ``"halt"`` choice.

    Raises
    ------
    ConfigError
        On an unknown rule or no candidates.

    Examples
    --------
    >>> from types import SimpleNamespace as C
    >>> import numpy as np
    >>> t = SudokuTask.parse("12.." "34.." "...." "....")
    >>> good = ((1, 2, 3, 4), (3, 4, 1, 2), (2, 1, 4, 3), (4, 3, 2, 1))
    >>> bad = ((1, 2, 3, 4),) * 4
    >>> cands = [C(answer=bad, tokens=np.zeros(2), steps=3, halt_prob=0.9),
    ...          C(answer=good, tokens=np.ones(2), steps=1, halt_prob=0.2)]
    >>> choose(t, cands, "halt"), choose(t, cands, "first"), choose(t, cands, "verify")
    (0, 1, 1)
    """
    if rule not in SELECT_RULES:
        raise ConfigError(f"select must be one of {list(SELECT_RULES)}, got {rule!r}")
    cands = list(candidates)
    if not cands:
        raise ConfigError("choose needs at least one candidate")
    if rule == "verify":
        ok = check or (lambda t, answer: verify(t, answer).ok)
        for k, cand in enumerate(cands):
            if ok(task, cand.answer):
                return k
        rule = "halt"
    from trm.inference import select_candidate

    return select_candidate(cands, rule)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Cap torch's intra-op CPU threads inside the block (None: leave them as they are)."""
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be a positive int or None, got {threads!r}")
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def prepare(loaded: Any, task: SudokuTask | MazeTask, threads: int | None = 1) -> None:
    """Ready ``loaded`` for a deadline on ``task`` before its clock starts: load the shipped
    models :func:`default_max_steps` compares it with, and time one supervision step
    (:func:`trm.inference.calibrate_step_rate`) at the thread count :func:`propose
    <neurosym.hybrid.propose>` runs it with, so the first step's estimate costs nothing."""
    from trm.inference import calibrate_step_rate

    default_max_steps(loaded, task)
    with torch_threads(threads):
        calibrate_step_rate(loaded)


def solve_neural(
    task: SudokuTask | MazeTask,
    model: Any = None,
    *,
    halt: bool = True,
    max_steps: int | None = None,
    trajectories: int = 1,
    noise: float | None = None,
    select: str | None = None,
    seed: int = 0,
    deadline: float | None = None,
) -> tuple[Any, str, float, dict[str, float]]:
    """Run the TRM on one task: ``(answer, backend, seconds, effort)``; the caller verifies.

    ``max_steps`` caps the supervision steps (default :func:`default_max_steps`); with
    ``trajectories=K`` the task runs K times (trajectory 0 without noise, the others with latent
    noise ``noise``, seeded by ``seed``) and ``select`` (default ``"halt"``) picks the answer.
    ``seconds`` is inference plus the selection (``"verify"`` checks candidates); loading is
    reported as ``effort['model_load_s']``. ``effort`` also holds ``trm_steps`` (of the chosen
    trajectory), ``trajectories``, ``selected_trajectory`` and ``max_steps`` (the cap used).

    ``deadline`` (a :func:`time.perf_counter` instant) bounds the recursion and the
    ``"verify"`` selection: the network stops between supervision steps with the answer of its
    last step (``effort['trm_timed_out'] = 1``), and candidates left unchecked at the deadline
    leave the ``"halt"`` choice standing.

    Raises
    ------
    SolverTimeoutError
        The deadline left no time for one supervision step (there is no answer to return).
    """
    from neurosym.hybrid import neural_choice, proposal_effort, propose

    [proposal], load_s, _ = propose(
        [task],
        model,
        halt=halt,
        max_steps=max_steps,
        trajectories=trajectories,
        noise=noise,
        select=select,
        seed=seed,
        deadline=deadline,
    )
    t0 = time.perf_counter()
    check = None
    if deadline is not None:

        def check(t: Any, answer: Any) -> bool:
            return time.perf_counter() < deadline and verify(t, answer).ok

    chosen = neural_choice(task, proposal, check=check)
    elapsed = proposal.time_s + time.perf_counter() - t0
    return chosen.answer, "trm", elapsed, proposal_effort(chosen, load_s)


# --------------------------------------------------------------------------- evaluation


def evaluate_trajectories(
    loaded: Any,
    tasks: Sequence[SudokuTask | MazeTask],
    solutions: Sequence[Any],
    *,
    codec: Any = None,
    max_steps: int | None = None,
    trajectories: int = 4,
    noise: float | None = None,
    halt_threshold: float = 0.5,
    seed: int = 0,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Accuracy of every selection rule over K trajectories, from one batched run.

    :func:`trm.inference.predict` runs once (``select="halt"``); each rule of
    :data:`SELECT_RULES` is then applied to the same candidates, so the rules differ only in
    the choice, not in the run, and one wall time serves them all. ``"trajectory0"`` is the
    noise-free trajectory alone (what one trajectory would answer).

    Parameters
    ----------
    loaded : trm.inference.LoadedModel
    tasks, solutions : the puzzles and their labels (a Sudoku grid; a maze's shortest path, or
        every cell on a shortest path when the model was trained on that).
    codec : the codec to run every task in (e.g. a checkpoint's own canvas); None: the model's
        own for fixed-size models, each task's size for size-agnostic ones.
    max_steps, trajectories, noise, halt_threshold, seed, batch_size : as for
        :func:`trm.inference.predict` (``noise`` defaults to :data:`DEFAULT_NOISE`).

    Returns
    -------
    dict
        ``n``, ``trajectories``, ``noise``, ``max_steps`` (None: trained depth),
        ``wall_s_per_puzzle``, ``mean_steps_all`` (over every trajectory), and ``rules``:
        per rule ``exact_accuracy`` (tokens equal the label; None when a solution in
        ``solutions`` is None), ``valid_accuracy`` (the answer
        verifies; for ``"verify"`` that is "any candidate verifies") and ``mean_steps`` (of the
        chosen trajectory).

    Raises
    ------
    ConfigError
        On bad options or ``tasks`` and ``solutions`` of different lengths.

    Examples
    --------
    >>> from trm.config import preset
    >>> from trm.data import make_eval_set
    >>> from trm.inference import LoadedModel
    >>> from trm.model import TRM
    >>> es = make_eval_set({"kind": "sudoku"}, n=3, seed=0)
    >>> net = TRM(preset("sudoku6-tiny", hidden_size=16)).eval()
    >>> loaded = LoadedModel(model=net, config=net.config, codec=es.codec, meta={})
    >>> m = evaluate_trajectories(loaded, es.tasks, es.solutions, trajectories=3)
    >>> m["n"], sorted(m["rules"])
    (3, ['first', 'halt', 'trajectory0', 'verify', 'vote'])
    """
    from tasks.encodings import SudokuCodec
    from trm.inference import codec_for, predict

    k, noise, _ = sampling(trajectories, noise, None)
    max_steps = check_max_steps(max_steps)
    tasks, solutions = list(tasks), list(solutions)
    if len(tasks) != len(solutions):
        raise ConfigError(f"{len(tasks)} tasks but {len(solutions)} solutions")
    if codec is None and not loaded.config.size_agnostic:
        codec = loaded.codec
    t0 = time.perf_counter()
    predictions = predict(
        loaded,
        codec,
        tasks,
        max_steps=max_steps,
        halt_threshold=halt_threshold,
        trajectories=k,
        noise=noise,
        select="halt",
        seed=seed,
        batch_size=batch_size,
    )
    wall = time.perf_counter() - t0
    rules = ("trajectory0", *SELECT_RULES)
    exact = {r: 0 for r in rules}
    valid = {r: 0 for r in rules}
    steps = {r: 0 for r in rules}
    steps_all = 0
    known = all(s is not None for s in solutions)  # else exact accuracy is not reported
    for task, solution, pred in zip(tasks, solutions, predictions, strict=True):
        c = codec or codec_for(loaded, task)
        if not known:
            label = None
        elif isinstance(c, SudokuCodec):
            label = c.encode_solution(solution)
        else:
            label = c.encode_label(task, solution)
        cands = pred.candidates
        ok = [verify(task, cand.answer).ok for cand in cands]
        steps_all += sum(cand.steps for cand in cands)
        for rule in rules:
            if rule == "trajectory0":
                i = 0
            elif rule == "verify":  # the verdicts are at hand: no second verify per candidate
                i = next((j for j, good in enumerate(ok) if good), choose(task, cands, "halt"))
            else:
                i = choose(task, cands, rule)
            exact[rule] += label is not None and bool(np.array_equal(cands[i].tokens, label))
            valid[rule] += ok[i]
            steps[rule] += cands[i].steps
    n = len(tasks)

    def frac(value: float) -> float:
        return value / n if n else 0.0

    return {
        "n": n,
        "trajectories": k,
        "noise": noise,
        "max_steps": max_steps,
        "halt_threshold": halt_threshold,
        "wall_s_per_puzzle": frac(wall),
        "mean_steps_all": steps_all / (n * k) if n else 0.0,
        "rules": {
            r: {
                "exact_accuracy": frac(exact[r]) if known else None,
                "valid_accuracy": frac(valid[r]),
                "mean_steps": frac(steps[r]),
            }
            for r in rules
        },
    }
