"""Work waiting in this process, and how long the oldest piece has waited.

Two queues hold a chat message's work when more comes than the process can
do: its database calls waiting for a pool thread, and the events announcing
it waiting to be published. Past ``CHAT_MAX_WAIT_SECONDS`` in either, the
process is overloaded: new messages are refused out loud and sent again by
their clients, instead of every chat falling further behind.
"""

import itertools
import threading
import time

from django.conf import settings


class Backlog:
    """Pieces of work entered and not yet left, oldest first; safe from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = {}
        self._tickets = itertools.count()

    def enter(self):
        """Record a piece of work as waiting; return the ticket that ``leave`` takes."""
        ticket = next(self._tickets)
        with self._lock:
            self._waiting[ticket] = time.monotonic()
        return ticket

    def leave(self, ticket):
        with self._lock:
            self._waiting.pop(ticket, None)

    def oldest_wait(self):
        """Seconds the longest-waiting piece has waited; 0 when none waits."""
        with self._lock:
            oldest = next(iter(self._waiting.values()), None)
        return 0.0 if oldest is None else time.monotonic() - oldest


database_calls = Backlog()
events = Backlog()


def overloaded():
    """Whether work in this process has waited longer than it may."""
    longest = max(database_calls.oldest_wait(), events.oldest_wait())
    return longest > settings.CHAT_MAX_WAIT_SECONDS
