"""The reliability benchmark's inputs: a seed corpus of real puzzles and mazes, the seeded
generators of hostile texts built from it, and fuzzed answers for tasks that parse."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosym.benchmarks.fuzz_oracle import maze_shortest_path
from tasks.errors import NeurosymError
from tasks.maze import MazeTask
from tasks.sudoku import SudokuTask

__all__ = [
    "GENERATORS",
    "GENERATOR_NAMES",
    "Corpus",
    "Seed",
    "build_corpus",
    "fuzz_answers",
    "make_input",
]


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
GENERATOR_NAMES = tuple(GENERATORS)


def make_input(seed: int, index: int, corpus: Corpus) -> tuple[str, str]:
    """``(generator name, text)`` of input ``index`` of run ``seed``: the reproducer."""
    name = GENERATOR_NAMES[index % len(GENERATOR_NAMES)]
    rng = random.Random(f"{seed}:{index}")
    return name, GENERATORS[name](rng, corpus)


# ---------------------------------------------------------------------------- fuzzed answers
def fuzz_answers(task: SudokuTask | MazeTask, rng: random.Random, corpus: Corpus) -> list[Any]:
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
