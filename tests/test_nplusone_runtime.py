"""The N+1 fixtures, run for real: flagged views run more queries as rows grow, the fixed
views (fixtures/nplusone/*.fixed.py, the exact output of ``prodlint fix --unsafe-fixes``)
run a constant number, and both return the same data.

Django runs against an in-memory sqlite database with the fixture's own models; SQLAlchemy
against an in-memory sqlite engine with a ``before_cursor_execute`` listener counting.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from corpus import FIXTURES

HERE = FIXTURES / "nplusone"


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fixed_functions(path: Path, module: ModuleType) -> dict[str, object]:
    """The fixed file's imports and functions, bound to the original module's classes (the
    models cannot be declared twice in one process)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kept = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))
    ]
    namespace: dict[str, object] = dict(vars(module))
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return namespace


# --- Django ------------------------------------------------------------------------------

DJANGO_VIEWS = [
    "book_authors",
    "book_credits",
    "author_book_counts",
    "book_tags",
    "publisher_catalogue",
    "note_targets",
    "review_authors",
    "review_publishers",
    "bulk_authors",
]
# Reported without a fix (the queryset is built elsewhere, is one object's related manager,
# or only() left the field out): still a query per row, which the test shows.
DJANGO_REPORTED_ONLY = [
    "all_publisher_names",
    "tag_publishers",
    "publisher_labels",
    "recent_titles",
    "first_reviews",
    "tag_catalogue",
    "review_counts_by_id",
    "publishers_by_tag",
    "credited_books",
    "tag_prefetched_authors",
]
# N+1 views where the eager load would raise (only() + select_related: FieldError; iterator()
# + prefetch_related without chunk_size: ValueError; select_related on one side of a union:
# column-count error): PRD202 reports them without a fix, so the fixed file runs as before.
DJANGO_UNFIXABLE = ["deferred_authors", "streamed_tags", "combined_authors"]


@pytest.fixture(scope="module")
def django_views() -> Iterator[tuple[ModuleType, dict[str, object]]]:
    pytest.importorskip("django")
    import django
    from django.conf import settings

    # An installed app for the fixture's models (app_label "nplusone"): Django computes
    # reverse relations only between models of installed apps.
    app = ModuleType("nplusone")
    app.__path__ = [str(HERE)]
    sys.modules.setdefault("nplusone", app)
    if not settings.configured:
        settings.configure(
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            INSTALLED_APPS=["django.contrib.contenttypes", "nplusone"],
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
    django.setup()
    from django.db import connection

    module = load_module(HERE / "django_views.py", "nplusone.django_views")
    from django.contrib.contenttypes.models import ContentType

    with connection.schema_editor() as editor:
        editor.create_model(ContentType)
        for model in (
            module.Author,
            module.Publisher,
            module.Tag,
            module.Book,
            module.Review,
            module.Note,
        ):
            editor.create_model(model)
    yield module, fixed_functions(HERE / "django_views.fixed.py", module)


def seed_django(module: ModuleType, rows: int) -> list[int]:
    for model in (
        module.Note,
        module.Review,
        module.Book,
        module.Tag,
        module.Author,
        module.Publisher,
    ):
        model.objects.all().delete()
    tags = [module.Tag.objects.create(name=f"tag{i}") for i in range(3)]
    ids = []
    for i in range(rows):
        author = module.Author.objects.create(name=f"author{i}")
        publisher = module.Publisher.objects.create(name=f"publisher{i}")
        book = module.Book.objects.create(title=f"Book{i}", author=author, publisher=publisher)
        book.tags.set(tags[: 1 + i % 3])
        module.Review.objects.create(book=book, stars=1 + i % 5)
        module.Note.objects.create(target=book if i % 2 else author)
        ids.append(book.pk)
    return ids


def django_queries(call: Callable[[], object]) -> tuple[int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured.captured_queries), result


@pytest.mark.parametrize("view", DJANGO_VIEWS)
def test_django_flagged_view_is_n_plus_one_and_fix_is_constant(
    django_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    module, fixed = django_views
    counts: dict[str, list[int]] = {"flagged": [], "fixed": []}
    for rows in (3, 6):
        seed_django(module, rows)
        before, data = django_queries(getattr(module, view))
        after, fixed_data = django_queries(fixed[view])  # type: ignore[arg-type]
        assert fixed_data == data
        counts["flagged"].append(before)
        counts["fixed"].append(after)
    # N+1: three more rows, at least three more queries; fixed: the same count.
    assert counts["flagged"][1] - counts["flagged"][0] >= 3, counts
    assert counts["fixed"][0] == counts["fixed"][1] <= 3, counts


@pytest.mark.parametrize("view", DJANGO_UNFIXABLE)
def test_django_view_an_eager_load_would_break_is_left_as_is(
    django_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    module, fixed = django_views
    seed_django(module, 4)
    before, data = django_queries(getattr(module, view))
    after, fixed_data = django_queries(fixed[view])  # type: ignore[arg-type]
    assert data and fixed_data == data
    assert after == before >= 3  # still the N+1 the finding reports


def test_django_loop_that_writes_gets_only_an_unsafe_fix(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """The loop updates authors before reading each book's author: loaded with the books,
    the names are the ones before the loop, so the fix changes the result (unsafe)."""
    from prodlint.config import Config
    from prodlint.engine import Checker
    from prodlint.model import FixSafety

    module, fixed = django_views
    path = HERE / "django_views.py"
    findings = Checker(Config()).check_text(
        path.read_text(encoding="utf-8"), "fixtures/nplusone/django_views.py"
    )
    view = next(
        node
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name == "tick_authors"
    )
    tiers = {
        f.fix
        for f in findings
        if f.code == "PRD202" and view.lineno <= f.line <= (view.end_lineno or 0)
    }
    assert tiers == {FixSafety.UNSAFE}
    seed_django(module, 3)
    lazy = module.tick_authors()
    seed_django(module, 3)
    eager = fixed["tick_authors"]()  # type: ignore[operator]
    assert lazy == ["author0!", "author1!!", "author2!!!"]
    assert eager == ["author0", "author1", "author2"]


def test_django_sliced_queryset_fix_keeps_the_slice(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """``top = reviews[0:5]`` then a loop: the fix loads the book with the reviews (the five
    rows stay the same), so 1 query instead of 1 + 5."""
    module, fixed = django_views
    seed_django(module, 7)
    before, data = django_queries(module.top_reviews)
    after, fixed_data = django_queries(fixed["top_reviews"])  # type: ignore[arg-type]
    assert fixed_data == data and len(data) == 5
    assert (before, after) == (6, 1)


@pytest.mark.parametrize("view", DJANGO_REPORTED_ONLY)
def test_django_reported_without_fix_is_a_query_per_row(
    django_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    module, _ = django_views
    counts = []
    for rows in (3, 6):
        seed_django(module, rows)
        tag = module.Tag.objects.get(name="tag0")  # on every book
        call = getattr(module, view)
        argument = (tag.pk,) if view.startswith("tag_") else ()
        counts.append(django_queries(lambda call=call, argument=argument: call(*argument))[0])
    assert counts[1] - counts[0] >= 3, counts


def test_django_back_reference_from_related_manager_is_free(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Not flagged, and rightly: rows of ``author.books`` have ``.author`` filled in."""
    module, _ = django_views
    seed_django(module, 1)
    author = module.Author.objects.get()
    for i in range(5):
        module.Book.objects.create(
            title=f"More{i}", author=author, publisher=module.Publisher.objects.get()
        )
    count, rows = django_queries(lambda: module.author_titles(author.pk))
    assert len(rows) == 6 and count == 2  # the author, then its books: no query per book


def test_django_nested_prefetch_is_constant(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Not flagged: ``prefetch_related("book_set__publisher")`` serves the inner loop."""
    module, _ = django_views
    counts, results = [], []
    for rows in (3, 6):
        seed_django(module, rows)
        count, data = django_queries(module.publishers_by_tag_loaded)
        counts.append(count)
        results.append((data, module.publishers_by_tag()))
    assert counts == [3, 3]
    assert all(loaded == lazy for loaded, lazy in results)


def test_django_manager_attribute_runs_nothing_and_is_not_iterable(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Why three of django-check's positive labels are not N+1 in Django (the bench counts
    them as misses): reading ``row.rel`` without calling it runs no query, and iterating
    the manager itself raises TypeError."""
    module, _ = django_views
    seed_django(module, 4)
    authors = list(module.Author.objects.all())
    count, managers = django_queries(lambda: [author.books for author in authors])
    assert count == 0 and len(managers) == 4
    with pytest.raises(TypeError):
        iter(authors[0].books)  # type: ignore[call-overload]


def test_django_get_per_id_becomes_one_in_bulk(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    module, fixed = django_views
    ids = seed_django(module, 6)
    before, titles = django_queries(lambda: module.titles_by_id(ids))
    after, fixed_titles = django_queries(lambda: fixed["titles_by_id"](ids))  # type: ignore[operator]
    assert (before, after) == (6, 1)
    assert fixed_titles == titles


def test_django_create_per_row_becomes_one_bulk_create(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    module, fixed = django_views
    names = [f"new{i}" for i in range(5)]
    seed_django(module, 1)
    before, _ = django_queries(lambda: module.create_tags(names))
    created = sorted(
        module.Tag.objects.filter(name__startswith="new").values_list("name", flat=True)
    )
    module.Tag.objects.filter(name__startswith="new").delete()
    after, _ = django_queries(lambda: fixed["create_tags"](names))  # type: ignore[operator]
    fixed_created = sorted(
        module.Tag.objects.filter(name__startswith="new").values_list("name", flat=True)
    )
    # bulk_create runs inside a savepoint on sqlite: SAVEPOINT, INSERT, RELEASE.
    assert before == 5 and after <= 3
    assert fixed_created == created == names


# --- SQLAlchemy ----------------------------------------------------------------------------

SQLA_VIEWS = ["post_counts", "post_authors", "legacy_query"]
# selectinload() on a lazy="dynamic" relationship raises InvalidRequestError: no fix.
SQLA_UNFIXABLE = ["dynamic_counts"]


@pytest.fixture(scope="module")
def sqla() -> Iterator[tuple[ModuleType, dict[str, object], object, list[int]]]:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import create_engine, event

    module = load_module(HERE / "sqlalchemy_views.py", "nplusone_sqlalchemy_views")
    engine = create_engine("sqlite://")
    module.Base.metadata.create_all(engine)
    statements: list[int] = []

    def count(*_args: object) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    yield module, fixed_functions(HERE / "sqlalchemy_views.fixed.py", module), engine, statements


def seed_sqla(module: ModuleType, engine: object, rows: int) -> None:
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        for model in (module.Badge, module.Post, module.User):
            session.execute(delete(model))
        for i in range(rows):
            user = module.User(name=f"user{i}")
            session.add(user)
            session.flush()
            session.add_all(
                [module.Post(title=f"post{i}-{j}", author_id=user.id) for j in range(2)]
            )
        session.commit()


def sqla_queries(
    engine: object, statements: list[int], view: Callable[..., object]
) -> tuple[int, object]:
    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        statements.clear()
        result = view(session)
        return len(statements), result


@pytest.mark.parametrize("view", SQLA_VIEWS)
def test_sqlalchemy_flagged_view_is_n_plus_one_and_fix_is_constant(
    sqla: tuple[ModuleType, dict[str, object], object, list[int]], view: str
) -> None:
    module, fixed, engine, statements = sqla
    flagged: list[int] = []
    fixed_counts: list[int] = []
    for rows in (3, 6):
        seed_sqla(module, engine, rows)
        before, data = sqla_queries(engine, statements, getattr(module, view))
        after, fixed_data = sqla_queries(engine, statements, fixed[view])  # type: ignore[arg-type]
        assert fixed_data == data
        flagged.append(before)
        fixed_counts.append(after)
    assert flagged[1] - flagged[0] >= 3, flagged
    assert fixed_counts[0] == fixed_counts[1] <= 3, fixed_counts


@pytest.mark.parametrize("view", SQLA_UNFIXABLE)
def test_sqlalchemy_view_a_loader_option_would_break_is_left_as_is(
    sqla: tuple[ModuleType, dict[str, object], object, list[int]], view: str
) -> None:
    module, fixed, engine, statements = sqla
    seed_sqla(module, engine, 4)
    before, data = sqla_queries(engine, statements, getattr(module, view))
    after, fixed_data = sqla_queries(engine, statements, fixed[view])  # type: ignore[arg-type]
    assert data and fixed_data == data
    assert after == before >= 4


def test_django_wrapped_bulk_create_makes_the_same_rows(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """The wrapped, comment-keeping bulk_create rewrites create what the loops created."""
    module, fixed = django_views
    rows = [{"name": f"  padded{i} ", "stars": str(1 + i % 5)} for i in range(4)] + [
        {"name": "x", "stars": ""}
    ]

    def made() -> list[tuple[object, ...]]:
        return sorted(
            module.Tag.objects.filter(name__startswith=("padded", "x")[0]).values_list("name")
        ) + sorted(module.Review.objects.values_list("book__title", "stars"))

    results = []
    for functions in (vars(module), fixed):
        [book_pk] = seed_django(module, 1)
        module.Review.objects.all().delete()
        book = module.Book.objects.get(pk=book_pk)
        count, _ = django_queries(lambda: functions["import_tags"](rows))  # type: ignore[operator]  # noqa: B023
        django_queries(lambda: functions["import_reviews"](book, rows[:4]))  # type: ignore[operator]  # noqa: B023
        django_queries(lambda: functions["import_scored_reviews"](book, rows, 2))  # type: ignore[operator]  # noqa: B023
        results.append((made(), count))
    (before, before_count), (after, after_count) = results
    assert after == before and len(before) == 4 + 9
    assert before_count == 5 and after_count <= 3


# --- querysets the project's own methods return -----------------------------------------

# (view, how it is called): flagged, fixed by loading after the project's method.
PROJECT_VIEWS = [
    "open_shelf_keepers",
    "volume_keepers",
    "long_volume_keepers",
    "titled_keepers",
    "all_titled_keepers",
]
# Not flagged: the project's queryset method or the manager's get_queryset loads it.
PROJECT_LOADED = ["loaded_shelf_keepers", "volume_shelves", "prefetched_keepers"]


@pytest.fixture(scope="module")
def project_views(
    django_views: tuple[ModuleType, dict[str, object]],
) -> Iterator[tuple[ModuleType, dict[str, object]]]:
    from django.db import connection

    module = load_module(HERE / "project_querysets.py", "nplusone.project_querysets")
    with connection.schema_editor() as editor:
        for model in (module.Keeper, module.Shelf, module.Volume):
            editor.create_model(model)
    yield module, fixed_functions(HERE / "project_querysets.fixed.py", module)


def seed_project(module: ModuleType, rows: int) -> object:
    for model in (module.Volume, module.Shelf, module.Keeper):
        model.objects.all().delete()
    first = None
    for i in range(rows):
        keeper = module.Keeper.objects.create(name=f"keeper{i}")
        shelf = module.Shelf.objects.create(label=f"shelf{i}", keeper=keeper)
        first = first or shelf
        module.Volume.objects.create(title=f"v{i}", pages=50 + i, shelf=shelf, keeper=keeper)
        module.Volume.objects.create(title=f"w{i}", pages=200 + i, shelf=first, keeper=keeper)
    return first


def project_call(module: ModuleType, function: Callable[..., object], view: str) -> object:
    first = module.Shelf.objects.order_by("id").first()
    if view == "long_volume_keepers":
        return function(first)
    if view == "titled_keepers":
        return function(first.pk)
    if view == "all_titled_keepers":
        return function(list(module.Shelf.objects.order_by("id")))
    return function()


@pytest.mark.parametrize("view", PROJECT_VIEWS)
def test_django_rows_of_a_project_method_fix_is_constant(
    project_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    module, fixed = project_views
    counts: dict[str, list[int]] = {"flagged": [], "fixed": []}
    for rows in (3, 6):
        seed_project(module, rows)
        before, data = django_queries(lambda: project_call(module, getattr(module, view), view))
        after, fixed_data = django_queries(
            lambda: project_call(module, fixed[view], view)  # type: ignore[arg-type]
        )
        assert fixed_data == data and data
        counts["flagged"].append(before)
        counts["fixed"].append(after)
    assert counts["flagged"][1] - counts["flagged"][0] >= 3, counts
    if view == "all_titled_keepers":  # one query per shelf stays: its own volumes
        assert counts["fixed"][1] - counts["fixed"][0] == 3, counts
    else:
        assert counts["fixed"][0] == counts["fixed"][1] <= 3, counts


@pytest.mark.parametrize("view", PROJECT_LOADED)
def test_django_rows_a_project_method_loads_are_constant(
    project_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    module, _ = project_views
    counts = []
    for rows in (3, 6):
        seed_project(module, rows)
        count, data = django_queries(getattr(module, view))
        # a shelf per row, two volumes per row
        assert len(data) == rows * (2 if view == "volume_shelves" else 1)  # type: ignore[arg-type]
        counts.append(count)
    # shelves, their volumes, the volumes' keepers for the prefetch; one join otherwise
    assert counts == ([3, 3] if view == "prefetched_keepers" else [1, 1])


def test_django_rows_of_a_prefetched_relation_a_method_returns_are_per_row_below(
    project_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Reported without a fix: ``shelf.all_volumes()`` is served by the outer prefetch of
    ``volumes``, but each volume's keeper is a query (the fix belongs to the outer
    prefetch, ``volumes__keeper``, which prefetched_keepers shows to be constant)."""
    module, _ = project_views
    counts = []
    for rows in (3, 6):
        seed_project(module, rows)
        count, data = django_queries(module.unloaded_keepers)
        assert data == module.prefetched_keepers()
        counts.append(count)
    assert counts[1] - counts[0] >= 6, counts


# --- one row's related rows: signal handlers, annotated parameters ----------------------

SIGNAL_VIEWS = ["record_products", "forget_products", "basket_total", "customer_product_names"]


@pytest.fixture(scope="module")
def signal_views(
    django_views: tuple[ModuleType, dict[str, object]],
) -> Iterator[tuple[ModuleType, dict[str, object]]]:
    from django.db import connection

    module = load_module(HERE / "signal_handlers.py", "nplusone.signal_handlers")
    with connection.schema_editor() as editor:
        for model in (module.Customer, module.Basket, module.Product, module.Line):
            editor.create_model(model)
    yield module, fixed_functions(HERE / "signal_handlers.fixed.py", module)


def seed_basket(module: ModuleType, rows: int) -> object:
    for model in (module.Line, module.Product, module.Basket, module.Customer):
        model.objects.all().delete()
    basket = module.Basket.objects.create(customer=module.Customer.objects.create(name="c"))
    for i in range(rows):
        product = module.Product.objects.create(name=f"product{i}", price=10 + i)
        module.Line.objects.create(basket=basket, product=product, quantity=1 + i % 2)
    return basket


def handler_result(module: ModuleType, function: Callable[..., object], basket: object) -> object:
    """What a handler or view makes of the basket: its return value, or what it recorded."""
    returned = (
        function(sender=module.Basket, instance=basket)
        if "products" in str(getattr(function, "__name__", ""))
        else function(basket)
    )
    return returned if returned is not None else list(module.SEEN)


@pytest.mark.parametrize("view", SIGNAL_VIEWS)
def test_django_rows_of_one_instance_fix_is_constant(
    signal_views: tuple[ModuleType, dict[str, object]], view: str
) -> None:
    """A handler of post_save / post_delete reads each line's product: one query per line;
    with the fix one query for the lines and their products, the same result."""
    module, fixed = signal_views
    counts: dict[str, list[int]] = {"flagged": [], "fixed": []}
    for rows in (3, 6):
        basket = seed_basket(module, rows)
        before, data = django_queries(lambda: handler_result(module, getattr(module, view), basket))  # noqa: B023
        after, fixed_data = django_queries(
            lambda: handler_result(module, fixed[view], basket)  # type: ignore[arg-type]  # noqa: B023
        )
        assert fixed_data == data and data
        counts["flagged"].append(before)
        counts["fixed"].append(after)
    assert counts["flagged"] == [4, 7], counts
    assert counts["fixed"] == [1, 1], counts


def test_django_handler_is_connected_for_the_model_it_names(
    signal_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """What the rule assumes of ``instance``: Django hands the saved Basket to the handler."""
    module, _ = signal_views
    basket = seed_basket(module, 2)
    module.SEEN.clear()
    basket.save()  # type: ignore[attr-defined]
    assert module.SEEN == ["product0", "product1"]


def test_django_check_labels_judged_no_query_run_no_query(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """The three django-check positives the bench counts as runs-no-N+1, replayed on this
    schema with a query count: a queryset has no relation attribute (AttributeError, no
    query); iterating a prefetched manager raises TypeError after the fixed prefetch
    queries; and read as meant (``.all()``), the inner rows' ``reviews`` is a manager that
    runs nothing until called, so the count stays the same however many rows."""
    from django.db.models import Prefetch

    module, _ = django_views
    with pytest.raises(AttributeError):
        count, _ = django_queries(lambda: module.Book.objects.all().tags)
    counts = []
    for rows in (3, 6):
        seed_django(module, rows)

        def authors() -> object:
            return module.Author.objects.prefetch_related(
                Prefetch("books", queryset=module.Book.objects.all())
            )

        def as_written() -> None:
            for author in authors():  # type: ignore[attr-defined]
                for book in author.books:
                    print(book.reviews)

        def as_meant() -> list[object]:
            return [
                book.reviews
                for author in authors()  # type: ignore[attr-defined]
                for book in author.books.all()
            ]

        with pytest.raises(TypeError):
            as_written()
        count, managers = django_queries(as_meant)
        assert len(managers) == rows  # type: ignore[arg-type]
        counts.append(count)
    assert counts == [2, 2]


# --- SQLAlchemy repositories ---------------------------------------------------------------

# (view, fixed): the repository's statement or query gets the loader option at the call
# site; the rows the repository fetched itself are reported without a fix.
REPOSITORY_VIEWS = [("team_sizes", True), ("legacy_sizes", True), ("listed_sizes", False)]


@pytest.fixture(scope="module")
def repositories() -> Iterator[tuple[ModuleType, dict[str, object], object, list[int]]]:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import create_engine, event

    module = load_module(HERE / "sqlalchemy_repositories.py", "nplusone_sqlalchemy_repositories")
    engine = create_engine("sqlite://")
    module.Base.metadata.create_all(engine)
    statements: list[int] = []

    def count(*_args: object) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    fixed = fixed_functions(HERE / "sqlalchemy_repositories.fixed.py", module)
    yield module, fixed, engine, statements


def seed_teams(module: ModuleType, engine: object, rows: int) -> None:
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        session.execute(delete(module.Member))
        session.execute(delete(module.Team))
        for i in range(rows):
            team = module.Team(name=f"team{i}")
            team.members = [module.Member(name=f"m{i}-{j}") for j in range(1 + i % 2)]
            session.add(team)
        session.commit()


def repository_queries(
    module: ModuleType, engine: object, statements: list[int], view: Callable[..., object]
) -> tuple[int, object]:
    import inspect

    from sqlalchemy.orm import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        repo = module.TeamRepository(session)
        statements.clear()
        wants_session = "session" in inspect.signature(view).parameters
        result = view(session, repo) if wants_session else view(repo)
        return len(statements), result


@pytest.mark.parametrize(("view", "fixable"), REPOSITORY_VIEWS)
def test_sqlalchemy_rows_of_a_repository_method(
    repositories: tuple[ModuleType, dict[str, object], object, list[int]],
    view: str,
    fixable: bool,
) -> None:
    module, fixed, engine, statements = repositories
    flagged, fixed_counts = [], []
    for rows in (3, 6):
        seed_teams(module, engine, rows)
        before, data = repository_queries(module, engine, statements, getattr(module, view))
        after, fixed_data = repository_queries(module, engine, statements, fixed[view])  # type: ignore[arg-type]
        assert fixed_data == data and len(data) == rows  # type: ignore[arg-type]
        flagged.append(before)
        fixed_counts.append(after)
    assert flagged == [4, 7], flagged
    assert fixed_counts == ([2, 2] if fixable else flagged), fixed_counts


def test_sqlalchemy_statement_a_repository_loads_is_constant(
    repositories: tuple[ModuleType, dict[str, object], object, list[int]],
) -> None:
    module, _, engine, statements = repositories
    counts = []
    for rows in (3, 6):
        seed_teams(module, engine, rows)
        counts.append(repository_queries(module, engine, statements, module.loaded_sizes)[0])
    assert counts == [2, 2]


def test_django_prefetch_on_an_unfollowed_iterable_serves_exists_and_all(
    project_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Not flagged: the loop's iterable comes from a function PRD201 cannot follow, but the
    prefetch_related written on it serves exists() and all() for every shelf."""
    module, _ = project_views
    counts = []
    for rows in (3, 6):
        seed_project(module, rows)
        keeper = module.Keeper.objects.order_by("id").first()

        def shelves_of(owner: object) -> object:
            return module.Shelf.objects.exclude(keeper=None)

        count, found = django_queries(lambda: module.shelves_with_volumes(keeper, shelves_of))  # noqa: B023
        assert len(found) == rows  # type: ignore[arg-type]
        counts.append(count)
    assert counts == [2, 2]


def test_django_prefetch_of_a_property_the_loop_reads_serves_count(
    project_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Not flagged: ``self.shelves`` (a property of a view, of a model the summary cannot
    name) prefetches the volumes, so count() per shelf is served from the prefetch."""
    from types import SimpleNamespace

    module, _ = project_views
    counts = []
    for rows in (3, 6):
        seed_project(module, rows)
        request = SimpleNamespace(library=SimpleNamespace(shelves=module.Shelf.objects))
        count, found = django_queries(module.ShelfView(request).volume_counts)
        assert len(found) == rows  # type: ignore[arg-type]
        counts.append(count)
    assert counts == [2, 2]


def test_django_prefetch_done_with_one_row_serves_its_related_rows(
    django_views: tuple[ModuleType, dict[str, object]],
) -> None:
    """Not flagged: ``Tag.objects.prefetch_related("book_set__publisher").get(...)`` serves
    ``tag.book_set.all()`` and each book's publisher: three queries however many books."""
    module, _ = django_views
    counts = []
    for rows in (3, 6):
        seed_django(module, rows)
        tag = module.Tag.objects.get(name="tag0")
        count, names = django_queries(lambda: module.tag_prefetched_publishers(tag.pk))  # noqa: B023
        assert len(names) == rows  # type: ignore[arg-type]
        counts.append(count)
    assert counts == [3, 3]


# --- rows a function is handed by every call site ----------------------------------------


@pytest.fixture(scope="module")
def passed_views(django_views: tuple[ModuleType, dict[str, object]]) -> Iterator[ModuleType]:
    from django.db import connection

    module = load_module(HERE / "passed_querysets.py", "nplusone.passed_querysets")
    with connection.schema_editor() as editor:
        for model in (module.Courier, module.Vendor, module.Parcel):
            editor.create_model(model)
    yield module


def seed_parcels(module: ModuleType, rows: int) -> None:
    for model in (module.Parcel, module.Vendor, module.Courier):
        model.objects.all().delete()
    for i in range(rows):
        module.Parcel.objects.create(
            weight=11 + i,
            vendor=module.Vendor.objects.create(name=f"vendor{i}"),
            courier=module.Courier.objects.create(name=f"courier{i}"),
        )


# A flagged caller, and the same call with the eager load the message names added at the
# call site (PRD202 offers no fix there: the call sites are other functions).
PASSED_VIEWS: dict[str, tuple[str, Callable[[ModuleType], object]]] = {
    "heavy_parcel_labels": (
        "vendor",
        lambda m: m.parcel_labels(
            m.Parcel.objects.select_related("vendor").filter(weight__gt=10).order_by("id")
        ),
    ),
    "all_parcel_labels": (
        "vendor",
        lambda m: m.parcel_labels(m.Parcel.objects.select_related("vendor").order_by("id")),
    ),
    "unloaded_courier_names": (
        "courier",
        lambda m: m.courier_names(m.Parcel.objects.select_related("courier").order_by("id")),
    ),
    "report": (
        "courier",
        lambda m: m.ParcelReport().courier_rows(
            m.Parcel.objects.select_related("courier").filter(weight__gte=0).order_by("id")
        ),
    ),
}


def passed_caller(module: ModuleType, view: str) -> Callable[[], object]:
    if view == "report":
        return module.ParcelReport().build  # type: ignore[no-any-return]
    return getattr(module, view)  # type: ignore[no-any-return]


@pytest.mark.parametrize("view", sorted(PASSED_VIEWS))
def test_django_rows_passed_by_every_call_site_are_per_row_until_the_call_site_loads(
    passed_views: ModuleType, view: str
) -> None:
    module = passed_views
    relation, loaded = PASSED_VIEWS[view]
    counts: dict[str, list[int]] = {"flagged": [], "loaded": []}
    for rows in (3, 6):
        seed_parcels(module, rows)
        before, data = django_queries(passed_caller(module, view))
        after, loaded_data = django_queries(lambda: loaded(module))  # noqa: B023
        assert loaded_data == data and len(data) >= rows  # type: ignore[arg-type]
        assert any(f"{relation}{rows - 1}" in str(item) for item in data)  # type: ignore[attr-defined]
        counts["flagged"].append(before)
        counts["loaded"].append(after)
    assert counts["flagged"] == [1 + 3, 1 + 6], counts  # one query per parcel
    assert counts["loaded"] == [1, 1], counts


def test_django_rows_every_call_site_loads_are_constant(passed_views: ModuleType) -> None:
    """Not flagged: ``vendor_names``'s one call site selects the vendor."""
    counts = []
    for rows in (3, 6):
        seed_parcels(passed_views, rows)
        count, names = django_queries(passed_views.loaded_vendor_names)
        assert names == [f"vendor{i}" for i in range(rows)]
        counts.append(count)
    assert counts == [1, 1]


@pytest.fixture(scope="module")
def passed_crews() -> Iterator[tuple[ModuleType, object, list[int]]]:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import Session

    module = load_module(HERE / "sqlalchemy_passed.py", "nplusone_sqlalchemy_passed")
    engine = create_engine("sqlite://")
    module.Base.metadata.create_all(engine)
    statements: list[int] = []

    def count(*_args: object) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    with Session(engine) as session:
        for i in range(6):
            crew = module.Crew(name=f"crew{i}")
            crew.sailors = [module.Sailor(name=f"s{i}-{j}") for j in range(1 + i % 2)]
            session.add(crew)
        session.commit()
    yield module, engine, statements


@pytest.mark.parametrize("view", ["all_crew_sizes", "legacy_crew_sizes"])
def test_sqlalchemy_rows_passed_by_every_call_site_are_per_row_until_the_call_site_loads(
    passed_crews: tuple[ModuleType, object, list[int]], view: str
) -> None:
    """The flagged callers run a query per crew; the remedy the message names, the
    ``selectinload`` option at the call site, runs two and hands the helper the same data."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session, selectinload

    module, engine, statements = passed_crews
    with Session(engine) as session:  # type: ignore[arg-type]
        statements.clear()
        data = getattr(module, view)(session)
        before = len(statements)
    with Session(engine) as session:  # type: ignore[arg-type]
        statements.clear()
        stmt = select(module.Crew).options(selectinload(module.Crew.sailors))
        loaded = module.crew_sizes(session.scalars(stmt.order_by(module.Crew.id)).all())
        after = len(statements)
    assert loaded == data and len(data) == 6
    assert before == 1 + 6 and after == 2, (before, after)


@pytest.mark.parametrize("view", ["first_courier_vendors", "named_courier_vendors"])
def test_django_instance_passed_by_every_call_site_fix_is_constant(
    passed_views: ModuleType, view: str
) -> None:
    """Every call site hands ``courier_parcel_vendors`` one courier fetched fresh: its
    parcels' vendors are a query each until the fixed helper selects them."""
    module = passed_views
    fixed = fixed_functions(HERE / "passed_querysets.fixed.py", module)
    counts: dict[str, list[int]] = {"flagged": [], "fixed": []}
    for rows in (3, 6):
        seed_parcels(module, 1)
        courier = module.Courier.objects.get()
        for i in range(1, rows):
            module.Parcel.objects.create(
                weight=i, vendor=module.Vendor.objects.create(name=f"v{i}"), courier=courier
            )
        args = ("courier0",) if view == "named_courier_vendors" else ()
        before, data = django_queries(lambda: getattr(module, view)(*args))  # noqa: B023
        # the fixed helper, called the way the caller calls it
        fixed_view = fixed[view]
        after, fixed_data = django_queries(lambda: fixed_view(*args))  # type: ignore[operator]  # noqa: B023
        assert fixed_data == data and len(data) == rows  # type: ignore[arg-type]
        counts["flagged"].append(before)
        counts["fixed"].append(after)
    assert counts["flagged"] == [2 + 3, 2 + 6], counts
    assert counts["fixed"] == [2, 2], counts
