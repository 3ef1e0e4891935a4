"""neurosym.study.compute: counted FLOPs, the energy meter, argument checks, the files."""

from __future__ import annotations

import argparse
import csv
import json

import pytest

from neurosym.study import compute as c
from neurosym.study import costs
from tasks.errors import ConfigError


@pytest.fixture(scope="module")
def six():
    from neurosym.neural import default_models
    from tasks.generators import generate_puzzle
    from trm.inference import load_model

    loaded = load_model(default_models()["sudoku6_peers"])
    tasks = [generate_puzzle(2, 3, n_givens=n, rng=n)[0] for n in (11, 13, 16)]
    return loaded, tasks


def _tiny_conv():
    from tasks.encodings import MazeCodec
    from trm.config import preset
    from trm.inference import LoadedModel
    from trm.model import TRM

    net = TRM(preset("maze-conv", hidden_size=8)).eval()
    return LoadedModel(net, net.config, MazeCodec(height=4, width=4), {})


def _open_maze(h: int, w: int):
    from tasks.maze import MazeTask

    rows = ["." * w for _ in range(h)]
    rows[0] = "S" + rows[0][1:]
    rows[-1] = rows[-1][:-1] + "G"
    return MazeTask.parse("\n".join(rows))


# ------------------------------------------------------------------ FLOPs
def test_flops_of_a_solve_are_steps_run_times_step_flops(six):
    loaded, tasks = six
    first_steps = []
    for task, k in ((tasks[0], 1), (tasks[1], 1), (tasks[0], 3)):
        per_step = costs.step_flops(loaded, task)
        noise = 0.3 if k > 1 else 0.0
        options = {"max_steps": 5, "halt_threshold": 0.9, "trajectories": k, "noise": noise}
        counted, prediction = costs.counted_flops(loaded, task, **options)
        steps = [cand.steps for cand in prediction.candidates]  # each trajectory halts alone
        assert len(steps) == k and all(1 <= s <= 5 for s in steps)
        assert counted == per_step * sum(steps) == per_step * costs.steps_run(prediction)
        first_steps.append(steps[0])
    # Halting really cut the steps (the shipped 6x6 model halts after 1-2 steps).
    assert min(first_steps) < 5


def test_step_flops_are_linear_in_batch_and_affine_in_maze_cells():
    loaded = _tiny_conv()
    maze = _open_maze(4, 4)
    one = costs.step_flops(loaded, maze)
    assert one > 0
    assert [costs.step_flops(loaded, maze, batch=b) for b in (2, 5)] == [2 * one, 5 * one]
    # Conv mixer: every layer's work is linear in the tokens (cells + the prefix slot), so
    # equal steps in cells add equal FLOPs: 16 -> 24 -> 32 cells.
    f16, f24, f32 = (costs.step_flops(loaded, _open_maze(4, w)) for w in (4, 6, 8))
    assert f16 < f24 < f32 and f24 - f16 == f32 - f24
    with pytest.raises(ConfigError, match="batch"):
        costs.step_flops(loaded, maze, batch=0)


def test_step_flops_of_peers_attention_grow_faster_than_the_cells(six):
    from tasks.generators import generate_puzzle

    loaded, tasks = six
    f4 = costs.step_flops(loaded, generate_puzzle(2, 2, n_givens=8, rng=0)[0])
    f6 = costs.step_flops(loaded, tasks[0])
    assert costs.step_flops(loaded, tasks[0], batch=3) == 3 * f6
    # 17 -> 37 tokens (cells + the prefix slot): the linear layers scale 37/17 = 2.2x, the
    # dense masked attention (37/17)^2 = 4.7x, so the step lies strictly between.
    assert 37 / 17 < f6 / f4 < (37 / 17) ** 2


# ------------------------------------------------------------------ energy
def _zone(root, name, uj, max_range=None):
    zone = root / name
    zone.mkdir()
    (zone / "energy_uj").write_text(f"{uj}\n")
    if max_range is not None:
        (zone / "max_energy_range_uj").write_text(f"{max_range}\n")
    return zone


def test_meter_reads_top_level_rapl_zones_and_handles_the_wrap(tmp_path):
    pkg0 = _zone(tmp_path, "intel-rapl:0", 1_000_000, max_range=9_999_999)
    _zone(tmp_path, "intel-rapl:0:0", 5)  # a sub-zone (cores): part of the package
    (tmp_path / "intel-rapl:1").mkdir()  # no readable counter
    pkg2 = _zone(tmp_path, "intel-rapl:2", 9_000_000, max_range=9_999_999)
    assert costs.rapl_zones(tmp_path) == [pkg0, pkg2]
    meter = costs.Meter(rapl_root=tmp_path)
    assert meter.method == "rapl" and "RAPL" in meter.description
    token = meter.start()
    (pkg0 / "energy_uj").write_text("3500000")  # +2.5 J
    (pkg2 / "energy_uj").write_text("500000")  # wrapped: +1.0 J + 0.5 J
    m = meter.stop(token)
    assert m.method == "rapl" and m.energy_j == pytest.approx(2.5 + 1.5)
    assert costs.Meter(rapl_root=tmp_path, use_rapl=False).method == "cpu-time x 15 W/core"


def test_meter_estimate_is_cpu_time_times_the_stated_watts(tmp_path):
    meter = costs.Meter(20.0, rapl_root=tmp_path)  # no zones here
    assert meter.method == "cpu-time x 20 W/core"
    assert "20 W per core" in meter.description and "not readable" in meter.description
    token = meter.start()
    sum(i * i for i in range(200_000))
    m = meter.stop(token)
    assert m.cpu_s > 0 and m.wall_s > 0 and m.energy_j == pytest.approx(20.0 * m.cpu_s)
    both = m + m
    assert both.energy_j == pytest.approx(2 * m.energy_j) and both.method == m.method
    for bad in (0, -1, 1001, True, "15"):
        with pytest.raises(ConfigError, match=r"\(0, 1000\]"):
            costs.Meter(bad)


# ------------------------------------------------------------------ arguments
def test_parse_sets():
    assert c.parse_sets("sudoku9, maze30,maze5") == ["sudoku9", "maze30", "maze5"]
    for bad in ("maze4", "maze61", "sudoku7", "maze"):
        with pytest.raises(
            ConfigError, match=r"allowed are sudoku9, sudoku6 and mazeN with N in 5\.\.60"
        ):
            c.parse_sets(bad)
    with pytest.raises(ConfigError, match="twice"):
        c.parse_sets("maze9,maze9")


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"sets": "maze500"}, r"5\.\.60"),
        ({"n": 0}, r"n must be an int 1\.\.10000"),
        ({"n": 10_001}, r"1\.\.10000"),
        ({"trajectories": 0}, r"1\.\.256"),
        ({"watts_per_core": 0.0}, r"\(0, 1000\]"),
        ({"time_limit_s": 0}, "time_limit"),
        ({"methods": "neural,magic"}, "subset of"),
        ({"max_steps": 0}, r"1\.\.4096"),
        ({"seed": -1}, "seed"),
        ({"sets": "", "data": None}, "at least one"),
        ({"data": "/nonexistent/puzzles.csv"}, "does not exist"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, monkeypatch, options, match):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(c, "make_sets", no_work)
    monkeypatch.setattr(c, "Meter", no_work)
    with pytest.raises(ConfigError, match=match):
        c.run_compute(tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_out_must_be_new_or_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(c, "make_sets", lambda *a, **k: pytest.fail("work started"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.csv").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        c.run_compute(tmp_path / "full")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        c.run_compute(tmp_path / "file")


# ------------------------------------------------------------------ the run and its files
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compute") / "out"
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    assert c.register(sub).prog.endswith("compute")
    args = parser.parse_args(
        ["compute", "--sets", "sudoku6,maze6", "--n", "2", "--no-rapl", "--watts", "12",
         "--out", str(out)]
    )  # fmt: skip
    return out, args


def test_compute_writes_its_files_with_labelled_energy(run, capsys, monkeypatch):
    from neurosym import neural

    out, args = run
    # Only the two models these sets use are offered, so the other four are not loaded.
    shipped = neural.default_models()
    wanted = {k: shipped[k] for k in ("sudoku6_peers", "maze_conv")}
    monkeypatch.setattr(neural, "default_models", lambda: wanted)
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "energy J/solved (cpu-time x 12 W/core)" in printed
    assert "estimate: process CPU time x 12 W per core" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "compute.csv",
        "compute.json",
        "compute.png",
        "summary.csv",
    ]
    assert (out / "compute.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "compute.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == c.COLUMNS
    assert len(rows) == 2 * 2 * 3  # two sets of two puzzles, three methods
    assert {r["energy_method"] for r in rows} == {"cpu-time x 12 W/core"}
    for r in rows:
        assert float(r["energy_j"]) == pytest.approx(12.0 * float(r["cpu_s"]))
        if r["method"] == "symbolic":
            assert r["solve_flops"] == "" and r["effort"]  # search effort, no FLOPs
        else:
            assert int(r["solve_flops"]) == int(r["step_flops"]) * int(r["steps_run"]) > 0
    report = json.loads((out / "compute.json").read_text())
    assert report["meta"]["energy_method"] == "cpu-time x 12 W/core"
    for info in report["meta"]["sets"].values():
        assert info["flops_check"]["equal"] is True
    assert report["meta"]["sets"]["maze6"]["model"] == "maze_conv"
    sudoku = [r for r in report["rows"] if r["set"] == "sudoku6"]
    assert all(r["givens"] >= 10 and r["guesses"] is not None for r in sudoku)
    mazes = {r["difficulty"] for r in report["rows"] if r["set"] == "maze6"}
    assert mazes == {"perfect", "loops"}
    summary = report["summary"]
    assert {(s["by"], s["group"]) for s in summary if s["set"] == "maze6"} == {
        ("difficulty", "all"),
        ("difficulty", "perfect"),
        ("difficulty", "loops"),
    }
    for s in summary:
        total = sum(r["energy_j"] for r in report["rows"] if _in(r, s))
        expected = total / s["solved"] if s["solved"] else None
        assert s["energy_j_per_solved"] == pytest.approx(expected)


def _in(row, entry):
    if row["set"] != entry["set"] or row["method"] != entry["method"]:
        return False
    if entry["group"] == "all":
        return entry["by"] == "difficulty"
    if entry["by"] == "givens":
        return c._givens_band(row["givens"]) == entry["group"]
    return row["difficulty"] == entry["group"]


def test_docstring_examples_run():
    import doctest

    for module in (c, costs):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__
