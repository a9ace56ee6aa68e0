"""Fixes a reviewer merges as written: a file ruff accepts before ``prodlint fix`` is one
ruff accepts after it.

The real ruff (``ruff check --select I,E`` and ``ruff format --check``, default settings) runs
on copies of every fixture and of the modules under ``tests/data/fix_style`` (written to be
ruff-clean, each exercising a different import layout). Files ruff already complains about
are not held to it. The import helpers are also driven directly, for requests no rule makes
yet (``from typing import Any``, a third-party name).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from corpus import FIXTURES, ROOT

from prodlint.fixes.imports import add_definition, add_import
from prodlint.fixes.wrap import project_line_length, wrap_long_lines

DATA = ROOT / "tests" / "data" / "fix_style"
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
SOURCES = sorted(
    [path for path in FIXTURES.rglob("*.py") if not path.name.endswith(".fixed.py")]
    + sorted(DATA.glob("*.py"))
)
# What fixes ask for today and what the coming families will (contextlib, os, typing.Any).
REQUESTS: list[tuple[str, str | None]] = [
    ("logging", None),
    ("os", None),
    ("contextlib", None),
    ("abc", None),
    ("zlib", None),
    ("typing", "Any"),
    ("typing", "TYPE_CHECKING"),
    ("collections.abc", "Callable"),
    ("__future__", "annotations"),
    ("django.db.models", "Prefetch"),
    ("requests", "Session"),
]
LOGGER = "logger = logging.getLogger(__name__)\n"
# Fixes that still leave work for ruff (issue 8, "Fixes a reviewer would merge as written"):
# known, listed so the rest stays held to the rule; an entry that passes shows as XPASS.
KNOWN: dict[str, str] = {}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert RUFF is not None, "ruff is part of the test extra"
    # --isolated: ruff's defaults, not whatever configuration surrounds the copy.
    return subprocess.run(
        [RUFF, *args, "--isolated", "--no-cache", "."],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lint(root: Path) -> dict[str, list[str]]:
    """ruff's I and E complaints per file (relative to root)."""
    done = ruff("check", "--select", "I,E", "--output-format", "json", cwd=root)
    assert done.returncode in (0, 1), done.stderr
    found: dict[str, list[str]] = {}
    for item in json.loads(done.stdout):
        name = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
        found.setdefault(name, []).append(
            f"{item['location']['row']}: {item['code']} {item['message']}"
        )
    return found


def unformatted(root: Path) -> dict[str, str]:
    """The files ``ruff format`` would change, with the change it would make."""
    done = ruff("format", "--diff", cwd=root)
    assert done.returncode in (0, 1), done.stderr
    diffs: dict[str, str] = {}
    current = ""
    for line in done.stdout.splitlines(keepends=True):
        if line.startswith("--- "):
            current = line[4:].strip()
            diffs[current] = ""
        if current:
            diffs[current] += line
    return diffs


def copy_sources(target: Path) -> None:
    for source in SOURCES:
        destination = target / relative(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def prodlint_fix(root: Path, target: str) -> None:
    """``prodlint fix --unsafe-fixes`` on ``target``, run from ``root`` as a user would."""
    done = subprocess.run(
        [sys.executable, "-m", "prodlint", "fix", "--unsafe-fixes", "--no-cache", target],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


class FixRun:
    def __init__(self, root: Path) -> None:
        copy_sources(root)
        self.lint_before = lint(root)
        self.format_before = unformatted(root)
        self.texts_before = {
            relative(source): source.read_text(encoding="utf-8") for source in SOURCES
        }
        prodlint_fix(root, ".")
        self.lint_after = lint(root)
        self.format_after = unformatted(root)
        self.texts_after = {
            name: (root / name).read_text(encoding="utf-8") for name in self.texts_before
        }


@pytest.fixture(scope="module")
def fix_run(tmp_path_factory: pytest.TempPathFactory) -> FixRun:
    return FixRun(tmp_path_factory.mktemp("fix_style"))


def test_style_modules_are_ruff_clean_and_get_fixed(fix_run: FixRun) -> None:
    """The dedicated modules must start clean and be changed by a fix, or the style check
    below would pass on nothing."""
    names = [relative(path) for path in sorted(DATA.glob("*.py"))]
    assert len(names) >= 8
    assert not {name: fix_run.lint_before[name] for name in names if name in fix_run.lint_before}
    assert not [name for name in names if name in fix_run.format_before]
    unchanged = [name for name in names if fix_run.texts_after[name] == fix_run.texts_before[name]]
    assert not unchanged, f"no fix applied to {unchanged}"
    assert all("import logging" in fix_run.texts_after[name] for name in names)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN[name], strict=False))
        if name in KNOWN
        else name
        for name in (relative(source) for source in SOURCES)
    ],
)
def test_fix_adds_no_ruff_complaint(fix_run: FixRun, name: str) -> None:
    if name in fix_run.lint_before and name in fix_run.format_before:
        pytest.skip("ruff complains about this file before any fix")
    if name not in fix_run.lint_before:
        assert not fix_run.lint_after.get(name), (
            "\n".join(fix_run.lint_after[name]) + "\n" + fix_run.texts_after[name]
        )
    if name not in fix_run.format_before:
        assert name not in fix_run.format_after, fix_run.format_after[name]


def test_every_import_request_keeps_modules_clean(tmp_path: Path) -> None:
    """Each dedicated module with each import (and a logger) added is still ruff-clean."""
    written = []
    for source in sorted(DATA.glob("*.py")):
        original = cst.parse_module(source.read_text(encoding="utf-8"))
        for index, (module, member) in enumerate(REQUESTS):
            path = tmp_path / f"{source.stem}_{index}.py"
            path.write_text(add_import(original, module, member).code, encoding="utf-8")
            written.append(path.name)
        with_logger = add_definition(add_import(original, "logging"), LOGGER, "logger", "logging")
        (tmp_path / f"{source.stem}_logger.py").write_text(with_logger.code, encoding="utf-8")
        written.append(f"{source.stem}_logger.py")
    assert len(written) > 80
    assert lint(tmp_path) == {}
    assert unformatted(tmp_path) == {}


def added(source: str, module: str, member: str | None = None) -> str:
    return add_import(cst.parse_module(source), module, member).code


def test_imports_go_in_their_section_in_sorted_order() -> None:
    assert added("import os\nimport sys\n\nimport requests\n\nx = 1\n", "logging") == (
        "import logging\nimport os\nimport sys\n\nimport requests\n\nx = 1\n"
    )
    # `import x` lines before `from x import y` lines in a section; names ordered by type.
    assert (
        added("import os\nfrom pathlib import Path\n", "zlib")
        == "import os\nimport zlib\nfrom pathlib import Path\n"
    )
    assert added("import os\nfrom typing import TYPE_CHECKING, cast\n", "typing", "Any") == (
        "import os\nfrom typing import TYPE_CHECKING, Any, cast\n"
    )
    # A third-party module joins its own package's section, after the standard library.
    assert added('"""Doc."""\n\nimport requests\n\nx = 1\n', "contextlib") == (
        '"""Doc."""\n\nimport contextlib\n\nimport requests\n\nx = 1\n'
    )
    assert added(
        "import os\n\nfrom django.db import models\n\nfrom . import app\n",
        "django.db.models",
        "Prefetch",
    ) == (
        "import os\n\nfrom django.db import models\nfrom django.db.models import Prefetch\n\n"
        "from . import app\n"
    )


def test_imports_stay_out_of_blocks_and_after_the_docstring() -> None:
    source = (
        "from __future__ import annotations\n\nif TYPE_CHECKING:\n    import os\n\n\n"
        "def f():\n    pass\n"
    )
    assert added(source, "os") == (
        "from __future__ import annotations\n\nimport os\n\nif TYPE_CHECKING:\n    import os\n\n\n"
        "def f():\n    pass\n"
    )
    assert added('"""Doc."""\n\n\ndef f():\n    pass\n', "logging") == (
        '"""Doc."""\n\nimport logging\n\n\ndef f():\n    pass\n'
    )
    assert added("x = 1\n", "logging") == "import logging\n\nx = 1\n"
    assert added("import logging\n", "logging") == "import logging\n"
    assert added("", "logging") == "import logging\n"


def test_a_long_from_import_is_wrapped_like_ruff() -> None:
    source = "from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence\n"
    assert added(source, "collections.abc", "Callable") == (
        "from collections.abc import (\n    Callable,\n    Iterable,\n    Iterator,\n    Mapping,\n"
        "    MutableMapping,\n    Sequence,\n)\n"
    )
    # A comment inside the import would be lost in a rewrite: the name gets its own line.
    commented = "from typing import (  # keep\n    cast,\n)\n"
    assert added(commented, "typing", "Any") == "from typing import Any\n" + commented


def logger_added(source: str) -> str:
    return add_definition(
        add_import(cst.parse_module(source), "logging"), LOGGER, "logger", "logging"
    ).code


def test_logger_goes_after_the_whole_import_block() -> None:
    source = (
        "import sys\n\nsys.path.insert(0, '.')\n\nimport app  # noqa: E402\n\n\n"
        "def f():\n    pass\n"
    )
    assert logger_added(source) == (
        "import logging\nimport sys\n\nsys.path.insert(0, '.')\n\nimport app  # noqa: E402\n\n"
        "logger = logging.getLogger(__name__)\n\n\ndef f():\n    pass\n"
    )
    # Before a block among the imports that logs once the fix is applied, not after it.
    source = (
        "import os\n\ntry:\n    import ujson\nexcept ImportError:\n    logger.info('no ujson')\n"
    )
    assert logger_added(source) == (
        "import logging\nimport os\n\nlogger = logging.getLogger(__name__)\n\n"
        "try:\n    import ujson\nexcept ImportError:\n    logger.info('no ujson')\n"
    )
    # A main guard is code, not part of the import block.
    source = "import sys\n\nif __name__ == '__main__':\n    import app\n"
    assert logger_added(source) == (
        "import logging\nimport sys\n\nlogger = logging.getLogger(__name__)\n\n"
        "if __name__ == '__main__':\n    import app\n"
    )


def wrapped(before: str, after: str, limit: int = 88) -> str:
    return wrap_long_lines(cst.parse_module(before), cst.parse_module(after), limit).code


def test_a_line_a_fix_made_too_long_is_wrapped_like_ruff() -> None:
    before = (
        "def f(order):\n    print('order', order.id, 'charged', order.amount, 'at', order.rate)\n"
    )
    after = (
        "def f(order):\n    logger.info('order %s charged %s at %s', order.id, order.amount_due,"
        " order.exchange_rate)\n"
    )
    assert wrapped(before, after) == (
        "def f(order):\n    logger.info(\n        'order %s charged %s at %s', order.id,"
        " order.amount_due, order.exchange_rate\n    )\n"
    )
    after = (
        "x = session.query(User).filter(text('name = :name')"
        ".bindparams(name=str(name), other=other)).all()\n"
    )
    assert wrapped("x = 1\n", after) == (
        "x = session.query(User).filter(\n"
        "    text('name = :name').bindparams(name=str(name), other=other)\n).all()\n"
    )
    after = (
        "async def f():\n    async with Session(timeout=ClientTimeout(total=10),"
        " connector=tcp_connector) as sess:\n        pass\n"
    )
    assert wrapped("x = 1\n", after) == (
        "async def f():\n    async with Session(\n"
        "        timeout=ClientTimeout(total=10), connector=tcp_connector\n"
        "    ) as sess:\n        pass\n"
    )
    # Arguments that do not fit on one line go one per line, with a trailing comma.
    after = f"call({'a' * 40}, {'b' * 40}, {'c' * 40})\n"
    assert (
        wrapped("x = 1\n", after)
        == f"call(\n    {'a' * 40},\n    {'b' * 40},\n    {'c' * 40},\n)\n"
    )


def test_the_limit_is_the_projects_not_the_files_longest_line() -> None:
    long_line = f"x = [{', '.join(['1'] * 40)}]\n"
    after = long_line + f"y = call({'a' * 40}, {'b' * 40})\n"
    # A long list literal (or URL, or message) does not lift the limit for what the fix writes.
    assert wrapped(long_line, after) == long_line + f"y = call(\n    {'a' * 40}, {'b' * 40}\n)\n"
    assert wrapped(long_line, after, limit=120) == after
    # A line the user wrote long is not the fix's to rewrap, nor is it once a fix re-indents
    # it (into a ``with`` block).
    assert wrapped(after, after) == after
    moved = long_line + f"if y:\n    y = call({'a' * 40}, {'b' * 40})\n"
    assert wrapped(after, moved) == moved
    # or edits it in place (``verify=False`` become ``verify=True``).
    edited = long_line + f"y = call({'a' * 40}, {'c' * 39})\n"
    assert wrapped(after, edited) == edited


def test_a_long_chain_is_split_at_the_last_call_whose_lines_fit() -> None:
    before = "def f():\n    for book in Book.objects.order_by('id'):\n        pass\n"
    after = (
        "def f():\n    for book in Book.objects.prefetch_related('chapters__editor')"
        ".select_related('author', 'publisher').order_by('id'):\n        pass\n"
    )
    assert wrapped(before, after) == (
        "def f():\n    for book in Book.objects.prefetch_related('chapters__editor')"
        ".select_related(\n        'author', 'publisher'\n    ).order_by('id'):\n        pass\n"
    )


def test_a_lone_argument_gets_its_own_line_and_no_trailing_comma() -> None:
    message = "Passing a list of fields to AwardSchema will be removed in CTFd 4.0. " * 2
    after = f"def f():\n    logger.info({message!r})\n"
    assert wrapped("x = 1\n", after) == f"def f():\n    logger.info(\n        {message!r}\n    )\n"


def test_a_lone_generator_argument_gets_no_trailing_comma() -> None:
    after = f"total = sum(order.amount_in_cents for order in {'orders_' * 12} if order.paid)\n"
    out = wrapped("x = 1\n", after, limit=60)
    compile(out, "<fixed>", "exec")  # ``sum(x for x in y,)`` is a SyntaxError
    assert out == (
        f"total = sum(\n    order.amount_in_cents for order in {'orders_' * 12} if order.paid\n)\n"
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("ruff.toml", "line-length = 120\n", 120),
        (".ruff.toml", "line-length = 99\n", 99),
        ("pyproject.toml", "[tool.ruff]\nline-length = 110\n", 110),
        ("pyproject.toml", "[tool.black]\nline-length = 100\n", 100),
        ("setup.cfg", "[flake8]\nmax-line-length = 119\n", 119),
        (".flake8", "[flake8]\nmax-line-length = 79\n", 79),
        ("tox.ini", "[flake8]\nmax-line-length = 130\n", 130),
        ("pyproject.toml", "[tool.ruff.lint]\nselect = ['E']\n", 88),
        ("pyproject.toml", "not toml [\n", 88),
    ],
)
def test_the_projects_line_length_is_read_from_its_formatter(
    tmp_path: Path, name: str, text: str, expected: int
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert project_line_length(tmp_path) == expected


def test_a_with_block_a_fix_opens_is_wrapped_at_the_project_line_length(tmp_path: Path) -> None:
    """The re-indented body of a new ``with`` block keeps to the project's length even when
    the file has a longer line (a URL in a comment), as ruff format would leave it."""
    url = "# https://example.com/" + "a" * 100
    source = (
        "import json\n\n"
        f"{url}\n\n\n"
        "def load(path, schema_registry, default_settings):\n"
        "    handle = open(path)\n"
        "    data = json.load(handle)\n"
        "    merged = schema_registry.merge_settings(data, default_settings, strict=True)\n"
        "    return merged\n"
    )
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 80\n", encoding="utf-8")
    (tmp_path / "loader.py").write_text(source, encoding="utf-8")
    prodlint_fix(tmp_path, "loader.py")
    fixed = (tmp_path / "loader.py").read_text(encoding="utf-8")
    assert "with open(path) as handle:" in fixed, fixed
    assert [line for line in fixed.splitlines() if len(line) > 80] == [url]
    assert ruff("format", "--diff", "--line-length", "80", cwd=tmp_path).returncode == 0
