"""Crash-safe training: SIGKILL a training run at random points and check it ends bit-identical.

Trains a tiny preset uninterrupted to a reference folder; then runs the very same command
(``python -m neurosym.cli train ...``) as a subprocess, kills it with SIGKILL at ``--kills``
seeded random moments and restarts it (``--resume`` once a checkpoint exists) until it finishes.
The kills mix three timings: at a random moment of training; just after a checkpoint write has
begun (the harness polls the folder for the write's temporary files); and during start-up
(imports, or loading the checkpoint to resume). After every kill the folder must hold a complete
checkpoint (it loads, its step never goes back) or, before the first commit, none.

At the end the final safetensors tensors must equal the reference run's bit for bit (every
tensor, dtype and value: weights, EMA, optimiser state, slots, random states), the final step
must equal it, and ``metrics.jsonl`` must hold each step once with the reference's losses.

Usage: ``python bench/crash_safe.py [--kills 20] [--steps 80] [--seed 0] [--json report.json]``
(about two minutes on a CPU; run it under ``nice`` on a shared machine). Exit status 0 when
every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tasks.errors import CheckpointError  # noqa: E402
from trm.checkpoint import load_checkpoint  # noqa: E402

JSON_NAME = "checkpoint.json"
TENSORS_NAME = "checkpoint.safetensors"
# The kinds of kill, with their shares of the total.
MODES = {"random": 0.4, "in-write": 0.4, "start-up": 0.2}


@dataclass
class Kill:
    """One SIGKILL and what the folder held afterwards."""

    number: int
    mode: str
    started_from: int | None  # the step the killed process resumed from (None: fresh start)
    after_s: float  # seconds after the process was started
    in_write: bool  # the kill left a checkpoint write unfinished
    after_commit: bool  # ... and after its commit point (the new checkpoint was already live)
    step_after: int | None  # the committed checkpoint's step after the kill (None: none yet)


@dataclass
class Report:
    """Everything the harness measured; ``ok`` says whether every check passed."""

    command: list[str]
    reference_s: float = 0.0
    kills: list[Kill] = field(default_factory=list)
    resumes: int = 0  # processes started with --resume
    fresh_starts: int = 0  # processes started without it (no checkpoint committed yet)
    failures: list[str] = field(default_factory=list)
    final_step: int | None = None
    reference_step: int | None = None
    tensors_compared: int = 0
    differing_tensors: list[str] = field(default_factory=list)
    metrics_match: bool = False
    wall_s: float = 0.0

    @property
    def bit_identical(self) -> bool:
        return self.tensors_compared > 0 and not self.differing_tensors

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.bit_identical
            and self.final_step is not None
            and self.final_step == self.reference_step
            and self.metrics_match
        )


def train_command(args: argparse.Namespace, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "neurosym.cli",
        "train",
        "--preset",
        args.preset,
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--checkpoint-every",
        str(args.checkpoint_every),
        "--eval-every",
        str(args.eval_every),
        "--eval-size",
        str(args.eval_size),
        "--device",
        "cpu",
        "--threads",
        "1",
        "--seed",
        str(args.train_seed),
        "--out",
        str(out),
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONHASHSEED"] = "0"
    return env


def _temporaries(folder: Path) -> set[str]:
    """Names of the temporary files a checkpoint write in progress (or killed) leaves."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return set()
    return {n for n in names if n.startswith(".checkpoint.") and n.endswith(".tmp")}


def _json_bytes(folder: Path) -> bytes | None:
    try:
        return (folder / JSON_NAME).read_bytes()
    except OSError:
        return None


def _names_a_temporary(json_bytes: bytes | None) -> bool:
    # Between the commit and the rename the JSON names the temporary tensors file.
    try:
        return json.loads(json_bytes or b"")["tensors_file"]["name"] != TENSORS_NAME
    except (ValueError, KeyError, TypeError):
        return False


def _last_train_step(folder: Path) -> int:
    """The last step in metrics.jsonl (0 if none); a line cut by a kill is skipped."""
    try:
        with open(folder / "metrics.jsonl", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            lines = f.read().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("type") == "train":
            return int(record["step"])
    return 0


def _committed_step(folder: Path) -> int | None:
    """The step of the folder's checkpoint, None without one; raises if it does not load."""
    if not (folder / JSON_NAME).exists():
        return None
    return int(load_checkpoint(folder)[1]["step"])


def _train_losses(folder: Path) -> list[tuple[int, float]]:
    out = []
    for line in (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "train":
            out.append((record["step"], record["loss"]))
    return out


def _wait_for_progress(proc: subprocess.Popen, folder: Path, beyond: int, deadline: float) -> bool:
    """Wait until metrics.jsonl shows a step past ``beyond`` (True) or the process ends."""
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            return False
        if _last_train_step(folder) > beyond:
            return True
        time.sleep(0.005)
    return False


def _wait_for_a_write(
    proc: subprocess.Popen, folder: Path, known: set[str], deadline: float
) -> bool:
    """Poll (about every 0.5 ms) until a new temporary checkpoint file appears."""
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            return False
        if _temporaries(folder) - known:
            return True
        time.sleep(0.0005)
    return False


def run(args: argparse.Namespace) -> Report:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="crash_safe_"))
    reference, victim = work / "reference", work / "killed"
    for folder in (reference, victim):
        if folder.exists():
            shutil.rmtree(folder)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    report = Report(command=train_command(args, victim))
    env = _env()

    t0 = time.perf_counter()
    with open(logs / "reference.log", "wb") as log:
        rc = subprocess.run(
            train_command(args, reference), stdout=log, stderr=subprocess.STDOUT, env=env
        ).returncode
    report.reference_s = time.perf_counter() - t0
    if rc != 0:
        report.failures.append(f"the reference run failed (exit {rc}); see {logs}/reference.log")
        return report
    # Time budgets derived from the reference: start-up plus a step of training.
    step_s = report.reference_s / args.steps
    startup_s = min(report.reference_s, 2.0 + 0.1 * report.reference_s)

    modes = list(MODES)
    weights = [MODES[m] for m in modes]
    ever_committed: int | None = None
    runs = 0
    while True:
        runs += 1
        if runs > args.kills + 10:
            report.failures.append("the run did not finish within kills + 10 restarts")
            break
        try:
            committed = _committed_step(victim)
        except CheckpointError as exc:
            report.failures.append(f"before restart {runs}: the checkpoint does not load: {exc}")
            break
        if committed is None and ever_committed is not None:
            report.failures.append(f"the checkpoint of step {ever_committed} vanished")
            break
        resume = committed is not None
        command = train_command(args, victim) + (["--resume"] if resume else [])
        if runs > 1:
            report.resumes += resume
            report.fresh_starts += not resume
        known_tmp, json_before = _temporaries(victim), _json_bytes(victim)
        metrics_before = _last_train_step(victim)
        killing = len(report.kills) < args.kills
        log_path = logs / f"run{runs:02d}.log"
        with open(log_path, "wb") as log:
            spawn, after = time.perf_counter(), 0.0
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            mode = rng.choices(modes, weights)[0] if killing else None
            deadline = spawn + 60 + 4 * report.reference_s
            if mode == "start-up":
                # Any moment from the imports to the first steps after loading the checkpoint.
                time.sleep(rng.uniform(0.0, startup_s))
            elif mode == "random":
                if _wait_for_progress(proc, victim, metrics_before, deadline):
                    time.sleep(rng.uniform(0.0, 2.5 * args.checkpoint_every * step_s))
            elif mode == "in-write":
                if _wait_for_progress(proc, victim, metrics_before, deadline):
                    if _wait_for_a_write(proc, victim, known_tmp, deadline):
                        time.sleep(rng.uniform(0.0, 0.01))
            if mode is not None and proc.poll() is None:
                proc.kill()  # SIGKILL: no handler, no flush, no cleanup runs
                after = time.perf_counter() - spawn
            else:
                mode = None
            rc = proc.wait()
        if mode is None:  # not killed: it must have finished cleanly
            if rc != 0:
                tail = log_path.read_text(errors="replace")[-800:]
                report.failures.append(f"run {runs} exited with {rc} (not killed):\n{tail}")
            break
        # New temporary files, or a JSON rewritten by this process that names a temporary one
        # (a file left over by an earlier kill does not count again).
        json_after = _json_bytes(victim)
        after_commit = json_after != json_before and _names_a_temporary(json_after)
        in_write = bool(_temporaries(victim) - known_tmp) or after_commit
        try:
            step_after = _committed_step(victim)
        except CheckpointError as exc:
            report.failures.append(f"after kill {len(report.kills) + 1}: partial checkpoint: {exc}")
            break
        if step_after is not None:
            if ever_committed is not None and step_after < ever_committed:
                report.failures.append(
                    f"after kill {len(report.kills) + 1}: the checkpoint went back from step "
                    f"{ever_committed} to {step_after}"
                )
                break
            ever_committed = step_after
        report.kills.append(
            Kill(
                len(report.kills) + 1,
                mode,
                committed,
                round(after, 3),
                in_write,
                after_commit,
                step_after,
            )
        )
        if args.verbose:
            k = report.kills[-1]
            print(
                f"kill {k.number:2d} ({k.mode:8s}) at {k.after_s:5.2f} s, resumed from "
                f"{k.started_from}, in a write: "
                f"{('yes, after commit' if k.after_commit else 'yes') if k.in_write else 'no'}, "
                f"checkpoint now at step {k.step_after}",
                flush=True,
            )

    if not report.failures:
        _compare(report, reference, victim)
    report.wall_s = time.perf_counter() - started
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _compare(report: Report, reference: Path, victim: Path) -> None:
    ref_meta = load_checkpoint(reference)[1]
    got_meta = load_checkpoint(victim)[1]
    report.reference_step, report.final_step = ref_meta["step"], got_meta["step"]
    ref = load_file(reference / TENSORS_NAME)
    got = load_file(victim / TENSORS_NAME)
    for name in sorted(set(ref) | set(got)):
        a, b = ref.get(name), got.get(name)
        same = a is not None and b is not None and a.dtype == b.dtype and np.array_equal(a, b)
        if not same:
            report.differing_tensors.append(name)
    report.tensors_compared = len(set(ref) | set(got))
    ref_losses, got_losses = _train_losses(reference), _train_losses(victim)
    steps = [s for s, _ in got_losses]
    report.metrics_match = steps == list(range(1, report.final_step + 1)) and all(
        a == b or (math.isnan(a) and math.isnan(b))
        for (_, a), (_, b) in zip(ref_losses, got_losses, strict=True)
    )


def summary(report: Report, args: argparse.Namespace) -> str:
    by_mode = {m: sum(k.mode == m for k in report.kills) for m in MODES}
    landed = sum(k.in_write for k in report.kills)
    late = sum(k.after_commit for k in report.kills)
    lines = [
        f"crash-safe training: preset {args.preset}, {args.steps} steps, checkpoint every "
        f"{args.checkpoint_every}, batch {args.batch_size}, harness seed {args.seed} "
        "(CPU, 1 thread)",
        f"command: {' '.join(report.command[1:])} [--resume]",
        f"reference run (uninterrupted): {report.reference_s:.1f} s",
        f"kills performed: {len(report.kills)} (random moment {by_mode['random']}, just after "
        f"a checkpoint write began {by_mode['in-write']}, during start-up {by_mode['start-up']})",
        f"kills that landed during a checkpoint write: {landed} (temporary files left behind, "
        f"or the JSON naming the temporary tensors file); {landed - late} before its commit "
        f"point (the old checkpoint stays), {late} after it (the new one is live)",
        f"resumes: {report.resumes} with --resume, {report.fresh_starts} fresh starts (killed "
        "before the first checkpoint committed)",
        f"final step: {report.final_step} (reference {report.reference_step})",
        f"tensors compared: {report.tensors_compared}, differing: {len(report.differing_tensors)}"
        + (f" {report.differing_tensors[:5]}" if report.differing_tensors else ""),
        f"metrics.jsonl: every step once, losses equal to the reference's: "
        f"{'yes' if report.metrics_match else 'no'}",
        f"total wall time: {report.wall_s:.1f} s",
    ]
    lines += [f"FAILURE: {f}" for f in report.failures]
    lines.append(f"bit-identical: {'yes' if report.bit_identical else 'no'}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20, help="SIGKILLs to perform (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seeds the kill moments (default 0)")
    p.add_argument("--preset", default="sudoku6-tiny")
    p.add_argument("--steps", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--checkpoint-every", type=int, default=2)
    p.add_argument("--eval-every", type=int, default=20)
    p.add_argument("--eval-size", type=int, default=8)
    p.add_argument("--train-seed", type=int, default=0, help="the training run's --seed")
    p.add_argument("--work", help="folder for the runs (default: a temporary one, removed)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--json", help="also write the report as JSON to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="a line per kill")
    args = p.parse_args(argv)
    if args.kills < 0 or args.steps < 1 or args.checkpoint_every < 1:
        p.error("--kills must be >= 0, --steps and --checkpoint-every >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    print(summary(report, args), flush=True)
    if args.json:
        doc: dict[str, Any] = asdict(report)
        doc.update(ok=report.ok, bit_identical=report.bit_identical)
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
