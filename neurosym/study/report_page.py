"""The page of ``neurosym report``: the machine header, each section's description, command,
seed, tables (its tools' own ``format_table`` on their JSON, else every CSV) and plots."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import json
import os
import platform
import shlex
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neurosym.study.report import Section, SectionOutcome

__all__ = [
    "Tables",
    "compare_tables",
    "log_path",
    "markdown_table",
    "mixer_tables",
    "module_table",
    "utc_now",
    "write_report_md",
]

#: ``folder -> Markdown blocks``; None when the section's files are not there.
Tables = Callable[[Path], list[str] | None]


def log_path(folder: Path) -> Path:
    """Where a section's output goes: beside its folder, since some tools want theirs empty."""
    return folder.parent / "logs" / f"{folder.name}.txt"


def _json(folder: Path, name: str) -> Any:
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _from_json(name: str, render: Callable[[Any], str]) -> Tables:
    def tables(folder: Path) -> list[str] | None:
        data = _json(folder, name)
        return None if data is None else [render(data)]

    return tables


def module_table(module: str, name: str, pick: Callable[[Any], Any] = lambda d: d) -> Tables:
    """A section's own ``format_table`` on what its JSON file ``name`` holds."""

    def render(data: Any) -> str:
        return importlib.import_module(module).format_table(pick(data))

    return _from_json(name, render)


def compare_tables(folder: Path) -> list[str] | None:
    """``compare``'s summary per method and its accuracy against the depth cap."""
    data = _json(folder, "summary.json")
    if data is None:
        return None
    blocks = [f"Puzzles: {data.get('source', '-')}.", markdown_table(data["summary"])]
    depth = _read_csv(folder / "depth.csv")
    if depth:
        blocks += [
            "Accuracy against the test-time depth cap (all puzzles):",
            markdown_table([r for r in depth if r["difficulty"] == "all"]),
        ]
    return blocks


def mixer_tables(folder: Path) -> list[str] | None:
    """``bench mixers``: one row per mixer, one column per evaluation set and depth."""
    data = _json(folder, "mixers.json")
    if data is None:
        return None
    rows = []
    for mixer, per_set in data["results"].items():
        run = data["runs"][mixer]
        row: dict[str, Any] = {"mixer": mixer, "params": run["parameters"], "steps": run["steps"]}
        for set_name, by_depth in per_set.items():
            row |= {f"{set_name} @{d}": v for d, v in (by_depth or {}).items()}
        rows.append(row)
    head = f"Each mixer trained {data['cpu_minutes']:g} CPU minutes; valid-answer shares."
    return [head, markdown_table(rows)]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if dirty else head  # fmt: skip


def _machine() -> list[tuple[str, str]]:
    import torch

    return [
        ("platform", platform.platform()),
        ("processor", platform.processor() or platform.machine()),
        ("CPUs", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("torch", f"{torch.__version__}, {torch.get_num_threads()} threads by default "
                  "(the tools pin one where they time)"),
        ("git commit", _git_commit()),
        ("date", utc_now()),
    ]  # fmt: skip


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, str) and any(c in value for c in ".eE"):
        try:  # a CSV's number: shown as the JSON's would be
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """``rows`` as a Markdown table; ``columns`` default to every key, in first-seen order.

    Examples
    --------
    >>> rows = [{"method": "neural", "accuracy": 0.875}, {"method": "hybrid", "accuracy": "0.9333"}]
    >>> print(markdown_table(rows))
    | method | accuracy |
    |---|---|
    | neural | 0.875 |
    | hybrid | 0.9333 |
    """
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


#: Rows of a CSV shown when a section has no renderer of its own.
CSV_ROWS = 40


def _csv_tables(folder: Path) -> list[str]:
    blocks = []
    for path in sorted(folder.glob("*.csv")):
        rows = _read_csv(path)
        more = f" (first {CSV_ROWS} of {len(rows)} rows)" if len(rows) > CSV_ROWS else ""
        blocks += [f"`{path.name}`{more}:", markdown_table(rows[:CSV_ROWS]) if rows else "(empty)"]
    return blocks


def _section_md(section: Section, outcome: SectionOutcome, folder: Path, page: Path) -> list[str]:
    lines = [f"## {section.title}", "", section.about, ""]
    lines += ["```sh", outcome.command, "```", ""]
    seed = "-" if outcome.seed is None else str(outcome.seed)
    if outcome.status == "unavailable":
        return lines + [f"**Not available**: {outcome.error}; not run.", ""]
    took = "-" if outcome.seconds is None else f"{outcome.seconds:.0f} s"
    status = {"ran": "ran now", "done": "complete from an earlier run"}.get(outcome.status, "")
    if outcome.status == "failed":
        log = Path(os.path.relpath(log_path(folder), page.parent)).as_posix()
        return lines + [f"**Failed** after {took}: {outcome.error} (see [{log}]({log})).", ""]
    lines += [f"Seed {seed}; {took} ({status}).", ""]
    blocks = (section.tables(folder) if section.tables else None) or _csv_tables(folder)
    for block in blocks or ["(no tables written)"]:
        lines += [block, ""]
    for png in sorted(folder.glob("*.png")):
        link = Path(os.path.relpath(png, page.parent)).as_posix()
        lines += [f"![{png.stem}]({link})", ""]
    return lines


def write_report_md(
    path: Path,
    entries: Iterable[tuple[Section, SectionOutcome]],
    *,
    quick: bool,
    wall_s: float,
) -> Path:
    """The page: machine and times, then per section its description, command, seed,
    tables and plots."""
    entries = list(entries)
    outcomes = [o for _, o in entries]
    spent = sum(o.seconds or 0.0 for o in outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ran", "done", "failed")}
    missing = [o.name for o in outcomes if o.status == "unavailable"]
    lines = [
        f"# neurosym report ({'quick' if quick else 'full'})",
        "",
        f"Written by `neurosym report {shlex.quote(os.fspath(path.parent))}"
        f"{' --quick' if quick else ''}`; every command below reproduces its section.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {_cell(v)} |" for k, v in _machine()),
        f"| this run | {wall_s:.0f} s ({wall_s / 60:.1f} min) |",
        f"| all sections' own time | {spent:.0f} s ({spent / 60:.1f} min), earlier runs included |",
        "",
        f"Sections: {counts['ran']} ran now, {counts['done']} complete from an earlier run, "
        f"{counts['failed']} failed; not available: {', '.join(missing) or 'none'}.",
        "",
    ]
    for section, outcome in entries:
        lines += _section_md(section, outcome, path.parent / section.name, path)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path
