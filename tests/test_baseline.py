"""``prodlint check --baseline / --write-baseline`` on a legacy file that keeps changing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prodlint.baseline import normalise

BIN = Path(sys.executable).parent
LEGACY = """\
def charge(order):
    print("charging", order.id)


def refund(order):
    print("refunding", order.id)
    print("refunding", order.id)
"""


def check(project: Path, *args: str) -> tuple[int, list[tuple[int, str]], str]:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", "--no-cache", *args, "app.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    found = [(f["line"], f["code"]) for f in json.loads(done.stdout)["findings"]]
    return done.returncode, found, done.stderr


def make_project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(LEGACY, encoding="utf-8")
    return tmp_path


def test_write_then_check_passes(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    code, found, _ = check(project)
    assert code == 1 and len(found) == 3
    code, found, note = check(project, "--write-baseline", "baseline.json")
    assert code == 0 and found == [] and "recorded 3 findings" in note
    recorded = json.loads((project / "baseline.json").read_text())["findings"]
    # The two identical prints share one fingerprint, counted twice.
    assert sorted(entry["count"] for entry in recorded) == [1, 2]
    assert {entry["path"] for entry in recorded} == {"app.py"}
    assert check(project, "--baseline", "baseline.json")[:2] == (0, [])


def test_edits_above_a_finding_keep_it_baselined(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    check(project, "--write-baseline", "baseline.json")
    shifted = '"""A docstring added later."""\n\nimport os\n\n\n' + LEGACY.replace(
        'print("charging", order.id)', 'print(  "charging",\n          order.id)  # reformatted'
    )
    (project / "app.py").write_text(shifted, encoding="utf-8")
    code, found, _ = check(project)
    assert code == 1 and min(line for line, _ in found) > 5, "the findings must have moved"
    assert check(project, "--baseline", "baseline.json")[:2] == (0, [])


def test_new_findings_fail_and_fixed_ones_drop_out(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    check(project, "--write-baseline", "baseline.json")
    app = project / "app.py"
    # One more copy of an already-baselined line is new; so is a different print.
    text = LEGACY + '    print("refunding", order.id)\n    print("new", order)\n'
    app.write_text(text, encoding="utf-8")
    code, found, _ = check(project, "--baseline", "baseline.json")
    assert code == 1 and found == [(8, "PRD501"), (9, "PRD501")]
    # Fixing the charge print leaves the baseline with an entry nothing matches.
    app.write_text(
        LEGACY.replace('    print("charging", order.id)\n', "    pass\n"), encoding="utf-8"
    )
    code, found, note = check(project, "--baseline", "baseline.json")
    assert (code, found) == (0, []) and "1 baselined finding fixed" in note
    check(project, "--write-baseline", "baseline.json")
    assert len(json.loads((project / "baseline.json").read_text())["findings"]) == 1


def test_baseline_works_from_another_directory(tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    (project / "pkg").mkdir()
    (project / "app.py").rename(project / "pkg" / "app.py")
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--write-baseline", "b.json", "pkg"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # Run from inside pkg/: paths differ on screen, the baseline still matches.
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--baseline", "../b.json", "."],
        cwd=project / "pkg",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "baseline.json").write_text("[]", encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--baseline", "baseline.json", "app.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "not a prodlint baseline" in done.stderr


def test_normalise_ignores_layout_not_code() -> None:
    assert normalise('print(  "a",\n    x)  # note') == normalise('print("a", x)')
    assert normalise('print("a", x)') != normalise('print("a", y)')


def run_prodlint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "prodlint"), *args, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_baseline_matches_from_the_project_root_without_a_prodlint_table(tmp_path: Path) -> None:
    """The project root is the nearest pyproject.toml / setup.cfg / .git, table or not: a run
    from a sub-folder must not re-report what the baseline holds."""
    project = tmp_path / "repo"
    (project / "app").mkdir(parents=True)
    (project / "setup.cfg").write_text("[metadata]\nname = legacy\n", encoding="utf-8")
    (project / "app" / "billing.py").write_text(LEGACY, encoding="utf-8")
    assert run_prodlint(project, "check", "--write-baseline", "b.json", ".").returncode == 0
    assert {e["path"] for e in json.loads((project / "b.json").read_text())["findings"]} == {
        "app/billing.py"
    }
    inside = run_prodlint(project / "app", "check", "--baseline", "../b.json", "billing.py")
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert "3 findings in the baseline" in inside.stderr


def test_a_partial_run_judges_only_the_files_it_checked(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "other.py").write_text(LEGACY, encoding="utf-8")
    assert run_prodlint(project, "check", "--write-baseline", "b.json", ".").returncode == 0
    done = run_prodlint(project, "check", "--baseline", "b.json", "app.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed" not in done.stderr, "other.py was not checked: its entries are not gone"
    (project / "app.py").write_text("VALUE = 1\n", encoding="utf-8")
    done = run_prodlint(project, "check", "--baseline", "b.json", "app.py")
    assert "3 baselined findings fixed" in done.stderr


SWALLOWED = (
    "def charge(order):\n    try:\n        order.pay()\n    except Exception:\n        pass\n"
)


def test_fix_with_a_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    """``prodlint fix --baseline`` (the pre-commit hook of a legacy repository): what it
    cannot fix fails the run only when the baseline does not hold it."""
    project = make_project(tmp_path)
    (project / "app.py").write_text(SWALLOWED, encoding="utf-8")
    assert run_prodlint(project, "fix", "app.py").returncode == 1
    assert run_prodlint(project, "check", "--write-baseline", "b.json", "app.py").returncode == 0
    done = run_prodlint(project, "fix", "--baseline", "b.json", "app.py")
    assert done.returncode == 0 and "PRD503" not in done.stdout, done.stdout + done.stderr
    (project / "app.py").write_text(
        SWALLOWED + "\n\n" + SWALLOWED.replace("charge", "refund"), encoding="utf-8"
    )
    done = run_prodlint(project, "fix", "--baseline", "b.json", "app.py")
    assert done.returncode == 1, done.stdout + done.stderr
    assert [
        line.split(" ")[0] for line in done.stdout.splitlines() if line.startswith("app.py:")
    ] == ["app.py:11:5:"]
    assert run_prodlint(project, "fix", "--exit-zero", "app.py").returncode == 0
