"""The Tiny Recursive Model: model, recursion, training, inference, checkpoints (issue 4)."""

__all__: list[str] = []
