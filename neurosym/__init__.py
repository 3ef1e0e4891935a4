"""neurosym: solve grid puzzles with TRM, symbolic solvers, or both, and compare them."""
