"""PRD601: a bare ``Any`` as the type of a parameter, a return value, a variable or an alias."""

from __future__ import annotations

from prodlint.model import Severity
from prodlint.rules.annotations.common import AnyAnnotationRule


class ExplicitAny(AnyAnnotationRule):
    code = "PRD601"
    name = "ExplicitAny"
    summary = "`Any` as the whole type of a parameter, return value, variable or alias"
    message = "`Any` {where} switches type checking off there; {advice}"
    what_it_does = """
Flags `typing.Any` (or `typing_extensions.Any`, however imported: `t.Any`, `from typing
import Any as A`) used as the whole type of a parameter, a return value, a variable, a
class attribute or a type alias (`X = Any`), also inside quotes and in `# type:`
comments, and through `Annotated[Any, ...]`, `ClassVar[Any]` and `Final[Any]`.

Left alone: `*args: Any` and `**kwargs: Any` (option `allow-star-args`), signatures
marked `@override` or whose base class in the same module uses `Any` for the same
method, dunder methods whose signature the data model fixes (`__eq__`, `__getattr__`,
`__setattr__`, `__exit__`, ...), `.pyi` stubs (option `check-stubs`) and test files
(option `check-tests`). `Any` nested in a generic is PRD602; `cast(Any, ...)` is PRD603.
"""
    why_bad = """
`Any` is compatible with every type in both directions, so a type checker accepts
any operation on the value and any value in its place: typos in attribute names, wrong
argument orders and `None` slipping through all go unreported, and the editor offers no
completion. It spreads, too: whatever is computed from an `Any` is `Any`.
"""
    example = """
import logging
from typing import Any


def describe(order: Any, retries: Any = 3) -> Any:
    logging.info("retrying %s", order)
    if retries is None:
        return "never"
    return f"{retries} times"
"""
    use_instead = """
import logging


def describe(order: object, retries: int = 3) -> str:
    logging.info("retrying %s", order)
    if retries is None:
        return "never"
    return f"{retries} times"
"""
    fixed_example = use_instead
    fix_safety_note = """
The fix is unsafe: it changes what type checkers accept (callers passing other types are
now errors). It proposes only what the code itself shows: a default's or value's type
(`x: Any = 0` -> `int`), the union of the types returned (literals, constructors,
comprehensions, the module's own annotated functions and classes), one protocol a
parameter is used through
(`Iterable[object]`, `Callable[..., object]`, `Awaitable[object]`, `Mapping[str, object]`
for str-keyed reads), and `object` for a parameter that is only passed on to callables
taking any object, printed, logged, formatted or compared. Otherwise there is no fix and
the message says what stopped inference. A parameter tested with `isinstance` gets
`object`: the test is there because other values come in (a fallback after it, a
validator's `raise`, a type guard's `False`), and a method of a class with bases gets
nothing narrower than `object` (it may override the base's). Nothing is narrowed that
others depend on, so a fix never makes mypy report code it did not touch: a method that a
subclass in the module or the project redefines, the return type of a method whose base
declares it (or may: a base from outside the module), a function defined twice
(conditional variants share one signature), `None` for a method (a hook whose overrides
return values) or for a function whose result the module uses, and a dict whose values
are read or passed on as `**kwargs`. No fix where annotations
may be read at run time
(functions with decorators other than `property`/`staticmethod`/`lru_cache`-style ones,
fields of classes with bases such as pydantic models or with class decorators other than
`@dataclass`), nor in `# type:` comments. Needed imports are added (`collections.abc`),
an `Any` import left unused is removed, and a class name is only used where it is defined
before the annotation is evaluated (or under `from __future__ import annotations`).
"""
    severity = Severity.WARNING
    nested = False
