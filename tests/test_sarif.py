"""``--format sarif`` against the SARIF 2.1.0 schema, and ``--format github`` annotations.

The schema check uses pydantic-sarif, a model generated from the official
sarif-schema-2.1.0.json (unknown properties forbidden), both directly and through the JSON
Schema it exports, validated with jsonschema.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml
from corpus import FIXTURES
from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as SarifLog

BIN = Path(sys.executable).parent
# Offline and quiet: no metrics, no version check against the network.
SEMGREP_ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def check(cwd: Path, fmt: str, *paths: str) -> str:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--no-cache", "--format", fmt, *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sarif")
    shutil.copytree(
        FIXTURES, root / "fixtures", ignore=shutil.ignore_patterns("*.fixed.py", "__pycache__")
    )
    (root / "clean.py").write_text("VALUE = 1\n", encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    return root


def validate(document: dict[str, object]) -> None:
    SarifLog.model_validate(document)
    jsonschema.validate(document, SarifLog.model_json_schema(by_alias=True))


def test_sarif_of_the_corpus_is_valid(corpus: Path) -> None:
    document = json.loads(check(corpus, "sarif", "fixtures"))
    validate(document)
    findings = json.loads(check(corpus, "json", "fixtures"))["findings"]
    run = document["runs"][0]
    assert len(run["results"]) == len(findings) > 0
    rules = run["tool"]["driver"]["rules"]
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["code"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == finding["path"]
        assert (location["region"]["startLine"], location["region"]["startColumn"]) == (
            finding["line"],
            finding["col"],
        )


def test_sarif_without_findings_is_valid(corpus: Path) -> None:
    document = json.loads(check(corpus, "sarif", "clean.py"))
    validate(document)
    assert document["runs"][0]["results"] == []


def test_the_validator_rejects_broken_sarif(corpus: Path) -> None:
    document = json.loads(check(corpus, "sarif", "fixtures"))
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises((pydantic.ValidationError, jsonschema.ValidationError)):
        validate(document)


def test_github_format_prints_one_annotation_per_finding(corpus: Path) -> None:
    lines = check(corpus, "github", "fixtures").splitlines()
    findings = json.loads(check(corpus, "json", "fixtures"))["findings"]
    assert len(lines) == len(findings) > 0
    pattern = re.compile(
        r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),"
        r"endLine=\d+,endColumn=\d+,title=(PRD\d{3})::(PRD\d{3}) .+$"
    )
    for line, finding in zip(lines, findings, strict=True):
        match = pattern.match(line)
        assert match, line
        assert (match[2], int(match[3]), int(match[4]), match[5]) == (
            finding["path"],
            finding["line"],
            finding["col"],
            finding["code"],
        )


DOCS = Path(__file__).resolve().parents[1] / "docs" / "frontends.md"
FINDING = (
    "import logging\n\nlog = logging.getLogger(__name__)\n\n\n"
    'def f(name):\n    log.info(f"hi {name}")\n'
)


def documented_ci_steps(marker: str) -> tuple[str, list[str]]:
    """The CI file of docs/frontends.md that starts with ``marker`` and its prodlint/semgrep
    commands (the install and checkout steps are the CI provider's)."""
    [block] = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
        if b.startswith(marker)
    ]
    data = yaml.safe_load(block)
    if "jobs" in data:
        steps = [
            step["run"] for job in data["jobs"].values() for step in job["steps"] if "run" in step
        ]
    else:
        steps = [line for job in data.values() for line in job["script"]]
    return block, [step for step in steps if step.startswith(("prodlint ", "semgrep "))]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("marker", "report"),
    [
        ("# .github/workflows/semgrep.yml", "semgrep.sarif"),
        ("# .gitlab-ci.yml", "gl-sast-report.json"),
    ],
)
def test_documented_ci_jobs_run_as_written(tmp_path: Path, marker: str, report: str) -> None:
    """Each documented CI job's commands, run in a repository with a finding: the job fails
    (``--error``) and the report it uploads is there anyway."""
    block, commands = documented_ci_steps(marker)
    assert len(commands) == 2
    if marker.endswith(".gitlab-ci.yml"):
        job = next(iter(yaml.safe_load(block).values()))
        # --error fails the job exactly when there are findings: the report must be kept then.
        assert job["artifacts"]["when"] == "always"
    else:
        upload = next(
            step
            for job in yaml.safe_load(block)["jobs"].values()
            for step in job["steps"]
            if "upload-sarif" in str(step.get("uses", ""))
        )
        assert upload["if"] == "always()"
    (tmp_path / "app.py").write_text(FINDING, encoding="utf-8")
    results = []
    for command in commands:
        words = command.split()
        done = subprocess.run(
            [str(BIN / words[0]), *words[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**SEMGREP_ENV, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"},
        )
        results.append(done.returncode)
    assert results == [0, 1], results
    assert (tmp_path / report).is_file() and "PRD502" in (tmp_path / report).read_text(
        encoding="utf-8"
    )
