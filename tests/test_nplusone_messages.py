"""What PRD2xx findings tell the user: the remedy they name must be one Django accepts."""

from __future__ import annotations

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.model import FixSafety
from prodlint.rules.nplusone.lazy_relation import EagerLoadPayload

GENERIC = """
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models


class Note(models.Model):
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    target = GenericForeignKey("content_type", "object_id")


def targets():
    return [n.target for n in Note.objects.all()]
"""


def test_generic_foreign_key_remedy_is_prefetch_related() -> None:
    # Django raises FieldError for select_related("target") on a GenericForeignKey.
    [finding] = Checker(Config()).check_text(GENERIC, "app/views.py")
    assert finding.code == "PRD202"
    assert 'prefetch_related("target")' in finding.message
    assert "select_related" not in finding.message
    assert finding.fix is FixSafety.SAFE
    assert finding.payload_as(EagerLoadPayload).method == "prefetch_related"


def test_migration_files_have_no_nplusone_findings_unless_configured() -> None:
    loop = """
from django.db import models


class Book(models.Model):
    author = models.ForeignKey("Author", on_delete=models.CASCADE)


def forwards(apps, schema_editor):
    for book in Book.objects.all():
        book.author.name
        book.save()
"""
    assert not Checker(Config()).check_text(loop, "shop/migrations/0003_backfill.py")
    assert {f.code for f in Checker(Config()).check_text(loop, "shop/backfill.py")} == {
        "PRD201",
        "PRD202",
    }
