"""Safe fixes keep a real test suite green (issue 8, "Proof that stays"), CI-sized.

mkdocs 1.6.0 (pinned sdist, its own unit tests, about 700, in under a minute) is fixed with
the default ``prodlint fix`` and tested before and after in a venv of its own, with the
harness of ``bench/real_suites.py`` (which does the same for kombu, celery and Django, and for
``--unsafe-fixes``). Its ``__main__`` entry point must print the same ``--help`` too. Then a
deliberately broken module shows the comparison would have noticed a fix that breaks code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pinned_sdists import sdist, sdists

import real_suites  # noqa: I001 - bench/ is on the path once pinned_sdists is imported

pytestmark = pytest.mark.slow


def environment(project: real_suites.Project, source: Path) -> Path:
    try:
        return real_suites.venv_for(project, source, sdists.cache_root())
    except sdists.FetchError as error:
        if os.environ.get("CI"):
            pytest.fail(f"cannot install {project.requirement}'s test requirements: {error}")
        pytest.skip(f"cannot install {project.requirement}'s test requirements (offline?)")


def test_safe_fixes_keep_mkdocs_tests_green(tmp_path: Path) -> None:
    project = real_suites.project_named("mkdocs")
    source = sdist(project.requirement)
    python = environment(project, source)
    base = real_suites.copy_tree(source, tmp_path / "base")
    fixed = real_suites.copy_tree(source, tmp_path / "fixed")
    files = real_suites.fix(fixed, unsafe=False)
    touched = sorted(name for name in files if not name.startswith(project.tests + "/"))
    assert touched, (
        "the safe fixes no longer touch mkdocs' code: this test needs a project they do touch"
    )

    before, _, tail = real_suites.run_tests(project, python, base, None)
    assert sum(outcome == "passed" for outcome in before.values()) > 500, tail
    after, _, _ = real_suites.run_tests(project, python, fixed, None)
    differences = real_suites.confirm(
        project, python, base, fixed, real_suites.compare(before, after)
    )
    assert not differences, differences

    side = real_suites.Side("safe", files)
    real_suites.check_scripts(project, python, base, fixed, side)
    assert "mkdocs/__main__.py" in [name for name, _, _ in side.scripts]
    assert all(same for _, same, _ in side.scripts), [
        diff for _, same, diff in side.scripts if not same
    ]
    help_text = real_suites.script_output(python, fixed, "mkdocs/__main__.py")
    assert "exit 0" in help_text and "Usage:" in help_text, help_text

    # The same comparison on a module broken on purpose must see a difference.
    broken = real_suites.copy_tree(source, tmp_path / "broken")
    victim = "mkdocs/commands/build.py"
    (broken / victim).write_text(
        'raise ImportError("broken on purpose")\n' + (source / victim).read_text()
    )
    selection = real_suites.related_tests(project, base, [victim])
    assert selection
    reference, _, _ = real_suites.run_tests(project, python, base, selection)
    outcomes, _, _ = real_suites.run_tests(project, python, broken, selection)
    assert real_suites.compare(reference, outcomes)
