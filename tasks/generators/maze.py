"""Seeded maze generators: perfect mazes (randomized depth-first search) and Maze-Hard style mazes.

Pure Python + numpy, no solver: start and goal are placed with this module's own small BFS.
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from tasks.errors import InvalidTaskError
from tasks.generators._common import as_rng, check_int
from tasks.maze import FREE, MAX_MAZE_SIDE, WALL, Cell, MazeTask

__all__ = ["generate_perfect_maze", "generate_maze_hard", "generate_mazes"]

RngLike = np.random.Generator | np.random.SeedSequence | int | None

# The cell grid's 4 moves, as (row, col) steps on the cell lattice.
_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))


# ---------------------------------------------------------------------------- public API
def generate_perfect_maze(
    height: int,
    width: int,
    *,
    rng: RngLike = None,
    start: Cell | None = None,
    goal: Cell | None = None,
    endpoints: Literal["far", "random"] = "far",
    border: bool = False,
) -> MazeTask:
    """A perfect maze (exactly one path between any two free cells) on a ``height x width`` grid.

    Carved by the randomized depth-first search ("recursive backtracker", run iteratively) on a
    lattice of cells at even coordinates ``(0, 0), (0, 2), ...``; the grid squares between two
    cells are walls unless the search opened them, and squares at two odd coordinates are
    always walls. The grid edge is the outer wall, so every size >= 1 works; with an even
    height (width) the last row (column) is all wall. ``border=True`` instead puts the cells at
    odd coordinates, the classic look with a wall frame (needs sides >= 3).

    Parameters
    ----------
    height, width : int
        Grid size, 1..``MAX_MAZE_SIDE``.
    rng : numpy Generator, SeedSequence, int seed or None
        The randomness; an int or SeedSequence makes the maze reproducible, None draws fresh
        OS entropy.
    start, goal : (row, col), optional
        Fixed endpoints (must be free cells). A missing one is placed by ``endpoints``.
    endpoints : {"far", "random"}
        ``"far"`` (default): a double sweep (the cell farthest from a random cell, then the
        cell farthest from that one), which in a perfect maze is a longest path; a missing
        goal is the cell farthest from the given start, and vice versa. ``"random"``: distinct
        uniformly random free cells. A maze with a single free cell has ``start == goal``.
    border : bool
        Cells at odd coordinates inside a wall frame instead of at even ones.

    Raises
    ------
    InvalidTaskError
        On a size outside 1..``MAX_MAZE_SIDE`` (3.. with ``border``), a bad ``rng``, or a
        ``start``/``goal`` outside the grid or on a wall.

    Examples
    --------
    >>> maze = generate_perfect_maze(5, 7, rng=0)
    >>> maze.height, maze.width, maze.n_free
    (5, 7, 23)
    >>> maze == generate_perfect_maze(5, 7, rng=0)
    True
    >>> from tasks.verify import maze_shortest_length
    >>> maze_shortest_length(maze) >= 1
    True
    """
    height = check_int("height", height, 1, MAX_MAZE_SIDE)
    width = check_int("width", width, 1, MAX_MAZE_SIDE)
    if endpoints not in ("far", "random"):
        raise InvalidTaskError(f"endpoints must be 'far' or 'random', got {endpoints!r}")
    gen = as_rng(rng)
    walls = _carve_perfect(height, width, gen, border=bool(border))
    s, g = _place_endpoints(walls, gen, start, goal, endpoints)
    return _task(walls, s, g)


def generate_maze_hard(
    *,
    size: int = 30,
    min_path_length: int = 110,
    rng: RngLike = None,
    max_tries: int = 200,
    loop_fraction: float = 0.05,
    open_fraction: float = 0.05,
) -> MazeTask:
    """A Maze-Hard style maze: ``size x size``, loops and open patches, a long shortest path.

    Maze-Hard (the HRM/TRM benchmark) is 30 x 30 mazes whose shortest path exceeds 110 moves.
    This generator reproduces that contract, not the original mazes: it carves a perfect maze
    (:func:`generate_perfect_maze`), opens each remaining wall between two cells with
    probability ``loop_fraction`` (creating loops, so paths are no longer unique), opens each
    wall square at two odd coordinates that touches at least two free squares with probability
    ``open_fraction`` (small open areas), and places start and goal by a double sweep of
    breadth-first searches (start/goal order is a coin flip). A maze whose shortest path is not
    longer than ``min_path_length`` is discarded and a fresh one drawn, at most ``max_tries``
    times. With the defaults about two thirds of the drawn mazes qualify (median shortest
    path ~125 moves, about half the squares free).

    Parameters
    ----------
    size : int
        Side of the square grid (default 30).
    min_path_length : int
        The shortest start-to-goal path must have strictly more moves than this (default 110).
    rng : numpy Generator, SeedSequence, int seed or None
        The randomness; an int or SeedSequence makes the maze reproducible.
    max_tries : int
        Mazes drawn before giving up.
    loop_fraction, open_fraction : float
        Probabilities in [0, 1] described above.

    Raises
    ------
    InvalidTaskError
        On bad arguments, when ``min_path_length`` is out of reach for ``size`` (no maze this
        construction makes can have such a path), or when ``max_tries`` mazes all fell short.

    Examples
    --------
    >>> maze = generate_maze_hard(rng=1)
    >>> maze.height, maze.width
    (30, 30)
    >>> from tasks.verify import maze_shortest_length
    >>> maze_shortest_length(maze) > 110
    True
    """
    size = check_int("size", size, 1, MAX_MAZE_SIDE)
    min_path_length = check_int("min_path_length", min_path_length, 0)
    max_tries = check_int("max_tries", max_tries, 1)
    loop_fraction = _check_fraction("loop_fraction", loop_fraction)
    open_fraction = _check_fraction("open_fraction", open_fraction)
    cells = (size + 1) // 2
    # Tree paths visit at most every cell and passage (2 * cells^2 - 1 squares); opened squares
    # are within 2 moves of the tree, so no shortest path here can be longer than this.
    reach = 2 * cells * cells + 2
    if min_path_length >= min(reach, size * size - 1):
        raise InvalidTaskError(
            f"min_path_length={min_path_length} is out of reach on a {size}x{size} maze: its "
            f"shortest paths have at most {min(reach, size * size - 1)} moves"
        )
    gen = as_rng(rng)
    best = -1
    for _ in range(max_tries):
        walls = _carve_perfect(size, size, gen, border=False)
        _knock_out(walls, gen, loop_fraction, open_fraction)
        a, b, length = _double_sweep(walls, gen)
        if length > min_path_length:
            if gen.random() < 0.5:
                a, b = b, a
            return _task(walls, a, b)
        best = max(best, length)
    raise InvalidTaskError(
        f"no {size}x{size} maze with a shortest path over {min_path_length} moves in "
        f"{max_tries} tries (longest found: {best}); lower min_path_length or loop_fraction, "
        f"or raise max_tries"
    )


def generate_mazes(
    n: int,
    *,
    size: int | tuple[int, int],
    kind: Literal["perfect", "hard"] = "perfect",
    seed: int | None = None,
    **options: Any,
) -> list[MazeTask]:
    """``n`` seeded mazes: maze ``i`` draws from child ``i`` of ``SeedSequence(seed)``.

    So the list is reproducible for an int ``seed`` and ``generate_mazes(k, ...)`` is a prefix
    of ``generate_mazes(n, ...)`` for ``k <= n``.

    Parameters
    ----------
    n : int
        How many mazes (>= 0).
    size : int or (height, width)
        Grid size; ``kind="hard"`` needs a single int (a square grid).
    kind : {"perfect", "hard"}
        :func:`generate_perfect_maze` or :func:`generate_maze_hard`.
    seed : int, optional
        None draws fresh OS entropy.
    **options
        Passed on to the generator (``endpoints``, ``border``; ``min_path_length``,
        ``loop_fraction``, ...).

    Examples
    --------
    >>> mazes = generate_mazes(3, size=9, seed=7)
    >>> [m.height for m in mazes]
    [9, 9, 9]
    >>> generate_mazes(2, size=9, seed=7) == mazes[:2]
    True
    """
    n = check_int("n", n, 0)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise InvalidTaskError(f"seed must be an int or None, got {seed!r}")
    if seed is not None and seed < 0:
        raise InvalidTaskError(f"seed must be >= 0, got {seed}")
    children = np.random.SeedSequence(seed).spawn(n)
    if kind == "perfect":
        if isinstance(size, Sequence) and not isinstance(size, str):
            if len(size) != 2:
                raise InvalidTaskError(f"size must be an int or (height, width), got {size!r}")
            height, width = size
        else:
            height = width = size  # type: ignore[assignment]
        return [generate_perfect_maze(height, width, rng=c, **options) for c in children]
    if kind == "hard":
        if not isinstance(size, numbers.Integral) or isinstance(size, bool):
            raise InvalidTaskError(
                f"kind='hard' mazes are square: size must be an int, got {size!r}"
            )
        return [generate_maze_hard(size=int(size), rng=c, **options) for c in children]
    raise InvalidTaskError(f"kind must be 'perfect' or 'hard', got {kind!r}")


# ---------------------------------------------------------------------------- construction
def _carve_perfect(
    height: int, width: int, gen: np.random.Generator, *, border: bool
) -> np.ndarray:
    """Boolean ``(height, width)`` wall mask of a perfect maze (True = wall)."""
    off = 1 if border else 0
    rows = (height - 2 * off + 1) // 2
    cols = (width - 2 * off + 1) // 2
    if rows < 1 or cols < 1:
        raise InvalidTaskError(
            f"a {height}x{width} grid holds no maze cell"
            + (" inside a wall border (border=True needs sides >= 3)" if border else "")
        )
    walls = np.ones((height, width), dtype=bool)
    walls[off : off + 2 * rows - 1 : 2, off : off + 2 * cols - 1 : 2] = False
    seen = np.zeros((rows, cols), dtype=bool)
    # One uniform draw per carving step (there are rows*cols - 1), taken in bulk for speed.
    draws = gen.random(rows * cols).tolist()
    first = int(gen.integers(rows * cols))
    stack = [divmod(first, cols)]
    seen[stack[0]] = True
    used = 0
    while stack:
        r, c = stack[-1]
        options = [
            (r + dr, c + dc)
            for dr, dc in _MOVES
            if 0 <= r + dr < rows and 0 <= c + dc < cols and not seen[r + dr, c + dc]
        ]
        if not options:
            stack.pop()
            continue
        nr, nc = options[int(draws[used] * len(options))]
        used += 1
        seen[nr, nc] = True
        walls[off + r + nr, off + c + nc] = False  # the square between (r, c) and (nr, nc)
        stack.append((nr, nc))
    return walls


def _knock_out(
    walls: np.ndarray, gen: np.random.Generator, loop_fraction: float, open_fraction: float
) -> None:
    """Open loops and small open areas in a perfect maze carved at even coordinates (in place)."""
    h, w = walls.shape
    rows, cols = (h + 1) // 2, (w + 1) // 2
    ch, cw = 2 * rows - 1, 2 * cols - 1  # the part of the grid the cell lattice spans
    area = walls[:ch, :cw]
    odd_r = (np.arange(ch) % 2 == 1)[:, None]
    odd_c = (np.arange(cw) % 2 == 1)[None, :]
    passage = odd_r ^ odd_c  # squares between two lattice cells
    area[passage & area & (gen.random((ch, cw)) < loop_fraction)] = False
    pillar = odd_r & odd_c
    free = ~area
    around = np.zeros((ch, cw), dtype=np.int8)
    around[1:, :] += free[:-1, :]
    around[:-1, :] += free[1:, :]
    around[:, 1:] += free[:, :-1]
    around[:, :-1] += free[:, 1:]
    area[pillar & (around >= 2) & (gen.random((ch, cw)) < open_fraction)] = False


# ---------------------------------------------------------------------------- endpoints
def _bfs(walls: np.ndarray, source: Cell) -> np.ndarray:
    """Moves from ``source`` to every square (-1 on walls and unreachable squares)."""
    h, w = walls.shape
    free = (~walls).ravel().tolist()
    dist = [-1] * (h * w)
    s = source[0] * w + source[1]
    dist[s] = 0
    queue = deque([s])
    while queue:
        u = queue.popleft()
        du = dist[u] + 1
        col = u % w
        steps = ((u - w, u >= w), (u + w, u + w < h * w), (u - 1, col > 0), (u + 1, col < w - 1))
        for v, ok in steps:
            if ok and free[v] and dist[v] < 0:
                dist[v] = du
                queue.append(v)
    return np.array(dist, dtype=np.int64).reshape(h, w)


def _farthest(walls: np.ndarray, source: Cell) -> tuple[Cell, int]:
    dist = _bfs(walls, source)
    r, c = np.unravel_index(int(np.argmax(dist)), dist.shape)  # ties: first in row-major order
    return (int(r), int(c)), int(dist[r, c])


def _random_free(walls: np.ndarray, gen: np.random.Generator, exclude: Cell | None = None) -> Cell:
    cells = np.argwhere(~walls)
    if exclude is not None and len(cells) > 1:
        cells = cells[~((cells[:, 0] == exclude[0]) & (cells[:, 1] == exclude[1]))]
    r, c = cells[int(gen.integers(len(cells)))]
    return (int(r), int(c))


def _double_sweep(walls: np.ndarray, gen: np.random.Generator) -> tuple[Cell, Cell, int]:
    a, _ = _farthest(walls, _random_free(walls, gen))
    b, length = _farthest(walls, a)
    return a, b, length


def _place_endpoints(
    walls: np.ndarray,
    gen: np.random.Generator,
    start: Cell | None,
    goal: Cell | None,
    endpoints: str,
) -> tuple[Cell, Cell]:
    start = None if start is None else _check_free("start", start, walls)
    goal = None if goal is None else _check_free("goal", goal, walls)
    if start is not None and goal is not None:
        return start, goal
    if endpoints == "random":
        if start is None and goal is None:
            start = _random_free(walls, gen)
        if goal is None:
            return start, _random_free(walls, gen, exclude=start)  # type: ignore[arg-type]
        return _random_free(walls, gen, exclude=goal), goal
    if start is None and goal is None:
        a, b, _ = _double_sweep(walls, gen)
        return a, b
    if goal is None:
        return start, _farthest(walls, start)[0]  # type: ignore[arg-type]
    return _farthest(walls, goal)[0], goal


# ---------------------------------------------------------------------------- helpers
def _task(walls: np.ndarray, start: Cell, goal: Cell) -> MazeTask:
    rows = tuple("".join(WALL if v else FREE for v in row) for row in walls.tolist())
    return MazeTask(rows=rows, start=start, goals=(goal,))


def _check_free(name: str, cell: object, walls: np.ndarray) -> Cell:
    try:
        r, c = cell  # type: ignore[misc]
        if isinstance(r, bool) or isinstance(c, bool):
            raise TypeError
        r, c = int(r), int(c)
    except (TypeError, ValueError):
        raise InvalidTaskError(f"{name} must be a (row, col) cell, got {cell!r}") from None
    h, w = walls.shape
    if not (0 <= r < h and 0 <= c < w):
        raise InvalidTaskError(f"{name} {(r, c)} is outside the {h}x{w} grid")
    if walls[r, c]:
        raise InvalidTaskError(f"{name} {(r, c)} is on a wall of the generated maze")
    return (r, c)


def _check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTaskError(f"{name} must be a number in [0, 1], got {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise InvalidTaskError(f"{name} must be in [0, 1], got {value}")
    return value
