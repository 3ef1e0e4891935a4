"""neurosym.study.report and report_page: the page, resuming, checks before work, unavailable
sections, the CLI, and one real section end to end."""

from __future__ import annotations

import argparse
import doctest
import json
import re

import pytest

from neurosym.study import report as rp
from neurosym.study import report_page as rpage
from tasks.errors import ConfigError

NAMES = [s.name for s in rp.SECTIONS]
PNG = b"\x89PNG\r\n\x1a\n"  # a signature is all the page needs: it links, it does not read


@pytest.fixture
def fake(monkeypatch):
    """Section runners replaced by one that writes a one-row CSV (and for ``halting`` a PNG)
    and counts its calls; ``ablate`` treated as missing whatever the checkout holds."""
    calls: list[str] = []

    def run(section, options, folder):
        calls.append(section.name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "table.csv").write_text(f"what,value\n{section.name}-row,0.5\n")
        if section.name == "halting":
            (folder / "curve.png").write_bytes(PNG)

    def reason(section):
        return (
            "`neurosym.study.ablate` is not in this checkout" if section.name == "ablate" else None
        )

    monkeypatch.setattr(rp, "run_section", run)
    monkeypatch.setattr(rp, "unavailable_reason", reason)
    return calls


def test_page_has_every_section_command_and_table(fake, tmp_path):
    out = tmp_path / "r"
    page = rp.run_report(out, quick=True).read_text()
    assert fake == [n for n in NAMES if n != "ablate"]
    for section in rp.SECTIONS:
        assert f"## {section.title}" in page
        assert f"neurosym {' '.join(section.command)} " in page
    for name in fake:
        assert f"| {name}-row | 0.5 |" in page
        assert json.loads((out / name / "done.json").read_text())["section"] == name
    # the exact commands, with the quick settings and the section's folder
    assert f"neurosym halting --n 40 --depths 8,16 --noises 0,0.1 --out {out}/halting" in page
    assert f"--json {out}/throughput/throughput.json" in page
    assert "Seed 2026" in page and "Seed 0" in page  # halting's default seed, compare's
    for key in ("platform", "CPUs", "torch", "git commit", "date", "this run"):
        assert f"| {key} |" in page
    # PNG links: exactly the files there, relative to the page
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", page)
    assert links == ["halting/curve.png"]
    assert all((out / link).is_file() for link in links)


def test_unavailable_section_says_so_and_is_not_run(fake, tmp_path):
    page = rp.run_report(tmp_path / "r", sections="halting,ablate").read_text()
    assert fake == ["halting"]
    ablate = page.split("## Ablations")[1]
    assert "**Not available**: `neurosym.study.ablate` is not in this checkout" in ablate
    assert "Seed" not in ablate and not (tmp_path / "r" / "ablate").exists()
    assert "not available: ablate" in page


def test_resume_skips_complete_sections_and_continues(fake, monkeypatch, tmp_path):
    out, done = tmp_path / "r", fake
    first = rp.run_section

    def interrupted(section, options, folder):
        if section.name == "compute":
            folder.mkdir(parents=True)
            (folder / "partial.csv").write_text("x\n1\n")
            raise KeyboardInterrupt
        first(section, options, folder)

    monkeypatch.setattr(rp, "run_section", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rp.run_report(out, quick=True)
    assert done == ["compress", "halting", "perturb"]
    assert not (out / "compute" / "done.json").exists() and not (out / "report.md").exists()

    monkeypatch.setattr(rp, "run_section", first)
    done.clear()
    page = rp.run_report(out, quick=True).read_text()
    assert done == ["compute", "throughput", "compare", "mixers"]
    assert not (out / "compute" / "partial.csv").exists()  # the partial run was cleared
    assert page.count(" s (complete from an earlier run)") == 3

    done.clear()
    rp.run_report(out, quick=True)
    assert done == []
    # other settings are another run: quick's halting is not full's
    rp.run_report(out, sections="halting")
    assert done == ["halting"]


def test_self_resuming_sections_keep_their_partial_folder(fake, monkeypatch, tmp_path):
    # ablate and mixers resume from what they wrote; the report must not empty their folder.
    assert {s.name for s in rp.SECTIONS if s.keeps_partial} == {"ablate", "mixers"}
    monkeypatch.setattr(rp, "unavailable_reason", lambda section: None)
    seen: dict[str, bool] = {}
    first = rp.run_section

    def checking(section, options, folder):
        seen[section.name] = (folder / "finished-run.json").exists()
        first(section, options, folder)

    out = tmp_path / "r"
    for name in ("ablate", "mixers", "compute"):
        (out / name).mkdir(parents=True)
        (out / name / "finished-run.json").write_text("{}")
    monkeypatch.setattr(rp, "run_section", checking)
    rp.run_report(out, sections="ablate,mixers,compute", quick=True)
    assert seen == {"compute": False, "mixers": True, "ablate": True}


def test_a_failed_section_is_reported_and_rerun(fake, monkeypatch, tmp_path):
    ok = rp.run_section

    def broken(section, options, folder):
        if section.name == "halting":
            raise RuntimeError("model exploded")
        ok(section, options, folder)

    monkeypatch.setattr(rp, "run_section", broken)
    page = rp.run_report(tmp_path, sections="halting,perturb", quick=True).read_text()
    assert "**Failed**" in page and "RuntimeError: model exploded" in page
    assert "| perturb-row | 0.5 |" in page
    assert not (tmp_path / "halting" / "done.json").exists()
    monkeypatch.setattr(rp, "run_section", ok)
    fake.clear()
    rp.run_report(tmp_path, sections="halting,perturb", quick=True)
    assert fake == ["halting"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sections": "halting,bogus"}, "unknown section 'bogus'"),
        ({"sections": " , "}, "names no section"),
        ({"overrides": {"nope": {}}}, "unknown section 'nope'"),
        ({"sections": "halting", "overrides": {"halting": {"bogus": 1}}}, "section halting"),
        ({"sections": "compare", "overrides": {"compare": {"bogus": 1}}}, "section compare"),
    ],
)
def test_bad_settings_fail_before_any_work(fake, tmp_path, kwargs, match):
    out = tmp_path / "r"
    with pytest.raises(ConfigError, match=match):
        rp.run_report(out, quick=True, **kwargs)
    assert fake == [] and not out.exists()


def test_out_must_be_a_folder_and_nothing_escapes_it(fake, tmp_path):
    taken = tmp_path / "file"
    taken.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        rp.run_report(taken, quick=True)
    out, elsewhere = tmp_path / "r", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "halting").symlink_to(elsewhere)  # a link leading out of OUT
    with pytest.raises(ConfigError, match="outside the output folder"):
        rp.run_report(out, sections="halting")
    (out / "halting").unlink()
    (out / "halting").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        rp.run_report(out, sections="halting")
    assert fake == [] and list(elsewhere.iterdir()) == []


def test_register_adds_report_and_runs(fake, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="neurosym")
    rp.register(parser.add_subparsers(dest="command"))
    out = tmp_path / "r"
    args = parser.parse_args(["report", str(out), "--quick", "--sections", "perturb,ablate"])
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "perturb: ran" in err and "ablate: not available" in err and "wrote" in err
    assert (out / "report.md").is_file()
    args = parser.parse_args(["report", str(out), "--sections", "perturb,nope"])
    with pytest.raises(ConfigError, match="unknown section 'nope'"):
        args.func(args)


def test_real_halting_section_end_to_end(tmp_path):
    """The cheapest real section: the shipped fixed-size 6x6 model on 4 puzzles, 2 steps."""
    out = tmp_path / "r"
    small = {"models": "sudoku6", "n": 4, "depths": "1,2", "noises": "0"}
    page = rp.run_report(
        out, sections="halting", quick=True, overrides={"halting": small}
    ).read_text()
    assert "neurosym halting --n 4 --depths 1,2 --noises 0 --models sudoku6 --out" in page
    assert "| sudoku6 | 0 | 2 | 4 |" in page  # halting's own table, read from halting.json
    assert "![halting_sudoku6](halting/halting_sudoku6.png)" in page
    assert (out / "halting" / "halting_sudoku6.png").stat().st_size > 0
    assert "| sudoku6 |" in (out / "logs" / "halting.txt").read_text()  # its stdout
    assert sorted(p.name for p in (out / "halting").iterdir())[0] == "done.json"


@pytest.mark.parametrize("module", [rp, rpage])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
