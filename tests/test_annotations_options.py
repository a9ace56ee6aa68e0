"""PRD6xx settings and the places left alone by default, each shown both ways."""

from __future__ import annotations

from prodlint.config import Config
from prodlint.engine import Checker
from prodlint.registry import all_rules

CODES = [code for code in all_rules() if code.startswith("PRD6")]


def findings(source: str, path: str = "app/service.py", **options: object) -> list[tuple[int, str]]:
    config = Config(rule_options={code: dict(options) for code in CODES})
    checker = Checker(config, rules=[all_rules()[code] for code in CODES])
    return [(f.line, f.code) for f in checker.check_text(source, path)]


STAR = (
    "from typing import Any\n\n\n"
    "def forward(*args: Any, **kwargs: Any) -> None:\n    print(args, kwargs)\n"
)
PLAIN = "from typing import Any\n\n\ndef f(x: Any) -> None:\n    print(x)\n"


def test_star_args_any_is_an_option() -> None:
    assert findings(STAR) == []
    assert findings(STAR, **{"allow-star-args": False}) == [(4, "PRD601"), (4, "PRD601")]


def test_stubs_and_tests_are_options() -> None:
    assert findings(PLAIN, "pkg/api.pyi") == []
    assert findings(PLAIN, "pkg/api.pyi", **{"check-stubs": True}) == [(4, "PRD601")]
    assert findings(PLAIN, "tests/test_api.py") == []
    assert findings(PLAIN, "tests/test_api.py", **{"check-tests": True}) == [(4, "PRD601")]
    assert findings(PLAIN) == [(4, "PRD601")]


def test_alias_is_flagged_once_not_at_each_use() -> None:
    source = (
        "from typing import Any\n\nJSON = dict[str, Any]\n\n\ndef load(raw: JSON) -> JSON:\n"
        "    return raw\n\n\ndef dump(data: JSON) -> None:\n    print(data)\n"
    )
    assert findings(source) == [(3, "PRD602")]


def test_any_must_resolve_to_typing() -> None:
    # A local class called Any, and `Any` never imported, are not typing.Any.
    assert findings("class Any:\n    pass\n\n\ndef f(x: Any) -> None:\n    print(x)\n") == []
    assert findings("def f(x: 'Any') -> None:\n    print(x)\n") == []
    assert findings("import typing as t\n\n\ndef f(x: t.Any) -> None:\n    print(x)\n") == [
        (4, "PRD601")
    ]


def test_dunder_signatures_fixed_by_the_data_model_are_left_alone() -> None:
    source = (
        "from typing import Any\n\n\nclass P:\n    def __eq__(self, other: Any) -> bool:\n"
        "        return self is other\n\n"
        "    def __getattr__(self, name: str) -> Any:\n        return name\n\n"
        "    def __call__(self, value: Any) -> None:\n        print(value)\n"
    )
    assert findings(source) == [(11, "PRD601")]
