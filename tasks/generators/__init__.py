"""Seeded generators of training and test data: Sudoku solutions and puzzles, mazes."""

from tasks.generators.maze import generate_maze_hard, generate_mazes, generate_perfect_maze
from tasks.generators.sudoku import (
    RngLike,
    generate_puzzle,
    generate_puzzles,
    generate_solution,
)

__all__ = [
    "RngLike",
    "generate_maze_hard",
    "generate_mazes",
    "generate_perfect_maze",
    "generate_puzzle",
    "generate_puzzles",
    "generate_solution",
]
