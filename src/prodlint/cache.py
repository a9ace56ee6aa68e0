"""The per-file cache: findings and project facts, valid while a file's content is.

The warm path (nothing changed since the last run) must stay cheap: it stats each file,
loads one pickle and returns what it holds, without importing the engine, the rules or
``ast``. So this module imports nothing that checks.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import pickle
from pathlib import Path

import prodlint
from prodlint import runmemo
from prodlint.model import Finding
from prodlint.runmemo import source_files

# What one file contributes to the project facts: provider key -> that provider's facts.
FileFacts = dict[str, object]


class CacheEntry:
    """What the cache knows about one file's content. Its project facts are pickled on
    their own and unpickled only when asked for: their classes live in the rule modules,
    and a warm run (the facts unchanged) must not import those."""

    __slots__ = ("mtime_ns", "size", "digest", "_facts", "_packed", "findings", "made_with")

    def __init__(
        self,
        mtime_ns: int,
        size: int,
        digest: bytes,
        facts: FileFacts | None,
        findings: tuple[Finding, ...] | None,
        made_with: str = "",
        *,
        packed: bytes | None = None,
    ) -> None:
        self.mtime_ns = mtime_ns
        self.size = size
        self.digest = digest
        # What the file contributes to the project facts (None: nothing); valid for the
        # content. ``packed`` holds them pickled instead, until first read.
        self._facts = facts
        self._packed = packed
        # Findings made under the settings and project facts whose fingerprint is
        # ``made_with``; None when the file only contributed facts (not a checked file).
        self.findings = findings
        self.made_with = made_with

    @property
    def facts(self) -> FileFacts | None:
        if self._packed is not None and self._facts is None:
            self._facts = pickle.loads(self._packed)
        return self._facts

    @property
    def has_facts(self) -> bool:
        return self._facts is not None or self._packed is not None

    def replace(self, **changes: object) -> CacheEntry:
        """A copy with some fields changed (``facts=`` drops the packed ones)."""
        fields: dict[str, object] = {
            "mtime_ns": self.mtime_ns,
            "size": self.size,
            "digest": self.digest,
            "facts": self._facts,
            "findings": self.findings,
            "made_with": self.made_with,
            "packed": self._packed,
        }
        if "facts" in changes:
            fields["packed"] = None
        fields.update(changes)
        return CacheEntry(**fields)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CacheEntry) and self._state() == other._state()

    def __hash__(self) -> int:
        return hash((self.mtime_ns, self.size, self.digest))

    def __repr__(self) -> str:
        return f"CacheEntry({self.mtime_ns}, {self.size}, {self.digest!r}, facts={self.has_facts})"

    def _state(self) -> tuple[object, ...]:
        return (self.mtime_ns, self.size, self.digest, self.facts, self.findings, self.made_with)

    def __reduce__(self) -> tuple[object, ...]:
        packed = self._packed
        if packed is None and self._facts is not None:
            packed = self._packed = pickle.dumps(self._facts, protocol=pickle.HIGHEST_PROTOCOL)
        return (
            _unpickled_entry,
            (self.mtime_ns, self.size, self.digest, packed, self.findings, self.made_with),
        )


def _unpickled_entry(
    mtime_ns: int,
    size: int,
    digest: bytes,
    packed: bytes | None,
    findings: tuple[Finding, ...] | None,
    made_with: str,
) -> CacheEntry:
    return CacheEntry(mtime_ns, size, digest, None, findings, made_with, packed=packed)


class Cache:
    """One pickle per (prodlint version, code): file path -> entry. Safe to delete at any
    time; a cache that cannot be read or written only costs speed."""

    def __init__(self, folder: Path | None, key: str) -> None:
        self.file = folder / f"{prodlint.__version__}-{key}.pickle" if folder is not None else None
        self.entries: dict[str, CacheEntry] = {}
        # Which files the last run's project facts were built from, and their fingerprint:
        # a run where none of them changed reuses it without parsing anything.
        self.facts_files: frozenset[str] = frozenset()
        self.facts_fingerprint = ""
        self.dirty = False
        if self.file is None:
            return
        enabled = gc.isenabled()
        gc.disable()  # unpickling creates many objects and no cycles
        try:
            with self.file.open("rb") as handle:
                loaded = pickle.load(handle)
            entries, facts_files, fingerprint = loaded
            if (
                isinstance(entries, dict)
                and isinstance(facts_files, frozenset)
                and isinstance(fingerprint, str)
            ):
                self.entries, self.facts_files, self.facts_fingerprint = (
                    entries,
                    facts_files,
                    fingerprint,
                )
        except (
            OSError,
            pickle.PickleError,
            EOFError,
            AttributeError,
            ImportError,
            TypeError,
            ValueError,
            IndexError,
            KeyError,
        ):
            pass
        finally:
            if enabled:
                gc.enable()

    def store(self, key: str, entry: CacheEntry) -> None:
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        if runmemo.active is not None:
            # The run's answer depends on every file its project facts were built from.
            runmemo.active.files.update(self.facts_files)
        if self.file is None or not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.file.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by prodlint\n*\n")
            temp = self.file.with_suffix(f".{os.getpid()}.tmp")
            with temp.open("wb") as handle:
                pickle.dump(
                    (self.entries, self.facts_files, self.facts_fingerprint),
                    handle,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            os.replace(temp, self.file)
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Identifies the installed prodlint code, so an edited rule (a development install)
    never reuses findings made by the old one. A stat per module: cheaper than hashing the
    sources, and an installed wheel's files do not change under the same version."""
    stamps = []
    for path in source_files():
        info = os.stat(path)
        stamps.append(f"{path}:{info.st_mtime_ns}:{info.st_size}")
    return hashlib.blake2b(";".join(sorted(stamps)).encode(), digest_size=8).hexdigest()


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
