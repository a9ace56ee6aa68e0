"""PRD6 fixes the reviewer's table found wrong on real code (issue 8), proved with mypy: a
module whose callers pass what the real projects pass type-checks before
``prodlint fix --unsafe-fixes`` and still type-checks after it.

- kombu's ``is_connection(obj: Any) -> TypeGuard[Connection]`` became ``obj: Connection``;
- pydantic's ``_apply_single_annotation_json_schema(metadata: Any)``, which handles a
  ``FieldInfo`` and passes anything else through, became ``metadata: FieldInfo``;
- urllib3's ``extra_kw: dict[str, Any]``, spread into ``urlopen(**extra_kw)``, became
  ``dict[str, object]``;
- pydantic's ``PrivateAttr() -> Any``, assigned to fields of any type, became
  ``-> ModelPrivateAttr``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from corpus import ROOT

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.fixer import fix_text
from prodlint.registry import all_rules

MYPY = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
CHECKER = Checker(Config(), rules=list(all_rules().values()))

PROGRAM = """\
from __future__ import annotations

from typing import Any, TypeGuard


class Connection:
    pass


class FieldInfo:
    title = "t"


class PrivateAttribute:
    def __init__(self, default: int) -> None:
        self.default = default


def is_connection(obj: Any) -> TypeGuard[Connection]:
    return isinstance(obj, Connection)


def schema_for(schema: dict[str, str], metadata: Any) -> dict[str, str]:
    if isinstance(metadata, FieldInfo):
        schema["title"] = metadata.title
    return schema


def urlopen(method: str, url: str, retries: int = 3, body: bytes | None = None) -> str:
    return method + url + str(retries) + str(body)


def request(method: str, url: str, **urlopen_kw: Any) -> str:
    extra_kw: dict[str, Any] = {"retries": 1}
    extra_kw.update(urlopen_kw)
    return urlopen(method, url, **extra_kw)


def PrivateAttr(default: int = 0) -> Any:  # noqa: N802
    return PrivateAttribute(default)


class Model:
    _count: int = PrivateAttr(default=1)


def callers() -> None:
    is_connection("not yet connected")
    schema_for({}, 3)
    schema_for({}, FieldInfo())
    request("GET", "/", body=b"")
"""


def mypy(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    assert MYPY is not None, "mypy is part of the test extra"
    path = tmp_path / "program.py"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [MYPY, "--strict", "--no-incremental", "--config-file", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )


def test_the_fixed_program_still_type_checks(tmp_path: Path) -> None:
    before = mypy(tmp_path, PROGRAM)
    assert before.returncode == 0, before.stdout
    fixed = fix_text(PROGRAM, "app/program.py", CHECKER, unsafe=True)
    # The rule still reports each Any; only the fixes that stay true are applied.
    assert "def is_connection(obj: object) -> TypeGuard[Connection]:" in fixed.text
    assert "metadata: object" in fixed.text
    assert "extra_kw: dict[str, Any]" in fixed.text
    assert "def PrivateAttr(default: int = 0) -> Any:" in fixed.text
    after = mypy(tmp_path, fixed.text)
    assert after.returncode == 0, after.stdout + "\n" + fixed.text
