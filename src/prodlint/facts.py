"""Project facts: what the checking of one file needs to know about the others.

A rule that needs project-wide knowledge (the N+1 rules need every ORM model's relations)
reads it from ``ctx.settings[provider.key]``. It comes from a provider, a subclass of
``FactProvider`` anywhere under ``prodlint.analysis`` or ``prodlint.rules``, found the way
rules are (no table to edit). A provider has three parts, so that the runner, the cache
and the flake8 plugin handle every provider the same way:

- ``may_contain(data)``: a cheap test on a file's bytes; files that fail it are not parsed;
- ``extract(tree)``: the file's facts, picklable (the cache keeps them per file content,
  worker processes send them back);
- ``build(facts)``: the project's facts from every file's, with a ``fingerprint`` that
  changes whenever they do (it is part of each file's cache key: one file's findings depend
  on what the others declare).

A provider can read non-Python project files instead (templates): it names their
suffixes in ``text_suffixes`` and reads them with ``may_contain_text`` / ``extract_text``
(bytes and path, as they are not parsed as Python); ``prodlint.textfiles`` lists them for
the runner, which stats, reads and caches them like the Python fact files.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import ClassVar, Generic, TypeVar

from prodlint.cache import FileFacts

PerFile = TypeVar("PerFile")
Built = TypeVar("Built")


class FactProvider(Generic[PerFile, Built]):
    """Base class of project-fact providers; subclasses set ``key`` and the three methods."""

    key: ClassVar[str]  # the settings key rules read the built facts from
    # The non-Python files this provider reads (by suffix): ``extract_text`` reads them.
    text_suffixes: ClassVar[tuple[str, ...]] = ()

    def may_contain(self, data: bytes) -> bool:
        return False

    def extract(self, tree: ast.Module) -> PerFile | None:
        return None

    def may_contain_text(self, data: bytes) -> bool:
        return False

    def extract_text(self, data: bytes, path: str) -> PerFile | None:
        return None

    def build(self, facts: Sequence[PerFile]) -> Built:
        raise NotImplementedError

    def fingerprint(self, built: Built) -> str:
        raise NotImplementedError


# Built facts by provider key, as rules read them.
ProjectFacts = Mapping[str, object]


@functools.lru_cache(maxsize=1)
def all_providers() -> tuple[FactProvider[object, object], ...]:
    """One instance of every provider under ``prodlint.analysis`` and ``prodlint.rules``,
    importing only the modules the registry's index names (not every rule module)."""
    from prodlint.registry import provider_modules

    found: dict[str, FactProvider[object, object]] = {}
    for name in provider_modules():
        for provider in providers_in(importlib.import_module(name)):
            if provider.key in found:
                raise RuntimeError(f"project facts {provider.key!r} declared twice")
            found[provider.key] = provider()
    return tuple(found[key] for key in sorted(found))


def providers_in(module: ModuleType) -> list[type[FactProvider[object, object]]]:
    """The provider classes ``module`` declares."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, FactProvider)
        and value.__module__ == module.__name__
        and "key" in vars(value)
    ]


def read_facts(data: bytes, path: str) -> FileFacts | None:
    """What one file contributes, parsed once for all the providers that want it; None
    for a file none wants (most files) or that does not parse."""
    return read_facts_and_tree(data, path)[0]


def read_facts_and_tree(data: bytes, path: str) -> tuple[FileFacts | None, ast.Module | None]:
    """``read_facts``, and the tree it parsed (None when it parsed nothing): checking the
    same file later can reuse it instead of parsing again."""
    if _is_text_file(path):
        return _read_text_facts(data, path), None
    wanting = [provider for provider in all_providers() if provider.may_contain(data)]
    if not wanting:
        return None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, None
    facts = {
        provider.key: extracted
        for provider in wanting
        if (extracted := provider.extract(tree)) is not None
    }
    return facts or None, tree


def _read_text_facts(data: bytes, path: str) -> FileFacts | None:
    facts = {
        provider.key: extracted
        for provider in all_providers()
        if path.endswith(provider.text_suffixes)
        and provider.may_contain_text(data)
        and (extracted := provider.extract_text(data, path)) is not None
    }
    return facts or None


def _is_text_file(path: str) -> bool:
    """A file a provider reads as text (a template), not as Python: a Python file named
    without the ``.py`` suffix (a script) is read as Python still."""
    return not path.endswith((".py", ".pyi")) and path.endswith(_text_suffixes())


@functools.lru_cache(maxsize=1)
def _text_suffixes() -> tuple[str, ...]:
    return tuple(suffix for provider in all_providers() for suffix in provider.text_suffixes)


def may_contribute(data: bytes, path: str = "") -> bool:
    if _is_text_file(path):
        return any(
            path.endswith(provider.text_suffixes) and provider.may_contain_text(data)
            for provider in all_providers()
        )
    return any(provider.may_contain(data) for provider in all_providers())


def build_project(per_file: Iterable[FileFacts]) -> tuple[ProjectFacts, str]:
    """The project facts from every file's (in a stable order), and their fingerprint."""
    providers = all_providers()
    collected: dict[str, list[object]] = {provider.key: [] for provider in providers}
    for facts in per_file:
        for key, value in facts.items():
            if key in collected:
                collected[key].append(value)
    built: dict[str, object] = {}
    digest = hashlib.blake2b(digest_size=8)
    for provider in providers:
        built[provider.key] = value = provider.build(collected[provider.key])
        digest.update(f"{provider.key}={provider.fingerprint(value)};".encode())
    return built, digest.hexdigest()
