"""Safe fixes keep a real test suite green (issue 8, "Proof that stays"), CI-sized.

mkdocs 1.6.0 (pinned sdist, its own unit tests, about 700, in under a minute) is fixed with
the default ``prodlint fix`` and tested before and after in a venv of its own, with the
harness of ``bench/real_suites.py`` (which does the same for kombu, celery, Django, requests,
urllib3 and httpx, for ``--unsafe-fixes``, and counts mypy errors). Its ``__main__`` entry
point must print the same ``--help`` too. Then a fix broken on purpose, hidden among harmless
hunks, shows the comparison notices it and the blame names that hunk alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from pinned_sdists import sdist, sdists

# Only now is bench/ on the path (pinned_sdists puts it there).
assert Path(sdists.__file__).parent.name == "bench"
import hunks  # noqa: E402
import real_suites  # noqa: E402

BEFORE = "import os\n\n\ndef f():\n    print(1)\n    return os.sep\n"
AFTER = (
    "import logging\nimport os\n\nlogger = logging.getLogger(__name__)\n\n\ndef f():\n"
    "    logger.info(1)\n    return os.sep\n"
)


def test_hunks_apply_alone_and_together() -> None:
    found = hunks.split("m.py", BEFORE, AFTER)
    assert [(hunk.start, hunk.supporting) for hunk in found] == [(1, True), (2, True), (5, False)]
    assert hunks.apply(BEFORE, found) == AFTER
    assert hunks.apply(BEFORE, []) == BEFORE
    call = found[2]
    assert hunks.apply(BEFORE, [call]) == BEFORE.replace("print(1)", "logger.info(1)")
    assert call.diff() == "@@ -5,1 +8,1 @@\n-    print(1)\n+    logger.info(1)\n"
    with pytest.raises(ValueError):
        hunks.apply(AFTER, [call])  # a hunk applies only to the text it was cut from


def test_hunks_take_the_code_of_the_finding_they_fix() -> None:
    found = hunks.split("m.py", BEFORE, AFTER)
    findings = [hunks.Finding("m.py", 5, 5, "PRD501"), hunks.Finding("other.py", 5, 5, "PRD403")]
    assert [hunk.codes for hunk in hunks.attribute(found, findings)] == [("PRD501",)] * 3
    assert hunks.attribute(found, [])[0].codes == ()


def test_a_rewritten_block_is_not_support() -> None:
    before = 'HOST = "localhost"\n'
    after = 'import os\nHOST = os.environ.get("HOST", "localhost")\n'
    (hunk,) = hunks.split("settings.py", before, after)
    assert not hunk.supporting


def test_bisect_finds_the_hunk_alone_or_the_group_that_only_together_changes() -> None:
    before = "".join(f"x{n} = {n}\n" for n in range(8)) + "def f():\n    return 1\n"
    after = before.replace("x3 = 3", "x3 = 30").replace("return 1", "return 2")
    after = "import os\n" + after.replace("x6 = 6", "x6 = 60")
    found = hunks.split("m.py", before, after)
    assert [hunk.supporting for hunk in found] == [True, False, False, False]
    runs: list[list[int]] = []

    def probe(chosen: Sequence[hunks.Hunk]) -> list[str]:
        applied = hunks.apply(before, [*chosen, found[0]])
        runs.append([hunk.start for hunk in chosen])
        namespace: dict[str, object] = {}
        exec(compile(applied, "m.py", "exec"), namespace)  # the "test suite" of this module
        function = namespace["f"]
        assert callable(function)
        return ["test_f"] if function() != 1 else []

    (blamed,) = hunks.bisect(found, probe)
    assert [hunk.start for hunk in blamed[0]] == [10] and blamed[1] == ["test_f"]
    assert len(runs) < 2 * len(found)

    # x3 and x6 matter only together: no single hunk is blamed, the group that holds both is.
    def together(chosen: Sequence[hunks.Hunk]) -> list[str]:
        text = hunks.apply(before, [*chosen, found[0]])
        return ["test_pair"] if "x3 = 30" in text and "x6 = 60" in text else []

    blamed_groups = [[hunk.start for hunk in guilty] for guilty, _ in hunks.bisect(found, together)]
    assert blamed_groups == [[4, 7, 10]]


def environment(project: real_suites.Project, source: Path) -> Path:
    try:
        return real_suites.venv_for(project, source, sdists.cache_root())
    except sdists.FetchError as error:
        if os.environ.get("CI"):
            pytest.fail(f"cannot install {project.requirement}'s test requirements: {error}")
        pytest.skip(f"cannot install {project.requirement}'s test requirements (offline?)")


@pytest.mark.slow
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
    help_text = real_suites.script_output(project, python, fixed, "mkdocs/__main__.py")
    assert "exit 0" in help_text and "Usage:" in help_text, help_text

    # A fix that breaks one function, among hunks that change nothing: the comparison sees
    # the difference and the blame names the breaking hunk, not its neighbours.
    victim = "mkdocs/commands/build.py"
    original = (source / victim).read_text()
    harmless = original
    for line in (
        'log.debug(f"Building theme template: {template_name}")',
        'log.debug(f"Building extra template: {template_name}")',
        "def site_directory_contains_stale_files(site_directory: str) -> bool:",
    ):
        harmless = harmless.replace(line, line + "  # a harmless hunk")
    signature = "serve_url: str | None = None, dirty: bool = False) -> None:\n"
    broken = harmless.replace(signature, signature + '    raise RuntimeError("broken")\n', 1)
    assert broken != harmless != original
    side = real_suites.Side("unsafe", {victim: (original, broken)})
    side.fix_hunks = real_suites.split_fix(side.files, [])
    assert len([hunk for hunk in side.fix_hunks if not hunk.supporting]) == 4
    tree = real_suites.copy_tree(source, tmp_path / "broken")
    (tree / victim).write_text(broken)
    selection = real_suites.related_tests(project, base, [victim])
    assert selection[0] == "mkdocs/tests/build_tests.py", selection
    outcomes, _, _ = real_suites.run_tests(project, python, tree, selection[:1])
    # The untouched tree's results for that module are in the whole run above.
    reference = {test: before[test] for test in outcomes if test in before}
    assert len(reference) >= 40
    side.differences = real_suites.compare(reference, outcomes)
    assert side.differences
    real_suites.blame(project, python, base, tmp_path, side)
    assert len(side.blame) == 1, side.blame
    (guilty, tests) = side.blame[0]
    assert [hunk.diff().count('raise RuntimeError("broken")') for hunk in guilty] == [1]
    assert set(tests) <= set(side.differences) and tests
