"""One way to spread work over worker processes: reading project facts, checking, fixing.

Work is cut into chunks by bytes (parse time follows size), a few per worker, largest files
first, so one huge file does not leave the other workers idle at the end. Workers are
forked on Linux: the configuration, the project facts and the imported rules reach them
without pickling.
"""

from __future__ import annotations

import functools
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNKS_PER_WORKER = 6
MAX_CHUNK_FILES = 64


def chunks(
    sizes: Sequence[int], workers: int, max_files: int = MAX_CHUNK_FILES
) -> Iterator[list[int]]:
    """Positions into ``sizes``, largest first, in chunks of about equal bytes."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    target = max(sum(sizes) // (workers * CHUNKS_PER_WORKER), 1)
    chunk: list[int] = []
    weight = 0
    for position in order:
        chunk.append(position)
        weight += sizes[position]
        if weight >= target or len(chunk) >= max_files:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


def pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[object, ...] = ()
) -> ProcessPoolExecutor:
    method = "fork" if sys.platform == "linux" else None
    context = multiprocessing.get_context(method)
    if initializer is None:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=functools.partial(initializer, *initargs),
    )


def map_chunked(
    work: Callable[[list[Item]], list[Result]],
    items: Sequence[Item],
    sizes: Sequence[int],
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[object, ...] = (),
    max_files: int = MAX_CHUNK_FILES,
    while_waiting: Callable[[], None] | None = None,
) -> Iterator[list[Result]]:
    """``work`` over chunks of ``items`` in worker processes; each chunk's results as it
    completes (in no particular order). ``while_waiting`` runs in this process once the
    workers are busy."""
    with pool(workers, initializer, initargs) as executor:
        futures = [
            executor.submit(work, [items[i] for i in chunk])
            for chunk in chunks(sizes, workers, max_files)
        ]
        if while_waiting is not None:
            while_waiting()
        for future in as_completed(futures):
            yield future.result()
