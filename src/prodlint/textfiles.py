"""The project's non-Python files that project facts read: its templates.

A view's findings can depend on the template it renders, so the templates are fact files
like the models: the runner adds them to the files it stats, reads and caches (a changed
template changes the project facts' fingerprint, which re-checks the views). They are
found without a walk of their own: a Django project's template folders sit beside its
Python files (an app's ``templates/`` beside its models.py / apps.py / views.py, the
project's beside ``manage.py`` or the settings, or at the root all its files share;
Jinja2's ``jinja2/``), so only those folders are asked for the two children. This module
stays cheap to import: a warm run lists the templates too, and must not import the
providers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from prodlint.discovery import SourceFile

TEMPLATE_FOLDERS = ("templates", "jinja2")
# Files that make their folder an app (or the project) whose templates/ Django searches.
APP_FILES = frozenset(
    {"models.py", "apps.py", "views.py", "manage.py", "settings.py", "urls.py", "wsgi.py"}
)
TEMPLATE_SUFFIXES = (".html", ".htm", ".txt", ".xml", ".jinja", ".jinja2", ".j2", ".djhtml")


def template_files(python_files: Sequence[SourceFile]) -> list[SourceFile]:
    """The template files in the template folders of the apps among ``python_files``'
    folders, of the folders holding apps, and of the folder all of them share, sorted."""
    folders: set[str] = set()
    for file in python_files:
        folder, _, name = file.key.rpartition("/")
        if name in APP_FILES:
            # The app's own folder, and the one holding the apps (the project's BASE_DIR,
            # where settings' DIRS usually point).
            folders.add(folder)
            folders.add(folder.rpartition("/")[0] or "/")
    if python_files:
        # The folder every file is below (a string prefix cut at a separator: commonpath
        # normalises each path and cost more than the rest of the listing).
        keys = [file.key for file in python_files]
        folders.add(os.path.commonprefix([min(keys), max(keys)]).rpartition("/")[0] or "/")
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
