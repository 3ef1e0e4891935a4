"""The Tiny Recursive Model: config, model, losses, optimisers, checkpoints, training, inference.

>>> from trm import TrainConfig, train, load_model, predict  # doctest: +SKIP
"""

from trm.config import PRESETS, TRMConfig, preset
from trm.inference import LoadedModel, Prediction, evaluate, load_model, predict
from trm.model import TRM, Carry, count_parameters
from trm.train import TrainConfig, TrainResult, train

__all__ = [
    "PRESETS",
    "TRM",
    "Carry",
    "LoadedModel",
    "Prediction",
    "TRMConfig",
    "TrainConfig",
    "TrainResult",
    "count_parameters",
    "evaluate",
    "load_model",
    "predict",
    "preset",
    "train",
]
