"""bench/review_hunks.py, the reviewer's table (issue 8): a hunk keeps its id when the file
changes elsewhere, so a label stays attached to the edit it judged; the table counts labels
per rule and tier and shows what is not labelled yet."""

from __future__ import annotations

import sys
from pathlib import Path

from corpus import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import review_hunks  # noqa: E402

MODULE = """\
import logging

logger = logging.getLogger(__name__)


def charge(order):
    logger.info("charging %s" % (order.id,))
    return order
"""


def hunks_of(tree: Path) -> list[review_hunks.Hunk]:
    found = review_hunks.findings(tree)
    changed = review_hunks.fixed(tree, unsafe=False)
    made = []
    for path, (before, after) in sorted(changed.items()):
        for start, count, text in review_hunks.split(before, after, path):
            codes = review_hunks.codes_for(start, count, found.get(path, []))
            made.append(review_hunks.Hunk("demo", path, "safe", codes, start, text))
    return made


def test_a_hunk_keeps_its_id_when_lines_move(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    (first / "shop.py").write_text(MODULE, encoding="utf-8")
    second = tmp_path / "second"
    second.mkdir()
    moved = MODULE.replace("\n\ndef charge", "\n\nRATE = 2\n\n\ndef charge")
    (second / "shop.py").write_text(moved, encoding="utf-8")
    [one] = hunks_of(first)
    [other] = hunks_of(second)
    assert one.old_start != other.old_start
    assert one.id == other.id
    assert one.id.startswith("demo:shop.py:PRD502:")
    assert '+    logger.info("charging %s", order.id)' in one.text


def test_the_table_counts_labels_per_rule_and_tier(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(MODULE, encoding="utf-8")
    [hunk] = hunks_of(tmp_path)
    unlabelled = review_hunks.table([hunk], {})
    assert "PRD502   safe            0         0         0         1" in unlabelled
    labels = {hunk.id: {"verdict": "ugly", "tier": "safe", "rule": "PRD502", "why": "demo"}}
    labelled = review_hunks.table([hunk], labels)
    assert "PRD502   safe            0         1         0         0" in labelled
    assert "100.0 % ugly" in labelled


def test_the_committed_labels_are_well_formed() -> None:
    import json

    labels = json.loads(review_hunks.LABELS.read_text(encoding="utf-8"))
    assert len(labels) >= 200
    for key, label in labels.items():
        assert key.count(":") >= 3, key
        assert label["verdict"] in review_hunks.VERDICTS, key
        assert label["tier"] in review_hunks.TIERS, key
        assert label["rule"].startswith("PRD") and label["why"], key
