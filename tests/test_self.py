"""prodlint holds its own source to its rules."""

from __future__ import annotations

import ast
import os

import pytest

from corpus import ROOT
from prodlint.cli import main


def test_prodlint_is_clean_on_its_own_source(capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(ROOT)
    code = main(["check", "--no-cache", "src"])
    assert code == 0, capsys.readouterr().out


def test_no_any_in_annotations() -> None:
    """The typing family's promise, kept by hand until PRD6xx lands: no ``Any``."""
    offenders = []
    for path in (ROOT / "src").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            annotations: list[ast.expr | None] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                annotations.append(node.returns)
                args = node.args
                annotations += [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                                       args.vararg, args.kwarg] if a is not None]
            elif isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
            for annotation in annotations:
                if annotation is not None and "Any" in {getattr(n, "id", getattr(n, "attr", None))
                                                         for n in ast.walk(annotation)}:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders
