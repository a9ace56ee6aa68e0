"""PRD204: querysets handed to templates that read a relation per row.

The template parser on its own; then fixtures/nplusone/template_project (a Django project
whose views render templates from the app's folder, the project's and Jinja2's) checked
through every entry point, with the cache noticing a changed template; and the project
run for real: the flagged views run a query per row before ``prodlint fix`` and a
constant number after, rendering the same HTML.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from corpus import FIXTURES

from prodlint.analysis.templates import (
    Bind,
    Block,
    Include,
    Loop,
    Read,
    TemplateIndex,
    TemplateProvider,
    expression_paths,
    parse_template,
    template_name,
)

BIN = Path(sys.executable).parent
PROJECT = FIXTURES / "nplusone" / "template_project"
VIEWS = "shop/views.py"
MARK = re.compile(r"#\s*project-(flags|clean):\s*(PRD\d+)")


# --- the parser -------------------------------------------------------------------------


def test_expression_paths_skip_filters_literals_and_keywords() -> None:
    assert expression_paths('book.author.name|default:other.x|date:"Y"') == [
        ("book", "author", "name"),
        ("other", "x"),
    ]
    assert expression_paths("not b.author and b.ok") == [("b", "author"), ("b", "ok")]
    assert expression_paths("b.chapters.count() > 1") == [("b", "chapters", "count")]
    assert expression_paths("url('x', pk=b.pk)") == [("url",), ("b", "pk")]
    assert expression_paths("'a.b' ~ c") == [("c",)]


def test_parse_template_nests_loops_with_blocks_and_includes() -> None:
    extends, nodes = parse_template(
        textwrap.dedent(
            """\
            {% extends "base.html" %}
            {% block content %}{# {{ hidden.x }} #}
            {% for b in books %}
              {{ b.author.name }}
              {% for c in b.chapters.all reversed %}{{ c.title }}{% endfor %}
            {% empty %}{{ nothing.here }}
            {% endfor %}
            {% with a=b.c %}{{ a.d }}{% endwith %}
            {% include "row.html" with item=b only %}
            {% comment %}{{ gone.x }}{% endcomment %}{% verbatim %}{{ raw.x }}{% endverbatim %}
            {% endblock %}
            """
        )
    )
    assert extends == "base.html"
    (block,) = nodes
    assert isinstance(block, Block) and block.name == "content"
    loop = next(node for node in block.body if isinstance(node, Loop))
    assert loop.targets == ("b",) and loop.iterable == ("books",) and loop.line == 3
    assert Read(("b", "author", "name"), 4) in loop.body
    inner = next(node for node in loop.body if isinstance(node, Loop))
    assert inner.iterable == ("b", "chapters", "all") and inner.line == 5
    # The {% empty %} part runs once, outside the loop.
    assert Read(("nothing", "here"), 6) in block.body
    bind = next(node for node in block.body if isinstance(node, Bind))
    assert bind.bindings == (("a", ("b", "c")),) and bind.body == (Read(("a", "d"), 8),)
    assert Include("row.html", (("item", ("b",)),), True, 9) in block.body
    paths = {node.path[0] for node in block.body if isinstance(node, Read)}
    assert not paths & {"hidden", "gone", "raw"}


def test_jinja_set_binds_for_the_rest_of_the_loop() -> None:
    _, nodes = parse_template(
        "{%- for b in books if b.ok -%}{% set who = b.author %}{{ who.name }}{%- endfor %}"
    )
    loop = next(node for node in nodes if isinstance(node, Loop))
    assert Read(("b", "ok"), 1) in loop.body and Read(("books",), 1) in nodes
    bind = next(node for node in loop.body if isinstance(node, Bind))
    assert bind.bindings == (("who", ("b", "author")),)
    assert bind.body == (Read(("who", "name"), 1),)


def test_unbalanced_tags_do_not_raise() -> None:
    _, nodes = parse_template("{% for b in books %}{% if b.x %}{{ b.y }}{% endfor %}{% endif %}")
    assert any(isinstance(node, Loop) for node in nodes)


def test_extends_takes_the_childs_blocks_and_block_super() -> None:
    provider = TemplateProvider()
    base = provider.extract_text(
        b"<h1>{% block title %}{{ site.name }}{% endblock %}</h1>{% block body %}{% endblock %}",
        "/p/templates/base.html",
    )
    child = provider.extract_text(
        b'{% extends "base.html" %}{% block title %}{{ block.super }} {{ page.x }}'
        b"{% endblock %}{% block body %}{{ page.y }}{% endblock %}",
        "/p/app/templates/app/child.html",
    )
    assert base is not None and child is not None and child.name == "app/child.html"
    index = provider.build([child, base])
    assert isinstance(index, TemplateIndex)
    body = index.effective("app/child.html")
    assert body is not None
    reads = [node.path for block in body if isinstance(block, Block) for node in block.body]
    assert reads == [("site", "name"), ("page", "x"), ("page", "y")]


def test_template_name_is_relative_to_the_nearest_templates_folder() -> None:
    assert template_name("/p/shop/templates/shop/list.html") == "shop/list.html"
    assert template_name("/p/jinja2/a.jinja") == "a.jinja"
    assert template_name("/p/shop/list.html") is None


def test_project_folder_wins_over_an_apps() -> None:
    provider = TemplateProvider()
    app = provider.extract_text(b"{{ a.b }}", "/p/shop/templates/x.html")
    project = provider.extract_text(b"{{ c.d }}", "/p/templates/x.html")
    assert app is not None and project is not None
    assert provider.build([app, project]).find("x.html") == project


# --- the fixture project through every entry point ---------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(PROJECT, root)
    (root / "pyproject.toml").write_text("[tool.prodlint]\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, timeout=60)
    return root


def annotated(path: Path) -> tuple[set[int], set[int]]:
    flagged: set[int] = set()
    clean: set[int] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = MARK.search(line)
        if match and match.group(2) == "PRD204":
            (flagged if match.group(1) == "flags" else clean).add(number + 1)
    return flagged, clean


def prodlint(cwd: Path, *args: str, stdin: str | None = None) -> set[tuple[int, str]]:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", "--select", "PRD204", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return {(f["line"], f["message"]) for f in json.loads(done.stdout)["findings"]}


def flake8(cwd: Path) -> set[tuple[int, str]]:
    done = subprocess.run(
        [str(BIN / "flake8"), "--select", "PRD204", "--format", "%(row)d|%(text)s", VIEWS],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = [line.split("|", 1) for line in done.stdout.splitlines()]
    return {(int(row), text.removeprefix("PRD204 ")) for row, text in rows}


def test_findings_match_the_annotations(project: Path) -> None:
    found = prodlint(project, ".", "--no-cache")
    flagged, clean = annotated(project / VIEWS)
    lines = {line for line, _ in found}
    assert lines == flagged
    assert not lines & clean
    messages = {message for _, message in found}
    assert any("`shop/row.html` line 2 reads `item.publisher`" in m for m in messages)
    assert any('prefetch_related("chapters__editor")' in m for m in messages)
    assert any("`shop/books.jinja`" in m for m in messages)
    # Read through the reverse relation, each book's author is filled in.
    assert not any("`book.author`" in m and "authors.html" in m for m in messages)


def test_every_entry_point_gives_the_same_findings(project: Path) -> None:
    whole = prodlint(project, ".", "--no-cache")
    assert whole
    assert prodlint(project, VIEWS, "--no-cache") == whole
    views = (project / VIEWS).read_text(encoding="utf-8")
    assert prodlint(project, "--stdin-filename", VIEWS, "-", "--no-cache", stdin=views) == whole
    assert flake8(project) == whole


def test_a_changed_template_rechecks_the_view(project: Path) -> None:
    before = prodlint(project, ".")
    assert prodlint(project, ".") == before  # from the cache
    row = project / "shop" / "templates" / "shop" / "row.html"
    row.write_text("<span>{{ item.title }}</span>\n", encoding="utf-8")
    after = prodlint(project, ".")
    assert {m for _, m in before} - {m for _, m in after} == {
        m for _, m in before if "item.publisher" in m
    }
    row.write_text("\n\n{{ item.publisher.name }}\n", encoding="utf-8")
    again = {m for _, m in prodlint(project, ".")}
    assert any("`shop/row.html` line 3 reads `item.publisher`" in m for m in again)


def test_fix_edits_the_querysets_the_views_build(project: Path) -> None:
    done = subprocess.run(
        [str(BIN / "prodlint"), "fix", "--unsafe-fixes", "--no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    fixed = (project / VIEWS).read_text(encoding="utf-8")
    assert fixed == (PROJECT / "views.fixed.txt").read_text(encoding="utf-8")
    # Left: the views whose queryset is not built where they render (one row fetched by
    # get_object_or_404, a ListView naming only its model).
    left = prodlint(project, ".", "--no-cache")
    assert len(left) == 2
    assert all("(`author`)" in message or "(`Book`)" in message for _, message in left)


def test_no_templates_no_findings(project: Path) -> None:
    for folder in ("templates", "jinja2", "shop/templates"):
        shutil.rmtree(project / folder)
    assert not prodlint(project, ".", "--no-cache")


# --- the project run for real ------------------------------------------------------------

RUNNER = """
import hashlib, json, sys
import django
from django.conf import settings

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["shop"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": ["templates"],
        "APP_DIRS": True,
    }],
)
django.setup()
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from shop import models, views

with connection.schema_editor() as editor:
    for model in (models.Author, models.Publisher, models.Book, models.Chapter):
        editor.create_model(model)
result = {}
for rows in (3, 6):
    for model in (models.Chapter, models.Book, models.Publisher, models.Author):
        model.objects.all().delete()
    for i in range(rows):
        author = models.Author.objects.create(name=f"author{i}")
        book = models.Book.objects.create(
            title=f"book{i}", author=author,
            publisher=models.Publisher.objects.create(name=f"publisher{i}"),
        )
        for j in range(2):
            models.Chapter.objects.create(book=book, title=f"c{j}", editor=author)
    first = models.Author.objects.order_by("pk").first().pk
    for name in sys.argv[1:]:
        view = getattr(views, name)
        if isinstance(view, type):
            view = view.as_view()
        with CaptureQueriesContext(connection) as captured:
            response = view(RequestFactory().get("/"), pk=first) if "Detail" in name else view(
                RequestFactory().get("/")
            )
            if hasattr(response, "render"):
                response.render()
        html = response.content.decode()
        assert html.count("book") >= (1 if "Detail" in name else rows), html
        result.setdefault(name, []).append((len(captured.captured_queries), html))
print(json.dumps(result))
"""
RUN_VIEWS = ["book_list", "author_page", "counted_list", "loaded_list", "TitledBooks", "ShelfView"]


def render_views(root: Path) -> dict[str, list[tuple[int, str]]]:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *RUN_VIEWS],
        cwd=root,
        # No bytecode left behind: the run after the fix must import the fixed views.
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[tuple[int, str]]] = json.loads(done.stdout)
    return result


def test_fixed_views_run_a_constant_number_of_queries(project: Path) -> None:
    pytest.importorskip("django")
    before = render_views(project)
    subprocess.run(
        [str(BIN / "prodlint"), "fix", "--unsafe-fixes", "--no-cache", "."],
        cwd=project,
        capture_output=True,
        timeout=300,
        check=False,
    )
    after = render_views(project)
    for view in RUN_VIEWS:
        (few, few_html), (more, more_html) = before[view]
        (fixed_few, fixed_few_html), (fixed_more, fixed_more_html) = after[view]
        # The same page, from the same rows.
        assert (fixed_few_html, fixed_more_html) == (few_html, more_html), view
        assert fixed_few == fixed_more <= 4, (view, after[view])
        if view == "loaded_list":
            assert few == more  # loaded already: nothing to fix
        else:
            assert more - few >= 3, (view, before[view])  # a query (or more) per row


def test_template_folders_are_the_apps_and_the_projects(tmp_path: Path) -> None:
    from prodlint.discovery import SourceFile
    from prodlint.textfiles import template_files

    def touch(relative: str) -> SourceFile:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{{ x }}\n", encoding="utf-8")
        return SourceFile(str(path), str(path), relative)

    python = [touch("site/shop/models.py"), touch("site/shop/forms/widgets.py")]
    wanted = {
        touch("site/shop/templates/shop/list.html").key,  # the app's
        touch("site/templates/base.html").key,  # BASE_DIR's, beside the apps
        touch("site/jinja2/page.jinja").key,
    }
    touch("site/shop/forms/templates/widget.html")  # beside no app file
    touch("site/shop/templates/shop/logo.png")  # not a template
    assert {f.key for f in template_files(python)} == wanted


def test_fix_safety_follows_what_else_the_view_does_with_the_queryset(project: Path) -> None:
    done = subprocess.run(
        [str(BIN / "prodlint"), "check", "--format", "json", "--select", "PRD204", "--no-cache"]
        + ["."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    safety = {
        (f["line"], (f["fix"] or {}).get("safety", "none"))
        for f in json.loads(done.stdout)["findings"]
    }
    text = (project / VIEWS).read_text(encoding="utf-8").splitlines()

    def line_of(snippet: str) -> int:
        return next(n for n, line in enumerate(text, start=1) if snippet in line)

    # Inline in the context, or a name read only there: safe.
    assert (line_of('"shop/books.html", {"books": books}'), "safe") in safety
    # The view also counts the queryset: the eager load reaches that use too.
    assert (line_of('"shop/books.html", context)'), "unsafe") in safety
    # One row from get_object_or_404, a ListView naming only its model: nothing to edit.
    assert (line_of('"shop/author_detail.html", {"object": author}'), "none") in safety
    assert (line_of("model = Book"), "none") in safety


def test_codemod_makes_the_fix_prodlint_fix_makes(project: Path, tmp_path: Path) -> None:
    expected = tmp_path / "expected"
    shutil.copytree(project, expected)
    subprocess.run(
        [str(BIN / "prodlint"), "fix", "--select", "PRD204", "--no-cache", VIEWS],
        cwd=expected,
        capture_output=True,
        timeout=300,
        check=False,
    )
    wanted = (expected / VIEWS).read_text(encoding="utf-8")
    assert 'select_related("author", "publisher")' in wanted
    done = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "--no-format", "-x"]
        + ["prodlint.codemods.rules.RelationReadInTemplateLoop", VIEWS],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (project / VIEWS).read_text(encoding="utf-8") == wanted


@pytest.mark.slow
def test_precommit_with_only_the_view_staged(project: Path, tmp_path: Path) -> None:
    """The templates and models are committed; the hook gets the staged view alone."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@prodlint.invalid"]
    subprocess.run([*git, "add", "."], cwd=project, check=True, timeout=60)
    subprocess.run([*git, "reset", "-q", "--", VIEWS], cwd=project, check=True, timeout=60)
    subprocess.run([*git, "commit", "-q", "-m", "app"], cwd=project, check=True, timeout=60)
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: prodlint\n    name: prodlint\n"
        f"    entry: {BIN / 'prodlint'} check --select PRD204\n    language: system\n"
        "    types_or: [python, pyi]\n    require_serial: true\n",
        encoding="utf-8",
    )
    subprocess.run([*git, "add", ".pre-commit-config.yaml", VIEWS], cwd=project, check=True)
    done = subprocess.run(
        [str(BIN / "pre-commit"), "run"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home")},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"{VIEWS}:13:12: PRD204" in output and "`shop/row.html` line 2" in output, output
