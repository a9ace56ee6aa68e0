from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from typing import (
    TYPE_CHECKING,
    NamedTuple,
)


class Pair(NamedTuple):
    left: Mapping[str, int]
    right: MutableMapping[str, int]


def walk(items: Iterable[Sequence[int]]) -> Iterator[int]:
    for item in items:
        try:
            yield item[0]
        except Exception:
            pass
    if TYPE_CHECKING:
        yield 0
