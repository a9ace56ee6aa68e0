"""Reading a file into text the way Python itself would, keeping what a rewrite must keep."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

# Beyond this a file is almost surely generated data; parsing it would dominate the run.
MAX_FILE_BYTES = 8 * 1024 * 1024


class UncheckableSource(Exception):
    """The file cannot be read as Python source; the message says why."""


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str
    newline: str  # the first line ending in the file, kept when writing a fix back
    bom: bool


def decode_source(data: bytes) -> SourceText:
    if len(data) > MAX_FILE_BYTES:
        raise UncheckableSource(f"file is {len(data)} bytes, over the {MAX_FILE_BYTES} byte limit")
    if b"\0" in data:
        raise UncheckableSource("file is binary (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise UncheckableSource(f"cannot decode file: {error}") from None
    bom = encoding == "utf-8-sig"
    if bom and text.startswith("\ufeff"):
        text = text[1:]
    first_break = text.find("\n")
    newline = "\r\n" if first_break > 0 and text[first_break - 1] == "\r" else "\n"
    return SourceText(text, "utf-8" if bom else encoding, newline, bom)


def encode_source(text: str, original: SourceText) -> bytes:
    data = text.encode(original.encoding)
    return (b"\xef\xbb\xbf" + data) if original.bom else data
