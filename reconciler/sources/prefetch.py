"""Read ahead of the consumer: a listing's next pages are fetched while the diff works on this one.

A SaaS listing is a chain of HTTP calls that wait on the server; the diff is
CPU work in this process. ``prefetch`` runs the listing in a thread of its
own and hands items over through a bounded queue, so the two overlap and
memory stays bounded (``max_items``). An error in the listing is raised in
the consumer; a consumer that stops early stops the thread (bounded waits).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_S = 0.1


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterable[T], max_items: int = 5_000, batch: int = 250) -> Generator[T, None, None]:
    """``items``, produced in a background thread at most about ``max_items`` ahead of the reader.

    Items cross in lists of ``batch`` (a queue hand-over per item would cost more than it saves).
    """
    if max_items < 1 or batch < 1:
        raise ValueError(f"max_items and batch must be at least 1, got {max_items} and {batch}")
    handoff: queue.Queue[object] = queue.Queue(maxsize=max(1, max_items // batch))
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        pending: list[object] = []
        try:
            for item in iterator:
                pending.append(item)
                if len(pending) >= batch:
                    if not offer(pending):
                        return
                    pending = []
        except BaseException as exc:  # handed to the reader (after what came before it), who raises it
            if not pending or offer(pending):
                offer(_Failed(exc))
            return
        finally:
            # A generator is closed in the thread that ran it (its connection or files go with it).
            close = getattr(iterator, "close", None)
            if callable(close):
                close()
        if not pending or offer(pending):
            offer(_DONE)

    worker = threading.Thread(target=produce, name="saas-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield from item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=30)
