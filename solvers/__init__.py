"""Symbolic solvers: Sudoku (SAT, CP-SAT, python-constraint, backtracking) and maze search."""
