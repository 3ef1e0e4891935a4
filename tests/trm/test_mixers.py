"""The size-agnostic mixers (Sudoku peers, maze convolution), test-time depth and stochastic
trajectories: shapes, the structure they promise, validation of every new knob."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.encodings import MazeCodec, SudokuCodec
from tasks.errors import ConfigError, UnsupportedTaskError
from tasks.generators import generate_perfect_maze, generate_puzzle
from tasks.maze import MazeTask
from tasks.verify import verify
from trm.config import TRMConfig, preset
from trm.inference import MAX_TEST_STEPS, codec_for, evaluate, predict
from trm.model import TRM, Geometry, GraphLayout, count_parameters, peer_mask
from trm.step_cost import step_flops


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny models: thread hand-off costs more than it saves (and much more on a busy machine).
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _peers(**kw) -> TRM:
    torch.manual_seed(0)
    return TRM(preset("sudoku-peers", hidden_size=12, **kw)).eval()


def _conv(**kw) -> TRM:
    torch.manual_seed(0)
    return TRM(preset("maze-conv", hidden_size=8, **kw)).eval()


# ---------------------------------------------------------------------------- config
def test_presets_keep_paper_counts_and_new_ones_are_small():
    with torch.device("meta"):
        assert count_parameters(TRM(preset("trm-mlp-sudoku"))) == 5_028_866
        assert count_parameters(TRM(preset("trm-att-sudoku"))) == 6_828_034
        assert count_parameters(TRM(preset("sudoku-peers"))) == 223_490
        assert count_parameters(TRM(preset("maze-conv"))) == 181_122
        assert count_parameters(TRM(preset("maze-graph"))) == 156_546


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"mixer": "peers", "box_rows": None}, "box_rows and box_cols"),
        ({"mixer": "peers", "num_heads": 4}, "multiple of 3"),
        ({"mixer": "peers", "seq_len": 36}, "seq_len 81"),
        ({"mixer": "conv", "grid_height": None}, "grid_height and grid_width"),
        ({"mixer": "conv", "grid_height": 5, "grid_width": 5}, "must equal seq_len"),
        ({"mixer": "conv", "grid_height": 0, "grid_width": 9}, "grid_height must be >= 1"),
        ({"mixer": "graph", "grid_width": None}, "'graph' needs grid_height and grid_width"),
        ({"mixer": "graph", "grid_height": 3, "grid_width": 3}, "must equal seq_len"),
        ({"mixer": "transformer"}, "mixer"),
    ],
)
def test_bad_mixer_options_raise_config_error(fields, match):
    base = dict(vocab_size=11, seq_len=81, num_heads=6, box_rows=3, box_cols=3)
    base.update(grid_height=9, grid_width=9)
    with pytest.raises(ConfigError, match=match):
        TRMConfig(**{**base, **fields})


# ---------------------------------------------------------------------------- peers
def test_peer_mask_is_row_column_box():
    mask = peer_mask(Geometry(9, 9, 3, 3), prefix=1, num_heads=6)
    assert mask.shape == (6, 82, 82)
    cell = 1 + 4 * 9 + 4  # the centre cell (4, 4)
    row, col, box = mask[0, cell, 1:], mask[2, cell, 1:], mask[4, cell, 1:]
    assert row.view(9, 9)[4].all() and int(row.sum()) == 9
    assert col.view(9, 9)[:, 4].all() and int(col.sum()) == 9
    assert box.view(9, 9)[3:6, 3:6].all() and int(box.sum()) == 9
    assert mask[:, 0].all() and mask[:, :, 0].all()  # the prefix slot sees and is seen


def test_peers_ignores_non_peers():
    """Changing a cell that shares no row, column or box with cell (0, 0) cannot change what
    one block's mixer writes at (0, 0) (before the prefix slot carries it a step later)."""
    net = _peers()
    block = net.net.blocks[0]
    geometry = Geometry(9, 9, 3, 3)
    layout = net._layout(geometry, torch.device("cpu"))
    h = torch.randn(1, 82, 12)
    h2 = h.clone()
    h2[0, 1 + 5 * 9 + 5] += 3.0  # (5, 5): not a peer of (0, 0)
    h[:, 0] = h2[:, 0] = 0.0
    with torch.no_grad():
        a = block.mixer(h, layout)[0, 1]
        b = block.mixer(h2, layout)[0, 1]
    assert torch.allclose(a, b, atol=1e-6)


def test_peers_runs_on_other_box_shapes():
    net = _peers()
    for br, bc in ((2, 2), (2, 3), (3, 2), (2, 4), (3, 3)):
        n = br * bc
        task, _ = generate_puzzle(br, bc, n_givens=n * n // 2, rng=n)
        codec = codec_for(net, task)
        assert isinstance(codec, SudokuCodec) and codec.size == n
        [p] = predict(net, None, [task], max_steps=2)
        assert np.asarray(p.answer).shape == (n, n)
        # Only the grid's own digits can come out, though the vocabulary has 9.
        assert int(np.asarray(p.answer).max()) <= n


def test_peers_refuses_grids_with_more_digits_than_its_vocabulary():
    task, _ = generate_puzzle(3, 4, n_givens=100, rng=0)
    with pytest.raises(UnsupportedTaskError, match="up to 9 digits"):
        codec_for(_peers(), task)
    with pytest.raises(UnsupportedTaskError, match="sudoku tasks"):
        codec_for(_peers(), MazeTask.parse("S.G"))


def test_fixed_size_mixers_refuse_another_geometry():
    net = TRM(preset("sudoku6-tiny", hidden_size=8))
    with pytest.raises(ConfigError, match="runs only on its trained 36 tokens"):
        net.initial_carry(1, geometry=Geometry(9, 9, 3, 3))


# ---------------------------------------------------------------------------- graph
def _graph(**kw) -> TRM:
    torch.manual_seed(0)
    return TRM(preset("maze-graph", hidden_size=8, **kw)).eval()


_WALLED = MazeTask.parse("S.#..\n.##..\n...#G")


def test_graph_reads_only_free_neighbours():
    """One graph block writes nothing on walls, and a change at a free cell reaches only that
    cell and its free 4-neighbours (not diagonals, not across a wall)."""
    net = _graph()
    codec = codec_for(net, _WALLED)
    inputs = torch.as_tensor(codec.encode_input(_WALLED)).unsqueeze(0)
    geometry = Geometry(3, 5)
    layout = net._layout(geometry, torch.device("cpu"), inputs)
    assert isinstance(layout, GraphLayout)
    mixer = net.net.blocks[0].mixer
    h = torch.randn(1, 16, 8)
    h2 = h.clone()
    h2[0, 1 + 0 * 5 + 1] += 1.0  # (0, 1): free; neighbours (0, 0) free, (0, 2) and (1, 1) walls
    with torch.no_grad():
        a, b = mixer(h, layout), mixer(h2, layout)
    walls = (inputs[0] == 1).view(3, 5)
    assert (a[0, 1:].abs().sum(-1).view(3, 5)[walls] == 0).all()
    changed = ((a - b).abs().sum(-1) > 1e-6)[0, 1:].view(3, 5)
    assert changed.nonzero().tolist() == [[0, 0], [0, 1]]
    with pytest.raises(ConfigError, match="reads the walls"):
        net._layout(geometry, torch.device("cpu"))


def test_graph_runs_any_maze_size_and_costs_less_than_conv():
    net = _graph()
    for height, width in ((3, 4), (9, 9), (17, 11)):
        maze = generate_perfect_maze(height, width, rng=height + width)
        [p] = predict(net, None, [maze], max_steps=1)
        assert p.confidence.shape == (height, width)
    # 6 width x width maps per cell against the 3x3 kernel's 9.
    assert step_flops(net, 226) < step_flops(_conv(), 226)


# ---------------------------------------------------------------------------- conv
def test_conv_is_local():
    """One conv block reads only the 3x3 neighbourhood (plus the pooled prefix slot)."""
    net = _conv()
    geometry = Geometry(7, 7)
    mixer = net.net.blocks[0].mixer
    h = torch.randn(1, 50, 8)
    h2 = h.clone()
    h2[0, 1 + 6 * 7 + 6] += 1.0  # corner (6, 6)
    with torch.no_grad():
        a, b = mixer(h, geometry), mixer(h2, geometry)
    changed = ((a - b).abs().sum(-1) > 1e-6)[0, 1:].view(7, 7)
    assert changed[5:, 5:].all() and int(changed.sum()) == 4


@settings(max_examples=15)
@given(st.integers(3, 21), st.integers(3, 21))
def test_conv_runs_any_maze_size(height, width):
    net = _conv()
    maze = generate_perfect_maze(height, width, rng=height * 31 + width)
    [p] = predict(net, None, [maze], max_steps=1)
    assert p.confidence.shape == (height, width)
    assert p.answer[0] == maze.start


def test_evaluate_size_agnostic_one_size_at_a_time():
    net = _conv()
    mazes = [generate_perfect_maze(9, 9, rng=i) for i in range(2)]
    from trm.data import shortest_path

    metrics = evaluate(net, mazes, [shortest_path(m) for m in mazes], max_steps=2)
    assert metrics["n"] == 2 and metrics["mean_steps"] == 2
    with pytest.raises(ConfigError, match="one size at a time"):
        evaluate(net, [mazes[0], generate_perfect_maze(7, 7, rng=0)], [[], []])


# ---------------------------------------------------------------------------- depth, noise
def test_depth_past_training_and_its_bounds():
    net = _peers()
    task, _ = generate_puzzle(3, 3, n_givens=40, rng=1)
    [p] = predict(net, None, [task], max_steps=20, halt=False)
    assert p.steps == 20  # trained N_sup is 8
    for bad in (0, MAX_TEST_STEPS + 1, 2.5, True):
        with pytest.raises(ConfigError, match="max_steps"):
            predict(net, None, [task], max_steps=bad)


def test_noise_changes_the_latent_and_is_seeded():
    net = _peers()
    inputs = torch.from_numpy(
        SudokuCodec(box_rows=3, box_cols=3).encode_batch(
            [generate_puzzle(3, 3, n_givens=30, rng=2)[0]]
        )
    )
    carry = net.initial_carry(1)

    def run(noise, seed):
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            return net(inputs, carry, latent_noise=noise, generator=gen)[0].z

    assert torch.equal(run(0.0, 0), run(0.0, 1))
    assert torch.equal(run(0.5, 3), run(0.5, 3))
    assert not torch.equal(run(0.5, 3), run(0.5, 4))


def test_trajectories_candidates_and_selection_rules():
    net = _peers()
    tasks = [generate_puzzle(3, 3, n_givens=30, rng=i)[0] for i in range(3)]
    plain = predict(net, None, tasks, max_steps=3)
    for rule in ("halt", "first", "vote"):
        preds = predict(
            net, None, tasks, max_steps=3, trajectories=4, noise=1.0, select=rule, seed=5
        )
        for p, q in zip(preds, plain, strict=True):
            assert len(p.candidates) == 4
            # trajectory 0 is the noise-free run: the same as a single trajectory
            assert np.array_equal(p.candidates[0].tokens, q.tokens)
            chosen = p.candidates[p.selected]
            assert np.array_equal(p.tokens, chosen.tokens)
            if rule == "halt":
                assert chosen.halt_prob == max(c.halt_prob for c in p.candidates)
            if rule == "vote":
                count = sum(np.array_equal(c.tokens, chosen.tokens) for c in p.candidates)
                assert all(
                    sum(np.array_equal(c.tokens, d.tokens) for c in p.candidates) <= count
                    for d in p.candidates
                )
    noisy = predict(net, None, tasks, max_steps=3, trajectories=4, noise=1.0, seed=5)
    again = predict(net, None, tasks, max_steps=3, trajectories=4, noise=1.0, seed=5)
    assert all(
        np.array_equal(a.tokens, b.tokens)
        for p, q in zip(noisy, again, strict=True)
        for a, b in zip(p.candidates, q.candidates, strict=True)
    )
    # With this much noise at least one candidate differs from the noise-free one.
    assert any(
        not np.array_equal(c.tokens, p.candidates[0].tokens) for p in noisy for c in p.candidates
    )


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"trajectories": 0}, "trajectories"),
        ({"trajectories": 10_000}, "trajectories"),
        ({"noise": -1.0}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"select": "best"}, "select"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_trajectory_options(kw, match):
    task, _ = generate_puzzle(3, 3, n_givens=30, rng=0)
    with pytest.raises(ConfigError, match=match):
        predict(_peers(), None, [task], **kw)


# ---------------------------------------------------------------------------- strict decoding
def test_union_of_shortest_paths_decodes_and_blobs_do_not():
    maze = MazeTask.parse("S...\n.##.\n...G")  # two shortest paths around the block
    codec = MazeCodec.for_task(maze)
    from trm.data import union_of_shortest_paths

    union = union_of_shortest_paths(maze)
    assert len(union) == 10  # every free cell lies on one of the two shortest paths
    path = codec.decode_path(codec.encode_label(maze, union), maze, strict=True)
    assert verify(maze, path).ok
    # A dead end marked too: that cell is on no shortest route, so nothing decodes.
    dead = MazeTask.parse("S...\n.##.\n...G\n.###")
    blob = codec_blob = MazeCodec.for_task(dead)
    tokens = codec_blob.encode_label(dead, [*union_of_shortest_paths(dead), (3, 0)])
    assert blob.decode_path(tokens, dead, strict=True) == [dead.start]
