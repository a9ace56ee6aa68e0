"""PRD401-405 on real code and on other tools' labelled cases.

False alarms: every PRD4xx finding on requests, urllib3, httpx, Django 5.2.8's ``django/``,
Flask (pinned sdists, downloaded at run time) and this interpreter's stdlib ``Lib/`` is
counted and listed for judging, next to bandit's B105/B106/B107 (hardcoded passwords),
B113 (request without timeout) and B501 (verify=False) on the same trees, outside test
files (where prodlint does not look by default) and in all files.

Labelled cases: bandit's examples (its sdist, labelled by running the real bandit) and
semgrep-rules' python tests for jwt/requests/password defaults/Flask/boto3 secrets, read
from a copy of github.com/semgrep/semgrep-rules (a bare git directory such as the one the
``fetch`` tool makes, or a checkout; skipped when there is none). Recall and false alarms
are per labelled statement; prodlint findings on unlabelled lines are listed.

Speed: CPU time of one parse and of the engine's walk over Django's ``django/`` with every
default rule but PRD4xx, and with them (best of five, so other load on the machine counts
least).

    python bench/config_precision.py [--skip-bandit] [--skip-stdlib] [--semgrep-rules DIR]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from pathlib import Path

import sdists

from prodlint.analysis.context import Context
from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import Finding
from prodlint.paths import DEFAULT_TEST_PATHS, path_matches
from prodlint.registry import all_rules

# Application code (where request handlers and settings modules live), read from public
# repositories fetched as bare git directories (the ``fetch`` tool's mirrors); each is
# skipped when absent. (mirror folder, path inside the repository)
APP_REPOS = {
    "healthchecks": ("healthchecks+healthchecks", "."),
    "redash": ("getredash+redash", "redash"),
    "netbox": ("netbox-community+netbox", "netbox"),
    "fastapi-template": ("fastapi+full-stack-fastapi-template", "backend"),
}
MIRRORS = Path("/work/.mirror")
TREES = {
    "requests": ("requests==2.32.3", "src"),
    "urllib3": ("urllib3==2.2.3", "src"),
    "httpx": ("httpx==0.27.2", "httpx"),
    "django": ("django==5.2.8", "django"),
    "flask": ("flask==3.1.3", "src"),
}
BANDIT_TESTS = "B105,B106,B107,B108,B113,B501"
BANDIT = "bandit==1.9.4"
BANDIT_EXAMPLES = (
    "hardcoded-passwords.py",
    "requests-missing-timeout.py",
    "requests-ssl-verify-disabled.py",
    "flask_debug.py",
    "hardcoded-tmp.py",
)
BANDIT_TO_PRODLINT = {
    "B105": "PRD402",
    "B106": "PRD402",
    "B107": "PRD402",
    "B113": "PRD403",
    "B501": "PRD404",
    "B201": "PRD405",
    "B108": "PRD407",
}
SEMGREP_CASES = {
    "python/jwt/security/jwt-hardcode.py": {"jwt-python-hardcoded-secret": "PRD402"},
    "python/requests/best-practice/use-timeout.py": {"use-timeout": "PRD403"},
    "python/requests/security/disabled-cert-validation.py": {"disabled-cert-validation": "PRD404"},
    "python/lang/security/audit/hardcoded-password-default-argument.py": {
        "hardcoded-password-default-argument": "PRD402"
    },
    "python/flask/security/audit/hardcoded-config.py": {
        "avoid_hardcoded_config_SECRET_KEY": "PRD402"
    },
    "python/boto3/security/hardcoded-token.py": {"hardcoded-token": "PRD402"},
}
SEMGREP_REPOS = (
    Path("/work/.mirror/semgrep+semgrep-rules/repo"),
    Path.home() / "src" / "semgrep-rules",
)
ANNOTATION = re.compile(r"#\s*(ruleid|ok)\s*:\s*([\w.-]+)")


def app_tree(git_dir: Path, inside: str, target: Path) -> Path | None:
    """``inside`` of the repository's HEAD, unpacked under ``target``; None without a mirror."""
    if not git_dir.is_dir():
        return None
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", "HEAD", inside],
        capture_output=True,
        check=False,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=False)
    return target / inside


def checker() -> Checker:
    return Checker(
        Config(), rules=[rule for code, rule in all_rules().items() if code.startswith("PRD4")]
    )


def python_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.py")
        if "__pycache__" not in p.parts and "site-packages" not in p.parts
    )


def prodlint_tree(root: Path) -> tuple[list[Finding], float]:
    check = checker()
    found: list[Finding] = []
    started = time.perf_counter()
    for path in python_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += check.check_text(text, path.relative_to(root).as_posix())
    # Files that do not parse (the stdlib's test data) are no finding of this family.
    return [f for f in found if f.code.startswith("PRD4")], time.perf_counter() - started


def bandit_tree(root: Path) -> tuple[Counter[str], Counter[str], float]:
    """bandit's counts per test id outside test files, and in all files."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", "-f", "json", "-t", BANDIT_TESTS, str(root)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    results = json.loads(done.stdout or "{}").get("results", [])
    app: Counter[str] = Counter()
    every: Counter[str] = Counter()
    for result in results:
        relative = Path(result["filename"]).resolve().relative_to(root.resolve()).as_posix()
        every[result["test_id"]] += 1
        if not path_matches(relative, DEFAULT_TEST_PATHS):
            app[result["test_id"]] += 1
    return app, every, time.perf_counter() - started


def statement_spans(text: str) -> dict[int, int]:
    """First line -> last line of each statement (the span a labelled line stands for)."""
    spans: dict[int, int] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.stmt):
            spans.setdefault(node.lineno, node.end_lineno or node.lineno)
    return spans


def score(
    name: str, text: str, labels: dict[int, tuple[str, str]]
) -> tuple[int, int, int, int, list[str]]:
    """(ruleid labels, found, ok labels, false alarms, notes) for one labelled file;
    ``labels`` maps a line to (ruleid/ok, prodlint code)."""
    findings = checker().check_text(text, name)
    spans = statement_spans(text)
    claimed: set[tuple[int, str]] = set()
    positives = found = negatives = alarms = 0
    notes: list[str] = []
    for line, (kind, code) in sorted(labels.items()):
        end = spans.get(line, line)
        hits = [f for f in findings if f.code == code and line <= f.line <= end]
        claimed.update((f.line, f.code) for f in hits)
        if kind == "ruleid":
            positives += 1
            found += bool(hits)
            if not hits:
                notes.append(
                    f"  missed {name}:{line} {code}: {text.splitlines()[line - 1].strip()}"
                )
        else:
            negatives += 1
            alarms += bool(hits)
            if hits:
                notes.append(
                    f"  flagged ok {name}:{line} {code}: {text.splitlines()[line - 1].strip()}"
                )
    codes = {code for _, code in labels.values()}
    for finding in findings:
        if finding.code in codes and (finding.line, finding.code) not in claimed:
            source = text.splitlines()[finding.line - 1].strip()
            notes.append(f"  unlabelled {name}:{finding.line} {finding.code}: {source}")
    return positives, found, negatives, alarms, notes


def bandit_labelled() -> None:
    examples = sdists.fetch(BANDIT) / "examples"
    print(f"bandit {BANDIT} examples, labelled by running bandit:")
    for name in BANDIT_EXAMPLES:
        path = examples / name
        done = subprocess.run(
            [sys.executable, "-m", "bandit", "-q", "-f", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        labels = {
            r["line_number"]: ("ruleid", BANDIT_TO_PRODLINT[r["test_id"]])
            for r in json.loads(done.stdout)["results"]
            if r["test_id"] in BANDIT_TO_PRODLINT
        }
        text = path.read_text(encoding="utf-8")
        # Every other statement is one bandit leaves alone: an `ok` for the same codes.
        for line in statement_spans(text):
            if line not in labels:
                for code in {code for _, code in labels.values()}:
                    labels.setdefault(line, ("ok", code))
        positives, found, negatives, alarms, notes = score(name, text, labels)
        print(
            f"  {name}: recall {found}/{positives}, "
            f"false alarms {alarms}/{negatives} unflagged statements"
        )
        for note in notes:
            print("  " + note)


def semgrep_labelled(repo: Path | None) -> None:
    if repo is None:
        print("semgrep-rules: no copy found (fetch github:semgrep/semgrep-rules); skipped")
        return
    print(f"semgrep-rules tests ({repo}):")
    for path, mapping in SEMGREP_CASES.items():
        git = repo / "HEAD"
        if git.is_file() or (repo / "objects").is_dir():
            text = subprocess.run(
                ["git", "--git-dir", str(repo), "show", f"HEAD:{path}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        else:
            text = (repo / path).read_text(encoding="utf-8")
        labels: dict[int, tuple[str, str]] = {}
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            match = ANNOTATION.search(line)
            if match and match.group(2) in mapping:
                target = number + 1
                while target <= len(lines) and lines[target - 1].lstrip().startswith("#"):
                    target += 1
                labels[target] = (match.group(1), mapping[match.group(2)])
        positives, found, negatives, alarms, notes = score(Path(path).name, text, labels)
        print(f"  {path}: recall {found}/{positives}, false alarms {alarms}/{negatives}")
        for note in notes:
            print("  " + note)


def speed(root: Path, rounds: int = 5) -> None:
    trees = []
    parse = float("inf")
    texts = [
        (p.relative_to(root).as_posix(), p.read_text(encoding="utf-8", errors="replace"))
        for p in python_files(root)
    ]
    for _ in range(rounds):
        started = time.process_time()
        parsed = []
        for path, text in texts:
            try:
                parsed.append((path, text, ast.parse(text)))
            except SyntaxError:
                continue
        parse = min(parse, time.process_time() - started)
        trees = parsed
    rules = [rule for rule in all_rules().values() if rule.default_enabled]
    sets = {
        "without PRD4xx": [r for r in rules if not r.code.startswith("PRD4")],
        "with PRD4xx": rules,
    }
    best = {name: float("inf") for name in sets}
    for _ in range(rounds):
        for name, chosen in sets.items():
            check = Checker(Config(), rules=chosen)
            started = time.process_time()
            for path, text, tree in trees:
                check.walk(tree, Context(path, text, tree, check.settings))
            best[name] = min(best[name], time.process_time() - started)
    added = best["with PRD4xx"] - best["without PRD4xx"]
    base = parse + best["without PRD4xx"]
    print(
        f"Speed on {root.name}/ ({len(trees)} files, CPU s, best of {rounds}): "
        f"parse {parse:.2f}, walk without "
        f"PRD4xx {best['without PRD4xx']:.2f}, with {best['with PRD4xx']:.2f}: +{added:.2f} s, "
        f"{100 * added / base:.0f}% of parse + walk"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--skip-bandit", action="store_true", help="do not run bandit on the real trees"
    )
    parser.add_argument("--skip-stdlib", action="store_true")
    parser.add_argument(
        "--semgrep-rules", type=Path, help="a copy of github.com/semgrep/semgrep-rules"
    )
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    trees = {
        name: sdists.fetch(requirement) / folder for name, (requirement, folder) in TREES.items()
    }
    if not args.skip_stdlib:
        trees["stdlib"] = Path(sysconfig.get_paths()["stdlib"])
    scratch = tempfile.TemporaryDirectory(prefix="config-precision-")
    for name, (mirror, inside) in APP_REPOS.items():
        unpacked = app_tree(MIRRORS / mirror / "repo", inside, Path(scratch.name) / name)
        if unpacked is None:
            source = mirror.replace("+", "/")
            print(f"{name}: no mirror at {MIRRORS / mirror} (fetch github:{source}); skipped")
        else:
            trees[name] = unpacked
    print(
        "False alarms on real code "
        "(prodlint skips test files; bandit counted outside them and in all):"
    )
    totals: Counter[str] = Counter()
    for name, root in trees.items():
        findings, seconds = prodlint_tree(root)
        codes = Counter(f.code for f in findings)
        line = (
            f"  {name}: {len(python_files(root))} files, prodlint {sum(codes.values())} "
            f"{dict(sorted(codes.items()))} ({seconds:.1f} s)"
        )
        if not args.skip_bandit:
            app, every, bandit_seconds = bandit_tree(root)
            totals.update({f"bandit-app-{k}": v for k, v in app.items()})
            line += (
                f"; bandit outside tests {dict(sorted(app.items()))}, "
                f"all files {sum(every.values())} ({bandit_seconds:.0f} s)"
            )
        totals.update(codes)
        print(line)
        for finding in findings:
            print(f"      {name}/{finding.path}:{finding.line} {finding.code} {finding.message}")
    print(f"  totals: {dict(sorted(totals.items()))}")
    bandit_labelled()
    repo = args.semgrep_rules or next((p for p in SEMGREP_REPOS if p.exists()), None)
    semgrep_labelled(repo)
    if not args.skip_speed:
        speed(trees["django"])


if __name__ == "__main__":
    main()
