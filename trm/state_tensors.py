"""What a checkpoint holds besides weights, without pickle: tensor names under a prefix,
optimiser and random-number-generator state as (tensors, JSON) pairs, so a resumed run
continues exactly, and the JSON check of everything else. Re-exported by :mod:`trm.checkpoint`.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tasks.errors import CheckpointError

__all__ = [
    "optimizer_state_to_tensors",
    "optimizer_state_from_tensors",
    "rng_state",
    "set_rng_state",
    "with_prefix",
    "strip_prefix",
    "check_json_value",
]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- prefixes


def with_prefix(tensors: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """``{prefix.name: tensor}``: namespaces a state dict inside a checkpoint.

    Examples
    --------
    >>> list(with_prefix({"w": torch.zeros(1)}, "model"))
    ['model.w']
    """
    return {f"{prefix}.{name}": t for name, t in tensors.items()}


def strip_prefix(tensors: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The tensors under ``prefix.``, with the prefix removed (the inverse of :func:`with_prefix`).

    Examples
    --------
    >>> list(strip_prefix({"model.w": torch.zeros(1), "ema.w": torch.ones(1)}, "model"))
    ['w']
    """
    start = f"{prefix}."
    return {name[len(start) :]: t for name, t in tensors.items() if name.startswith(start)}


def check_json_value(value: Any, where: str) -> None:
    """Raise :class:`CheckpointError` naming ``where`` unless ``value`` is plain JSON: None,
    bool, int, float, str, lists / tuples of them, and mappings with string keys.

    Examples
    --------
    >>> check_json_value({"lr": 1e-3, "betas": (0.9, 0.95)}, "meta")
    >>> check_json_value({1: "a"}, "meta")
    Traceback (most recent call last):
    ...
    tasks.errors.CheckpointError: meta has a non-string key 1; JSON keys are strings
    """
    # json.dumps would silently turn int keys into strings and reject numpy scalars deep
    # inside; checking first names the offending entry.
    if value is None or isinstance(value, bool | int | float | str):
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json_value(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckpointError(
                    f"{where} has a non-string key {key!r}; JSON keys are strings"
                )
            check_json_value(item, f"{where}[{key!r}]")
        return
    raise CheckpointError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which JSON cannot "
        "store; pass tensors in `tensors` and plain Python values in `meta`"
    )


# --------------------------------------------------------------------------- optimiser state


def optimizer_state_to_tensors(
    state_dict: Mapping[str, Any], *, prefix: str = "optim"
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON-ready description.

    Tensors are named ``{prefix}.state.{param_index}.{key}``; the description records the
    param groups (tuples such as ``betas`` are restored as tuples), the non-tensor state
    values and which keys were tensors. Use a distinct ``prefix`` per optimiser.

    Parameters
    ----------
    state_dict : mapping
        An ``Optimizer.state_dict()``.
    prefix : str

    Returns
    -------
    tensors : dict of str to Tensor
    description : dict
        JSON-serialisable; pass both to :func:`optimizer_state_from_tensors`.

    Raises
    ------
    CheckpointError
        If a value is neither a tensor nor JSON-serialisable.

    Examples
    --------
    >>> p = torch.nn.Parameter(torch.zeros(2))
    >>> opt = torch.optim.AdamW([p])
    >>> p.grad = torch.ones(2)
    >>> opt.step()
    >>> tensors, desc = optimizer_state_to_tensors(opt.state_dict())
    >>> sorted(tensors)
    ['optim.state.0.exp_avg', 'optim.state.0.exp_avg_sq', 'optim.state.0.step']
    >>> restored = optimizer_state_from_tensors(tensors, desc)
    >>> restored["param_groups"] == opt.state_dict()["param_groups"]
    True
    """
    try:
        state = state_dict["state"]
        groups = state_dict["param_groups"]
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"not an optimizer state_dict: {exc!r}") from exc
    tensors: dict[str, Tensor] = {}
    state_desc: dict[str, Any] = {}
    for index, param_state in state.items():
        tensor_keys: list[str] = []
        values: dict[str, Any] = {}
        for key, value in param_state.items():
            if isinstance(value, Tensor):
                tensors[f"{prefix}.state.{index}.{key}"] = value
                tensor_keys.append(key)
            else:
                check_json_value(value, f"optimizer state[{index}][{key!r}]")
                values[key] = value
        state_desc[str(index)] = {"tensors": tensor_keys, "values": values}
    group_desc: list[dict[str, Any]] = []
    tuple_keys: list[list[str]] = []
    for i, group in enumerate(groups):
        for key, value in group.items():
            if isinstance(value, Tensor):
                raise CheckpointError(f"optimizer param_groups[{i}][{key!r}] is a tensor")
            check_json_value(value, f"optimizer param_groups[{i}][{key!r}]")
        group_desc.append({k: list(v) if isinstance(v, tuple) else v for k, v in group.items()})
        tuple_keys.append([k for k, v in group.items() if isinstance(v, tuple)])
    description = {
        "prefix": prefix,
        "param_groups": group_desc,
        "tuple_keys": tuple_keys,
        "state": state_desc,
    }
    return tensors, description


def optimizer_state_from_tensors(
    tensors: Mapping[str, Tensor], description: Mapping[str, Any]
) -> dict[str, Any]:
    """Rebuild an optimiser ``state_dict`` from :func:`optimizer_state_to_tensors`'s output.

    ``tensors`` may be a whole checkpoint's tensors: only this optimiser's prefix is read.

    Returns
    -------
    dict
        Ready for ``optimizer.load_state_dict``.

    Raises
    ------
    CheckpointError
        If the description is malformed or a tensor it names is missing.

    Examples
    --------
    >>> desc = {"prefix": "optim", "param_groups": [{"lr": 0.1, "params": [0]}],
    ...         "tuple_keys": [[]], "state": {}}
    >>> optimizer_state_from_tensors({}, desc)
    {'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}
    """
    try:
        prefix = description["prefix"]
        state: dict[int, dict[str, Any]] = {}
        for index, entry in description["state"].items():
            param_state: dict[str, Any] = {}
            for key in entry["tensors"]:
                name = f"{prefix}.state.{index}.{key}"
                if name not in tensors:
                    raise CheckpointError(f"optimizer tensor {name!r} is missing")
                param_state[key] = tensors[name]
            param_state.update(entry["values"])
            state[int(index)] = param_state
        groups = []
        for group, tuples in zip(
            description["param_groups"], description["tuple_keys"], strict=True
        ):
            groups.append({k: tuple(v) if k in tuples else v for k, v in group.items()})
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"malformed optimizer state description: {exc!r}") from exc
    return {"state": state, "param_groups": groups}


# --------------------------------------------------------------------------- RNG state


def rng_state(
    generator: np.random.Generator | None = None,
    *,
    torch_generator: torch.Generator | None = None,
    prefix: str = "rng",
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Capture the random states a resumed run needs, as (tensors, JSON-ready dict).

    Captured: Python's global ``random``; ``generator``'s bit generator, if given; torch's
    global CPU generator (tensor ``{prefix}.torch_cpu``); each CUDA device's generator if CUDA
    has been initialised (``{prefix}.torch_cuda.{i}``); and ``torch_generator``, if given
    (``{prefix}.torch_generator``).

    Parameters
    ----------
    generator : numpy.random.Generator, optional
    torch_generator : torch.Generator, optional
    prefix : str

    Returns
    -------
    tensors : dict of str to Tensor
        uint8 state tensors.
    state : dict
        JSON-serialisable; restore with :func:`set_rng_state`.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> tensors, state = rng_state(g)
    >>> first = (random.random(), g.random(), torch.rand(1))
    >>> set_rng_state(tensors, state, g)
    >>> (random.random(), g.random(), torch.rand(1)) == first
    True
    """
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
        "numpy": None if generator is None else _encode_numpy(generator.bit_generator.state),
    }
    tensors = {f"{prefix}.torch_cpu": torch.get_rng_state()}
    # Reading CUDA states would initialise CUDA; if it is not initialised, nothing drew from it.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"{prefix}.torch_cuda.{i}"] = s
    if torch_generator is not None:
        tensors[f"{prefix}.torch_generator"] = torch_generator.get_state()
    return tensors, state


def set_rng_state(
    tensors: Mapping[str, Tensor],
    state: Mapping[str, Any],
    generator: np.random.Generator | None = None,
    *,
    torch_generator: torch.Generator | None = None,
    prefix: str = "rng",
) -> None:
    """Restore the states captured by :func:`rng_state`.

    ``generator`` and ``torch_generator`` are restored only when passed. CUDA states are
    restored for the devices present; states of missing devices are skipped (a GPU run
    resumed on the CPU).

    Raises
    ------
    CheckpointError
        If a needed state is missing or does not fit (another numpy bit generator type).

    Examples
    --------
    >>> tensors, state = rng_state()
    >>> first = random.random()
    >>> set_rng_state(tensors, state)
    >>> random.random() == first
    True
    """
    try:
        py = state["python"]
        random.setstate((py["version"], tuple(py["internal"]), py["gauss_next"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"malformed Python RNG state: {exc!r}") from exc

    if generator is not None:
        encoded = state.get("numpy")
        if encoded is None:
            raise CheckpointError("the checkpoint holds no numpy Generator state")
        try:
            generator.bit_generator.state = _decode_numpy(encoded)
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"cannot restore the numpy Generator state: {exc}") from exc

    torch.set_rng_state(_state_tensor(tensors, f"{prefix}.torch_cpu"))
    cuda_names = sorted(n for n in tensors if n.startswith(f"{prefix}.torch_cuda."))
    if cuda_names:
        n_devices = torch.cuda.device_count() if torch.cuda.is_available() else 0
        for name in cuda_names:
            index = int(name.rsplit(".", 1)[1])
            if index < n_devices:
                torch.cuda.set_rng_state(_state_tensor(tensors, name), index)
            else:
                logger.info("skipping the RNG state of absent CUDA device %d", index)
    if torch_generator is not None:
        torch_generator.set_state(_state_tensor(tensors, f"{prefix}.torch_generator"))


def _state_tensor(tensors: Mapping[str, Tensor], name: str) -> Tensor:
    if name not in tensors:
        raise CheckpointError(f"RNG state tensor {name!r} is missing")
    t = tensors[name]
    if t.dtype != torch.uint8 or t.dim() != 1:
        raise CheckpointError(f"RNG state {name!r} must be a 1-d uint8 tensor, got {t.dtype}")
    return t.cpu()


def _encode_numpy(value: Any) -> Any:
    # Bit generator states hold Python ints (PCG64's are 128-bit, which JSON keeps exactly in
    # Python) and, for MT19937, a uint32 array.
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _encode_numpy(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise CheckpointError(f"non-finite value {value!r} in a numpy RNG state")
    return value


def _decode_numpy(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _decode_numpy(v) for k, v in value.items()}
    return value
