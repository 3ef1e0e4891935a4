"""Research tooling: the method comparison, its statistics and plots, recursion traces and the
noise-robustness report. Kept apart from the public solving API; imports nothing heavy here."""

__all__: list[str] = []
