"""Bad input never ends a run: each broken file is reported on its own and the rest is checked.

Also: a fix keeps a file's line endings and encoding, and a fix that fails (broken output,
an exception inside the rule's fix) leaves the file byte for byte as it was.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from prodlint.analysis.context import Context
from prodlint.cli import main
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import FixFailed, fix_file
from prodlint.fixes.base import FixContext
from prodlint.model import Finding, FixSafety
from prodlint.registry import Rule
from prodlint.runner import PARALLEL_THRESHOLD
from prodlint.source import MAX_FILE_BYTES

# One eager-formatting logging call: a finding with a safe fix, known to every checkout.
# A %-tuple message to a stdlib logger: the one PRD502 rewrite that is exact, so safe.
FLAGGED = (
    "import logging\nlogger = logging.getLogger(__name__)\n"
    'def f(name):\n    logger.info("hello %s" % (name,))\n'
)
FLAGGED_LINE = 4


def chain(terms: int) -> str:
    """``x = a + a + ...``: a left-nested tree ``terms`` levels deep."""
    return "a = 1\nx = " + " + ".join(["a"] * terms) + "\n"


BAD_FILES: dict[str, bytes] = {
    "syntax.py": b"def f(:\n    pass\n",
    "undecodable.py": b'x = "\xff\xfe"\n',
    "binary.py": b"\x00\x01\x02\x03binary\x00",
    "empty.py": b"",
    "huge.py": b"x = 1\n" * (MAX_FILE_BYTES // 6 + 10),
    "latin1.py": ("# -*- coding: latin-1 -*-\n" + FLAGGED.replace("hello", "café")).encode(
        "latin-1"
    ),
    "crlf.py": FLAGGED.replace("\n", "\r\n").encode(),
    "bom.py": b"\xef\xbb\xbf" + FLAGGED.encode(),
    "nested_parens.py": ("x = " + "(" * 150 + "1" + ")" * 150 + "\n").encode(),
    "long_chain.py": chain(5000).encode(),  # CPython compiles it: it must be checked
    "too_deep.py": chain(60000).encode(),  # deeper than any checker should follow
    "ok.py": FLAGGED.encode(),
}


def run_json(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, list[dict[str, object]]]]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    payload = json.loads(out)
    by_path: dict[str, list[dict[str, object]]] = {}
    for finding in payload["findings"]:
        by_path.setdefault(str(finding["path"]), []).append(finding)
    return code, by_path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "pyproject.toml").write_text("[tool.prodlint]\n")
    for name, data in BAD_FILES.items():
        (tmp_path / name).write_bytes(data)
    os.symlink(tmp_path / "missing-target.py", tmp_path / "dangling.py")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def only_uncheckable(findings: list[dict[str, object]], *why: str) -> None:
    """One PRD000 whose message says one of ``why``."""
    assert [f["code"] for f in findings] == ["PRD000"], findings
    assert any(reason in str(findings[0]["message"]) for reason in why), findings[0]


def assert_reported(by_path: dict[str, list[dict[str, object]]], prefix: str = "") -> None:
    only_uncheckable(by_path[prefix + "syntax.py"], "syntax error")
    assert by_path[prefix + "syntax.py"][0]["line"] == 1
    only_uncheckable(by_path[prefix + "undecodable.py"], "cannot decode")
    only_uncheckable(by_path[prefix + "binary.py"], "binary")
    only_uncheckable(by_path[prefix + "huge.py"], "byte limit")
    # Too deep to build the tree, or to walk it: either way one finding.
    only_uncheckable(by_path[prefix + "too_deep.py"], "nested deeper", "RecursionError")
    only_uncheckable(by_path[prefix + "dangling.py"], "cannot read")
    for clean in ("empty.py", "nested_parens.py", "long_chain.py"):
        assert prefix + clean not in by_path, by_path[prefix + clean]
    # The rest of the run goes on, and odd-but-valid files are checked like any other.
    expected = [(f["code"], f["line"], f["col"]) for f in by_path[prefix + "ok.py"]]
    assert expected and expected[0][1] == FLAGGED_LINE
    for same in ("crlf.py", "bom.py"):
        assert [(f["code"], f["line"], f["col"]) for f in by_path[prefix + same]] == expected, same
    # The coding cookie shifts the latin-1 file down one line.
    assert [(f["code"], f["line"], f["col"]) for f in by_path[prefix + "latin1.py"]] == [
        (code, line + 1, col) for code, line, col in expected
    ]


def test_each_bad_file_is_reported_and_the_run_goes_on(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, by_path = run_json(["--no-cache", "."], capsys)
    assert code == 1
    assert_reported(by_path)


def test_bad_files_in_worker_processes_and_from_the_cache(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Enough files for the process pool; then the same again from the cache."""
    many = project / "many"
    many.mkdir()
    for number in range(PARALLEL_THRESHOLD):
        (many / f"m{number}.py").write_text(FLAGGED)
    for name, data in BAD_FILES.items():
        (many / name).write_bytes(data)
    os.symlink(many / "missing-target.py", many / "dangling.py")
    cold_code, cold = run_json(["--jobs", "2", "many"], capsys)
    assert cold_code == 1
    assert_reported(cold, "many/")
    assert len(cold["many/m0.py"]) == 1
    warm_code, warm = run_json(["--jobs", "2", "many"], capsys)
    assert (warm_code, warm) == (cold_code, cold)


def test_huge_file_is_not_read_as_code(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, by_path = run_json(["--no-cache", "huge.py"], capsys)
    assert code == 1
    only_uncheckable(by_path["huge.py"], str(MAX_FILE_BYTES))


def test_stdin_with_bad_input(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x01binary")))
    code, by_path = run_json(["-", "--stdin-filename", "pipe.py"], capsys)
    assert code == 1
    only_uncheckable(by_path["pipe.py"], "binary")


# --- fixes -------------------------------------------------------------------------------


def fix(paths: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["fix", "--no-cache", *paths])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out + err


def test_fix_keeps_line_endings_encoding_and_bom(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = fix(["crlf.py", "latin1.py", "bom.py", "ok.py"], capsys)
    assert code == 0
    fixed = (project / "ok.py").read_bytes()
    assert fixed != BAD_FILES["ok.py"] and b'" % (' not in fixed
    assert (project / "crlf.py").read_bytes() == fixed.replace(b"\n", b"\r\n")
    assert (project / "bom.py").read_bytes() == b"\xef\xbb\xbf" + fixed
    latin = (project / "latin1.py").read_bytes()
    assert latin == b"# -*- coding: latin-1 -*-\n" + fixed.replace(
        b"hello", "café".encode("latin-1")
    )


def test_fix_skips_uncheckable_files_and_fixes_the_rest(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: (project / name).read_bytes() for name in BAD_FILES}
    code, output = fix(["."], capsys)
    assert code == 1  # the PRD000 findings remain
    for name in (
        "syntax.py",
        "undecodable.py",
        "binary.py",
        "empty.py",
        "huge.py",
        "too_deep.py",
        "long_chain.py",
    ):
        assert (project / name).read_bytes() == before[name], name
    assert (project / "ok.py").read_bytes() != before["ok.py"]
    assert "remaining" in output


class BrokenOutput(Rule):
    """Test-only: "fixes" ``target`` into code that does not compile."""

    code = "PRD990"
    name = "BrokenOutput"
    message = "target"
    what_it_does = why_bad = example = use_instead = "test only"
    fix_safety = FixSafety.SAFE
    fix_node_types = ("Name",)

    def check_Name(self, node: ast.Name, ctx: Context) -> None:
        if node.id == "target":
            self.report(ctx, node, fix=FixSafety.SAFE)

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        return cst.Name("1target")


class RaisingFix(BrokenOutput):
    """Test-only: the fix itself raises."""

    code = "PRD991"
    name = "RaisingFix"

    def fix(self, node: cst.CSTNode, finding: Finding, fixes: FixContext) -> cst.CSTNode | None:
        raise RuntimeError("bug in a fix")


class RaisingCheck(BrokenOutput):
    """Test-only: the detector raises on one file."""

    code = "PRD992"
    name = "RaisingCheck"

    def check_Name(self, node: ast.Name, ctx: Context) -> None:
        if node.id == "explode":
            raise ValueError("bug in a detector")
        super().check_Name(node, ctx)


@pytest.mark.parametrize("rule", [BrokenOutput, RaisingFix], ids=["invalid-output", "raising-fix"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_failed_fix_leaves_the_file_unchanged(
    tmp_path: Path, rule: type[Rule], newline: str
) -> None:
    path = tmp_path / "target.py"
    data = f"target = 1{newline}print(target){newline}".encode()
    path.write_bytes(data)
    checker = Checker(Config(), rules=[rule])
    assert [f.code for f in checker.check_bytes(data, "target.py")] == [rule.code, rule.code]
    with pytest.raises(FixFailed):
        fix_file(path, "target.py", checker, unsafe=True, write=True)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target.py"]  # no temp file left


def test_failed_fix_through_the_cli(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import prodlint.engine

    monkeypatch.setattr(prodlint.engine, "selected_rules", lambda *args: [RaisingFix])
    (project / "a.py").write_text("target = 1\n")
    (project / "b.py").write_text("other = 2\n")
    code, output = fix(["a.py", "b.py"], capsys)
    assert code == 1
    assert "a.py: not fixed, left unchanged" in output and "bug in a fix" in output
    assert (project / "a.py").read_text() == "target = 1\n"


def test_a_crashing_rule_costs_one_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import prodlint.engine

    monkeypatch.setattr(prodlint.engine, "selected_rules", lambda *args: [RaisingCheck])
    (project / "a.py").write_text("explode = 1\n")
    (project / "b.py").write_text("target = 2\n")
    code, by_path = run_json(["--no-cache", "a.py", "b.py"], capsys)
    assert code == 1
    only_uncheckable(by_path["a.py"], "bug in a detector")
    assert [f["code"] for f in by_path["b.py"]] == ["PRD992"]
