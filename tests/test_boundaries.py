"""Package boundaries: import-linter contracts, and `import tasks` stays light."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter not installed (pip install -e '.[dev]')")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 5 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(
    "modules",
    [
        "tasks",
        "tasks, tasks.generators, tasks.datasets, tasks.detect, tasks.verify",
    ],
)
def test_tasks_loads_neither_torch_nor_ortools(modules):
    code = (
        f"import sys; import {modules}; "
        "heavy = sorted({'torch', 'ortools', 'pysat', 'scipy', 'networkx', 'constraint'} "
        "& set(m.split('.')[0] for m in sys.modules)); print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_import_neurosym_is_light():
    # solve() loads engines lazily: importing the package must not pull in torch or OR-Tools.
    code = (
        "import sys; import neurosym, neurosym.study; "
        "heavy = {'torch', 'ortools', 'hypothesis', 'matplotlib'}; "
        "print(sorted(heavy & set(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_ruff_clean():
    exe = shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff not installed (pip install -e '.[dev]')")
    proc = subprocess.run([exe, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
