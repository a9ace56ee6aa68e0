"""The fixture corpus: files under fixtures/ annotated the way ``semgrep --test`` reads them.

``# ruleid: PRD501`` on the line before a line that must be flagged, ``# ok: PRD501`` before
one that must not; ``todoruleid`` / ``todook`` mark lines where the semgrep pack falls short,
and prodlint itself must still get them right. ``x.fixed.py`` beside ``x.py`` holds what
``prodlint fix --unsafe-fixes`` must make of it, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ANNOTATION = re.compile(
    r"#\s*(?P<kind>todoruleid|todook|ruleid|ok)\s*:\s*(?P<codes>[A-Z0-9_,\s-]+?)\s*$"
)


@dataclass
class Fixture:
    path: Path
    flagged: set[tuple[int, str]] = field(default_factory=set)  # (line, code) prodlint must report
    clean: set[tuple[int, str]] = field(
        default_factory=set
    )  # (line, code) prodlint must not report
    semgrep_todo: set[tuple[int, str]] = field(default_factory=set)

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def fixed_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".fixed.py")

    @property
    def codes(self) -> set[str]:
        return {code for _, code in self.flagged | self.clean}


def parse_fixture(path: Path) -> Fixture:
    fixture = Fixture(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, text in enumerate(lines, start=1):
        match = ANNOTATION.search(text)
        if not match or not text.lstrip().startswith("#"):
            continue
        target = number + 1
        for code in re.split(r"[,\s]+", match.group("codes").strip()):
            kind = match.group("kind")
            key = (target, code)
            if kind in ("ruleid", "todoruleid"):
                fixture.flagged.add(key)
            else:
                fixture.clean.add(key)
            if kind.startswith("todo"):
                fixture.semgrep_todo.add(key)
    return fixture


def all_fixtures() -> list[Fixture]:
    return [
        parse_fixture(path)
        for path in sorted(FIXTURES.rglob("*.py"))
        if not path.name.endswith(".fixed.py")
    ]


# A module with a safe fix (PRD202: select_related) and a finding only an unsafe fix removes
# (PRD503), for the CLI and pre-commit fix tests: they do not depend on the logging rules'
# fix safety.
FIXABLE = """from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE)


def names():
    return [book.author.name for book in Book.objects.all()]


def charge(order):
    try:
        order.pay()
    except Exception:
        pass
"""
