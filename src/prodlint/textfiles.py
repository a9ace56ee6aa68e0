"""The project's non-Python files that project facts read: its templates.

A view's findings can depend on the template it renders, so the templates are fact files
like the models: the runner adds them to the files it stats, reads and caches (a changed
template changes the project facts' fingerprint, which re-checks the views). They are
found without a walk of their own: a Django project's template folders sit beside its
Python files (an app's ``templates/``, the project's ``templates/`` beside ``manage.py``
or the settings package, Jinja2's ``jinja2/``), so each folder holding a fact file is
asked for those two children. This module stays cheap to import: a warm run lists the
templates too, and must not import the providers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prodlint.discovery import SourceFile

TEMPLATE_FOLDERS = ("templates", "jinja2")
TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".xml", ".jinja", ".jinja2", ".j2", ".djhtml")


def template_files(python_files: Iterable[SourceFile]) -> list[SourceFile]:
    """The template files in the template folders beside ``python_files``' folders (and
    their parents: a ``src/`` layout keeps ``templates/`` beside the package), sorted."""
    folders: set[str] = set()
    for file in python_files:
        folder = os.path.dirname(file.key)
        folders.add(folder)
        folders.add(os.path.dirname(folder))
    found: dict[str, SourceFile] = {}
    for folder in folders:
        for name in TEMPLATE_FOLDERS:
            top = os.path.join(folder, name)
            if not os.path.isdir(top):
                continue
            for current, subfolders, names in os.walk(top):
                subfolders[:] = [sub for sub in subfolders if not sub.startswith(".")]
                for file_name in names:
                    if not file_name.endswith(TEMPLATE_SUFFIXES):
                        continue
                    key = os.path.join(current, file_name)
                    # Never shown: findings name a template by the name views render.
                    found.setdefault(key, SourceFile(key, key, key))
    return [found[key] for key in sorted(found)]


def with_templates(python_files: list[SourceFile]) -> list[SourceFile]:
    """The fact files of a run: the Python ones and the templates beside them."""
    return [*python_files, *template_files(python_files)]
