"""The overload measure: how long the oldest waiting piece of work has waited."""

import threading
import time

from shelterchat import backlog
from shelterchat.backlog import Backlog, overloaded


def test_the_oldest_piece_still_waiting_sets_the_wait():
    queue = Backlog()
    assert queue.oldest_wait() == 0.0
    first = queue.enter()
    time.sleep(0.05)
    second = queue.enter()
    assert queue.oldest_wait() >= 0.05
    queue.leave(first)
    assert queue.oldest_wait() < 0.05
    queue.leave(second)
    queue.leave(second)  # leaving twice is harmless: a cancelled call leaves once more
    assert queue.oldest_wait() == 0.0


def test_pieces_leave_from_other_threads():
    queue = Backlog()
    tickets = [queue.enter() for _ in range(200)]
    threads = [threading.Thread(target=queue.leave, args=(ticket,)) for ticket in tickets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert queue.oldest_wait() == 0.0


def test_either_backlog_past_the_limit_is_overload(settings):
    settings.CHAT_MAX_WAIT_SECONDS = 0.05
    assert not overloaded()
    for queue in (backlog.database_calls, backlog.events):
        ticket = queue.enter()
        time.sleep(0.06)
        assert overloaded()
        queue.leave(ticket)
        assert not overloaded()
