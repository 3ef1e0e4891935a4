"""The Tiny Recursive Model: config, model, losses, optimisers and checkpoints.

Training, inference and the shipped default models are not in this release yet.
"""

from trm.config import PRESETS, TRMConfig, preset
from trm.model import TRM, Carry, count_parameters

__all__ = ["PRESETS", "TRM", "Carry", "TRMConfig", "count_parameters", "preset"]
