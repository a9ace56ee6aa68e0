"""The semgrep rule pack: valid rules, and the fixture corpus through the real
``semgrep --test``, offline. Cases semgrep cannot express are annotated ``todoruleid`` /
``todook`` in the corpus, and counted here so the gap stays visible."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from corpus import ANNOTATION, FIXTURES, ROOT, Fixture, all_fixtures

from prodlint.registry import all_rules

BIN = Path(sys.executable).parent
RULES = ROOT / "rules"
CORPUS = all_fixtures()
FAMILIES = sorted({fixture.path.relative_to(FIXTURES).parts[0] for fixture in CORPUS})
PACKS = sorted(RULES.glob("*.yaml"))
# Offline and quiet: no metrics, no version check against the network.
SEMGREP_ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


def family_of(fixture: Fixture) -> str:
    return fixture.path.relative_to(FIXTURES).parts[0]


def rules_of(pack: Path) -> list[dict[str, object]]:
    return list(yaml.safe_load(pack.read_text(encoding="utf-8"))["rules"])


def family_of_code() -> dict[str, str]:
    """Rule code to family name, from where each rule module lives."""
    return {code: rule.__module__.split(".")[2] for code, rule in all_rules().items()}


def todo_counts() -> dict[str, Counter[str]]:
    """Per family: how many cases semgrep is known to miss (todoruleid) or to flag
    wrongly (todook), next to the cases it gets right."""
    counts: dict[str, Counter[str]] = {family: Counter() for family in FAMILIES}
    for fixture in CORPUS:
        count = counts[family_of(fixture)]
        count["todoruleid"] += len(fixture.semgrep_todo & fixture.flagged)
        count["todook"] += len(fixture.semgrep_todo & fixture.clean)
        count["ruleid"] += len(fixture.flagged - fixture.semgrep_todo)
        count["ok"] += len(fixture.clean - fixture.semgrep_todo)
    return counts


def semgrep_core() -> Path:
    import semgrep

    return Path(semgrep.__file__).parent / "bin" / "semgrep-core"


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.name)
def test_pack_matches_semgrep_rule_schema(pack: Path) -> None:
    """What ``semgrep --validate`` checks first: the rule JSON schema semgrep ships."""
    import jsonschema
    import semgrep

    schema_file = Path(semgrep.__file__).parent / "semgrep_interfaces" / "rule_schema_v1.yaml"
    schema = yaml.safe_load(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(pack.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.name)
def test_pack_parses_in_semgrep_core(pack: Path, tmp_path: Path) -> None:
    """The second half of ``semgrep --validate``: semgrep-core's ``-check_rules`` parses
    every pattern. ``--validate`` also runs the registry's lint pack, which needs the
    network, so it is given none here."""
    no_lints = tmp_path / "no-lints.yaml"
    no_lints.write_text("rules: []\n", encoding="utf-8")
    done = subprocess.run(
        [str(semgrep_core()), "-json", "-check_rules", str(no_lints), str(pack)],
        capture_output=True,
        text=True,
        timeout=120,
        env=SEMGREP_ENV,
    )
    assert done.returncode == 0, done.stderr
    # semgrep-core prints progress dots before the JSON line.
    assert json.loads(done.stdout.splitlines()[-1])["errors"] == []


@pytest.mark.parametrize("pack", PACKS, ids=lambda pack: pack.name)
def test_pack_ids_are_prodlint_codes_of_that_family(pack: Path) -> None:
    families = family_of_code()
    rules = rules_of(pack)
    ids = [str(rule["id"]) for rule in rules]
    assert len(ids) == len(set(ids)), "duplicate rule ids"
    for rule in rules:
        code = str(rule["id"])
        assert families.get(code) == pack.stem, f"{code} is not a {pack.stem} rule of prodlint"
        assert rule.get("message") and rule.get("severity") in ("ERROR", "WARNING", "INFO")
        metadata = rule.get("metadata")
        assert isinstance(metadata, dict) and metadata.get("references"), (
            f"{code}: metadata.references"
        )


def without_unpacked_codes(text: str, pack_ids: set[str]) -> str:
    """semgrep --test rejects annotations naming a rule its config lacks; codes the pack
    cannot express at all (they need the model graph) are dropped from the copy, keeping
    line numbers. ``test_unpacked_codes_are_marked_todo`` keeps that honest."""
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        match = ANNOTATION.search(line)
        if not match or not line.lstrip().startswith("#"):
            continue
        codes = [c for c in re.split(r"[,\s]+", match.group("codes").strip()) if c in pack_ids]
        indent = line[: len(line) - len(line.lstrip())]
        kept = f"# {match.group('kind')}: {', '.join(codes)}" if codes else "#"
        lines[number] = indent + kept + "\n"
    return "".join(lines)


def pack_ids() -> set[str]:
    return {str(rule["id"]) for pack in PACKS for rule in rules_of(pack)}


def test_unpacked_codes_are_marked_todo() -> None:
    """A prodlint code with no semgrep rule is a gap in every case: its ``ruleid`` lines
    must say so with ``todoruleid``."""
    present = pack_ids()
    untold = [
        f"{fixture.relative}:{line} {code}"
        for fixture in CORPUS
        for line, code in sorted(fixture.flagged - fixture.semgrep_todo)
        if code not in present
    ]
    assert not untold, f"mark these todoruleid (no semgrep rule for the code): {untold}"


def build_test_tree(fixtures: list[Fixture], workdir: Path) -> None:
    """``semgrep --test`` pairs ``x.yaml`` with ``x.py``: mirror each fixture with a config
    holding its family's pack (plus the packs of any other family it annotates)."""
    families = family_of_code()
    for fixture in fixtures:
        target = workdir / fixture.path.relative_to(FIXTURES)
        target.parent.mkdir(parents=True, exist_ok=True)
        wanted = {family_of(fixture)} | {families.get(code, "") for code in fixture.codes}
        rules = [
            rule
            for name in sorted(wanted)
            if (RULES / f"{name}.yaml").is_file()
            for rule in rules_of(RULES / f"{name}.yaml")
        ]
        text = fixture.path.read_text(encoding="utf-8")
        target.write_text(
            without_unpacked_codes(text, {str(rule["id"]) for rule in rules}), encoding="utf-8"
        )
        target.with_suffix(".yaml").write_text(
            yaml.safe_dump({"rules": rules}, sort_keys=False), encoding="utf-8"
        )


def semgrep_test(workdir: Path) -> dict[str, object]:
    done = subprocess.run(
        [str(BIN / "semgrep"), "--test", "--metrics=off", "--json", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=SEMGREP_ENV,
        cwd=workdir,
    )
    try:
        return dict(json.loads(done.stdout))
    except json.JSONDecodeError:
        # A rule firing in a file that never mentions its id, or an annotation naming a rule
        # the pack lacks, stops semgrep --test before any result: show why.
        reasons = [
            line for line in done.stderr.splitlines() if "mismatch" in line or "rror" in line
        ]
        raise AssertionError(
            f"semgrep --test failed ({done.returncode}):\n" + "\n".join(reasons)
        ) from None


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_corpus_through_semgrep_test(family: str, tmp_path: Path) -> None:
    assert (RULES / f"{family}.yaml").is_file(), (
        f"every family ships a semgrep pack: add rules/{family}.yaml"
    )
    fixtures = [fixture for fixture in CORPUS if family_of(fixture) == family]
    build_test_tree(fixtures, tmp_path)
    report = semgrep_test(tmp_path)
    assert report["config_with_errors"] == [], report["config_with_errors"]
    failures = []
    for result in report["results"].values():  # type: ignore[union-attr]
        for code, check in result["checks"].items():
            if check["passed"]:
                continue
            for path, lines in check["matches"].items():
                missed = sorted(set(lines["expected_lines"]) - set(lines["reported_lines"]))
                wrong = sorted(set(lines["reported_lines"]) - set(lines["expected_lines"]))
                if missed or wrong:
                    shown = Path(path).relative_to(tmp_path.resolve())
                    failures.append(
                        f"{shown} {code}: missed lines {missed}, flagged ok lines {wrong}"
                    )
    assert not failures, "\n".join(failures)
    counts = todo_counts()[family]
    # The gap is part of the report: `pytest -s` shows it per family.
    print(
        f"\nsemgrep on fixtures/{family}: {counts['ruleid']} ruleid, {counts['ok']} ok, "
        f"{counts['todoruleid']} todoruleid, {counts['todook']} todook"
    )


def test_todo_annotations_only_where_a_pack_exists_or_none_matches() -> None:
    """A ``todo`` annotation is a claim about the semgrep pack; make sure the counts are
    real numbers for every family (a family without a pack has every case as a gap)."""
    counts = todo_counts()
    assert set(counts) == set(FAMILIES)
    for family, count in counts.items():
        assert count["ruleid"] + count["todoruleid"] > 0, f"fixtures/{family} flags nothing"


@pytest.mark.slow
def test_semgrep_rules_command_writes_the_pack(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "prodlint"), "semgrep-rules", "--output", str(tmp_path / "pack")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = {path.name: path.read_bytes() for path in (tmp_path / "pack").iterdir()}
    assert written == {pack.name: pack.read_bytes() for pack in PACKS}


@pytest.mark.slow
def test_wheel_ships_the_same_pack(tmp_path: Path) -> None:
    """``prodlint/semgrep_rules`` is a symlink to ``rules/``: a built wheel must carry those
    very files (no second copy that could drift)."""
    import zipfile

    source = tmp_path / "src-tree"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "rules", source / "rules")
    shutil.copytree(
        ROOT / "src",
        source / "src",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "dist").glob("prodlint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            Path(name).name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("prodlint/semgrep_rules/")
        }
    assert shipped == {pack.name: pack.read_bytes() for pack in PACKS}
