"""The command line: exit codes, selection, report formats, stdin, fixing, the cache, config
errors and suppressions. Each test works in its own folder with its own pyproject.toml; the
CLI runs in-process (``main``) except where the process boundary itself is under test."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from corpus import FIXABLE

from prodlint.cli import main

APP = """import logging

logger = logging.getLogger(__name__)


def handle(name):
    try:
        logger.info(f"hello {name}")
    except Exception:
        pass
    print("done", name)
"""
# (line, code) of what APP holds: eager formatting, a swallowed exception, a print.
APP_FINDINGS = [(8, "PRD502"), (9, "PRD503"), (11, "PRD501")]
CLEAN = "import logging\n\nlogger = logging.getLogger(__name__)\n"
FINDING_KEYS = {"path", "line", "col", "end_line", "end_col", "code", "message", "severity", "fix"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "clean.py").write_text(CLEAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def found(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, int, str]]:
    code, out, err = run(capsys, "check", "--format", "json", *args)
    assert code in (0, 1), err
    findings = json.loads(out)["findings"]
    assert code == (1 if findings else 0)
    return [(f["path"], f["line"], f["code"]) for f in findings]


def app(*codes: str) -> list[tuple[str, int, str]]:
    return [("app.py", line, code) for line, code in APP_FINDINGS if code in codes]


ALL = ("PRD501", "PRD502", "PRD503")


# --- exit codes and selection ------------------------------------------------------------


def test_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "clean.py")[0] == 0
    assert run(capsys, "check", "app.py")[0] == 1
    assert run(capsys, "check", "--exit-zero", "app.py")[0] == 0
    (project / "pyproject.toml").write_text("[tool.prodlint]\nselekt = []\n")
    assert run(capsys, "check", "clean.py")[0] == 2


def test_unknown_selector_on_the_command_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--select", "PRD9", "app.py"])
    assert exited.value.code == 2
    assert "PRD9" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ALL),
        (("--select", "PRD5"), ALL),
        (("--select", "PRD502"), ("PRD502",)),
        (("--select", "prd50,PRD1"), ALL),
        (("--ignore", "PRD5"), ()),
        (("--ignore", "PRD503"), ("PRD501", "PRD502")),
        (("--select", "PRD5", "--ignore", "PRD50"), ()),
        (("--select", "PRD502", "--ignore", "PRD5"), ("PRD502",)),  # the more specific wins
        (("--select", "PRD1", "--extend-select", "PRD501"), ("PRD501",)),
        (("--select", "ALL", "--ignore", "PRD501,PRD502"), ("PRD503",)),
    ],
)
def test_select_ignore_extend_select(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    assert found(capsys, "--no-cache", *args, "app.py") == app(*expected)


def test_config_selection_and_cli_extension(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text('[tool.prodlint]\nselect = ["PRD502"]\n')
    assert found(capsys, "app.py") == app("PRD502")
    assert found(capsys, "--extend-select", "PRD503", "app.py") == app("PRD502", "PRD503")
    assert found(capsys, "--select", "PRD501", "app.py") == app("PRD501")


@pytest.mark.parametrize(
    "args",
    [
        ("check", "nope.py"),
        ("check", "src/"),
        ("fix", "nope.py"),
        ("check", "app.py", "nope.py"),
        ("fix", "--diff", "src"),
    ],
)
def test_missing_paths_are_an_error(
    project: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """A typo in a CI job must fail it, not pass with "All checks passed!"."""
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert "no such file or directory" in err and args[-1] in err


@pytest.mark.parametrize("jobs", ["0", "-3", "many"])
def test_jobs_is_validated(project: Path, capsys: pytest.CaptureFixture[str], jobs: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--jobs", jobs, "app.py"])
    assert exited.value.code == 2
    assert "--jobs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("code", "version"),
    [
        ("type Number = int | float\n", (3, 12)),
        ("def first[T](items: list[T]) -> T:\n    return items[0]\n", (3, 12)),
        ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", (3, 14)),
        ('name = "x"\ngreeting = t"hello {name}"\n', (3, 14)),
    ],
    ids=["type-alias", "type-params", "except-without-parens", "t-string"],
)
def test_newer_python_syntax_says_which_python(
    project: Path, capsys: pytest.CaptureFixture[str], code: str, version: tuple[int, int]
) -> None:
    if sys.version_info[:2] >= version:
        pytest.skip(f"this interpreter parses Python {version[0]}.{version[1]} syntax")
    (project / "new.py").write_text(code)
    status, out, _ = run(capsys, "check", "--no-cache", "--format", "json", "new.py")
    [finding] = json.loads(out)["findings"]
    assert status == 1 and finding["code"] == "PRD000"
    wanted = f"{version[0]}.{version[1]}"
    assert f"looks like Python {wanted} syntax" in finding["message"]
    assert f"run prodlint under Python {wanted}" in finding["message"]


def test_plain_syntax_error_blames_no_python_version(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "broken.py").write_text('x = = 1\ny = "a t"\n')
    _, out, _ = run(capsys, "check", "--no-cache", "--format", "json", "broken.py")
    [finding] = json.loads(out)["findings"]
    assert finding["code"] == "PRD000" and "Python" not in finding["message"]


# --- reports -------------------------------------------------------------------------------


def test_json_schema_and_paths_relative_to_cwd(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "check", "--format", "json", str(project / "app.py"))
    payload = json.loads(out)
    assert code == 1 and set(payload) == {"version", "findings"}
    assert isinstance(payload["version"], str)
    for finding in payload["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["path"] == "app.py"
        assert all(isinstance(finding[k], int) for k in ("line", "col", "end_line", "end_col"))
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["fix"] is None or set(finding["fix"]) == {"safety"}
        assert finding["fix"] is None or finding["fix"]["safety"] in ("safe", "unsafe")
    from prodlint.registry import all_rules

    for finding in payload["findings"]:  # never safer than the rule declares
        declared = all_rules()[finding["code"]].fix_safety.value
        assert finding["fix"] is None or declared == "safe" or finding["fix"]["safety"] == declared
    monkeypatch.chdir(project.parent)
    paths = {f[0] for f in found(capsys, f"{project.name}/app.py", f"{project.name}/clean.py")}
    assert paths == {f"{project.name}/app.py"}


def test_output_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--format", "json", "--output", "report.json", "app.py")
    assert code == 1 and out == ""
    assert len(json.loads((project / "report.json").read_text())["findings"]) == 3


def test_output_into_a_missing_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "check", "--format", "sarif", "--output", "reports/ci/x.sarif", "app.py"
    )
    assert code == 1 and out == "", err
    assert json.loads((project / "reports" / "ci" / "x.sarif").read_text())["version"] == "2.1.0"


def test_statistics(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--statistics", "app.py")
    assert code == 1
    rows = sorted(line.split("\t")[:2] for line in out.splitlines())
    assert rows == [[f"{1:6d}", code] for code in ALL]


def test_text_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "app.py")
    assert code == 1
    assert out.splitlines()[0].startswith("app.py:8:9: PRD502 ")
    assert "Found 3 findings." in out
    assert run(capsys, "check", "clean.py")[1] == "All checks passed!\n"


# --- stdin --------------------------------------------------------------------------------


def test_stdin(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.prodlint]\nper-file-ignores = {"legacy/*.py" = ["PRD503"]}\n'
    )

    def check_stdin(*args: str) -> list[tuple[str, int, str]]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(APP.encode())))
        return found(capsys, *args)

    assert check_stdin("-") == [("<stdin>", line, code) for line, code in APP_FINDINGS]
    assert check_stdin("-", "--stdin-filename", "src/views.py") == [
        ("src/views.py", line, code) for line, code in APP_FINDINGS
    ]
    # The stdin filename picks per-file settings.
    assert [code for _, _, code in check_stdin("-", "--stdin-filename", "legacy/old.py")] == [
        "PRD502",
        "PRD501",
    ]


# --- fix -----------------------------------------------------------------------------------


def test_fix_diff_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "app.py").write_text(FIXABLE)
    before = (project / "app.py").stat()
    code, out, err = run(capsys, "fix", "--diff", "app.py")
    assert code == 1
    assert out.startswith("--- a/app.py\n+++ b/app.py\n")
    assert '+    return [book.author.name for book in Book.objects.select_related("author")]' in out
    assert "Would fix 1 finding in 1 file" in err
    after = (project / "app.py").stat()
    assert (project / "app.py").read_text() == FIXABLE
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)


def test_fix_writes_atomically_and_keeps_the_mode(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = project / "app.py"
    target.write_text(FIXABLE)
    target.chmod(0o754)
    code, out, _ = run(capsys, "fix", "app.py")
    assert code == 1  # the unsafe PRD503 remains
    assert "Fixed 1 finding in 1 file; 1 remaining (1 fixable with --unsafe-fixes)." in out
    assert out.startswith("app.py:19:5: PRD503 ")  # what is left is listed
    assert stat.S_IMODE(target.stat().st_mode) == 0o754
    assert 'Book.objects.select_related("author")' in target.read_text()
    assert sorted(p.name for p in project.iterdir() if not p.name.startswith(".prodlint")) == [
        "app.py",
        "clean.py",
        "pyproject.toml",
    ]
    assert run(capsys, "fix", "--unsafe-fixes", "app.py")[0] == 0
    assert found(capsys, "app.py") == []


# --- the cache -----------------------------------------------------------------------------


def test_warm_cache_gives_the_same_output(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number in range(30):  # enough files for worker processes
        (project / f"m{number}.py").write_text(APP if number % 3 else CLEAN)
    outputs = [run(capsys, "check", "--format", "json", *args) for args in ([], [], ["--no-cache"])]
    assert outputs[0] == outputs[1] == outputs[2]
    assert (project / ".prodlint_cache").is_dir()
    # Touched but unchanged, then changed: the cache notices both.
    os.utime(project / "m1.py", ns=(1, 1))
    assert run(capsys, "check", "--format", "json") == outputs[0]
    (project / "m1.py").write_text(CLEAN)
    after = json.loads(run(capsys, "check", "--format", "json")[1])["findings"]
    assert not any(f["path"] == "m1.py" for f in after)
    assert (
        after == json.loads(run(capsys, "check", "--format", "json", "--no-cache")[1])["findings"]
    )


def test_cache_dir_is_configurable_and_safe_to_delete(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    (project / "pyproject.toml").write_text('[tool.prodlint]\ncache-dir = "build-cache/prodlint"\n')
    first = run(capsys, "check", "app.py")
    assert (project / "build-cache" / "prodlint").is_dir()
    shutil.rmtree(project / "build-cache")
    assert run(capsys, "check", "app.py") == first
    run(capsys, "check", "--cache-dir", "elsewhere", "app.py")
    assert (project / "elsewhere").is_dir()
    run(capsys, "check", "--no-cache", "--cache-dir", "unused", "app.py")
    assert not (project / "unused").exists()


def test_cache_follows_models_declared_in_other_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A view's N+1 finding depends on models.py: editing only models.py must change it."""
    (project / "models.py").write_text(
        "from django.db import models\n\n\n"
        "class Author(models.Model):\n    name = models.CharField(max_length=50)\n\n\n"
        "class Book(models.Model):\n"
        "    author = models.ForeignKey(Author, on_delete=models.CASCADE)\n"
    )
    (project / "views.py").write_text(
        "from models import Book\n\n\ndef names():\n"
        "    return [book.author.name for book in Book.objects.all()]\n"
    )
    relation = [("views.py", 5, "PRD202")]
    assert found(capsys, "--select", "PRD2", "views.py", "models.py") == relation
    # Only the view is checked: the project's models are still known.
    assert found(capsys, "--select", "PRD2", "views.py") == relation
    text = (project / "models.py").read_text()
    (project / "models.py").write_text(
        text.replace(
            "models.ForeignKey(Author, on_delete=models.CASCADE)", "models.CharField(max_length=50)"
        )
    )
    assert found(capsys, "--select", "PRD2", "views.py", "models.py") == []
    assert found(capsys, "--select", "PRD2", "views.py") == []


# --- config errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ("[tool.prodlint]\nselekt = []\n", "selekt"),
        ('[tool.prodlint]\nselect = "PRD5"\n', "select"),
        ('[tool.prodlint]\nignore = ["PRD9"]\n', "PRD9"),
        ("[tool.prodlint]\nrespect-gitignore = 1\n", "respect-gitignore"),
        ('[tool.prodlint.rules.PRD501]\nlevle = "debug"\n', "levle"),
        ("[tool.prodlint.rules.PRD501]\nlevel = 3\n", "level"),
        ('[tool.prodlint.rules.PRD999]\nlevel = "debug"\n', "PRD999"),
        ("[tool.prodlint\n", "TOML"),
        ('[tool.prodlint.rules.PRD501]\nlevel = "verbose"\n', "level"),
        ('[tool.prodlint.rules.PRD501]\nlevel = "DEBUG"\n', "level"),
    ],
)
def test_config_errors_exit_2_and_check_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], table: str, named: str
) -> None:
    (project / "pyproject.toml").write_text(table)
    code, out, err = run(capsys, "check", ".")
    assert code == 2 and out == ""
    assert named in err and "pyproject.toml" in err
    assert not (project / ".prodlint_cache").exists()
    assert run(capsys, "fix", ".")[0] == 2
    assert (project / "app.py").read_text() == APP


# --- suppressions --------------------------------------------------------------------------


def test_per_file_ignores(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(APP)
    (project / "pyproject.toml").write_text(
        '[tool.prodlint]\nper-file-ignores = {"legacy/*.py" = ["PRD50"], "app.py" = ["PRD503"]}\n'
    )
    assert found(capsys) == app("PRD501", "PRD502")


def test_force_exclude_applies_to_named_files(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "migrations").mkdir()
    (project / "migrations" / "0001.py").write_text(APP)
    (project / "pyproject.toml").write_text('[tool.prodlint]\nextend-exclude = ["migrations"]\n')
    named = ("app.py", "migrations/0001.py")
    assert {path for path, _, _ in found(capsys, *named)} == {"app.py", "migrations/0001.py"}
    assert {path for path, _, _ in found(capsys, "--force-exclude", *named)} == {"app.py"}
    (project / "pyproject.toml").write_text(
        '[tool.prodlint]\nextend-exclude = ["migrations"]\nforce-exclude = true\n'
    )
    assert {path for path, _, _ in found(capsys, *named)} == {"app.py"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda text: text.replace('f"hello {name}")', 'f"hello {name}")  # noqa'),
            ("PRD501", "PRD503"),
        ),
        (
            lambda text: text.replace('print("done", name)', 'print("done", name)  # noqa: PRD501'),
            ("PRD502", "PRD503"),
        ),
        (
            lambda text: text.replace('print("done", name)', 'print("done", name)  # noqa: PRD502'),
            ALL,
        ),
        (
            lambda text: text.replace('print("done", name)', 'print("done", name)  # noqa:PRD5'),
            ("PRD502", "PRD503"),
        ),
        (lambda text: "# prodlint: noqa\n" + text, ()),
        (lambda text: text + "# prodlint: noqa: PRD5\n", ()),
        (lambda text: text + "# prodlint: noqa: PRD501, PRD503\n", ("PRD502",)),
        (lambda text: text + "# prodlint: noqa: PRD1\n", ALL),
    ],
    ids=[
        "noqa",
        "noqa-code",
        "noqa-other-code",
        "noqa-prefix",
        "file-noqa",
        "file-noqa-prefix",
        "file-noqa-codes",
        "file-noqa-other",
    ],
)
def test_noqa(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[str], str],
    expected: tuple[str, ...],
) -> None:
    (project / "app.py").write_text(edit(APP))
    shift = 1 if edit(APP).startswith("#") else 0
    # PRD001 (a noqa naming a code not reported there) has its own test.
    assert [f for f in found(capsys, "app.py") if f[2] != "PRD001"] == [
        (p, line + shift, code) for p, line, code in app(*expected)
    ]


# --- the real process ---------------------------------------------------------------------


def prodlint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prodlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_subprocess_check_and_fix(project: Path) -> None:
    done = prodlint(project, "check", "--format", "json")
    assert done.returncode == 1 and done.stderr == ""  # no progress bar: stderr is not a terminal
    assert [(f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)["findings"]] == app(
        *ALL
    )
    fixed = prodlint(project, "fix", "--unsafe-fixes")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert prodlint(project, "check").returncode == 0


def test_subprocess_config_error(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.prodlint]\nunknown-key = 1\n")
    done = prodlint(project, "check")
    assert done.returncode == 2 and done.stdout == ""
    assert "unknown-key" in done.stderr and str(project / "pyproject.toml") in done.stderr
    assert "Traceback" not in done.stderr


# --- ruff's spellings ----------------------------------------------------------------------


def test_check_fix_and_check_diff_are_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(capsys, "check", "--diff", "app.py")[1:] == run(capsys, "fix", "--diff", "app.py")[1:]
    )
    assert (project / "app.py").read_text() == APP
    fixed = run(capsys, "fix", "--unsafe-fixes", "app.py")
    by_fix = (project / "app.py").read_text()
    (project / "app.py").write_text(APP)
    assert run(capsys, "check", "--fix", "--unsafe-fixes", "app.py") == fixed
    assert (project / "app.py").read_text() == by_fix != APP


def test_output_format_quiet_and_exit_zero(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "check", "--output-format", "json", "app.py") == run(
        capsys, "check", "--format", "json", "app.py"
    )
    assert run(capsys, "check", "-q", "clean.py") == (0, "", "")
    code, out, _ = run(capsys, "check", "--quiet", "app.py")
    assert code == 1 and "app.py:8:9: PRD502" in out and "Found" not in out
    (project / "app.py").write_text(SWALLOWED)
    assert run(capsys, "fix", "app.py")[0] == 1
    assert run(capsys, "fix", "--exit-zero", "app.py")[0] == 0


SWALLOWED = (
    "def charge(order):\n    try:\n        order.pay()\n    except Exception:\n        pass\n"
)


def test_exclude_and_extend_exclude(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(SWALLOWED)
    assert "legacy/old.py" in {path for path, _, _ in found(capsys, "--no-cache", ".")}
    assert "legacy/old.py" not in {
        path for path, _, _ in found(capsys, "--no-cache", "--extend-exclude", "legacy", ".")
    }
    assert {
        path for path, _, _ in found(capsys, "--no-cache", "--exclude", "legacy,app.py", ".")
    } == set()


def test_add_noqa_silences_every_finding_where_it_is(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "strings.py").write_text(
        'def f(x):\n    print("""first\n    second""", x)\n    print(x)  # noqa: E501\n'
    )
    before = found(capsys, "--no-cache", ".")
    assert before
    code, out, _ = run(capsys, "check", "--add-noqa", ".")
    assert code == 0 and out.startswith("Added ")
    text = (project / "strings.py").read_text()
    # The line ending inside the string keeps its text; the others get the comment.
    assert 'print("""first\n' in text and "# noqa: E501, PRD501" in text
    compile(text, "strings.py", "exec")
    assert "# noqa: PRD502" in (project / "app.py").read_text()
    left = found(capsys, "--no-cache", ".")
    assert left == [f for f in before if f[0] == "strings.py" and f[1] == 2]
    assert run(capsys, "check", "--add-noqa", ".")[1] == "Added 0 noqa comments.\n"


def test_rule_by_name_and_rules_listing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    by_code = run(capsys, "rule", "PRD503")
    assert by_code[0] == 0 and run(capsys, "rule", "SwallowedException") == by_code
    assert run(capsys, "rule", "swallowedexception") == by_code
    assert run(capsys, "rule", "NoSuchRule")[0] == 2
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "{" not in out
    from prodlint.registry import all_rules

    for rule in all_rules().values():
        [line] = [row for row in out.splitlines() if row.startswith(rule.code)]
        assert ("opt-in" in line) == (not rule.default_enabled), line


def test_text_output_has_a_snippet_with_a_caret(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app.py").write_text(SWALLOWED)
    _, out, _ = run(capsys, "check", "--no-cache", "app.py")
    lines = out.splitlines()
    assert lines[0].startswith("app.py:4:5: PRD503 ")
    assert lines[1:6] == [
        "  |",
        "3 |         order.pay()",
        "4 |     except Exception:",
        "  |     ^^^^^^^^^^^^^^^^^ PRD503",
        "5 |         pass",
    ]
    assert "= docs: `prodlint rule PRD503`" in out


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({}, False), ({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False)],
)
def test_colour_follows_no_color_and_force_color(
    project: Path, env: dict[str, str], coloured: bool
) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "prodlint", "check", "--no-cache", "app.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environment, **env},
    )
    assert done.returncode == 1
    assert ("\x1b[" in done.stdout) == coloured


def test_show_fixes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fix", "--unsafe-fixes", "--show-fixes", "app.py")
    assert code == 0
    listed = out[out.index("Fixed 3 findings:") :].splitlines()
    assert listed[1] == "- app.py:" and len([row for row in listed if " x PRD5" in row]) == 3


def test_watch_checks_again_when_a_file_changes(project: Path) -> None:
    import time

    watcher = subprocess.Popen(
        [sys.executable, "-m", "prodlint", "check", "--watch", "--no-cache", "clean.py"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        assert "checking 1 files" in watcher.stdout.readline()
        assert watcher.stdout.readline() == "All checks passed!\n"
        time.sleep(0.1)
        (project / "clean.py").write_text(SWALLOWED)
        lines = [watcher.stdout.readline() for _ in range(3)]
        assert "checking 1 files" in lines[1] and lines[2].startswith("clean.py:4:5: PRD503"), lines
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)


def test_unused_noqa_is_reported_and_a_used_one_is_not(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app.py").write_text(
        "def f(x):\n"
        "    print(x)  # noqa: PRD501\n"  # used
        "    print(x)  # noqa: PRD501, PRD503\n"  # PRD503 unused
        "    return x  # noqa: PRD5, E501, PRD999\n"  # PRD5 unused, E501 not ours, PRD999 unknown
        '    text = "# noqa: PRD501"\n'  # a string, not a comment
    )
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", "app.py")
    rows = [(f["line"], f["code"], f["message"]) for f in json.loads(out)["findings"]]
    assert code == 1 and [(line, rule) for line, rule, _ in rows] == [(3, "PRD001"), (4, "PRD001")]
    assert "`PRD503`" in rows[0][2] and "PRD501" not in rows[0][2]
    assert (
        "`PRD5`" in rows[1][2]
        and "`PRD999` (unknown code)" in rows[1][2]
        and "E501" not in rows[1][2]
    )
    # A rule left out of the run: its noqa may still be needed elsewhere, and says so.
    (project / "app.py").write_text("def f(x):\n    return x  # noqa: PRD201\n")
    [finding] = json.loads(
        run(capsys, "check", "--no-cache", "--format", "json", "--select", "PRD0,PRD5", "app.py")[1]
    )["findings"]
    assert "`PRD201` (not enabled)" in finding["message"]


def test_check_fix_reports_what_is_left_in_the_chosen_format(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "app.py").write_text(FIXABLE)
    code, out, err = run(capsys, "check", "--fix", "--format", "json", "app.py")
    assert code == 1 and "Fixed 1 finding in 1 file" in err
    assert [(f["line"], f["code"]) for f in json.loads(out)["findings"]] == [(19, "PRD503")]
