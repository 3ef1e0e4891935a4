"""Hostile checkpoints: every malformed, forged or booby-trapped file is a CheckpointError.

Each case starts from a real (tiny) training checkpoint and damages one thing. The loaders
must refuse it with :class:`~tasks.errors.CheckpointError` and a message naming the problem;
nothing may be unpickled, no other exception may escape, and nothing may be silently cast.
Where a case damages the tensors file, the JSON's size and sha256 record is forged to match,
so the check reaches the parsers instead of stopping at the checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import struct
import tracemalloc

import pytest
import torch
from safetensors.torch import load_file, save_file

from tasks.errors import CheckpointError
from trm.checkpoint import FORMAT, FORMAT_VERSION, checkpoint_paths, load_checkpoint
from trm.inference import load_model
from trm.train import TrainConfig, train

SUDOKU4 = dict(
    vocab_size=6,
    seq_len=16,
    hidden_size=32,
    num_heads=4,
    num_layers=1,
    puzzle_prefix_len=1,
    n_latent_steps=2,
    n_improve_steps=1,
    max_supervision_steps=2,
)
DATA4 = dict(kind="sudoku", box_rows=2, box_cols=2, min_givens=6, max_givens=10)
_HEADER = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
_MARKER_ENV = "NEUROSYM_TEST_UNPICKLED"


def _config(steps: int = 2) -> TrainConfig:
    return TrainConfig(
        preset=None,
        model=SUDOKU4,
        data=DATA4,
        steps=steps,
        batch_size=4,
        lr=3e-3,
        weight_decay=0.0,
        warmup_steps=2,
        eval_every=0,
        eval_size=0,
        device="cpu",
        threads=1,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A real 2-step training run's folder, made once; tests damage copies of it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("pristine") / "run"
        train(_config(), out)
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture
def run(pristine, tmp_path):
    """A fresh copy of the pristine run: (folder, json path, safetensors path)."""
    folder = tmp_path / "run"
    shutil.copytree(pristine, folder)
    json_path, data_path = checkpoint_paths(folder / "")
    return folder, json_path, data_path


@pytest.fixture(autouse=True)
def no_unpickling(monkeypatch):
    """Every unpickling route fails loudly, so a CheckpointError proves none was taken."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the loader tried to unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.delenv(_MARKER_ENV, raising=False)


def _plant(marker: str) -> None:
    """What the trap runs when unpickled: a file and an environment variable appear."""
    with open(marker, "w") as f:
        f.write("the pickle's code ran")
    os.environ[_MARKER_ENV] = marker


class _Trap:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (_plant, (self.marker,))


def _refused(folder, match: str) -> None:
    """Every loader refuses ``folder`` with a CheckpointError matching ``match``."""
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match=match):
        load_model(folder)
    with pytest.raises(CheckpointError, match=match):
        train(_config(steps=3), folder, resume=True)


def _record(json_path, raw: bytes, **extra) -> None:
    """Forge the JSON's tensors_file record so that it vouches for ``raw``."""
    doc = json.loads(json_path.read_text())
    doc["tensors_file"] = {
        "name": doc["tensors_file"]["name"],
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
        **extra,
    }
    json_path.write_text(json.dumps(doc))


def _forge_bytes(run, raw: bytes) -> None:
    _, json_path, data_path = run
    data_path.write_bytes(raw)
    _record(json_path, raw)


def _forge_tensors(run, change) -> None:
    """Rewrite the tensors through ``change(dict)`` and forge a matching record."""
    _, json_path, data_path = run
    tensors = load_file(data_path)
    change(tensors)
    save_file(tensors, data_path, metadata=_HEADER)
    _record(json_path, data_path.read_bytes())


def _edit_json(json_path, change) -> None:
    doc = json.loads(json_path.read_text())
    change(doc)
    json_path.write_text(json.dumps(doc))


def test_the_pristine_copy_loads(run):
    folder, _, _ = run
    tensors, meta = load_checkpoint(folder)
    assert meta["step"] == 2 and tensors["model.lm_head.weight"].dtype == torch.float32
    load_model(folder)
    assert train(_config(steps=3), folder, resume=True).step == 3


# --------------------------------------------------------------------------- pickles


def _pickles(marker: str) -> dict[str, bytes]:
    payload = {"model": _Trap(marker)}
    out = {f"protocol {p}": pickle.dumps(payload, protocol=p) for p in (0, 2, 5)}
    for zip_format in (True, False):
        path = f"{marker}.torch{int(zip_format)}"
        torch.save(payload, path, _use_new_zipfile_serialization=zip_format)
        with open(path, "rb") as f:
            out[f"torch.save zip={zip_format}"] = f.read()
        os.unlink(path)
    return out


@pytest.mark.parametrize("forged_record", [False, True])
def test_pickles_under_either_name_are_refused_and_never_run(run, tmp_path, forged_record):
    folder, json_path, data_path = run
    marker = tmp_path / "pickle_code_ran"
    original_json, original_data = json_path.read_bytes(), data_path.read_bytes()
    for label, raw in _pickles(str(marker)).items():
        # under the tensors file's name (with or without a JSON vouching for the pickle)
        json_path.write_bytes(original_json)
        data_path.write_bytes(raw)
        if forged_record:
            _record(json_path, raw)
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(folder)
        assert "unpickles" in str(info.value) or "safetensors" in str(info.value), label
        with pytest.raises(CheckpointError):
            load_model(folder)
        # under the JSON's name
        data_path.write_bytes(original_data)
        json_path.write_bytes(raw)
        with pytest.raises(CheckpointError, match="unpickles|not valid JSON"):
            load_checkpoint(folder)
        with pytest.raises(CheckpointError):
            train(_config(steps=3), folder, resume=True)
    assert not marker.exists() and _MARKER_ENV not in os.environ


def test_the_trap_is_real(tmp_path, monkeypatch):
    # The control for the test above: unpickling the payload does run its code.
    monkeypatch.undo()
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Trap(str(marker))))
    assert marker.exists() and os.environ.pop(_MARKER_ENV) == str(marker)


# --------------------------------------------------------------------------- tensors


@pytest.mark.parametrize(
    ("name", "change", "match"),
    [
        ("model.lm_head.weight", lambda t: t.double(), "float64 .*needs float32"),
        ("model.lm_head.weight", lambda t: t.half(), "float16 .*needs float32"),
        ("model.lm_head.weight", lambda t: t.bfloat16(), "bfloat16 .*needs float32"),
        ("model.lm_head.weight", lambda t: t.to(torch.int64), "int64 .*needs float32"),
        ("ema.q_head.bias", lambda t: t.double(), r"ema\.q_head\.bias is float64"),
        ("model.y_init", lambda t: t.to(torch.int32), "int32"),
        ("optim.state.0.exp_avg", lambda t: t.double(), "exp_avg is float64"),
        ("optim.state.1.step", lambda t: t.to(torch.int64), "not a float scalar"),
        ("slots.inputs", lambda t: t.float(), r"slots\.inputs is float32 .* needs int64"),
        ("slots.y", lambda t: t.double(), r"slots\.y is float64"),
        ("slots.halted", lambda t: t.to(torch.uint8), r"slots\.halted is uint8 .* needs bool"),
        ("rng.torch_cpu", lambda t: t.to(torch.int64), "uint8"),
    ],
)
def test_wrong_dtypes(run, name, change, match):
    def mutate(tensors):
        tensors[name] = change(tensors[name]).contiguous()

    _forge_tensors(run, mutate)
    if name.startswith("rng."):  # not part of the model's layout: refused when resuming
        with pytest.raises(CheckpointError, match=match):
            train(_config(steps=3), run[0], resume=True)
    else:
        _refused(run[0], match)


@pytest.mark.parametrize(
    ("name", "change", "match"),
    [
        (
            "model.lm_head.weight",
            lambda t: t[:, :1],
            r"\[6, 1\], the model needs float32 \[6, 32\]",
        ),
        ("ema.lm_head.weight", lambda t: t.t(), r"\[32, 6\]"),
        ("model.token_embedding.weight", lambda t: t.reshape(-1), "token_embedding"),
        # this one used to escape as a RuntimeError at the first optimiser step
        ("optim.state.0.exp_avg", lambda t: t.reshape(-1)[:1], "its parameter is float32"),
        ("optim.state.0.exp_avg_sq", lambda t: t[None], "exp_avg_sq"),
        ("optim.state.0.step", lambda t: t.repeat(3), "not a float scalar"),
        ("slots.inputs", lambda t: t[:, :5], r"slots\.inputs is int64 \[4, 5\]"),
        ("slots.z", lambda t: t[..., :8], r"slots\.z"),
        ("slots.steps", lambda t: t[:2], r"slots\.steps is int64 \[2\], a slot needs int64 \[4\]"),
        ("slots.inputs", lambda t: t + 100, r"tokens outside \[0, 6\)"),
        ("slots.labels", lambda t: t - 7, r"tokens outside"),
        ("slots.min_halt", lambda t: t - 5, "negative"),
    ],
)
def test_wrong_shapes_or_values_vs_the_config(run, name, change, match):
    def mutate(tensors):
        tensors[name] = change(tensors[name]).contiguous()

    _forge_tensors(run, mutate)
    _refused(run[0], match)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.pop("model.q_head.bias"), r"model tensors \['q_head\.bias'\] are missing"),
        (lambda t: t.pop("ema.y_init"), r"ema tensors \['y_init'\] are missing"),
        (lambda t: t.update({"model.extra": torch.zeros(2)}), "are not in the model"),
        (lambda t: t.update({"optim.state.99.exp_avg": torch.zeros(2)}), "parameter 99"),
        (lambda t: t.update({"optim.lr": torch.zeros(1)}), "not an optimiser state tensor"),
        (lambda t: t.update({"slots.secret": torch.zeros(4)}), "not a training slot"),
    ],
)
def test_missing_or_extra_tensors(run, change, match):
    _forge_tensors(run, change)
    _refused(run[0], match)


def test_a_config_that_no_longer_fits_the_weights(run):
    _, json_path, _ = run
    _edit_json(json_path, lambda doc: doc["config"].update(hidden_size=64))
    with pytest.raises(CheckpointError, match="the model needs float32"):
        load_checkpoint(run[0])
    with pytest.raises(CheckpointError, match="the model needs float32"):
        load_model(run[0])


# --------------------------------------------------------------------------- safetensors bytes


def _header_length_prefix(raw: bytes, n: int) -> bytes:
    return struct.pack("<Q", n) + raw[8:]


@pytest.mark.parametrize(
    "claimed",
    [2**40, 2**63, 2**64 - 1, "file+1", "file"],
)
def test_a_header_claiming_an_oversized_length_allocates_nothing(run, claimed):
    folder, _, data_path = run
    raw = data_path.read_bytes()
    n = {"file+1": len(raw) - 7, "file": len(raw)}.get(claimed, claimed)
    _forge_bytes(run, _header_length_prefix(raw, n))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="header claims .* bytes, but only"):
            load_checkpoint(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(raw) + (8 << 20)  # a few copies of the file, never 2**40 bytes
    _refused(folder, "header claims")


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"[1, 2]", "header is not an object"),
        (b'{"__metadata__": {"format": "x"}}', "not a neurosym tensors file"),
        (b"{not json", "safetensors header .* is not valid JSON"),
        (b'{"a": 1, "a": 2}', "more than once"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_safetensors_headers(run, header, match):
    _forge_bytes(run, struct.pack("<Q", len(header)) + header)
    _refused(run[0], match)


def test_tensor_offsets_past_the_end_are_refused(run):
    _, _, data_path = run
    raw = data_path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"][1] += 10**6
    text = json.dumps(header).encode()
    _forge_bytes(run, struct.pack("<Q", len(text)) + text + raw[8 + n :])
    _refused(run[0], "not a valid safetensors file")


@pytest.mark.parametrize("keep", [0, 4, 8, 100, "half", "all but one"])
@pytest.mark.parametrize("forged_record", [False, True])
def test_truncated_safetensors(run, keep, forged_record):
    _, _, data_path = run
    raw = data_path.read_bytes()
    cut = {"half": len(raw) // 2, "all but one": len(raw) - 1}.get(keep, keep)
    if forged_record:
        _forge_bytes(run, raw[:cut])
        match = "not a valid safetensors file"
    else:
        data_path.write_bytes(raw[:cut])
        match = "truncated"
    _refused(run[0], match)


def test_a_tensors_file_larger_than_recorded_is_not_read_whole(run):
    _, _, data_path = run
    with open(data_path, "ab") as f:
        f.truncate(data_path.stat().st_size + (1 << 30))  # sparse: 1 GiB of holes appended
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="bytes, the checkpoint recorded"):
            load_checkpoint(run[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


# --------------------------------------------------------------------------- symbolic links


def _outside_copy(run, tmp_path, which: int):
    """Move the json (0) or safetensors (1) file outside the folder; link it back in."""
    path = run[1 + which]
    outside = tmp_path / "elsewhere" / path.name
    outside.parent.mkdir()
    shutil.move(path, outside)
    path.symlink_to(outside)
    return outside


@pytest.mark.parametrize("which", [0, 1], ids=["json", "safetensors"])
def test_links_out_of_the_folder_are_refused(run, tmp_path, which):
    # The linked file is a perfectly valid checkpoint half: refused for where it lives.
    outside = _outside_copy(run, tmp_path, which)
    _refused(run[0], "symbolic link to .*outside the checkpoint's folder")
    assert outside.is_file()


def test_a_link_to_a_system_file_is_refused(run):
    _, json_path, _ = run
    json_path.unlink()
    json_path.symlink_to("/etc/passwd")
    _refused(run[0], "outside the checkpoint's folder")


def test_a_record_naming_a_link_out_of_the_folder_is_refused(run, tmp_path):
    _, json_path, data_path = run
    outside = tmp_path / "outside.safetensors"
    shutil.copy(data_path, outside)
    (json_path.parent / "linked.safetensors").symlink_to(outside)
    _edit_json(json_path, lambda doc: doc["tensors_file"].update(name="linked.safetensors"))
    _refused(run[0], "outside the checkpoint's folder")


def test_dangling_and_looping_links(run):
    folder, json_path, data_path = run
    data_path.unlink()
    data_path.symlink_to(folder / "nowhere.safetensors")
    _refused(folder, "outside|missing")
    json_path.unlink()
    json_path.symlink_to(json_path)  # a loop
    _refused(folder, "symbolic link")


def test_links_inside_the_folder_and_a_linked_folder_are_fine(run, tmp_path):
    folder, json_path, data_path = run
    (folder / "latest.json").symlink_to(json_path.name)
    (folder / "latest.safetensors").symlink_to(data_path.name)
    assert load_checkpoint(folder / "latest")[1]["step"] == 2
    alias = tmp_path / "alias"
    alias.symlink_to(folder, target_is_directory=True)
    assert load_checkpoint(alias)[1]["step"] == 2


# --------------------------------------------------------------------------- the JSON


@pytest.mark.parametrize(
    "key", ["format", "format_version", "config", "task", "step", "tensors_file"]
)
def test_missing_keys(run, key):
    _edit_json(run[1], lambda doc: doc.pop(key))
    _refused(run[0], key if key != "format" else 'lacks "format"')


@pytest.mark.parametrize("key", ["name", "sha256", "bytes"])
def test_missing_or_extra_keys_in_the_tensors_record(run, key):
    _, json_path, _ = run
    _edit_json(json_path, lambda doc: doc["tensors_file"].pop(key))
    _refused(run[0], "tensors_file")
    _edit_json(json_path, lambda doc: doc.update(tensors_file={"name": run[2].name}))
    _record(json_path, run[2].read_bytes(), comment="extra")
    _refused(run[0], "exactly name, sha256, bytes")


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("config", "inconsistent|Extra inputs"),  # load_model rebuilds the TRMConfig
        ("task", "inconsistent|unknown"),
        ("train_config", "train_config is invalid"),  # a resume rebuilds the TrainConfig
    ],
)
def test_extra_keys_in_the_strict_records(run, where, match):
    _edit_json(run[1], lambda doc: doc[where].update(surprise=1))
    loader = (
        (lambda: train(_config(steps=3), run[0], resume=True))
        if where == "train_config"
        else (lambda: load_model(run[0]))
    )
    with pytest.raises(CheckpointError, match=match):
        loader()


def test_extra_top_level_keys_are_the_callers_meta(run):
    # save_checkpoint stores any extra meta the caller passes, so the reader keeps them; what
    # they cannot do is shadow a key: a repeated key is refused (the next test).
    _edit_json(run[1], lambda doc: doc.update(notes="hand-edited"))
    assert load_checkpoint(run[0])[1]["notes"] == "hand-edited"


@pytest.mark.parametrize("key", ["step", "format", "tensors_file"])
def test_repeated_keys_are_refused(run, key):
    _, json_path, _ = run
    text = json_path.read_text()
    doc = json.loads(text)
    forged = text.rstrip()[:-1] + f', "{key}": {json.dumps(doc[key])}}}'
    json_path.write_text(forged)
    _refused(run[0], f"the key '{key}' appears more than once")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (FORMAT_VERSION + 1, "newer than"),
        (10**6, "newer than"),
        (0, "unknown format_version"),
        (-1, "unknown format_version"),
        ("1", "unknown format_version"),
        (1.0, "unknown format_version"),
        (True, "unknown format_version"),
        (None, "unknown format_version"),
        ([1], "unknown format_version"),
    ],
)
def test_format_version_mismatch(run, value, match):
    _edit_json(run[1], lambda doc: doc.update(format_version=value))
    _refused(run[0], match)


@pytest.mark.parametrize(
    "value", ["neurosym-trm-checkpoint-v2", "NEUROSYM-TRM-CHECKPOINT", "", None, 1, ["x"]]
)
def test_wrong_format_string(run, value):
    _edit_json(run[1], lambda doc: doc.update(format=value))
    _refused(run[0], 'not a neurosym checkpoint: its "format" is')


@pytest.mark.parametrize(
    "raw",
    [
        '{"format": "neurosym-trm-checkpoint", "note": "caf\u00e9"}'.encode("latin-1"),
        '{"format": "neurosym-trm-checkpoint"}'.encode("utf-16"),
        b'{"format": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"format": "\xe2\x82"}',  # a cut multi-byte sequence
        b"\xff\xfe\xfd",
    ],
)
def test_non_utf8_json(run, raw):
    run[1].write_bytes(raw)
    _refused(run[0], "not valid JSON: it is not UTF-8")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[1, 2, 3]", "an array"),
        (b'"neurosym-trm-checkpoint"', "a string"),
        (b"42", "a number"),
        (b"null", "null"),
        (b"true", "a boolean"),
    ],
)
def test_json_that_is_not_an_object(run, raw, kind):
    run[1].write_bytes(raw)
    _refused(run[0], f"its JSON is {kind}, not an object")


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"", "not valid JSON"),
        (b"   \n", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000, "nested too deeply"),
        (b'{"format": "neurosym-trm-checkpoint", "step": ' + b"9" * 5000 + b"}", "digits"),
    ],
)
def test_json_that_breaks_the_parser(run, raw, match):
    run[1].write_bytes(raw)
    _refused(run[0], match)


def test_an_enormous_json_is_not_read(run):
    with open(run[1], "ab") as f:
        f.truncate(65 << 20)  # sparse, past the 64 MiB limit
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="more than the .* a checkpoint's JSON may"):
            load_checkpoint(run[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_a_fifo_in_place_of_the_json_does_not_block(run):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    run[1].unlink()
    os.mkfifo(run[1])
    _refused(run[0], "is missing")
