"""``neurosym bench reliability``: fuzz the parsers, ``verify`` and ``solve`` with hostile input.

Every input comes from a seeded generator (random bytes, truncated and mutated real puzzles,
unicode look-alikes, huge sizes, empty 0x0 grids, ragged rows, contradictory givens, noisy
puzzles), so input ``i`` of seed ``s`` is rebuilt exactly by :func:`make_input` ``(s, i)``. Each
input goes through ``tasks.detect.parse_task``, ``SudokuTask.parse`` and ``MazeTask.parse``;
each task that parses gets ``verify`` with fuzzed answers; every ``stride``-th input also goes
through ``neurosym.solve(text, method="symbolic", time_limit_s=...)``.

The figures: exceptions outside the library's hierarchy (:class:`~tasks.errors.NeurosymError`;
goal 0), answers marked verified that this module's own checker rejects (goal 0; the checker
is written here, a Sudoku rule check and a maze BFS, sharing no code with ``tasks.verify``),
the worst time-limit overrun of ``solve`` (goal: wall time <= limit + 10% + 50 ms) and the
process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import numbers
import random
import re
import resource
import sys
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.detect import parse_task
from tasks.errors import ConfigError, NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask
from tasks.verify import verify

__all__ = [
    "GENERATORS",
    "Corpus",
    "build_corpus",
    "check_maze_path",
    "check_sudoku_answer",
    "make_input",
    "register",
    "run_reliability_benchmark",
]

Echo = Callable[[str], Any]

#: Goal: at least this many parser inputs for the "0 foreign exceptions" figure to count.
SCALE_GOAL = 100_000
#: Allowed time-limit overrun: limit * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S.
OVERRUN_FRACTION = 0.10
OVERRUN_SLACK_S = 0.05


# ---------------------------------------------------------------------------- independent checks
def _is_int(value: Any) -> bool:
    """An integer (numpy's too), not a bool and not a float that happens to be whole."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_sudoku_answer(task: SudokuTask, answer: Any) -> bool:
    """True when ``answer`` is a full valid grid keeping every given (written apart from verify)."""
    n = len(task.grid)
    br, bc = task.box_rows, task.box_cols
    if br * bc != n:
        return False
    try:
        rows = [tuple(row) for row in answer]
    except TypeError:
        return False
    if len(rows) != n or any(len(row) != n for row in rows):
        return False
    digits = set(range(1, n + 1))
    for r in range(n):
        for c in range(n):
            v = rows[r][c]
            if not _is_int(v) or v not in digits:
                return False
            g = task.grid[r][c]
            if g != 0 and g != v:
                return False
    for i in range(n):
        if set(rows[i]) != digits or {rows[r][i] for r in range(n)} != digits:
            return False
    for top in range(0, n, br):
        for left in range(0, n, bc):
            box = {rows[top + dr][left + dc] for dr in range(br) for dc in range(bc)}
            if box != digits:
                return False
    return True


_LAST_BFS: list[Any] = [None, None]  # (task, distances) of the last maze checked


def _bfs_distances(task: MazeTask) -> dict[tuple[int, int], int]:
    if _LAST_BFS[0] is task:
        return _LAST_BFS[1]
    h = len(task.rows)
    dist = {task.start: 0}
    todo = deque([task.start])
    while todo:
        r, c = todo.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            # bounds per row: a task that slipped past validation may be ragged
            if 0 <= nr < h and 0 <= nc < len(task.rows[nr]) and task.rows[nr][nc] == ".":
                if (nr, nc) in dist:
                    continue
                dist[(nr, nc)] = dist[(r, c)] + 1
                todo.append((nr, nc))
    _LAST_BFS[:] = [task, dist]
    return dist


def maze_shortest_path(task: MazeTask) -> list[tuple[int, int]] | None:
    """One shortest start-to-goal path by this module's own BFS, or None when no goal is reached."""
    dist = _bfs_distances(task)
    ends = [g for g in task.goals if g in dist]
    if not ends:
        return None
    cell = min(ends, key=lambda g: dist[g])
    path = [cell]
    while cell != task.start:
        r, c = cell
        for prev in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if dist.get(prev) == dist[cell] - 1:
                cell = prev
                break
        path.append(cell)
    return path[::-1]


def check_maze_path(task: MazeTask, answer: Any) -> bool:
    """True when ``answer`` is a shortest 4-connected free path from the start to a goal."""
    try:
        path = [tuple(p) for p in answer]
    except TypeError:
        return False
    if not path or any(len(p) != 2 or not all(_is_int(x) for x in p) for p in path):
        return False
    h = len(task.rows)
    if path[0] != task.start or path[-1] not in set(task.goals):
        return False
    for (r, c), (nr, nc) in zip(path, path[1:], strict=False):
        if abs(r - nr) + abs(c - nc) != 1:
            return False
    if any(
        not (0 <= r < h and 0 <= c < len(task.rows[r])) or task.rows[r][c] != "." for r, c in path
    ):
        return False
    dist = _bfs_distances(task)
    best = min((dist[g] for g in task.goals if g in dist), default=None)
    return best is not None and len(path) - 1 == best


def independent_check(task: SudokuTask | MazeTask, answer: Any) -> bool:
    """This module's own verdict on ``answer`` (never :func:`tasks.verify.verify`)."""
    if isinstance(task, SudokuTask):
        return check_sudoku_answer(task, answer)
    if isinstance(task, MazeTask):
        return check_maze_path(task, answer)
    raise TypeError(f"no independent check for {type(task).__name__}")


# ---------------------------------------------------------------------------- seed corpus
@dataclass(frozen=True)
class Seed:
    """A real task with (for Sudoku, when known) a solution."""

    task: SudokuTask | MazeTask
    solution: tuple[tuple[int, ...], ...] | None = None


@dataclass
class Corpus:
    """The real tasks the mutating generators start from."""

    sudoku: list[Seed] = field(default_factory=list)
    maze: list[Seed] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def pick(self, rng: random.Random, kind: str | None = None) -> Seed:
        kind = kind or rng.choice(("sudoku", "maze"))
        return rng.choice(self.sudoku if kind == "sudoku" else self.maze)


def _grid(line: str, n: int = 9) -> tuple[tuple[int, ...], ...]:
    vals = [0 if ch in ".0" else int(ch) for ch in line.strip()]
    return tuple(tuple(vals[r * n : (r + 1) * n]) for r in range(n))


def _shared_sudoku(data_dir: Path) -> list[Seed]:
    import csv

    out: list[Seed] = []
    for rel, col in (
        ("sudoku-norvig-hardest/hardest.csv", "solution"),
        ("sudoku-gecode-9x9/puzzles.csv", "solution"),
        ("sudoku-tdoku-test-puzzles/puzzles.csv", "sat_solution_if_unique"),
    ):
        path = data_dir / rel
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    task = SudokuTask.parse(row["puzzle"])
                except NeurosymError:
                    continue
                sol = row.get(col) or ""
                out.append(Seed(task, _grid(sol) if len(sol.strip()) == 81 else None))
    return out


def _shared_mazes(data_dir: Path, rng: random.Random, count: int) -> list[Seed]:
    """Windows cut from the Moving AI maps, with a start and goal on free cells."""
    maps = sorted((data_dir / "maze-movingai-512" / "maps").glob("*.map*"))
    out: list[Seed] = []
    for k in range(count if maps else 0):
        lines = maps[k % len(maps)].read_text(encoding="utf-8").splitlines()
        grid = [ln for ln in lines if ln and set(ln) <= set("@.TOWGS")][-512:]
        if not grid:
            continue
        side = rng.choice((8, 16, 31, 64))
        top = rng.randrange(0, len(grid) - side)
        left = rng.randrange(0, len(grid[0]) - side)
        rows = [
            "".join("." if ch == "." else "#" for ch in ln[left : left + side])
            for ln in grid[top : top + side]
        ]
        free = [(r, c) for r in range(side) for c in range(side) if rows[r][c] == "."]
        if len(free) < 2:
            continue
        start, goal = rng.sample(free, 2)
        out.append(Seed(MazeTask(rows=tuple(rows), start=start, goal=goal)))
    return out


def build_corpus(seed: int, data_dir: str | Path | None = None) -> Corpus:
    """Seeded generated puzzles and mazes, plus the shared data set's real puzzles when found.

    The corpus is a function of ``seed`` and of which shared files exist (their counts are in
    ``sources``), so a run is reproduced by the same seed on the same data.
    """
    import numpy as np

    import solvers
    from tasks.generators import generate_perfect_maze, generate_puzzle
    from tasks.generators.maze import generate_maze_hard

    def unique(task: SudokuTask) -> bool:
        return solvers.count_sudoku_solutions(task, 2) == 1

    rng = random.Random(f"corpus:{seed}")
    np_rng = np.random.default_rng(rng.getrandbits(64))
    corpus = Corpus()
    for (br, bc), n_puzzles, givens, need_unique in (
        ((2, 2), 4, 5, True),
        ((2, 3), 4, 12, True),
        ((3, 3), 6, 28, True),
        ((3, 4), 2, 80, False),
        ((4, 4), 2, 140, False),
    ):
        for _ in range(n_puzzles):
            task, sol = generate_puzzle(
                br, bc, n_givens=givens, is_unique=unique if need_unique else None, rng=np_rng
            )
            corpus.sudoku.append(Seed(task, sol))
    corpus.sources["generated_sudoku"] = len(corpus.sudoku)
    for h, w in ((5, 5), (7, 11), (15, 15), (20, 9), (30, 30), (1, 6)):
        corpus.maze.append(Seed(generate_perfect_maze(h, w, rng=np_rng)))
    corpus.maze.append(Seed(generate_maze_hard(rng=np_rng)))
    corpus.sources["generated_maze"] = len(corpus.maze)
    if data_dir is not None and Path(data_dir).is_dir():
        real = _shared_sudoku(Path(data_dir))
        corpus.sudoku.extend(real)
        corpus.sources["shared_sudoku"] = len(real)
        cut = _shared_mazes(Path(data_dir), rng, 8)
        corpus.maze.extend(cut)
        corpus.sources["shared_maze_windows"] = len(cut)
    return corpus


# ---------------------------------------------------------------------------- renderings
def _render(seed: Seed, rng: random.Random) -> str:
    task = seed.task
    if isinstance(task, SudokuTask):
        form = rng.randrange(3)
        if form == 0:
            return task.to_line()
        if form == 1:
            return task.to_text()
        return task.model_dump_json()
    return task.model_dump_json() if rng.random() < 0.25 else task.to_text()


#: Characters the mutators splice in: every one means something to some reader.
_ALPHABET = "0123456789.#@SGo _*?|+-=:~,;\n\t\r{}[]\"'abcXYZ\\/\x00"
_WEIRD_NUMBERS = (
    "-1",
    "0",
    "1",
    "2",
    "3",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "1.5",
    "99999999999999999999",
    "true",
    "false",
    "null",
    '"3"',
    '""',
    "[]",
    "{}",
    "[0,0]",
    "[-1,-1]",
    "9" * 5000,
    "-0",
    "4.0",
)


def _mutate(text: str, rng: random.Random, edits: int) -> str:
    chars = list(text)
    for _ in range(edits):
        op = rng.randrange(7)
        pos = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(_ALPHABET)
        elif op == 1:
            chars.insert(pos, rng.choice(_ALPHABET))
        elif op == 2 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op in (3, 4):
            lines = "".join(chars).split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            if op == 3:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            chars = list("\n".join(lines))
        else:
            s = "".join(chars)
            nums = list(re.finditer(r"-?\d+", s))
            if nums:
                m = rng.choice(nums)
                s = s[: m.start()] + rng.choice(_WEIRD_NUMBERS) + s[m.end() :]
            chars = list(s)
    return "".join(chars)


def _gen_random_bytes(rng: random.Random, corpus: Corpus) -> str:
    size = rng.randint(0, rng.choice((4, 40, 200, 2000)))
    if rng.random() < 0.5:
        raw = rng.randbytes(size)
    else:  # bytes from the formats' own alphabet get past the first checks
        raw = bytes(rng.choice(b'0123456789.#SG \n{}[]":,abox') for _ in range(size))
    text = raw.decode(rng.choice(("latin-1", "utf-8")), rng.choice(("replace", "surrogateescape")))
    if rng.random() < 0.1:
        text = "{" + text
    return text


def _gen_truncated(rng: random.Random, corpus: Corpus) -> str:
    text = _render(corpus.pick(rng), rng)
    k = rng.randrange(len(text) + 1)
    mode = rng.randrange(4)
    if mode == 0:
        return text[:k]
    if mode == 1:
        return text[k:]
    if mode == 2:
        j = rng.randrange(k, len(text) + 1)
        return text[:k] + text[j:]
    return "\n".join(text.split("\n")[: max(1, text.count("\n"))])


def _gen_mutated(rng: random.Random, corpus: Corpus) -> str:
    return _mutate(_render(corpus.pick(rng), rng), rng, rng.choice((1, 1, 2, 3, 8)))


_DIGIT_SETS = (
    "０１２３４５６７８９",  # fullwidth
    "٠١٢٣٤٥٦٧٨٩",  # arabic-indic
    "⁰¹²³⁴⁵⁶⁷⁸⁹",  # superscript: isdigit() but not int()
    "०१२३४५६७८९",  # devanagari
    "⓪①②③④⑤⑥⑦⑧⑨",  # circled
    "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",  # mathematical bold
)
_ODD_SPACES = "\ufeff\u200b\u200d\u00a0\u2028\u2029\u0085\x0b\x0c\u202e\u0301\u3000\ud800"


def _gen_unicode(rng: random.Random, corpus: Corpus) -> str:
    text = _render(corpus.pick(rng), rng)
    op = rng.randrange(5)
    if op == 0:
        digits = rng.choice(_DIGIT_SETS)
        table = {ord(str(d)): digits[d] for d in range(10)}
        return (
            text.translate(table)
            if rng.random() < 0.5
            else "".join(ch.translate(table) if rng.random() < 0.2 else ch for ch in text)
        )
    if op == 1:
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(_ODD_SPACES))
        return "".join(chars)
    if op == 2:
        table = {ord("."): rng.choice("·。．…"), ord("#"): rng.choice("＃█▓")}
        return text.translate(table)
    if op == 3:
        return text.replace("\n", rng.choice(("\r\n", "\r", "\u2028", "\x85", "\n\n")))
    return "".join(
        rng.choice(("😀", "é", "ß", "ﬀ", "İ", "Ⅸ", "\x00")) if rng.random() < 0.05 else ch
        for ch in text
    )


def _random_text(rng: random.Random, alphabet: str, k: int) -> str:
    """``k`` characters drawn from ``alphabet`` (repeat a character to weight it), fast."""
    table = bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))
    return rng.randbytes(k).translate(table).decode("ascii")


def _gen_huge(rng: random.Random, corpus: Corpus) -> str:
    op = rng.randrange(9)
    if op == 0:  # a large Sudoku line, mostly blank
        n = rng.choice((16, 25, 36, 49, 64, 81, 100))
        return _random_text(rng, "." * 30 + "123456789", n * n)
    if op == 1:  # a very long digit line of no square length or one too long
        return _random_text(rng, "0123456789.", rng.choice((10**4, 6562, 6562, 10**5)))
    if op == 2:  # a maze past the supported side
        h, w = rng.choice(((4097, 1), (1, 5000), (2, 4100)))
        rows = ["." * w for _ in range(h)]
        rows[0] = "S" + rows[0][1:]
        rows[-1] = rows[-1][:-1] + "G"
        return "\n".join(rows)
    if op == 3:  # a big but legal open maze
        side = rng.choice((100, 100, 200, 200, 400)) if rng.random() < 0.9 else 1000
        rows = [_random_text(rng, "#....", side) for _ in range(side)]
        rows[0] = "S" + rows[0][1:]
        rows[-1] = rows[-1][:-1] + "G"
        return "\n".join(rows)
    if op == 4:  # JSON with huge numbers
        big = rng.choice(("10**9", "9" * 5000, "1e308", "4294967297", "-9223372036854775809"))
        if big == "10**9":
            big = str(10**9)
        if rng.random() < 0.5:
            return f'{{"kind":"sudoku","grid":[[0,0],[0,0]],"box_rows":{big},"box_cols":1}}'
        return f'{{"kind":"maze","rows":["S.","..G"],"start":[{big},0],"goals":[[1,1]]}}'
    if op == 5:  # deep nesting
        depth = rng.choice((100, 1000, 10**5))
        return '{"kind":"sudoku","grid":' + "[" * depth + "]" * depth + "}"
    if op == 6:  # an empty large Sudoku grid: legal, hard work for the time limit
        n = rng.choice((16, 25, 36))
        return "." * (n * n)
    if op == 7:  # many one-character rows
        return "\n".join(rng.choice(".#SG") for _ in range(rng.choice((1000, 5000))))
    box = rng.choice((5, 6, 7))  # JSON Sudoku with a big box
    n = box * box
    return json.dumps({"kind": "sudoku", "grid": [[0] * n] * n, "box_rows": box, "box_cols": box})


_EMPTY = (
    "",
    " ",
    "\n",
    "\n\n\n",
    "\t",
    "\r\n",
    ".",
    "#",
    "S",
    "G",
    "SG",
    "{}",
    "[]",
    "null",
    "0",
    '{"kind":"sudoku","grid":[],"box_rows":0,"box_cols":0}',
    '{"kind":"sudoku","grid":[[]],"box_rows":1,"box_cols":1}',
    '{"kind":"sudoku","grid":[],"box_rows":1,"box_cols":1}',
    '{"kind":"sudoku","grid":[[0]],"box_rows":1,"box_cols":1}',
    '{"kind":"maze","rows":[],"start":[0,0],"goals":[]}',
    '{"kind":"maze","rows":[""],"start":[0,0],"goals":[[0,0]]}',
    '{"kind":"maze","rows":[[]],"start":[0,0],"goal":[0,0]}',
    '{"kind":"maze","rows":["."],"start":[0,0],"goal":[0,0]}',
    '{"kind":"maze","rows":["."],"start":[0,0],"goals":[]}',
    '{"kind":""}',
    '{"kind":null}',
    '{"grid":null}',
    '{"rows":null}',
    "{",
    "}",
)


def _gen_empty(rng: random.Random, corpus: Corpus) -> str:
    text = rng.choice(_EMPTY)
    if rng.random() < 0.3:
        text = rng.choice(("", " ", "\n", "\ufeff")) + text + rng.choice(("", "\n", " \t"))
    return text


def _gen_ragged(rng: random.Random, corpus: Corpus) -> str:
    seed = corpus.pick(rng)
    task = seed.task
    if isinstance(task, SudokuTask) and rng.random() < 0.3:
        grid = [list(row) for row in task.grid]
        r = rng.randrange(len(grid))
        grid[r] = grid[r][: rng.randrange(len(grid[r]))] if rng.random() < 0.5 else grid[r] + [0]
        if rng.random() < 0.3:
            grid.append([0] * rng.randint(0, len(grid) + 1))
        return json.dumps(
            {"kind": "sudoku", "grid": grid, "box_rows": task.box_rows, "box_cols": task.box_cols}
        )
    if isinstance(task, MazeTask) and rng.random() < 0.3:
        rows = list(task.rows)
        r = rng.randrange(len(rows))
        rows[r] = rows[r][:-1] if rng.random() < 0.5 else rows[r] + "."
        return json.dumps({"kind": "maze", "rows": rows, "start": task.start, "goals": task.goals})
    lines = (task.to_text() if isinstance(task, SudokuTask) else task.to_text()).split("\n")
    for _ in range(rng.randint(1, 3)):
        r = rng.randrange(len(lines))
        cut = rng.randrange(len(lines[r]) + 1)
        lines[r] = lines[r][:cut] if rng.random() < 0.6 else lines[r] + lines[r][:cut]
    return "\n".join(lines)


def _gen_contradictory(rng: random.Random, corpus: Corpus) -> str:
    seed = corpus.pick(rng)
    task = seed.task
    if isinstance(task, SudokuTask):
        grid = [list(row) for row in task.grid]
        givens = task.givens()
        n = task.size
        if not givens:
            grid[0][0] = grid[0][1] = 1
        else:
            r, c, v = rng.choice(givens)
            unit = rng.randrange(3)
            if unit == 0:
                cells = [(r, k) for k in range(n) if k != c]
            elif unit == 1:
                cells = [(k, c) for k in range(n) if k != r]
            else:
                br, bc = (r // task.box_rows) * task.box_rows, (c // task.box_cols) * task.box_cols
                cells = [
                    (br + i, bc + j)
                    for i in range(task.box_rows)
                    for j in range(task.box_cols)
                    if (br + i, bc + j) != (r, c)
                ]
            rr, cc = rng.choice(cells)
            grid[rr][cc] = v
        bad = SudokuTask(grid=grid, box_rows=task.box_rows, box_cols=task.box_cols)
        return bad.to_line() if rng.random() < 0.5 else bad.to_text()
    op = rng.randrange(4)
    rows = [list(row) for row in task.rows]
    gr, gc = task.goal
    if op == 0:  # wall the goal in
        for r, c in ((gr - 1, gc), (gr + 1, gc), (gr, gc - 1), (gr, gc + 1)):
            if 0 <= r < len(rows) and 0 <= c < len(rows[0]) and (r, c) != task.start:
                rows[r][c] = "#"
        return MazeTask(
            rows=tuple("".join(r) for r in rows), start=task.start, goal=task.goal
        ).to_text()
    if op == 1:  # two starts or two goals
        text = task.to_text()
        i = text.find(".")
        return text if i < 0 else text[:i] + rng.choice("SG") + text[i + 1 :]
    if op == 2:  # start on the goal
        return json.dumps(
            {"kind": "maze", "rows": task.rows, "start": task.goal, "goals": [task.goal]}
        )
    return json.dumps(
        {
            "kind": "maze",
            "rows": task.rows,
            "start": task.start,
            "goal": task.goal,
            "goals": [task.goal],
        }
    )


def _gen_noisy(rng: random.Random, corpus: Corpus) -> str:
    from tasks import noise

    seed = corpus.pick(rng)
    task = seed.task
    nseed = rng.getrandbits(32)
    if isinstance(task, SudokuTask):
        k = rng.randint(1, 3)
        op = rng.randrange(4 if seed.solution else 3)
        fns = (noise.corrupt_givens, noise.contradict_givens, noise.remove_givens)
        try:
            if op == 3:
                noisy = noise.add_wrong_givens(task, seed.solution, k, nseed).task
            else:
                noisy = fns[op](task, min(k, task.n_givens), nseed).task
        except NeurosymError:  # fewer givens than k: the injector says so; keep the clean task
            noisy = task
        return _render(Seed(noisy), rng)
    k = rng.randint(1, 5)
    try:
        noisy = noise.flip_walls(task, k, nseed).task
    except NeurosymError:
        noisy = task
    return _render(Seed(noisy), rng)


#: The input generators, in the order their inputs are interleaved (input i uses i % 9).
GENERATORS: dict[str, Callable[[random.Random, Corpus], str]] = {
    "random_bytes": _gen_random_bytes,
    "truncated": _gen_truncated,
    "mutated": _gen_mutated,
    "unicode": _gen_unicode,
    "huge": _gen_huge,
    "empty_0x0": _gen_empty,
    "ragged": _gen_ragged,
    "contradictory": _gen_contradictory,
    "noisy": _gen_noisy,
}
_NAMES = tuple(GENERATORS)


def make_input(seed: int, index: int, corpus: Corpus) -> tuple[str, str]:
    """``(generator name, text)`` of input ``index`` of run ``seed``: the reproducer."""
    name = _NAMES[index % len(_NAMES)]
    rng = random.Random(f"{seed}:{index}")
    return name, GENERATORS[name](rng, corpus)


# ---------------------------------------------------------------------------- fuzzed answers
def _fuzz_answers(task: SudokuTask | MazeTask, rng: random.Random, corpus: Corpus) -> list[Any]:
    garbage = [
        None,
        "",
        "abc",
        3,
        1.5,
        [],
        [[]],
        [None],
        {"a": 1},
        b"\x00",
        [[1, 2], [3]],
        [(0, 0, 0)],
    ]
    out: list[Any] = [rng.choice(garbage)]
    if isinstance(task, SudokuTask):
        n = task.size
        if n > 36:
            return out
        sol = next(
            (
                s.solution
                for s in corpus.sudoku
                if s.solution is not None
                and len(s.solution) == n
                and all(
                    g == 0 or g == s.solution[r][c]
                    for r, row in enumerate(task.grid)
                    for c, g in enumerate(row)
                )
            ),
            None,
        )
        if sol is not None:
            out.append(sol)  # a correct answer
            bad = [list(row) for row in sol]
            r, c = rng.randrange(n), rng.randrange(n)
            bad[r][c] = rng.choice((bad[r][c] % n + 1, 0, n + 1, -1, True, 1.0, "1", None))
            out.append(bad)
            swapped = [list(row) for row in sol]
            r = rng.randrange(n)
            swapped[r] = swapped[r][
                ::-1
            ]  # rows and givens broken, rows themselves still permutations
            out.append(swapped)
        out.append([[task.grid[r][c] or rng.randint(1, n) for c in range(n)] for r in range(n)])
        out.append([[rng.choice((0, n, n + 1, True, 2.0)) for _ in range(n)] for _ in range(n)])
        return out
    if task.height * task.width > 40_000:  # big mazes: parsed and solved, not fuzzed here
        return out
    path = maze_shortest_path(task)
    if path is not None:
        out.append(path)
        out.append(path[:-1])
        out.append(path + path[-2:-1] + path[-1:] if len(path) > 1 else path + path)
        detour = list(path)
        if len(detour) > 2:
            del detour[rng.randrange(1, len(detour) - 1)]
        out.append(detour)
        out.append([[float(r), c] for r, c in path])  # whole floats are not cells
        out.append([(r + 0.5, c) for r, c in path])  # nor are fractions, however int() reads them
        out.append([(str(r), str(c)) for r, c in path])
        out.append([(r, c, 0) for r, c in path])
    walk = [task.start]
    for _ in range(rng.randint(0, 40)):
        r, c = walk[-1]
        walk.append(rng.choice(((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))))
    out.append(walk)
    return out


# ---------------------------------------------------------------------------- the run
@dataclass
class _Failures:
    """Foreign exceptions, deduplicated by (target, type, raising line), one reproducer each."""

    count: int = 0
    by_target: Counter[str] = field(default_factory=Counter)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, target: str, exc: BaseException, generator: str, index: int, text: str) -> None:
        self.count += 1
        self.by_target[target] += 1
        tb = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        key = f"{target} {type(exc).__name__} at {where}"
        entry = self.kinds.setdefault(
            key,
            {
                "target": target,
                "type": type(exc).__name__,
                "message": str(exc)[:300],
                "where": where,
                "count": 0,
                "generator": generator,
                "index": index,
                "input_len": len(text),
                "input": text if len(text) <= 300 else text[:300] + "...",
            },
        )
        entry["count"] += 1


def _peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run_reliability_benchmark(
    *,
    n: int = SCALE_GOAL,
    n_solve: int = 2000,
    seed: int = 0,
    time_limit_s: float = 0.2,
    data_dir: str | Path | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """Fuzz the parsers on ``n`` inputs, ``verify`` on fuzzed answers for each parsed task, and
    ``solve`` (symbolic, ``time_limit_s``) on ``n_solve`` of the same inputs, evenly spread.

    Returns the report (also echoed); ``report["goals"]`` holds each goal and whether it is met.
    """
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    if n_solve < 0 or n_solve > n:
        raise ConfigError(f"n_solve must be in 0..n ({n}), got {n_solve}")
    if not time_limit_s > 0:
        raise ConfigError(f"time_limit_s must be > 0, got {time_limit_s}")
    from neurosym.api import solve
    from neurosym.benchmarks.symbolic import find_data_dir

    data = find_data_dir(data_dir)
    t_start = time.perf_counter()
    corpus = build_corpus(seed, data)
    echo(
        f"reliability: seed {seed}, {n} parser inputs, {n_solve} solve calls "
        f"(time limit {time_limit_s:g} s); corpus {len(corpus.sudoku)} Sudoku + "
        f"{len(corpus.maze)} mazes {corpus.sources}"
    )
    # solve whole blocks of consecutive inputs (one per generator), every ``stride``-th block,
    # so each generator gets its share of solve calls
    stride = max(1, n // n_solve) if n_solve else 0
    # first calls import and build the engines; time them apart so the overrun figure is the
    # steady state, and report them as the cold-start cost
    warmup: dict[str, float] = {}
    for label, text in (
        (
            "sudoku_9x9",
            "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
        ),
        ("maze", "S.#\n..#\n#.G"),
    ):
        if n_solve:
            t0 = time.perf_counter()
            try:
                solve(text, method="symbolic", time_limit_s=max(time_limit_s, 10.0))
            except NeurosymError:
                pass
            warmup[label] = time.perf_counter() - t0
    failures = _Failures()
    per_gen: dict[str, Counter[str]] = {name: Counter() for name in _NAMES}
    wrong_verified: list[dict[str, Any]] = []
    false_rejects: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    worst_overrun = {"overrun_s": float("-inf")}
    slowest_parse = {"s": 0.0}
    outcomes: Counter[str] = Counter()
    over_limit: list[dict[str, Any]] = []
    parsers: tuple[tuple[str, Callable[[str], Any]], ...] = (
        ("parse_task", parse_task),
        ("SudokuTask.parse", SudokuTask.parse),
        ("MazeTask.parse", MazeTask.parse),
    )
    next_report = 0.1
    for i in range(n):
        name, text = make_input(seed, i, corpus)
        gen = per_gen[name]
        gen["inputs"] += 1
        task = None
        for target, fn in parsers:
            counts["parse_calls"] += 1
            t0 = time.perf_counter()
            try:
                parsed = fn(text)
            except NeurosymError:
                parsed = None
            except Exception as exc:  # noqa: BLE001 - counting these is the point
                failures.add(target, exc, name, i, text)
                gen["foreign_exceptions"] += 1
                parsed = None
            dt = time.perf_counter() - t0
            if dt > slowest_parse["s"]:
                slowest_parse = {
                    "s": dt,
                    "target": target,
                    "generator": name,
                    "index": i,
                    "input_len": len(text),
                }
            if target == "parse_task" and parsed is not None:
                task = parsed
                gen["parsed"] += 1
        if isinstance(task, SudokuTask | MazeTask):  # other kinds (ARC) have no checker here
            arng = random.Random(f"answers:{seed}:{i}")
            for answer in _fuzz_answers(task, arng, corpus):
                counts["verify_calls"] += 1
                try:
                    ok = verify(task, answer).ok
                except Exception as exc:  # noqa: BLE001 - verify must always return a verdict
                    failures.add("verify", exc, name, i, text)
                    gen["foreign_exceptions"] += 1
                    continue
                truth = independent_check(task, answer)
                counts["verify_accepted"] += ok
                if ok and not truth:
                    wrong_verified.append(
                        {
                            "target": "verify",
                            "generator": name,
                            "index": i,
                            "answer": repr(answer)[:300],
                        }
                    )
                elif truth and not ok:
                    false_rejects.append(
                        {
                            "target": "verify",
                            "generator": name,
                            "index": i,
                            "answer": repr(answer)[:300],
                        }
                    )
        if stride and (i // len(_NAMES)) % stride == 0 and counts["solve_calls"] < n_solve:
            counts["solve_calls"] += 1
            gen["solved_calls"] += 1
            t0 = time.perf_counter()
            result = None
            try:
                result = solve(text, method="symbolic", time_limit_s=time_limit_s)
                outcome = "verified" if result.verified else "unverified"
            except NeurosymError as exc:
                outcome = type(exc).__name__
            except Exception as exc:  # noqa: BLE001
                failures.add("solve", exc, name, i, text)
                gen["foreign_exceptions"] += 1
                outcome = "foreign_exception"
            elapsed = time.perf_counter() - t0
            outcomes[outcome] += 1
            over = elapsed - time_limit_s
            if over > worst_overrun["overrun_s"]:
                worst_overrun = {
                    "overrun_s": over,
                    "elapsed_s": elapsed,
                    "outcome": outcome,
                    "generator": name,
                    "index": i,
                    "input_len": len(text),
                }
            if elapsed > time_limit_s * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S:
                counts["solve_over_limit"] += 1
                over_limit.append(
                    {
                        "elapsed_s": elapsed,
                        "outcome": outcome,
                        "generator": name,
                        "index": i,
                        "input_len": len(text),
                        "input": text[:120],
                    }
                )
            if result is not None and result.verified:
                gen["solve_verified"] += 1
                if not independent_check(result.task, result.answer):
                    wrong_verified.append(
                        {
                            "target": "solve",
                            "generator": name,
                            "index": i,
                            "answer": repr(result.answer)[:300],
                        }
                    )
        if (i + 1) / n >= next_report:
            echo(
                f"  {i + 1}/{n} inputs, {counts['solve_calls']} solves, "
                f"{failures.count} foreign exceptions, {time.perf_counter() - t_start:.0f} s"
            )
            next_report += 0.1
    wall = time.perf_counter() - t_start
    limit_bound = time_limit_s * (1 + OVERRUN_FRACTION) + OVERRUN_SLACK_S
    goals = {
        "no_foreign_exceptions": {"value": failures.count, "goal": 0, "met": failures.count == 0},
        "no_wrongly_verified": {"value": len(wrong_verified), "goal": 0, "met": not wrong_verified},
        "time_limit_kept": {
            "value": counts["solve_over_limit"],
            "goal": f"every solve within {limit_bound:.3f} s (limit + 10% + 50 ms)",
            "met": counts["solve_over_limit"] == 0,
        },
    }
    report: dict[str, Any] = {
        "seed": seed,
        "time_limit_s": time_limit_s,
        "n_inputs": n,
        "scale_goal": SCALE_GOAL,
        "scale_reached": n >= SCALE_GOAL,
        "corpus": {"sudoku": len(corpus.sudoku), "maze": len(corpus.maze), **corpus.sources},
        "data_dir": str(data) if data else None,
        "per_generator": {k: dict(v) for k, v in per_gen.items()},
        "parse_calls": counts["parse_calls"],
        "verify_calls": counts["verify_calls"],
        "verify_accepted": counts["verify_accepted"],
        "solve_calls": counts["solve_calls"],
        "solve_outcomes": dict(outcomes),
        "foreign_exceptions": failures.count,
        "foreign_by_target": dict(failures.by_target),
        "foreign_kinds": list(failures.kinds.values()),
        "wrongly_verified": wrong_verified[:50],
        "n_wrongly_verified": len(wrong_verified),
        "verify_false_rejects": false_rejects[:50],
        "n_verify_false_rejects": len(false_rejects),
        "worst_overrun": worst_overrun if counts["solve_calls"] else None,
        "warmup_s": warmup,
        "solve_over_limit": counts["solve_over_limit"],
        "over_limit_calls": over_limit[:50],
        "slowest_parse": slowest_parse,
        "peak_rss_mb": _peak_rss_mb(),
        "wall_s": wall,
        "goals": goals,
        "all_goals_met": all(g["met"] for g in goals.values()),
    }
    _print_report(report, echo)
    return report


def _print_report(rep: dict[str, Any], echo: Echo) -> None:
    echo("")
    echo(f"inputs per generator (seed {rep['seed']}):")
    cols = ("inputs", "parsed", "solved_calls", "solve_verified", "foreign_exceptions")
    heads = ("inputs", "parsed", "solved", "verified", "foreign")
    echo(f"  {'generator':<14} " + " ".join(f"{h:>8}" for h in heads))
    for name, c in rep["per_generator"].items():
        vals = [c.get(k, 0) for k in cols]
        echo(f"  {name:<14} " + " ".join(f"{v:>8}" for v in vals))
    echo(
        f"parser calls: {rep['parse_calls']} on {rep['n_inputs']} inputs (3 parsers each); "
        f"verify calls: {rep['verify_calls']} ({rep['verify_accepted']} accepted); "
        f"solve calls: {rep['solve_calls']} {rep['solve_outcomes']}"
    )
    scale = "" if rep["scale_reached"] else f" (below the goal's scale of {rep['scale_goal']})"
    echo(
        f"exceptions outside NeurosymError: {rep['foreign_exceptions']} "
        f"of {rep['n_inputs']} inputs{scale}"
    )
    for k in rep["foreign_kinds"]:
        echo(
            f"  BUG {k['target']}: {k['type']} at {k['where']} x{k['count']}: "
            f"{k['message'][:120]}  [make_input({rep['seed']}, {k['index']}) = "
            f"{k['input'][:80]!r}]"
        )
    echo(f"answers marked verified that the independent check rejects: {rep['n_wrongly_verified']}")
    for w in rep["wrongly_verified"][:5]:
        where = f"{w['generator']} input {w['index']}"
        echo(f"  BUG {w['target']} accepted {w['answer'][:100]} ({where})")
    echo(
        "correct answers verify rejected (independent check accepts): "
        f"{rep['n_verify_false_rejects']}"
    )
    w = rep["worst_overrun"]
    if w:
        echo(
            f"worst time-limit overrun: {w['overrun_s'] * 1000:+.1f} ms "
            f"(elapsed {w['elapsed_s']:.3f} s for a {rep['time_limit_s']:g} s limit, "
            f"{w['outcome']}, {w['generator']} input {w['index']}, {w['input_len']} chars); "
            f"calls over limit+10%+50ms: {rep['solve_over_limit']}"
        )
    if rep["solve_calls"]:
        cold = ", ".join(f"{k} {v:.2f} s" for k, v in rep["warmup_s"].items())
        echo(f"first calls (engine imports, not in the overrun figure): {cold}")
    sp = rep["slowest_parse"]
    if sp.get("target"):
        echo(
            f"slowest parse: {sp['s'] * 1000:.1f} ms "
            f"({sp['target']}, {sp['generator']}, {sp['input_len']} chars)"
        )
    echo(
        f"peak memory (max RSS of this process): {rep['peak_rss_mb']:.0f} MB; "
        f"wall time {rep['wall_s']:.0f} s"
    )
    for name, g in rep["goals"].items():
        echo(f"goal {name}: {g['value']} (goal {g['goal']}) -> {'met' if g['met'] else 'MISSED'}")


# ---------------------------------------------------------------------------- CLI
def _cmd_bench_reliability(args: argparse.Namespace) -> int:
    from neurosym.outputs import check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    report = run_reliability_benchmark(
        n=args.n,
        n_solve=min(args.n_solve, args.n),
        seed=args.seed,
        time_limit_s=args.time_limit,
        data_dir=args.data,
        echo=print,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if report["all_goals_met"] else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text}")
    return value


def register(bench_subparsers: Any) -> argparse.ArgumentParser:
    """Add ``reliability`` to the sub-parsers of ``neurosym bench``; returns its parser."""
    r = bench_subparsers.add_parser(
        "reliability",
        help="fuzz parsing, verify and solve with hostile input",
        description="Feed seeded hostile inputs (random bytes, truncated and mutated real "
        "puzzles, unicode, huge sizes, 0x0, ragged, contradictory, noisy) to the parsers, "
        "verify and symbolic solve, and print the exceptions outside neurosym's error "
        "hierarchy, answers marked verified that an independent checker rejects, the worst "
        "time-limit overrun and peak memory. Exit code 1 when a goal is missed.",
    )
    r.add_argument(
        "--n",
        type=_positive_int,
        default=SCALE_GOAL,
        help=f"parser inputs (default {SCALE_GOAL}, the goal's scale)",
    )
    r.add_argument(
        "--n-solve",
        type=_positive_int,
        default=2000,
        help="of those, inputs also given to solve, evenly spread (default 2000)",
    )
    r.add_argument(
        "--seed", type=int, default=0, help="seed of the corpus and the inputs (default 0)"
    )
    r.add_argument(
        "--time-limit",
        type=_positive_float,
        default=0.2,
        help="solve's time_limit_s, seconds (default 0.2)",
    )
    r.add_argument(
        "--data", default=None, help="shared data folder for real puzzles (default ../shared/data)"
    )
    r.add_argument("--json", default=None, metavar="FILE", help="also write the report as JSON")
    r.set_defaults(func=_cmd_bench_reliability)
    return r


def main(argv: Sequence[str] | None = None) -> int:
    """Run the subcommand alone (``python -m neurosym.benchmarks.reliability``)."""
    from neurosym.benchmarks import run_alone

    return run_alone(register, argv)


if __name__ == "__main__":
    sys.exit(main())
