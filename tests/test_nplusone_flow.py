"""The N+1 rules read the loop through the function's flow (analysis/flow.py): which
definition of a name reaches a read, and whether a query can run again on the next
iteration. Each case is a pair that differs only in what the flow sees."""

from __future__ import annotations

from prodlint.config import Config
from prodlint.engine import Checker

MODELS = """
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""


def findings(body: str) -> list[tuple[int, str]]:
    source = MODELS + body
    offset = MODELS.count("\n")
    found = Checker(Config()).check_text(source, "shop/views.py")
    return sorted((f.line - offset, f.code) for f in found if f.code.startswith("PRD2"))


def test_a_row_rebound_before_the_read_is_not_the_loops() -> None:
    read = """
def titles(pick):
    for book in Book.objects.all():
        print(book.author.name)
"""
    assert findings(read) == [(4, "PRD202")]
    rebound = """
def titles(pick):
    for book in Book.objects.all():
        book = pick(book)
        print(book.author.name)
"""
    # What ``pick`` returns is not known to be a row of that query.
    assert findings(rebound) == []


def test_a_binding_that_does_not_reach_the_loop_leaves_its_query_known() -> None:
    later = """
def titles():
    books = Book.objects.all()
    for book in books:
        print(book.author.name)
    books = [book.title for book in books]
    return books
"""
    # The second ``books =`` comes after the loop: the loop iterates the queryset.
    assert findings(later) == [(5, "PRD202")]
    either = """
def titles(flag):
    books = Book.objects.all()
    if flag:
        books = [b for b in flag]
    for book in books:
        print(book.author.name)
"""
    assert findings(either) == []  # a list of anything may be what the loop iterates


def test_a_query_left_on_every_way_on_runs_once() -> None:
    leaves = """
def first_author(ids):
    for pk in ids:
        author = Author.objects.get(pk=pk)
        if author.name:
            break
        else:
            return None
    return author
"""
    assert findings(leaves) == []
    continues = """
def authors(ids):
    found = []
    for pk in ids:
        if pk:
            found.append(Author.objects.get(pk=pk))
            continue
        break
    return found
"""
    # The continue brings the query back for every id until the first false one.
    assert findings(continues) == [(6, "PRD201")]


def test_a_lazy_queryset_narrowed_then_evaluated_in_the_loop() -> None:
    narrowed = """
def counts(ids):
    for pk in ids:
        books = Book.objects.filter(author_id=pk)
        books = books.filter(title__startswith="A")
        if books.exists():
            print(pk)
"""
    assert findings(narrowed) == [(4, "PRD201")]
    handed_on = """
def querysets(ids):
    found = []
    for pk in ids:
        books = Book.objects.filter(author_id=pk)
        books = books.filter(title__startswith="A")
        found.append(books)
    return found
"""
    assert findings(handed_on) == []  # never run inside the loop
