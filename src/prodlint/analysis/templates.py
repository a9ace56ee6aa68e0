"""Django and Jinja2 templates as project facts: what each template reads, inside which
loops, and which templates it extends and includes.

A view's N+1 often sits in its template (``{% for b in books %}{{ b.author.name }}``), so
the templates of a project are read like its models: ``TemplateProvider`` is a fact
provider over the project's non-Python files (the runner lists the ``templates`` /
``jinja2`` folders beside the project's Python files, see ``prodlint.textfiles``), each
template is parsed once per content by a small parser of the tag syntax (no template
engine is imported), and rules look templates up by the name a view renders.

The parser keeps only what the N+1 rules need: variable paths read (``book.author.name``
as ``("book", "author", "name")``), loops with their targets and iterable, ``with`` /
``set`` bindings, ``include`` (with its bindings and ``only``), ``extends`` and blocks,
each with its line. Filters, literals, comments and ``{% comment %}`` / ``{% verbatim %}``
/ ``{% raw %}`` contents are dropped.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from prodlint.facts import FactProvider
from prodlint.textfiles import TEMPLATE_FOLDERS, TEMPLATE_SUFFIXES

# The settings key rules read the project's templates from.
PROJECT_TEMPLATES = "project-templates"

Path = tuple[str, ...]  # a variable path: ("book", "author", "name")


@dataclass(frozen=True)
class Read:
    """A variable path read (printed, tested, passed to a tag)."""

    path: Path
    line: int


@dataclass(frozen=True)
class Loop:
    """``{% for targets in iterable %}body{% empty %}...{% endfor %}``."""

    targets: tuple[str, ...]
    iterable: Path
    line: int
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Bind:
    """``{% with a=b %}body{% endwith %}``, and Jinja's ``{% set a = b %}`` over the rest of
    its block: names bound to paths (``None`` for a value that is not a path)."""

    bindings: tuple[tuple[str, Path | None], ...]
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Include:
    """``{% include "name" with a=b only %}``."""

    name: str
    bindings: tuple[tuple[str, Path | None], ...]
    only: bool
    line: int


@dataclass(frozen=True)
class Block:
    """``{% block name %}body{% endblock %}``; ``uses_super`` when it shows the parent's."""

    name: str
    body: tuple[Node, ...]
    uses_super: bool = False


Node = Read | Loop | Bind | Include | Block


@dataclass(frozen=True)
class TemplateFile:
    """One template: its name as views render it (relative to its templates folder), and
    its text, parsed the first time a view that renders it is checked (most templates of a
    project never are: they get no queryset)."""

    name: str
    folder: str  # the templates folder it was found in
    text: str

    @functools.cached_property
    def parsed(self) -> tuple[str | None, tuple[Node, ...]]:
        return parse_template(self.text)

    @property
    def extends(self) -> str | None:
        return self.parsed[0]

    @property
    def body(self) -> tuple[Node, ...]:
        return self.parsed[1]


# --- the parser -------------------------------------------------------------------------

TOKEN = re.compile(r"\{%-?\s*(.*?)\s*[-+]?%\}|\{\{-?\s*(.*?)\s*-?\}\}|\{#.*?#\}", re.DOTALL)
STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
NAME_PATH = re.compile(r"[A-Za-z_]\w*(?:\s*\.\s*(?:[A-Za-z_]\w*|\d+))*")
# Tags whose contents are not template code.
RAW_TAGS = {"comment": "endcomment", "verbatim": "endverbatim", "raw": "endraw"}
# Tags with a body that ends at ``end<tag>`` (the others stand alone).
BODY_TAGS = frozenset(
    {
        "if",
        "for",
        "with",
        "block",
        "filter",
        "autoescape",
        "spaceless",
        "ifchanged",
        "macro",
        "call",
        "blocktrans",
        "blocktranslate",
        "localize",
        "localtime",
        "timezone",
        "cache",
        "ifequal",
        "ifnotequal",
    }
)
# Words of the expression languages, never variables.
KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "True",
        "False",
        "None",
        "true",
        "false",
        "none",
        "as",
        "with",
        "only",
        "reversed",
        "recursive",
        "by",
        "loop",
        "forloop",
        "block",
        "ignore",
        "missing",
        "context",
        "without",
        "asvar",
        "silent",
    }
)


def expression_paths(text: str) -> list[Path]:
    """The variable paths an expression reads: ``book.author.name|default:other.x`` ->
    ``[("book", "author", "name"), ("other", "x")]``. Filter names and literals are not
    variables; a Jinja call ``b.chapters.all()`` reads ``("b", "chapters", "all")``."""
    text = STRING.sub(" '' ", text)
    found: list[Path] = []
    for match in NAME_PATH.finditer(text):
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue  # inside a number (``1e5``)
        if text[:start].rstrip().endswith(("|", ".")):
            continue  # a filter's name, an attribute of a call's or subscript's result
        path = tuple(part.strip() for part in match.group().split("."))
        if path[0] in KEYWORDS:
            continue
        after = text[match.end() :].lstrip()
        if after.startswith("=") and not after.startswith("=="):
            continue  # a keyword argument's name (``url(view, pk=b.pk)``)
        found.append(path)
    return found


def _single_path(text: str) -> Path | None:
    """The path of an expression that is one plain path (``book.chapters.all``), else None."""
    text = text.strip()
    if text.endswith("()"):
        text = text[:-2].rstrip()
    match = NAME_PATH.fullmatch(text)
    if match is None:
        return None
    path = tuple(part.strip() for part in text.split("."))
    return None if path[0] in KEYWORDS else path


def _bindings(text: str) -> tuple[tuple[str, Path | None], ...]:
    """``a=b.c d=e`` (Django), ``a=b.c, d=e`` (Jinja), or the old ``b.c as a``."""
    pairs = re.findall(r"([A-Za-z_]\w*)\s*=\s*((?:\"[^\"]*\"|'[^']*'|[^\s,])+)", text)
    if pairs:
        return tuple((name, _single_path(value)) for name, value in pairs)
    old = re.fullmatch(r"(.+?)\s+as\s+([A-Za-z_]\w*)", text.strip())
    if old:
        return ((old.group(2), _single_path(old.group(1))),)
    return ()


def _literal(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return None


@dataclass
class _Frame:
    tag: str
    line: int
    nodes: list[Node] = field(default_factory=list)
    # for: targets and iterable; with: bindings; block: name
    targets: tuple[str, ...] = ()
    iterable: Path = ()
    bindings: tuple[tuple[str, Path | None], ...] = ()
    name: str = ""
    in_empty: bool = False  # past ``{% empty %}`` / Jinja's ``{% else %}`` of a loop
    after: list[Node] = field(default_factory=list)  # nodes of the empty part
    uses_super: bool = False


def parse_template(text: str) -> tuple[str | None, tuple[Node, ...]]:
    """(the template it extends, its nodes). Never raises: an unbalanced tag closes at the
    end of the text, an unknown one is read for the variables it names."""
    root = _Frame("", 0)
    stack = [root]
    extends: str | None = None
    raw_until: str | None = None
    position = 0
    line = 1

    def add(node: Node) -> None:
        frame = stack[-1]
        (frame.after if frame.in_empty else frame.nodes).append(node)

    def close(frame: _Frame) -> Node | None:
        nodes = frame.nodes
        if frame.tag == "for":
            return Loop(frame.targets, frame.iterable, frame.line, tuple(nodes))
        if frame.tag in ("with", "set", "set-inline"):
            return Bind(frame.bindings, tuple(nodes))
        if frame.tag == "block":
            return Block(frame.name, tuple(nodes), frame.uses_super)
        if frame.tag == "macro":
            return None  # a macro reads its parameters, bound where it is called
        return Bind((), tuple(nodes)) if nodes else None

    def pop() -> None:
        frame = stack.pop()
        node = close(frame)
        if node is not None:
            add(node)
        for extra in frame.after:
            add(extra)

    for match in TOKEN.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        tag_text, variable = match.group(1), match.group(2)
        if raw_until is not None:
            if tag_text is not None and tag_text.split(None, 1)[:1] == [raw_until]:
                raw_until = None
            continue
        if variable is not None:
            for path in expression_paths(variable):
                if path == ("block", "super"):
                    continue
                add(Read(path, line))
            if "block.super" in variable.replace(" ", ""):
                for frame in reversed(stack):
                    if frame.tag == "block":
                        frame.uses_super = True
                        break
            continue
        if tag_text is None:
            continue  # a comment
        word, _, rest = tag_text.partition(" ")
        rest = rest.strip()
        if word in RAW_TAGS:
            raw_until = RAW_TAGS[word]
            continue
        if word.startswith("end"):
            opened = word[3:]
            if any(frame.tag == opened for frame in stack[1:]):
                while stack[-1].tag != opened:
                    pop()
                pop()
            continue
        if word == "for":
            loop = re.fullmatch(r"(.+?)\s+in\s+(.+?)(?:\s+reversed)?(?:\s+recursive)?", rest)
            if loop is None:
                continue
            head, tail = loop.group(1), loop.group(2)
            condition = ""
            split = re.split(r"\s+if\s+", tail, maxsplit=1)  # Jinja's ``for x in y if c``
            if len(split) == 2:
                tail, condition = split
            targets = tuple(t.strip().strip("()") for t in head.split(",") if t.strip())
            iterable = _single_path(tail.split("|")[0]) or ()
            for path in expression_paths(tail):
                add(Read(path, line))
            frame = _Frame("for", line, targets=targets, iterable=iterable)
            stack.append(frame)
            for path in expression_paths(condition):
                add(Read(path, line))
            continue
        if word in ("empty", "else") and stack[-1].tag == "for":
            stack[-1].in_empty = True
            continue
        if word == "extends":
            extends = _literal(rest.split()[0]) if rest else None
            continue
        if word == "include":
            only = bool(re.search(r"\sonly\s*$", " " + rest))
            parts = re.split(r"\s+with\s+", rest, maxsplit=1)
            name = _literal(parts[0].split()[0]) if parts[0].split() else None
            if name is not None:
                bindings = _bindings(parts[1].removesuffix("only")) if len(parts) == 2 else ()
                add(Include(name, bindings, only, line))
            continue
        if word == "block":
            stack.append(_Frame("block", line, name=rest.split()[0] if rest else ""))
            continue
        if word == "with":
            bindings = _bindings(rest)
            for _, value in bindings:
                if value is not None:
                    add(Read(value, line))
            stack.append(_Frame("with", line, bindings=bindings))
            continue
        if word == "set":
            assigned = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.+)", rest, re.DOTALL)
            if assigned is None:
                stack.append(_Frame("set", line))  # a block set: ``{% set x %}...{% endset %}``
                continue
            for path in expression_paths(assigned.group(2)):
                add(Read(path, line))
            # A set binds for the rest of the enclosing block: a frame that closes with it.
            value = _single_path(assigned.group(2))
            stack.append(_Frame("set-inline", line, bindings=((assigned.group(1), value),)))
            continue
        if word == "macro":
            stack.append(_Frame("macro", line))
            continue
        for path in expression_paths(rest):
            add(Read(path, line))
        if word in BODY_TAGS:
            stack.append(_Frame(word, line))
    while len(stack) > 1:
        pop()
    return extends, tuple(root.nodes)


def template_name(path: str) -> str | None:
    """The name a template is rendered by: its path below the nearest templates folder."""
    parts = path.replace(os.sep, "/").split("/")
    for position in range(len(parts) - 2, -1, -1):
        if parts[position] in TEMPLATE_FOLDERS:
            return "/".join(parts[position + 1 :])
    return None


def read_template(data: bytes, path: str) -> TemplateFile | None:
    name = template_name(path)
    if name is None or not name.endswith(TEMPLATE_SUFFIXES):
        return None
    folder = path[: len(path) - len(name) - 1]
    return TemplateFile(name, folder, data.decode("utf-8", "replace"))


# --- the project's templates ------------------------------------------------------------


@dataclass
class TemplateIndex:
    """Templates by name; where two folders hold one name, the one nearer the project root
    wins (the project's ``DIRS`` come before the apps' folders in Django's search)."""

    templates: dict[str, TemplateFile] = field(default_factory=dict)

    def find(self, name: str) -> TemplateFile | None:
        return self.templates.get(name)

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(self.templates):
            template = self.templates[name]
            digest.update(f"{name}\0{template.folder}\0{template.text}\0".encode())
        return digest.hexdigest()

    def effective(self, name: str, depth: int = 0) -> tuple[Node, ...] | None:
        """What rendering ``name`` runs: its nodes, or for a template that extends another,
        the parent's with each block replaced by the child's."""
        template = self.find(name)
        if template is None or depth > 8:
            return None
        if template.extends is None:
            return template.body
        blocks = {block.name: block for block in _blocks(template.body)}
        parent = self.effective(template.extends, depth + 1)
        if parent is None:
            # The parent is not the project's (a third-party base): the blocks still run.
            return tuple(blocks.values())
        return tuple(_substitute(parent, blocks))


def _blocks(nodes: Sequence[Node]) -> Iterator[Block]:
    for node in nodes:
        if isinstance(node, Block):
            yield node
            yield from _blocks(node.body)
        elif isinstance(node, (Loop, Bind)):
            yield from _blocks(node.body)


def _substitute(nodes: Sequence[Node], blocks: dict[str, Block]) -> Iterator[Node]:
    for node in nodes:
        if isinstance(node, Block):
            child = blocks.get(node.name)
            if child is None:
                yield Block(node.name, tuple(_substitute(node.body, blocks)))
            elif child.uses_super:
                yield Block(node.name, (*_substitute(node.body, blocks), *child.body))
            else:
                yield child
        elif isinstance(node, Loop):
            yield Loop(
                node.targets, node.iterable, node.line, tuple(_substitute(node.body, blocks))
            )
        elif isinstance(node, Bind):
            yield Bind(node.bindings, tuple(_substitute(node.body, blocks)))
        else:
            yield node


def _rank(template: TemplateFile) -> tuple[int, str]:
    return template.folder.count("/"), template.folder


class TemplateProvider(FactProvider[TemplateFile, TemplateIndex]):
    """The project's templates, read from its template folders (not Python files)."""

    key = PROJECT_TEMPLATES
    text_suffixes = TEMPLATE_SUFFIXES

    def may_contain_text(self, data: bytes) -> bool:
        return b"{%" in data or b"{{" in data

    def extract_text(self, data: bytes, path: str) -> TemplateFile | None:
        return read_template(data, path)

    def build(self, facts: Sequence[TemplateFile]) -> TemplateIndex:
        index = TemplateIndex()
        for template in sorted(facts, key=_rank):
            index.templates.setdefault(template.name, template)
        return index

    def fingerprint(self, built: TemplateIndex) -> str:
        return built.fingerprint()
