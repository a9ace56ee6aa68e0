"""PRD407: a file in the machine's shared temporary folder at a fixed path."""

from __future__ import annotations

import ast
import re

from prodlint.analysis.context import Context
from prodlint.analysis.destinations import Destination, destination
from prodlint.analysis.environment import under_env_lookup
from prodlint.model import Severity
from prodlint.registry import Rule
from prodlint.rules.config.common import not_deployed

# A path under a folder every user and process of the machine shares (bandit B108's list).
SHARED_TMP = re.compile(r"^/(?:tmp|var/tmp|dev/shm)/[^\s%{}*?]+$")
# Calls that create, open or write the path they are given (its first argument).
FILE_CALLS = frozenset(
    {
        "open",
        "io.open",
        "os.open",
        "os.mkdir",
        "os.makedirs",
        "os.mkfifo",
        "pathlib.Path",
        "shutil.copy",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.make_archive",
        "sqlite3.connect",
        "tarfile.open",
        "zipfile.ZipFile",
        "logging.FileHandler",
        "logging.handlers.RotatingFileHandler",
        "logging.handlers.TimedRotatingFileHandler",
        "logging.handlers.WatchedFileHandler",
        "shelve.open",
        "dbm.open",
    }
)
# Keywords that take a file or folder to write to.
PATH_KEYWORDS = frozenset(
    {"filename", "file", "path", "dir", "directory", "dest", "destination", "upload_to"}
)
# Names a path setting is bound to: ``UPLOAD_DIR``, ``CACHE_PATH``, ``LOG_FILE``.
PATH_NAME = re.compile(
    r"(?:^|_)(?:dir|dirs|directory|folder|path|file|filename|root|location|cache|socket|sock|db)$",
    re.IGNORECASE,
)


def _writes_there(where: Destination, ctx: Context) -> bool:
    if where.kind == "argument" and where.call is not None:
        return where.position == 0 and ctx.qualified_name(where.call.func) in FILE_CALLS
    if where.kind == "keyword":
        return where.name in PATH_KEYWORDS
    return (
        bool(where.name)
        and where.kind in ("name", "attribute", "subscript", "key")
        and bool(PATH_NAME.search(where.name or ""))
    )


class HardcodedTempPath(Rule):
    code = "PRD407"
    name = "HardcodedTempPath"
    summary = "A fixed path in the shared temporary folder (/tmp, /var/tmp, /dev/shm)"
    message = "`{path}` is a fixed name in a folder every process shares; {advice}"
    what_it_does = """
Flags paths under `/tmp/`, `/var/tmp/` and `/dev/shm/` written as literals where a file
or folder is opened or created (`open`, `os.open`, `os.makedirs`, `pathlib.Path`,
`shutil`, `sqlite3.connect`, `tarfile`/`zipfile`, logging file handlers), passed as a
`filename=`/`path=`/`dir=`-style keyword, or bound to a path-like setting (`UPLOAD_DIR`,
`CACHE_PATH`, `LOG_FILE`, `{"LOCATION": ...}`).

Not flagged: paths built at run time (`f"/tmp/{name}"`, `"/tmp/%s"`), patterns with
wildcards, the fallback of an environment lookup, paths in messages, comparisons and
docstrings, and test files.
"""
    why_bad = """
Everyone on the machine can create a file in the shared temporary folder first: a fixed
name there lets another user or process plant a symlink and have the program overwrite
or read a file of its choosing (CWE-377). Two workers or two deployments on one host
also share the file, and containers with a read-only root or a private `/tmp` lose it.
"""
    example = """
def export(rows):
    with open("/tmp/report.csv", "w") as out:
        out.writelines(rows)
"""
    use_instead = """
import tempfile


def export(rows):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as out:
        out.writelines(rows)
    return out.name
"""
    fix_safety_note = """
No fix: a unique temporary file (`tempfile.mkstemp`, `NamedTemporaryFile`) changes the
name other code or people look for, and a setting belongs to the deployment.
"""
    severity = Severity.WARNING
    requires_text = ("/tmp/", "/var/tmp/", "/dev/shm/")

    def applies_to(self, ctx: Context) -> bool:
        return not not_deployed(ctx)

    def check_Constant(self, node: ast.Constant, ctx: Context) -> None:
        value = node.value
        if type(value) is not str or not value.startswith(("/tmp/", "/var/tmp/", "/dev/shm/")):
            return
        if not SHARED_TMP.match(value):
            return
        where = destination(node, ctx)
        if where is None or not where.whole or not _writes_there(where, ctx):
            return
        if under_env_lookup(ctx):
            return
        setting = where.kind != "argument" and where.kind != "keyword"
        self.report(
            ctx,
            node,
            path=value if len(value) <= 60 else value[:57] + "...",
            advice=(
                "read the folder from the environment or use `tempfile.gettempdir()`"
                if setting
                else "create it with `tempfile` (a unique name only this process can open)"
            ),
        )
