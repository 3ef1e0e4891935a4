"""Benchmarks run by ``neurosym bench ...``; each prints ratios measured in one run."""
