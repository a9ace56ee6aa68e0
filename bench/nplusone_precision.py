"""Measure the PRD2xx (N+1) rules on real code.

1. django-check's labelled snippets (richardhapb/django-check,
   ``crates/django-check_semantic/src/passes/n_plus_one.rs``): each Rust test's Python source
   and whether it expects diagnostics. Four positive labels disagree with what Django does
   (the row's back-reference to the object whose related manager it came from is filled in
   by Django, so ``for order in user.orders.all(): order.user`` runs no query): they are
   counted as negatives here. Read from a snapshot fetched into ``--mirror`` (skipped when
   absent; nothing of it is committed).
2. django-zeal 2.3.0's ``tests/test_nplusones.py`` (sdist): every loop inside
   ``with pytest.raises(NPlusOneError)`` is a labelled N+1 (recall: the share with a PRD2xx
   finding inside the loop); every other loop whose query uses ``select_related`` /
   ``prefetch_related`` is a labelled clean case (false alarms). zeal's test models
   (``tests/djangoproject/social/models.py``) are not in the sdist: they are read from the
   repository snapshot in ``--mirror`` when there (the real models), else the default rules
   run without model facts.
3. Django 5.2.8's ``django/`` package, checked with the model index of the whole package:
   every PRD2xx finding is listed for review (each one is a false alarm unless judged
   otherwise), with the time the check took.
4. Real Django apps: healthchecks, djangoproject.com and pretalx from snapshots in ``--mirror``, and
   django-allauth 65.3.0 (sdist):
   every PRD2xx finding listed for review (skipped when not fetched).
5. PRD204 (templates) on those apps and netbox, DefectDojo, django-oscar, readthedocs.org
   (snapshots in ``--mirror``) and Django's ``django/``, through ``prodlint check``: every
   finding listed for review.

The sdists come from the shared cache of bench/sdists.py (nothing is committed):

    python bench/nplusone_precision.py            # download
    python bench/nplusone_precision.py --src DIR  # reuse unpacked sdists in DIR
    python bench/nplusone_precision.py --mirror /work/.mirror  # where fetched repos live
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sdists

from prodlint.analysis.models import PROJECT_MODELS, ModelIndex, index_tree
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.facts import ProjectFacts, build_project, read_facts
from prodlint.model import Finding
from prodlint.registry import all_rules

PACKAGES = {"django-zeal": "2.3.0", "django": "5.2.8", "django-allauth": "65.3.0"}


def fetch() -> dict[str, Path]:
    """The unpacked sdists, from the shared cache of bench/sdists.py."""
    return {name: sdists.fetch(f"{name}=={version}") for name, version in PACKAGES.items()}


def locate(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name, version in PACKAGES.items():
        for folder in (f"{name}-{version}", f"{name.replace('-', '_')}-{version}"):
            if (root / folder).is_dir():
                found[name] = root / folder
    missing = set(PACKAGES) - set(found)
    if missing:
        raise SystemExit(f"not found under {root}: {', '.join(sorted(missing))}")
    return found


@dataclass
class Case:
    test: str
    line: int
    end_line: int
    n_plus_one: bool

    def hit(self, findings: list[Finding]) -> list[Finding]:
        return [f for f in findings if self.line <= f.line <= self.end_line]


def _raises_nplusone(node: ast.With) -> bool:
    for item in node.items:
        call = item.context_expr
        if (
            isinstance(call, ast.Call)
            and ast.unparse(call.func) == "pytest.raises"
            and call.args
            and ast.unparse(call.args[0]) == "NPlusOneError"
        ):
            return True
    return False


def zeal_cases(tree: ast.Module, text: str) -> Iterator[Case]:
    for test in ast.walk(tree):
        if not isinstance(test, ast.FunctionDef) or not test.name.startswith("test"):
            continue
        inside: set[int] = set()
        for node in ast.walk(test):
            if isinstance(node, ast.With) and _raises_nplusone(node):
                for loop in ast.walk(node):
                    if isinstance(loop, (ast.For, ast.AsyncFor)):
                        inside.add(id(loop))
                        yield Case(test.name, loop.lineno, loop.end_lineno or loop.lineno, True)
        for node in ast.walk(test):
            if isinstance(node, (ast.For, ast.AsyncFor)) and id(node) not in inside:
                header = ast.get_source_segment(text, node.iter) or ""
                if "select_related" in header or "prefetch_related" in header:
                    yield Case(test.name, node.lineno, node.end_lineno or node.lineno, False)


def make_checker(
    config: Config, codes: tuple[str, ...], project: ProjectFacts | ModelIndex | None
) -> Checker:
    """A checker of the given rules that knows the project facts (or only the models of
    ``index``): the one place the bench hands project facts to the engine."""
    rules = all_rules()
    facts = {PROJECT_MODELS: project} if isinstance(project, ModelIndex) else project
    return Checker(config, rules=[rules[code] for code in codes], project=facts or None)


def project_facts(files: list[Path]) -> ProjectFacts:
    """Every provider's facts of ``files``, as ``prodlint check`` builds them for a tree
    (the models and the querysets the project's methods return)."""
    per_file = [
        facts for path in files if (facts := read_facts(path.read_bytes(), str(path))) is not None
    ]
    return build_project(per_file)[0]


def zeal_models(mirror: Path | None) -> ModelIndex | None:
    """zeal's real test models, from its repository snapshot (``tests/djangoproject/social``)."""
    text = read_snapshot(mirror, "taobojlen+django-zeal", "tests/djangoproject/social/models.py")
    return None if text is None else index_tree(ast.parse(text))


def read_snapshot(mirror: Path | None, repo: str, path: str) -> str | None:
    git_dir = mirror / repo / "repo" if mirror is not None else None
    if git_dir is None or not git_dir.is_dir():
        return None
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else None


def measure_zeal(root: Path, mirror: Path | None) -> None:
    path = root / "tests" / "test_nplusones.py"
    text = path.read_text(encoding="utf-8")
    cases = list(zeal_cases(ast.parse(text), text))
    index = zeal_models(mirror)
    print(
        f"zeal models: {'from the repository snapshot' if index else 'not found (no model facts)'}"
    )
    for label, codes in (
        ("default rules (PRD201, PRD202)", ("PRD201", "PRD202")),
        ("with opt-in PRD203", ("PRD201", "PRD202", "PRD203")),
    ):
        # zeal's cases live in its test module but stand for application code: nothing
        # counts as a test file here.
        checker = make_checker(Config(test_paths=()), codes, index)
        findings = checker.check_text(text, "tests/test_nplusones.py")
        positives = [c for c in cases if c.n_plus_one]
        negatives = [c for c in cases if not c.n_plus_one]
        found = [c for c in positives if c.hit(findings)]
        alarms = [c for c in negatives if c.hit(findings)]
        print(
            f"zeal {label}: recall {len(found)}/{len(positives)} N+1 loops; "
            f"false alarms {len(alarms)}/{len(negatives)} prefetch/select loops"
        )
        for case in positives:
            if case not in found:
                print(f"    missed  {case.test} (line {case.line})")
        for case in alarms:
            for finding in case.hit(findings):
                print(
                    f"    alarm   {case.test} line {finding.line}: {finding.code} {finding.message}"
                )


DJANGO_CHECK = (
    "richardhapb+django-check",
    "crates/django-check_semantic/src/passes/n_plus_one.rs",
)
TEST = re.compile(
    r"fn (?P<name>\w+)\(\) \{\s*(?://[^\n]*\s*)*"
    r'let source = r#"(?P<source>.*?)"#;(?P<checks>.*?)\n    \}',
    re.S,
)
# Labels that say N+1 where Django runs no query: a row of ``obj.rel.all()`` (or of a
# filter() on it) has its back-reference to ``obj`` set by the related manager.
BACK_REFERENCE = frozenset(
    {
        "detect_n1_after_get_object_or_404",
        "detect_n1_directly_all_in_for",
        "detect_n1_directly_in_for",
        "detect_n1_filter_directly_in_for",
    }
)


# Positive labels whose snippet runs no N+1 in Django (tests/test_nplusone_runtime.py shows
# both facts): ``perfs = t.relative_performances`` only builds a manager, and the other two
# iterate a manager or read a queryset attribute that does not exist (TypeError /
# AttributeError), then only read managers. Reported both ways below.
NO_QUERY = frozenset(
    {
        "reverse_lookup_detection",
        "detect_n1_nested_relation_access_in_for",
        "prefetch_object_with_nested_queryset_missing_inner_prefetch",
    }
)


def measure_django_check(mirror: Path | None) -> None:
    text = read_snapshot(mirror, *DJANGO_CHECK)
    if text is None:
        print("django-check: snapshot not found, skipped (fetch github:richardhapb/django-check)")
        return
    checker = make_checker(Config(test_paths=()), ("PRD201", "PRD202"), None)
    positives: list[str] = []
    negatives: list[str] = []
    found: list[str] = []
    alarms: list[str] = []
    for match in TEST.finditer(text):
        name, source, checks = match["name"], match["source"], match["checks"]
        expects = "is_empty()" not in checks or "!diags.is_empty()" in checks
        if name in BACK_REFERENCE:
            expects = False
        findings = checker.check_text(source, "app/views.py")
        (positives if expects else negatives).append(name)
        if findings and expects:
            found.append(name)
        elif findings:
            alarms.append(name)
            for finding in findings:
                print(f"    alarm   {name} line {finding.line}: {finding.code} {finding.message}")
    print(
        f"django-check: recall {len(found)}/{len(positives)} N+1 snippets; "
        f"false alarms {len(alarms)}/{len(negatives)} clean snippets "
        f"({len(BACK_REFERENCE)} relabelled clean: Django fills the back-reference)"
    )
    for name in positives:
        if name not in found:
            print(f"    missed  {name}{' (runs no N+1 in Django)' if name in NO_QUERY else ''}")
    real = [name for name in positives if name not in NO_QUERY]
    hits = len([name for name in found if name in real])
    wrong = len(alarms) + len([name for name in found if name in NO_QUERY])
    print(
        f"django-check, labels checked against Django: recall {hits}/{len(real)}; "
        f"false alarms {wrong}/{len(negatives) + len(NO_QUERY)}"
    )


def measure_django(root: Path) -> None:
    package = root / "django"
    started = time.perf_counter()
    project = project_facts(sorted(package.rglob("*.py")))
    index = project[PROJECT_MODELS]
    assert isinstance(index, ModelIndex)
    for label, codes in (("default rules", ("PRD201", "PRD202")), ("PRD203 (opt-in)", ("PRD203",))):
        checker = make_checker(Config(), codes, project)
        findings: list[Finding] = []
        for path in sorted(package.rglob("*.py")):
            display = path.relative_to(root).as_posix()
            findings += checker.check_bytes(path.read_bytes(), display)
        print(
            f"django/ {label}: {len(findings)} findings "
            f"({len(index.models)} models indexed, {time.perf_counter() - started:.2f} s)"
        )
        started = time.perf_counter()
        for finding in findings:
            print(
                f"    {finding.path}:{finding.line}:{finding.col} {finding.code} {finding.message}"
            )


# Real Django apps read from fetched snapshots (fetch github:<owner>/<name>): every PRD2xx
# finding with the project's default roles (tests and migrations left alone), for review.
APPS = ("healthchecks+healthchecks", "django+djangoproject.com", "pretalx+pretalx")


def measure_apps(mirror: Path | None) -> None:
    for repo in APPS:
        git_dir = mirror / repo / "repo" if mirror is not None else None
        if git_dir is None or not git_dir.is_dir():
            print(f"{repo}: snapshot not found, skipped")
            continue
        with tempfile.TemporaryDirectory(prefix="prodlint-app-") as temp:
            archive = subprocess.run(
                ["git", "--git-dir", str(git_dir), "archive", "HEAD"],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", temp], input=archive, check=True)
            measure_app(repo, Path(temp))


def measure_app(label: str, root: Path) -> None:
    """Every PRD2xx finding in an app's tree, with the project facts of the whole tree."""
    files = sorted(root.rglob("*.py"))
    started = time.perf_counter()
    checker = make_checker(Config(), ("PRD201", "PRD202"), project_facts(files))
    findings = [
        finding
        for path in files
        for finding in checker.check_bytes(path.read_bytes(), path.relative_to(root).as_posix())
        if finding.code.startswith("PRD2")
    ]
    elapsed = time.perf_counter() - started
    print(f"{label}: {len(findings)} PRD2xx findings in {len(files)} files ({elapsed:.1f} s)")
    # Rows a function is handed by every call site (rules/nplusone/call_sites.py).
    passed = sum("at every call site" in finding.message for finding in findings)
    print(f"    of which rows passed in by every call site: {passed}")
    for finding in findings:
        print(f"    {finding.path}:{finding.line} {finding.code} {finding.message[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src", type=Path, help="a folder holding the unpacked sdists (skips download)"
    )
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path("/work/.mirror"),
        help="where fetched repository snapshots live (owner+name/repo)",
    )
    args = parser.parse_args()
    measure_django_check(args.mirror)
    measure_apps(args.mirror)
    if args.src:
        roots = locate(args.src)
    else:
        roots = fetch()
    measure_app("django-allauth 65.3.0 (sdist)", roots["django-allauth"] / "allauth")
    measure_zeal(roots["django-zeal"], args.mirror)
    measure_django(roots["django"])
    measure_templates(args.mirror, roots["django"])


# --- PRD204: querysets handed to templates ---------------------------------------------
# Django apps with templates, from fetched snapshots, checked through the CLI (the real
# pipeline: template folders found beside the apps, read as project facts). Every PRD204
# finding is listed for review; the ones judged are in the PRD204 commit notes.
TEMPLATE_APPS = (
    *APPS,
    "netbox-community+netbox",
    "DefectDojo+django-DefectDojo",
    "django-oscar+django-oscar",
    "readthedocs+readthedocs.org",
)
TEMPLATE_TREE_SUFFIXES = (".py", ".html", ".txt", ".jinja", ".jinja2", ".j2", ".xml")


def unpack_snapshot(git_dir: Path, into: Path) -> None:
    """The Python files and templates of a snapshot's HEAD; blobs the snapshot left out
    (large files) are skipped, where ``git archive`` would stop."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        kind, sha = meta.split()[1:]
        if kind != "blob" or not path.endswith(TEMPLATE_TREE_SUFFIXES):
            continue
        blob = subprocess.run(
            ["git", "--git-dir", str(git_dir), "cat-file", "blob", sha], capture_output=True
        )
        if blob.returncode == 0:
            target = into / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)


def prd204_findings(root: Path, target: str = ".") -> tuple[list[dict[str, object]], float]:
    """PRD204's findings in ``root`` from ``prodlint check``, and the CPU seconds it took."""
    import json
    import resource
    import sys

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "prodlint", "check", "--select", "PRD204", "--no-cache"]
        + ["--format", "json", "--exit-zero", target],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return [f for f in findings if f["code"] == "PRD204"], cpu


def measure_templates(mirror: Path | None, django_root: Path) -> None:
    for repo in TEMPLATE_APPS:
        git_dir = mirror / repo / "repo" if mirror is not None else None
        if git_dir is None or not git_dir.is_dir():
            print(f"PRD204 {repo}: snapshot not found, skipped")
            continue
        with tempfile.TemporaryDirectory(prefix="prodlint-templates-") as temp:
            unpack_snapshot(git_dir, Path(temp))
            findings, cpu = prd204_findings(Path(temp))
        print(f"PRD204 {repo}: {len(findings)} findings ({cpu:.1f} s CPU)")
        for finding in findings:
            print(f"    {finding['path']}:{finding['line']} {str(finding['message'])[:150]}")
    findings, cpu = prd204_findings(django_root, "django")
    print(f"PRD204 Django's django/: {len(findings)} findings ({cpu:.1f} s CPU)")


if __name__ == "__main__":
    main()
