"""Maze search: a vectorised SciPy breadth-first search (``bfs``) and a networkx reference.

Owns :class:`GridGraph` (a reusable CSR graph of one map, for many queries), ``solve``,
``shortest_length`` and the exact shortest-path count ``count_shortest_paths``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from solvers._sudoku_common import check_limit, check_time_limit
from solvers.result import SolverOutput
from tasks.errors import (
    InvalidTaskError,
    SolverTimeoutError,
    UnsolvableError,
    UnsupportedTaskError,
)
from tasks.maze import FREE, Cell, MazeTask

__all__ = [
    "BACKENDS",
    "GridGraph",
    "count_shortest_paths",
    "networkx_shortest_path",
    "shortest_length",
    "solve",
]

#: Backend names accepted by :func:`solve` and :func:`shortest_length`.
BACKENDS = ("bfs", "networkx")

# scipy.sparse.csgraph marks "no predecessor" with this value.
_NO_PRED = -9999
# More goals than this in one remembered tree: a fresh BFS is cheaper than one climb per goal.
_TREE_CLIMB_MAX_GOALS = 8
# Rows per chunk while building the networkx graph, so a time limit is honoured on huge maps.
_NX_CHUNK_ROWS = 64


class GridGraph:
    """The free cells of one map as a CSR adjacency matrix, built once, queried many times.

    Construction is vectorised numpy, with no Python loop over cells (3-7 ms for a 512 x 512
    map). Node ids are flat positions in the grid padded by a one-cell wall border, so a cell's
    neighbours are at fixed offsets and no index mapping or sort is needed; each row lists the
    free neighbours in the order up, left, right, down. Wall positions are isolated nodes that
    no search ever reaches.

    A :meth:`shortest_path` query runs SciPy's C breadth-first search from the start, which
    orders the start's whole connected component (SciPy's BFS cannot stop early), then walks
    the predecessor array back from the nearest goal. With ``reuse_trees`` (the default), a
    component found to be a tree (a perfect maze has one path between any two cells) keeps that
    search as a rooted tree, and later queries inside it climb both ends to their lowest common
    ancestor instead of searching again (a query starting in a remembered tree with no goal in
    it is unsolvable at once). Not safe to query from several threads at once (the remembered
    trees are filled in lazily).

    Parameters
    ----------
    maze : MazeTask, sequence of str, or 2-D array-like
        A task (its start and goals are ignored), its rows (``#`` wall, ``.`` free), or a 2-D
        boolean/0-1 grid where a truthy value is a wall (the ``MazeTask`` convention).
    reuse_trees : bool, default True
        Remember searched components as described above.

    Examples
    --------
    >>> g = GridGraph(["...", ".#.", "..."])
    >>> g.n_nodes, g.n_edges
    (8, 8)
    >>> path, effort = g.shortest_path((0, 0), [(2, 2), (0, 1)])
    >>> path
    [(0, 0), (0, 1)]
    >>> effort["path_length"], effort["nodes_reached"]
    (1, 8)
    """

    __slots__ = (
        "height",
        "width",
        "n_nodes",
        "n_edges",
        "reuse_trees",
        "_stride",
        "_free",
        "_degree",
        "_csr",
        "_tree_of",
        "_tree_pred",
        "_tree_rank",
    )

    def __init__(
        self, maze: MazeTask | Sequence[str] | np.ndarray, *, reuse_trees: bool = True
    ) -> None:
        free = _free_mask(maze)
        h, w = free.shape
        self.height, self.width = int(h), int(w)
        self.reuse_trees = bool(reuse_trees)
        self._stride = wp = w + 2
        size = (h + 2) * wp
        # The padded grid flattened, with one extra padded row of margin on each side so every
        # shifted view below stays in bounds.
        ext = np.zeros(size + 2 * wp, dtype=bool)
        ext[wp : wp + size].reshape(h + 2, wp)[1:-1, 1:-1] = free
        padded = ext[wp : wp + size]
        steps = (-wp, -1, 1, wp)
        # linked[v, k]: v and v + steps[k] are both free. Filled column by column (interleaved,
        # the CSR layout) from the contiguous rows of by_step, which also give a fast degree sum.
        linked = np.empty((size, 4), dtype=bool)
        by_step = np.empty((4, size), dtype=bool)
        for k, step in enumerate(steps):
            np.logical_and(padded, ext[wp + step : wp + step + size], out=by_step[k])
            linked[:, k] = by_step[k]
        as_int = by_step.view(np.uint8)
        degree = as_int[0] + as_int[1]
        degree += as_int[2]
        degree += as_int[3]
        indptr = np.zeros(size + 1, dtype=np.int32)
        np.cumsum(degree, out=indptr[1:])
        step_of = np.array(steps, dtype=np.int32)
        if 2 * int(indptr[-1]) < linked.size:
            # Corridor mazes (few set slots): the boolean mask is unpredictable, so find the set
            # slots v*4+k once and derive v + steps[k] arithmetically.
            slots = np.flatnonzero(linked)
            indices = np.right_shift(slots, 2).astype(np.int32)
            indices += step_of[slots & 3]
        else:
            # Open maps: most slots are set and a masked selection is the cheaper pass.
            indices = (np.arange(size, dtype=np.int32)[:, None] + step_of)[linked]
        data = np.ones(indices.size, dtype=np.float64)  # csgraph works in float64: avoids a copy
        self._csr = csr_matrix((data, indices, indptr), shape=(size, size))
        self._free = padded
        self._degree = degree
        self.n_nodes = int(np.count_nonzero(free))
        self.n_edges = int(indices.size) // 2
        # Filled lazily by searches (reuse_trees), for tree components only: per node the root
        # of its remembered tree (or -1), and the BFS predecessor and BFS rank from that root.
        self._tree_of: np.ndarray | None = None
        self._tree_pred = memoryview(np.empty(0, dtype=np.int32))  # replaced when first needed
        self._tree_rank = memoryview(np.empty(0, dtype=np.int32))

    @property
    def csr(self) -> csr_matrix:
        """The adjacency matrix over padded-grid positions (float64 ones; walls isolated)."""
        return self._csr

    # ------------------------------------------------------------------ cells <-> nodes
    def node(self, cell: Cell) -> int:
        """Node id of a free cell: its flat position in the wall-padded grid.

        Raises
        ------
        InvalidTaskError
            If ``cell`` is outside the grid or on a wall.
        """
        r, c = _as_cell(cell)
        if not (0 <= r < self.height and 0 <= c < self.width):
            raise InvalidTaskError(f"cell {(r, c)} is outside the {self.height}x{self.width} grid")
        v = (r + 1) * self._stride + c + 1
        if not self._free[v]:
            raise InvalidTaskError(f"cell {(r, c)} is on a wall")
        return v

    def cells(self, nodes: Sequence[int] | np.ndarray) -> list[Cell]:
        """``(row, col)`` tuples (Python ints) of a sequence of node ids."""
        rows, cols = np.divmod(np.asarray(nodes, dtype=np.int64), self._stride)
        rows -= 1
        cols -= 1
        return list(zip(rows.tolist(), cols.tolist(), strict=True))

    def _goal_nodes(self, goals: Cell | Sequence[Cell]) -> np.ndarray:
        cells = _as_cells(goals)
        return np.unique(np.array([self.node(g) for g in cells], dtype=np.intp))

    # ------------------------------------------------------------------ search
    def shortest_path(
        self, start: Cell, goals: Cell | Sequence[Cell]
    ) -> tuple[list[Cell], dict[str, float]]:
        """A shortest 4-connected path from ``start`` to the nearest of ``goals``.

        Parameters
        ----------
        start : (row, col)
        goals : (row, col) or a sequence of cells
            The path ends at a goal the fewest moves away (ties: the first in breadth-first
            order, or the lowest node id when answered from a remembered tree).

        Returns
        -------
        path : list of (row, col)
            From ``start`` to the goal, both included; ``[start]`` when ``start`` is a goal.
        effort : dict
            ``nodes_reached``: nodes this query's SciPy BFS ordered (its whole component; 0
            when answered from a remembered tree); ``nodes_expanded_early_exit`` (BFS queries
            only): the goal's position in the BFS order plus one, i.e. what a FIFO BFS
            stopping when it dequeues the goal would have expanded; ``tree_climb_steps``:
            parent steps climbed in a remembered tree (0 for BFS queries); ``path_length``:
            moves on the path.

        Raises
        ------
        InvalidTaskError
            If ``start`` or a goal is outside the grid or on a wall.
        UnsolvableError
            If no goal is reachable from ``start``.

        Examples
        --------
        >>> g = GridGraph(["..#", "#..", "..."])
        >>> g.shortest_path((0, 0), (2, 0))[0]
        [(0, 0), (0, 1), (1, 1), (2, 1), (2, 0)]
        """
        s = self.node(start)
        targets = self._goal_nodes(goals)
        if (targets == s).any():
            effort = {"nodes_reached": 1, "nodes_expanded_early_exit": 1}
            return self.cells([s]), {**effort, "tree_climb_steps": 0, "path_length": 0}
        if self._tree_of is not None:
            root = int(self._tree_of[s])
            if root >= 0:
                same = targets[self._tree_of[targets] == root]
                if same.size == 0:
                    raise _unreachable(start, targets.size)
                if same.size <= _TREE_CLIMB_MAX_GOALS:
                    return self._climb(s, same.tolist())
        order, pred = breadth_first_order(self._csr, s, directed=True, return_predecessors=True)
        if self.reuse_trees:
            self._remember(s, order, pred)
        reached = targets[pred[targets] != _NO_PRED]
        if reached.size == 0:
            raise _unreachable(start, targets.size)
        # BFS order is sorted by distance, so the first goal in it is a nearest one.
        if reached.size == 1:
            rank = int(np.flatnonzero(order == reached[0])[0])
        else:
            rank = int(np.flatnonzero(np.isin(order, reached))[0])
        v = int(order[rank])
        walk = [v]
        back = memoryview(pred)  # Python-int element access, several times faster than numpy's
        while v != s:
            v = back[v]
            walk.append(v)
        walk.reverse()
        return self.cells(walk), {
            "nodes_reached": int(order.size),
            "nodes_expanded_early_exit": rank + 1,
            "tree_climb_steps": 0,
            "path_length": len(walk) - 1,
        }

    def _remember(self, s: int, order: np.ndarray, pred: np.ndarray) -> None:
        """Keep the component just searched from ``s`` as a rooted tree, if it is a tree."""
        if order.size == self.n_nodes:  # the whole graph: its edge count is known
            n_edges = self.n_edges
        else:
            n_edges = int(self._degree[order].sum(dtype=np.int64)) // 2
        if n_edges != order.size - 1:  # a connected graph is a tree iff |E| = |V| - 1
            return
        if self._tree_of is None:
            tree_of = np.full(self._csr.shape[0], -1, dtype=np.int32)
            # This search's own predecessor array becomes the store (no copy): the entries of
            # other components are -9999 and get overwritten if those are remembered later.
            self._tree_pred = memoryview(pred)
            self._tree_rank = memoryview(np.empty(self._csr.shape[0], dtype=np.int32))
        else:
            tree_of = self._tree_of
            np.asarray(self._tree_pred)[order] = pred[order]
        np.asarray(self._tree_rank)[order] = np.arange(order.size, dtype=np.int32)
        tree_of[order] = s  # last, so a half-recorded tree is never used
        self._tree_of = tree_of

    def _climb(self, s: int, goals: list[int]) -> tuple[list[Cell], dict[str, float]]:
        """The tree path from ``s`` to the nearest of ``goals`` (all in ``s``'s tree component).

        Repeatedly moving whichever end comes later in the root's BFS order to its parent meets
        at the lowest common ancestor: a node later in BFS order is at least as deep, so it
        cannot be a proper ancestor of the other end.
        """
        pred, rank = self._tree_pred, self._tree_rank
        best: list[int] = []
        climbed = 0
        for g in goals:
            u, v = s, g
            ru, rv = rank[u], rank[v]
            up, down = [u], [v]
            while u != v:
                if ru > rv:
                    u = pred[u]
                    ru = rank[u]
                    up.append(u)
                else:
                    v = pred[v]
                    rv = rank[v]
                    down.append(v)
            climbed += len(up) + len(down) - 2
            if not best or len(up) + len(down) - 1 < len(best):
                up.extend(reversed(down[:-1]))  # down ends at the common ancestor, up[-1]
                best = up
        return self.cells(best), {
            "nodes_reached": 0,
            "tree_climb_steps": climbed,
            "path_length": len(best) - 1,
        }

    def distances(self, sources: Cell | Sequence[Cell]) -> np.ndarray:
        """Moves from the nearest of ``sources`` to every cell, as an ``(H, W)`` float array.

        ``inf`` on walls and unreachable cells. Uses SciPy's unweighted multi-source Dijkstra.

        Examples
        --------
        >>> GridGraph(["...", "##."]).distances((0, 0)).tolist()
        [[0.0, 1.0, 2.0], [inf, inf, 3.0]]
        """
        ids = self._goal_nodes(sources)
        dist = dijkstra(self._csr, indices=ids, unweighted=True, min_only=True)
        return dist.reshape(self.height + 2, self._stride)[1:-1, 1:-1].copy()

    def count_shortest_paths(
        self, start: Cell, goals: Cell | Sequence[Cell], *, limit: int | None = None
    ) -> int:
        """Number of distinct shortest paths from ``start`` to the nearest goals (0 if none).

        Exact (Python ints) dynamic programming over breadth-first layers, restricted to the
        cells that lie on some shortest path; with ``limit``, the count is capped at ``limit``.

        Examples
        --------
        >>> GridGraph(["....", "....", "...."]).count_shortest_paths((0, 0), (2, 3))
        10
        """
        if limit is not None:
            limit = _check_limit(limit)
        s = self.node(start)
        targets = self._goal_nodes(goals)
        if (targets == s).any():
            return 1
        from_start = dijkstra(self._csr, indices=s, unweighted=True)
        d = float(from_start[targets].min())
        if math.isinf(d):
            return 0
        to_goal = dijkstra(self._csr, indices=targets, unweighted=True, min_only=True)
        # A node lies on a shortest path exactly when start->node->nearest goal adds up to d.
        on_path = np.flatnonzero(from_start + to_goal == d)
        if limit is not None and limit <= 2:
            # Every node on some shortest path lies on one; a path takes one node per BFS
            # layer. So the path is unique exactly when each layer 0..d holds one such node
            # (two goals at distance d are two nodes of layer d): no counting needed.
            per_layer = np.bincount(from_start[on_path].astype(np.int64), minlength=int(d) + 1)
            return 1 if limit == 1 or bool((per_layer == 1).all()) else 2
        on_path = on_path[np.argsort(from_start[on_path], kind="stable")]
        depth = from_start.tolist()
        steps = (-self._stride, -1, 1, self._stride)
        ways: dict[int, int] = {s: 1}
        for v in on_path.tolist()[1:]:  # on_path[0] is the start (distance 0)
            want = depth[v] - 1
            total = 0
            for step in steps:
                # Padding keeps v + step in range; walls have depth inf, never `want`.
                if depth[v + step] == want:
                    total += ways.get(v + step, 0)
            ways[v] = total if limit is None else min(total, limit)
        count = sum(ways.get(int(g), 0) for g in targets if from_start[g] == d)
        return count if limit is None else min(count, limit)


# ---------------------------------------------------------------------------- module API
def solve(
    task: MazeTask, *, backend: str = "bfs", time_limit_s: float | None = None
) -> SolverOutput:
    """A shortest start-to-goal path for ``task``.

    Parameters
    ----------
    task : MazeTask
    backend : {"bfs", "networkx"}
        ``bfs`` builds a :class:`GridGraph` (vectorised CSR) and runs SciPy's C breadth-first
        search; ``networkx`` builds a ``networkx.Graph`` of the free cells and calls
        ``networkx.shortest_path`` (the slow, independent reference).
    time_limit_s : float, optional
        Seconds allowed; checked after the graph build and after the search (``bfs``), and
        between row chunks of the graph build (``networkx``). ``None`` or ``math.inf``: no limit.

    Returns
    -------
    SolverOutput
        ``answer`` is a list of ``(row, col)`` from the start to a nearest goal. ``effort`` for
        ``bfs``: ``nodes_reached`` (the BFS orders the start's whole component),
        ``nodes_expanded_early_exit``, ``tree_climb_steps`` (always 0 here) and
        ``path_length``, see :meth:`GridGraph.shortest_path`; for ``networkx``: ``nodes`` and
        ``edges`` (the graph built) and ``path_length``. ``unique`` is None (see
        :func:`count_shortest_paths`).

    Raises
    ------
    UnsupportedTaskError
        Unknown backend, or ``task`` is not a MazeTask.
    ConfigError
        ``time_limit_s`` is not a positive number.
    UnsolvableError
        No goal is reachable from the start.
    SolverTimeoutError
        The time limit was exceeded.

    Examples
    --------
    >>> task = MazeTask.parse('''
    ... S.#
    ... #.#
    ... #.G''')
    >>> out = solve(task)
    >>> out.answer
    [(0, 0), (0, 1), (1, 1), (2, 1), (2, 2)]
    >>> solve(task, backend="networkx").answer == out.answer
    True
    """
    _check_task(task)
    _check_backend(backend)
    limit = _check_time_limit(time_limit_s)
    t0 = time.perf_counter()
    if backend == "networkx":
        path, effort = _networkx_path(task, t0, limit)
    else:
        graph = GridGraph(task, reuse_trees=False)  # one query: nothing to reuse
        _check_clock(t0, limit, "building the grid graph")
        path, effort = graph.shortest_path(task.start, task.goals)
        _check_clock(t0, limit, "the breadth-first search")
    return SolverOutput(answer=path, backend=backend, effort=effort)


def shortest_length(task: MazeTask, *, backend: str = "bfs") -> int:
    """Moves on a shortest path from the start to the nearest goal.

    Raises
    ------
    UnsolvableError
        If no goal is reachable. Also ``UnsupportedTaskError`` for an unknown backend.

    Examples
    --------
    >>> shortest_length(MazeTask(rows=("....",), start=(0, 0), goal=(0, 3)))
    3
    """
    _check_task(task)
    _check_backend(backend)
    if backend == "networkx":
        return _networkx_path(task, time.perf_counter(), math.inf)[1]["path_length"]
    path, _ = GridGraph(task, reuse_trees=False).shortest_path(task.start, task.goals)
    return len(path) - 1


def count_shortest_paths(task: MazeTask, *, limit: int | None = None) -> int:
    """Number of distinct shortest paths from the start to the nearest goal cells.

    Exact for any size (Python integers; a 512 x 512 open map has counts of ~300 digits). Paths
    to every goal at the minimum distance are counted. 0 when no goal is reachable, 1 when the
    start is a goal.

    Parameters
    ----------
    task : MazeTask
    limit : int, optional
        Cap the count at ``limit`` (>= 1); ``limit=2`` answers "is the path unique?".

    Raises
    ------
    InvalidTaskError
        If ``limit`` is not an int >= 1.

    Examples
    --------
    >>> from math import comb
    >>> open_grid = MazeTask(rows=("....",) * 4, start=(0, 0), goal=(3, 3))
    >>> count_shortest_paths(open_grid) == comb(6, 3)
    True
    >>> count_shortest_paths(open_grid, limit=2)
    2
    """
    _check_task(task)
    return GridGraph(task).count_shortest_paths(task.start, task.goals, limit=limit)


# ---------------------------------------------------------------------------- networkx
def networkx_shortest_path(
    task: MazeTask | Sequence[str] | np.ndarray,
    queries: Sequence[tuple[Cell, Cell | Sequence[Cell]]],
    *,
    time_limit_s: float | None = None,
) -> list[list[Cell]]:
    """The networkx reference for many queries on one map: one graph build, then one
    ``networkx.shortest_path`` per ``(start, goals)`` query (the baseline :class:`GridGraph` is
    benchmarked against).

    Parameters
    ----------
    task : MazeTask, sequence of str, or 2-D array-like
        The map (a task's own start and goals are ignored).
    queries : sequence of (start, goals)
        ``goals`` is one cell or a sequence of cells.
    time_limit_s : float, optional
        Seconds allowed for the build and all queries together.

    Returns
    -------
    list of paths, one per query, each a list of ``(row, col)`` from start to a nearest goal.

    Raises
    ------
    UnsolvableError
        A query has no reachable goal. ``InvalidTaskError`` for a cell off the grid or on a
        wall; ``SolverTimeoutError`` past the time limit.

    Examples
    --------
    >>> networkx_shortest_path(["...", ".#.", "..."], [((0, 0), [(2, 2)]), ((1, 0), (1, 0))])
    [[(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)], [(1, 0)]]
    """
    limit = _check_time_limit(time_limit_s)
    t0 = time.perf_counter()
    free = _free_mask(task)
    graph = _networkx_graph(free, t0, limit)
    paths = []
    for start, goals in queries:
        cells = _as_cells(goals)
        for name, cell in [("start", _as_cell(start))] + [("goal", g) for g in cells]:
            r, c = cell
            if not (0 <= r < free.shape[0] and 0 <= c < free.shape[1]) or not free[r, c]:
                raise InvalidTaskError(f"{name} {cell} is off the grid or on a wall")
        paths.append(_networkx_query(graph, _as_cell(start), cells))
        _check_clock(t0, limit, "the networkx searches")
    return paths


def _networkx_path(task: MazeTask, t0: float, limit: float) -> tuple[list[Cell], dict[str, float]]:
    graph = _networkx_graph(_free_mask(task), t0, limit)
    effort: dict[str, float] = {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }
    path = _networkx_query(graph, task.start, list(task.goals))
    _check_clock(t0, limit, "the networkx search")
    return path, {**effort, "path_length": len(path) - 1}


def _networkx_graph(free: np.ndarray, t0: float, limit: float) -> Any:
    """A ``networkx.Graph`` of the free cells, built in row chunks so a time limit can stop it."""
    import networkx as nx

    graph = nx.Graph()
    h = free.shape[0]
    for top in range(0, h, _NX_CHUNK_ROWS):
        bottom = min(top + _NX_CHUNK_ROWS, h)
        block = free[top:bottom]
        r, c = np.nonzero(block)
        graph.add_nodes_from(zip((r + top).tolist(), c.tolist(), strict=True))
        r, c = np.nonzero(block[:, :-1] & block[:, 1:])
        rows, cols = (r + top).tolist(), c.tolist()
        graph.add_edges_from(((a, b), (a, b + 1)) for a, b in zip(rows, cols, strict=True))
        # Vertical edges from this chunk's rows down to the next row (which may be in the next
        # chunk: networkx adds missing endpoints, and they are free cells anyway).
        below = free[top + 1 : bottom + 1]
        r, c = np.nonzero(block[: below.shape[0]] & below)
        rows, cols = (r + top).tolist(), c.tolist()
        graph.add_edges_from(((a, b), (a + 1, b)) for a, b in zip(rows, cols, strict=True))
        _check_clock(t0, limit, "building the networkx graph")
    return graph


def _networkx_query(graph: Any, start: Cell, goals: list[Cell]) -> list[Cell]:
    import networkx as nx

    if start in goals:
        return [start]
    sink = ("goal-sink",)
    try:
        if len(goals) == 1:
            path = nx.shortest_path(graph, start, goals[0])
        else:
            # A virtual sink joined to every goal turns "nearest goal" into one search.
            graph.add_edges_from((g, sink) for g in goals)
            path = nx.shortest_path(graph, start, sink)[:-1]
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        raise _unreachable(start, len(goals)) from None
    finally:
        if sink in graph:
            graph.remove_node(sink)
    return [(int(r), int(c)) for r, c in path]


# ---------------------------------------------------------------------------- helpers
def _free_mask(maze: MazeTask | Sequence[str] | np.ndarray) -> np.ndarray:
    """Boolean ``(H, W)`` array, True on free cells."""
    if isinstance(maze, MazeTask):
        rows: Any = maze.rows
    elif (
        isinstance(maze, Sequence)
        and not isinstance(maze, str)
        and maze
        and all(isinstance(row, str) for row in maze)
    ):
        rows = maze
    else:
        # A 2-D grid of booleans / 0-1 values, truthy = wall (the MazeTask convention).
        try:
            grid = np.asarray(maze)
        except (TypeError, ValueError):
            grid = np.empty(0)
        if grid.ndim != 2 or 0 in grid.shape or grid.dtype.kind not in "biuf":
            raise InvalidTaskError(
                "expected a MazeTask, a non-empty sequence of '#'/'.' row strings or a 2-D "
                f"array (truthy = wall), got {type(maze).__name__}"
            )
        return ~grid.astype(bool)
    h, w = len(rows), len(rows[0])
    if w == 0 or any(len(row) != w for row in rows):
        raise InvalidTaskError("maze rows must be non-empty and of equal length")
    try:
        raw = "".join(rows).encode("ascii")
    except UnicodeEncodeError:
        raise InvalidTaskError("maze rows must hold only '#' and '.'") from None
    grid = np.frombuffer(raw, dtype=np.uint8).reshape(h, w)
    free = grid == ord(FREE)
    if not isinstance(maze, MazeTask) and not (free | (grid == ord("#"))).all():
        raise InvalidTaskError("maze rows must hold only '#' and '.'")
    return free


def _as_cell(value: Any) -> Cell:
    try:
        r, c = value
        if isinstance(r, bool) or isinstance(c, bool):
            raise TypeError
        return (int(r), int(c))
    except (TypeError, ValueError):
        raise InvalidTaskError(f"a cell is (row, col), got {value!r}") from None


def _as_cells(value: Any) -> list[Cell]:
    try:
        first = value[0]
    except (TypeError, IndexError, KeyError):
        raise InvalidTaskError(
            f"goals must be (row, col) or a non-empty list of cells, got {value!r}"
        ) from None
    if isinstance(first, Sequence | np.ndarray):
        return [_as_cell(v) for v in value]
    return [_as_cell(value)]


def _unreachable(start: Cell, n_goals: int) -> UnsolvableError:
    r, c = _as_cell(start)
    plural = "s" if n_goals != 1 else ""
    return UnsolvableError(
        f"no path from start ({r}, {c}) to any goal ({n_goals} goal cell{plural})"
    )


def _check_task(task: object) -> None:
    if not isinstance(task, MazeTask):
        raise UnsupportedTaskError(f"maze solvers take a MazeTask, got {type(task).__name__}")


def _check_backend(backend: object) -> None:
    if backend not in BACKENDS:
        raise UnsupportedTaskError(
            f"unknown maze backend {backend!r}; choose one of {list(BACKENDS)}"
        )


def _check_time_limit(time_limit_s: float | None) -> float:
    """A limit in seconds: ``None`` and ``math.inf`` mean none; otherwise a number > 0."""
    return math.inf if time_limit_s is None else check_time_limit(time_limit_s)


def _check_limit(limit: object) -> int:
    return check_limit(limit)  # type: ignore[arg-type]


def _check_clock(t0: float, limit: float, stage: str) -> None:
    elapsed = time.perf_counter() - t0
    if elapsed > limit:
        raise SolverTimeoutError(
            f"maze search exceeded its time limit of {limit:g} s ({elapsed:.3f} s, after {stage})"
        )
