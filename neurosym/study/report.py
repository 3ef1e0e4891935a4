"""``neurosym report``: every study of this repository run into one folder and summed up on one
Markdown page, ``OUT/report.md`` (issue 12, item 8).

A composer: each section calls its tool's own entry (``register`` on a fresh parser, so its
defaults stay in its module; ``compare`` and ``bench mixers``, whose options live in the CLI,
through their functions with the same flags' values) into ``OUT/<section>/``, then the page
shows per section what it measures, the equivalent command, its seed, its tables (read back
from the section's JSON/CSV) and its PNGs. A section is complete once ``done.json`` is written
(last, with the options it ran with); a rerun skips complete sections, so an interrupted report
continues where it stopped. A section whose module is not in this checkout is listed as not
available.

Settings: see :data:`SECTIONS`; the page prints every section's command. ``--quick`` (small
sets, few depths, 15-25 CPU seconds of training per mixer, 200 optimiser steps of the base per
ablation run) is a smoke test of every tool, not a result. Full mode: the tools' own sizes
where they fit, fewer tasks where they would not (perturb 64 Sudoku / 32 mazes, throughput 32
tasks, compare 100 puzzles, mixers 6 CPU minutes each, the whole ablation grid with one seed
and 12,000 forward passes, 1,000 base steps, per run); about 1.5-2 hours on 2 cores, an
estimate scaled from the quick run's section times, not a measured run. The ablation runs
have a forward-pass budget, so they repeat exactly; the mixer comparison is at equal CPU time
by design, so its step counts depend on the machine's load.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import shlex
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurosym.study.common import guarded_path
from neurosym.study.report_page import (
    Tables,
    compare_tables,
    log_path,
    mixer_tables,
    module_table,
    utc_now,
    write_report_md,
)
from tasks.errors import ConfigError

__all__ = [
    "SECTIONS",
    "Section",
    "SectionOutcome",
    "parse_sections",
    "unavailable_reason",
    "section_argv",
    "run_section",
    "run_report",
    "add_arguments",
    "main",
    "register",
]

DONE = "done.json"
REPORT = "report.md"


@dataclass(frozen=True, slots=True)
class Section:
    """One study of the report.

    ``command`` is the ``neurosym`` words naming the tool; ``quick`` / ``full`` its options as
    ``{flag name: value}`` (``"n": 40`` is ``--n 40``; True is a bare flag, a list is one word
    per item), without the output option, which :func:`section_argv` adds as ``out_option``
    (``"--json"``: a file named ``out_file`` in the section's folder). ``entry`` is
    ``"register"`` (the module's ``register(subparsers)``) or ``"module:function"`` taking the
    options as keywords (``renames`` maps flag names to its parameter names).
    """

    name: str
    title: str
    about: str
    module: str
    command: tuple[str, ...]
    quick: Mapping[str, Any]
    full: Mapping[str, Any]
    entry: str = "register"
    renames: Mapping[str, str] = field(default_factory=dict)
    out_option: str = "--out"
    out_file: str | None = None
    #: Whether a partly written folder is kept on a rerun (the tool resumes from it itself);
    #: otherwise it is emptied first (perturb and compute want a new or empty folder).
    keeps_partial: bool = False
    tables: Tables | None = None
    #: Pass only the options the tool's parser defines (for a module still being written,
    #: whose options may change: ``--quick`` where it has one).
    only_known: bool = False
    #: The option holding the seed the page reports.
    seed_option: str = "seed"


_CHECKPOINTS = "neurosym.study.compression"
#: Every section, in report order, with its quick and full settings (see the module docstring).
SECTIONS: tuple[Section, ...] = (
    Section(
        name="compress",
        title="Compression: int8 quantisation and magnitude pruning",
        about="Each model's fp32 EMA weights against int8 dynamic / static quantisation and "
        "magnitude pruning: valid-answer accuracy on the same seeded tasks, weights-file size, "
        "CPU ms per task and per step on one thread.",
        module=_CHECKPOINTS,
        command=("compress",),
        quick={"models": "sudoku6,sudoku6_peers", "n": 50, "sparsities": "0.5,0.9"},
        full={"models": "all", "n": 200},
        tables=module_table(_CHECKPOINTS, "compression.json"),
    ),
    Section(
        name="halting",
        title="Halting: stability and calibration of the halt head",
        about="Every task run to the deepest cap with latent noise on z; per noise and depth "
        "cap: accuracy with halting, halted right / wrong, never halted, mean halting step and "
        "the expected calibration error of the halt probability.",
        module="neurosym.study.halting",
        command=("halting",),
        quick={"n": 40, "depths": "8,16", "noises": "0,0.1"},
        full={"n": 100, "depths": "8,16,32,64", "noises": "0,0.1,0.3"},
        tables=module_table("neurosym.study.halting", "halting.json"),
    ),
    Section(
        name="perturb",
        title="Perturbation: does the recursion search?",
        about="The latent z or answer cells knocked off course after one supervision step, "
        "then the recursion goes on: share still correct, steps to recover, cells restored "
        "and other cells changed, against the unperturbed run; fixed points and cycles of a "
        "long run.",
        module="neurosym.study.perturb",
        command=("perturb",),
        quick={"n": 32, "depth": 16, "cycle_n": 16, "cycle_steps": 64},
        full={"n": 64, "n_maze": 32, "depth": 32, "cycle_n": 32, "cycle_steps": 256},
        tables=module_table("neurosym.study.perturb", "perturb.json"),
    ),
    Section(
        name="compute",
        title="Compute: FLOPs, time and energy per solve",
        about="Neural, symbolic and hybrid on the same seeded puzzles, each alone: the "
        "network's counted FLOPs per solve, wall and CPU time, energy per solved puzzle (RAPL "
        "when readable, else CPU time x watts per core), by difficulty.",
        module="neurosym.study.compute",
        command=("compute",),
        quick={"sets": "sudoku9,maze15", "n": 20},
        full={"sets": "sudoku9,maze15,maze30", "n": 50},
        tables=module_table(
            "neurosym.study.compute", "compute.json", lambda d: d["summary"]
        ),
    ),
    Section(
        name="throughput",
        title="Throughput: puzzles per second on one CPU thread",
        about="Each shipped model on seeded fresh tasks of its trained size at its default "
        "depth, per batch size, halting on and off: puzzles/s (best repeat), mean steps and "
        "the share of answers verify accepts.",
        module="neurosym.benchmarks.throughput",
        command=("bench", "throughput"),
        quick={"n": 16, "batch_sizes": "1,16", "repeats": 2, "maze_sizes": "15"},
        full={"n": 32, "batch_sizes": "1,32", "repeats": 3},
        out_option="--json",
        out_file="throughput.json",
        tables=module_table("neurosym.benchmarks.throughput", "throughput.json"),
    ),
    Section(
        name="compare",
        title="Comparison: neural vs symbolic vs hybrid",
        about="The three methods on the same generated 9x9 puzzles with the same time limit: "
        "accuracy (every answer verified), time and search effort, and the TRM's accuracy "
        "against its test-time depth.",
        module="neurosym.study.comparison",
        command=("compare",),
        quick={"size": "9x9", "n": 30, "depths": "1,2,4,8,16,32", "seed": 0},
        full={"size": "9x9", "n": 100, "seed": 0},
        entry="neurosym.study.comparison:compare",
        renames={"out": "out_dir", "time_limit": "time_limit_s", "k_curve": "trajectory_counts"},
        tables=compare_tables,
    ),
    Section(
        name="mixers",
        title="Mixers: size-agnostic mixers vs TRM-MLP / TRM-Att at equal CPU time",
        about="The same recursion trained with each mixer for the same process CPU time on the "
        "same seeded data, then scored by verify on the same fresh sets at the trained depth "
        "and deeper.",
        module="neurosym.benchmarks.mixers",
        command=("bench", "mixers"),
        quick={"kind": "sudoku6", "cpu_minutes": 0.4, "mixers": ["peers", "mlp"], "n": 30,
               "seed": 0},
        full={"kind": "sudoku6", "cpu_minutes": 6.0, "n": 200, "seed": 0},
        entry="neurosym.benchmarks.mixers:run_mixer_benchmark",
        renames={"out": "out_dir"},
        keeps_partial=True,
        tables=mixer_tables,
    ),
    Section(
        name="ablate",
        title="Ablations",
        about="The ablation study of neurosym.study.ablate; its tables are its CSV files.",
        module="neurosym.study.ablate",
        command=("ablate",),
        # A forward-pass budget, not CPU minutes: the same steps on any machine or load, so a
        # rerun gives the same numbers (CPU-time budgets buy fewer steps on a loaded machine).
        quick={"grid": ["ema"], "seeds": 1, "budget": ["forward-passes", 2400], "n_eval": 50},
        full={"seeds": 1, "budget": ["forward-passes", 12000], "n_eval": 200},
        only_known=True,
        seed_option="eval_seed",
        # The grid resumes itself (grid.json + each run's result.json): an interrupted report
        # must not throw away hours of finished runs.
        keeps_partial=True,
    ),
)  # fmt: skip
_BY_NAME = {s.name: s for s in SECTIONS}


# ------------------------------------------------------------------ validation
def parse_sections(text: str | Sequence[str] | None) -> list[Section]:
    """The sections named (comma-separated or a sequence; None or ``"all"``: every one), in
    report order.

    Raises
    ------
    ConfigError
        For an empty list or a name that is no section.

    Examples
    --------
    >>> [s.name for s in parse_sections("compare,halting")]
    ['halting', 'compare']
    >>> parse_sections("halting,bogus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tasks.errors.ConfigError: unknown section 'bogus'; choose from compress, halting, ...
    """
    if text is None or text == "all":
        return list(SECTIONS)
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip() for n in items if n.strip()]
    if not names:
        raise ConfigError(f"--sections names no section, got {text!r}")
    for name in names:
        if name not in _BY_NAME:
            raise ConfigError(f"unknown section {name!r}; choose from {', '.join(_BY_NAME)}")
    return [s for s in SECTIONS if s.name in names]


def unavailable_reason(section: Section) -> str | None:
    """Why the section cannot run in this checkout (its module missing, failing to import or
    lacking its entry), or None when it can."""
    try:
        if importlib.util.find_spec(section.module) is None:
            return f"`{section.module}` is not in this checkout"
        module = importlib.import_module(section.module)
    except Exception as exc:  # a module being written may not import yet
        return f"`{section.module}` does not import ({type(exc).__name__}: {exc})"
    entry = "register" if section.entry == "register" else section.entry.split(":")[1]
    if not hasattr(module, entry):
        return f"`{section.module}` has no `{entry}`"
    return None


def _words(options: Mapping[str, Any]) -> list[str]:
    argv: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, list | tuple):
            argv += [flag, *map(str, value)]
        elif value is not None and value is not False:
            argv += [flag, str(value)]
    return argv


def _output(section: Section, folder: Path) -> Path:
    return folder / section.out_file if section.out_file else folder


def section_argv(section: Section, options: Mapping[str, Any], folder: Path) -> list[str]:
    """The section's command line words after ``neurosym``, its output in ``folder``.

    Examples
    --------
    >>> from pathlib import Path
    >>> s = [s for s in SECTIONS if s.name == "throughput"][0]
    >>> " ".join(section_argv(s, {"n": 16, "repeats": 2}, Path("r/throughput")))
    'bench throughput --n 16 --repeats 2 --json r/throughput/throughput.json'
    """
    out = os.fspath(_output(section, folder))
    return [*section.command, *_words(options), section.out_option, out]


def _tool_parser(section: Section) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """A fresh parser with the tool's ``register`` on it, and the tool's own sub-parser."""
    module = importlib.import_module(section.module)
    parser = argparse.ArgumentParser(prog="neurosym", exit_on_error=False)
    return parser, module.register(parser.add_subparsers(dest="command"))


def _known(section: Section, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` less those the tool does not define, when the section asks for it."""
    if not section.only_known:
        return dict(options)
    _, own = _tool_parser(section)
    flags = {f for action in own._actions for f in action.option_strings}
    return {k: v for k, v in options.items() if "--" + k.replace("_", "-") in flags}


def _namespace(section: Section, argv: Sequence[str]) -> argparse.Namespace:
    """The tool's own parser (its ``register``) on ``argv``; its usage errors as ConfigError."""
    parser, _ = _tool_parser(section)
    try:
        return parser.parse_args(list(argv[len(section.command) - 1 :]))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise ConfigError(
            f"section {section.name}: bad options {shlex.join(argv)}: {exc}"
        ) from None


def _keywords(section: Section, options: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    named = {**options, section.out_option.lstrip("-"): _output(section, folder)}
    return {section.renames.get(k, k): v for k, v in named.items()}


@dataclass(slots=True)
class _Plan:
    """A checked section: its folder, options, the command shown and the seed it runs with."""

    section: Section
    folder: Path
    options: dict[str, Any]
    argv: list[str]
    seed: Any = None
    unavailable: str | None = None


def _plan(section: Section, out: Path, shown: Path, options: Mapping[str, Any]) -> _Plan:
    folder = guarded_path(out, section.name)
    guarded_path(folder, DONE)
    guarded_path(out, f"logs/{section.name}.txt")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{os.fspath(folder)!r} is a file; the section {section.name} needs it")
    reason = unavailable_reason(section)
    if reason is not None:
        argv = section_argv(section, options, shown / section.name)
        return _Plan(section, folder, dict(options), argv, unavailable=reason)
    options = _known(section, options)
    argv = section_argv(section, options, shown / section.name)
    if section.entry == "register":
        args = _namespace(section, section_argv(section, options, folder))
        return _Plan(section, folder, options, argv, getattr(args, section.seed_option, None))
    module, function = section.entry.split(":")
    call = getattr(importlib.import_module(module), function)
    try:
        inspect.signature(call).bind_partial(**_keywords(section, options, folder))
    except TypeError as exc:
        raise ConfigError(f"section {section.name}: {exc}") from None
    return _Plan(section, folder, options, argv, options.get(section.seed_option))


# ------------------------------------------------------------------ running
def run_section(section: Section, options: Mapping[str, Any], folder: Path) -> None:
    """Run one section's tool with ``options`` into ``folder`` (created); what it prints goes
    to ``OUT/logs/<section>.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    log_file = log_path(folder)
    log_file.parent.mkdir(exist_ok=True)
    with (
        open(log_file, "w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        try:
            if section.entry == "register":
                args = _namespace(section, section_argv(section, options, folder))
                args.func(args)
            else:
                module, function = section.entry.split(":")
                call = getattr(importlib.import_module(module), function)
                call(**_keywords(section, options, folder))
        except Exception:
            traceback.print_exc(file=log)
            raise


@dataclass(slots=True)
class SectionOutcome:
    """What became of one section: ``status`` ``"ran"``, ``"done"`` (complete from an earlier
    run), ``"failed"`` or ``"unavailable"`` (``error`` says why); its command, seed and
    seconds."""

    name: str
    status: str
    command: str
    seed: Any = None
    seconds: float | None = None
    error: str | None = None


def _done_record(path: Path, words: list[str]) -> dict[str, Any] | None:
    """The marker of a section completed with these very options, else None."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("options") == words else None


def run_report(
    out_dir: str | os.PathLike[str],
    *,
    sections: str | Sequence[str] | None = None,
    quick: bool = False,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    on_section: Callable[[SectionOutcome], Any] | None = None,
) -> Path:
    """Run every section not yet complete into ``out_dir/<section>/``, then write
    ``out_dir/report.md``; returns its path.

    ``overrides`` replace options of named sections (``{"halting": {"n": 4}}``). Everything is
    checked before any work (:class:`ConfigError`): the section names, ``out_dir`` (not a
    file), every path inside it, every section's options. A section that fails is reported
    as failed (its traceback in ``OUT/logs/<section>.txt``) and the others still run; a later
    call reruns it. ``on_section(outcome)`` is called when each section ends.
    """
    from neurosym.outputs import check_output_dir

    chosen = parse_sections(sections)
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in _BY_NAME:
            raise ConfigError(f"overrides name an unknown section {name!r}")
    shown = check_output_dir(out_dir, "OUT")
    out = shown.resolve()
    report_path = guarded_path(out, REPORT)
    plans = []
    for section in chosen:
        options = {**(section.quick if quick else section.full), **overrides.get(section.name, {})}
        plans.append(_plan(section, out, shown, options))
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    outcomes = []
    for plan in plans:
        outcome = _run_planned(plan)
        outcomes.append(outcome)
        if on_section is not None:
            on_section(outcome)
    entries = [(p.section, o) for p, o in zip(plans, outcomes, strict=True)]
    write_report_md(report_path, entries, quick=quick, wall_s=time.perf_counter() - start)
    return report_path


def _run_planned(plan: _Plan) -> SectionOutcome:
    command = shlex.join(["neurosym", *plan.argv])
    outcome = SectionOutcome(plan.section.name, "unavailable", command, plan.seed)
    if plan.unavailable is not None:
        outcome.error = plan.unavailable
        return outcome
    marker = plan.folder / DONE
    # the options, not the command: OUT may be spelt another way on the rerun
    words = _words(plan.options)
    record = _done_record(marker, words)
    if record is not None:
        outcome.status, outcome.seconds = "done", record.get("seconds")
        return outcome
    if plan.folder.exists() and not plan.section.keeps_partial:
        shutil.rmtree(plan.folder)  # a partial run: the tools want a new or empty folder
    t0 = time.perf_counter()
    try:
        run_section(plan.section, plan.options, plan.folder)
    except Exception as exc:  # one failed study must not lose the others' hours
        outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        outcome.seconds = time.perf_counter() - t0
        return outcome
    outcome.status, outcome.seconds = "ran", time.perf_counter() - t0
    record = {
        "section": plan.section.name,
        "options": words,
        "command": command,
        "seed": plan.seed,
        "seconds": outcome.seconds,
        "finished": utc_now(),
    }
    plan.folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")  # last
    return outcome


# ------------------------------------------------------------------ the page


# ------------------------------------------------------------------ command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``neurosym report``."""
    p.add_argument("out", metavar="OUT", help="folder for every section and report.md")
    p.add_argument(
        "--quick",
        action="store_true",
        help="small settings: about 10 minutes on an idle 2-core CPU (default: full, < 2 h)",
    )
    p.add_argument(
        "--sections",
        default="all",
        help=f"comma-separated, from {','.join(_BY_NAME)} (default all)",
    )


def main(args: argparse.Namespace) -> int:
    """Run from parsed :func:`add_arguments` options: a progress bar and one line per section
    on stderr; exit 1 when a section failed."""
    from tqdm import tqdm

    chosen = parse_sections(args.sections)
    stderr = sys.stderr  # the sections' own output goes to OUT/logs/
    failed = []
    with tqdm(total=len(chosen), unit="section", file=stderr, dynamic_ncols=True) as bar:

        def on_section(o: SectionOutcome) -> None:
            took = "" if o.seconds is None else f" {o.seconds:.0f} s"
            note = {"done": "complete, skipped", "unavailable": "not available"}
            bar.write(f"{o.name}: {note.get(o.status, o.status)}{took}"
                      + (f" ({o.error})" if o.error else ""), file=stderr)  # fmt: skip
            bar.update(1)
            if o.status == "failed":
                failed.append(o.name)

        t0 = time.perf_counter()
        path = run_report(args.out, sections=args.sections, quick=args.quick, on_section=on_section)
    print(f"wrote {path} in {time.perf_counter() - t0:.0f} s", file=stderr)
    return 1 if failed else 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to ``subparsers`` (an argparse subparsers action)."""
    p = subparsers.add_parser(
        "report",
        help="run every study into one folder and write report.md",
        description="Run each study (compress, halting, perturb, compute, bench throughput, "
        "compare, bench mixers, ablate where present) into OUT/<section>/ and write "
        "OUT/report.md: the machine, then per section what it measures, the equivalent "
        "command and seed, its tables and plots. Complete sections are not rerun, so an "
        "interrupted report continues.",
    )
    add_arguments(p)
    p.set_defaults(func=main)
    return p
