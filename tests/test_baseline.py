"""``prodlint check --baseline / --write-baseline`` on a legacy file that keeps changing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prodlint.baseline import normalise

BIN = Path(sys.executable).parent
LEGACY = '''\
def charge(order):
    print("charging", order.id)


def refund(order):
    print("refunding", order.id)
    print("refunding", order.id)
'''


def check(project: Path, *args: str) -> tuple[int, list[tuple[int, str]], str]:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", "--no-cache", *args, "app.py"],
        cwd=project, capture_output=True, text=True, timeout=120,
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
    app.write_text(LEGACY.replace('    print("charging", order.id)\n', "    pass\n"), encoding="utf-8")
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
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # Run from inside pkg/: paths differ on screen, the baseline still matches.
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--baseline", "../b.json", "."],
        cwd=project / "pkg", capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "baseline.json").write_text("[]", encoding="utf-8")
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--baseline", "baseline.json", "app.py"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "not a prodlint baseline" in done.stderr


def test_normalise_ignores_layout_not_code() -> None:
    assert normalise('print(  "a",\n    x)  # note') == normalise('print("a", x)')
    assert normalise('print("a", x)') != normalise('print("a", y)')
