"""One way to spread work over worker processes: reading project facts, checking, fixing.

A ``Workers`` group is a few processes that live for a whole run and take one task after
another, so a check can first have them read the project facts and then check, each worker
keeping the trees it parsed for the facts until it checks those files: the parent parses
nothing, and no tree crosses a process boundary.

Work goes out a chunk at a time to whichever worker is free, largest files first, in chunks
that shrink as the work left does (guided self-scheduling): one huge file cannot leave the
others idle at the end, and few messages are sent. An item can be pinned to the worker
holding what it needs (its tree); a worker left with nothing to do takes pinned items of the
busiest one, redoing the work the pin saves rather than waiting.

Workers are forked on Linux: the imported rules and the configuration reach them without
pickling. Elsewhere (spawn) they get the initializer's arguments pickled and import what
they need.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    # multiprocessing costs tens of milliseconds to import: only a run that starts
    # workers pays for it (a warm run imports this module and starts none).
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from types import TracebackType

Item = TypeVar("Item")
Result = TypeVar("Result")
Payload = TypeVar("Payload")

# A first chunk is about 1/(GUIDED_SHARE * workers) of the work; later ones shrink with
# what is left, down to MIN_CHUNK_SHARE of the whole.
GUIDED_SHARE = 4
MIN_CHUNK_SHARE = 1 / 200
MAX_CHUNK_FILES = 64
STEAL_SHARE = 3
# Fork where it is safe and cheap; macOS and Windows spawn (tests spawn here too).
FORK = sys.platform == "linux"


class WorkerFailed(RuntimeError):
    """A worker process ended without answering (killed, out of memory)."""


def _serve(
    connection: Connection, initializer: Callable[..., None] | None, initargs: tuple[object, ...]
) -> None:
    """A worker's life: run each ``(work, payload)`` received and send back its result."""
    try:
        if initializer is not None:
            initializer(*initargs)
        while True:
            try:
                message = connection.recv()
            except EOFError:
                return
            if message is None:
                return
            work, payload = message
            start = time.process_time()
            value: object
            try:
                ok, value = True, work(payload)
            except Exception as error:  # noqa: BLE001 - the parent re-raises it
                ok, value = False, error
            try:
                connection.send((ok, value, time.process_time() - start))
            except Exception as error:  # noqa: BLE001 - an unpicklable exception or result
                connection.send((False, RuntimeError(f"{type(error).__name__}: {error}"), 0.0))
    except KeyboardInterrupt:
        return  # the parent got the same interrupt and reports it


class _Plan:
    """Which items go out next, to which worker: its pinned ones, then the unpinned ones,
    then (stolen) another's pinned ones; largest first, in shrinking chunks."""

    def __init__(
        self,
        sizes: Sequence[int],
        owners: Sequence[int] | None,
        workers: int,
        max_files: int,
    ) -> None:
        self.sizes = sizes
        self.workers = workers
        self.max_files = max_files
        order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
        self.free: deque[int] = deque()
        self.pinned: list[deque[int]] = [deque() for _ in range(workers)]
        for position in order:
            owner = owners[position] if owners is not None else -1
            (self.pinned[owner] if 0 <= owner < workers else self.free).append(position)
        self.left = [sum(sizes[i] for i in queue) for queue in self.pinned]
        self.left_free = sum(sizes[i] for i in self.free)
        self.floor = max(int(sum(sizes) * MIN_CHUNK_SHARE), 1)

    def _target(self) -> int:
        remaining = self.left_free + sum(self.left)
        return max(remaining // (GUIDED_SHARE * self.workers), self.floor)

    def next_for(self, worker: int) -> list[int]:
        target = self._target()
        if self.pinned[worker]:
            return self._take(self.pinned[worker], worker, target, largest=True)
        if self.free:
            return self._take(self.free, -1, target, largest=True)
        victim = max(range(self.workers), key=lambda w: (self.left[w], len(self.pinned[w])))
        if not self.pinned[victim] or self.left[victim] < STEAL_SHARE * self.floor:
            return []  # so little left that redoing it elsewhere saves nothing
        # A pinned item costs a thief about twice what it costs its owner (the owner kept
        # the work the pin saves): a third of the queue evens out the two.
        target = self.left[victim] // STEAL_SHARE
        return self._take(self.pinned[victim], victim, target, largest=False)

    def _take(self, queue: deque[int], owner: int, target: int, largest: bool) -> list[int]:
        chunk: list[int] = []
        weight = 0
        while queue and weight < target and len(chunk) < self.max_files:
            position = queue.popleft() if largest else queue.pop()
            chunk.append(position)
            weight += self.sizes[position]
        if owner < 0:
            self.left_free -= weight
        else:
            self.left[owner] -= weight
        return chunk


class Workers:
    """Worker processes for one run, started on first use; ``with`` ends them."""

    def __init__(
        self,
        count: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[object, ...] = (),
        preload: Callable[[], None] | None = None,
    ) -> None:
        """``preload`` runs in this process right before the workers start: what it
        imports (the run's rules) every forked worker inherits."""
        self.count = count
        self.initializer = initializer
        self.initargs = initargs
        self.preload = preload
        self._connections: list[Connection] = []
        self._processes: list[BaseProcess] = []
        # CPU seconds each worker spent in the tasks of each ``map`` or ``broadcast``, for
        # telling imbalance and overhead apart (bench/profile_check.py).
        self.busy_seconds: list[list[float]] = []

    @property
    def started(self) -> bool:
        return bool(self._processes)

    def _start(self) -> None:
        import multiprocessing

        if self.preload is not None:
            self.preload()

        context = (
            multiprocessing.get_context("fork") if FORK else multiprocessing.get_context("spawn")
        )
        for _ in range(self.count):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_serve, args=(theirs, self.initializer, self.initargs), daemon=True
            )
            process.start()
            theirs.close()
            self._connections.append(mine)
            self._processes.append(process)

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(kind is None)

    def close(self, graceful: bool = True) -> None:
        """Ends the workers: asks them to stop after a clean run, stops them otherwise
        (they may be busy with work nobody will read)."""
        for connection in self._connections:
            if graceful:
                try:
                    connection.send(None)
                except OSError:
                    pass
            connection.close()
        for process in self._processes:
            if not graceful:
                process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        self._connections, self._processes = [], []

    def _receive(self, worker: int) -> object:
        try:
            ok, value, seconds = self._connections[worker].recv()
        except (EOFError, OSError) as error:
            code = self._processes[worker].exitcode
            raise WorkerFailed(f"worker process {worker} ended (exit code {code})") from error
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        self.busy_seconds[-1][worker] += seconds
        return value

    def broadcast(self, work: Callable[[Payload], object], payload: Payload) -> None:
        """``work(payload)`` once in every worker (e.g. what every later task needs)."""
        from multiprocessing.reduction import ForkingPickler

        if not self.started:
            self._start()
        self.busy_seconds.append([0.0] * self.count)
        message = ForkingPickler.dumps((work, payload))  # once for all (the project facts)
        for connection in self._connections:
            connection.send_bytes(message)
        for worker in range(self.count):
            self._receive(worker)

    def map(
        self,
        work: Callable[[list[Item]], list[Result]],
        items: Sequence[Item],
        sizes: Sequence[int],
        *,
        owners: Sequence[int] | None = None,
        max_files: int = MAX_CHUNK_FILES,
    ) -> Iterator[tuple[int, list[Result]]]:
        """``work`` over chunks of ``items`` (``sizes``: their costs), each chunk's results as
        it completes, with the worker that made them. ``owners``: a worker per item that
        should do it (-1: any)."""
        from multiprocessing.connection import Connection, wait

        if not self.started:
            self._start()
        plan = _Plan(sizes, owners, self.count, max_files)
        self.busy_seconds.append([0.0] * self.count)
        busy: dict[Connection, int] = {}

        def hand_out(worker: int) -> None:
            chunk = plan.next_for(worker)
            if chunk:
                self._connections[worker].send((work, [items[i] for i in chunk]))
                busy[self._connections[worker]] = worker

        try:
            for worker in range(self.count):
                hand_out(worker)
            while busy:
                for ready in wait(list(busy)):
                    assert isinstance(ready, Connection)
                    worker = busy.pop(ready)
                    results = self._receive(worker)
                    hand_out(worker)
                    assert isinstance(results, list)
                    yield worker, results
        finally:
            if busy:  # given up on (an error, or the caller stopped reading): answers pending
                self.close(graceful=False)
