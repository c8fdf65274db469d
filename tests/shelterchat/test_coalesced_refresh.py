"""Refreshes asked for while one runs collapse into one more run, never overlapping."""

import asyncio

import pytest

from shelterchat.consumers import CoalescedRefresh

pytestmark = pytest.mark.asyncio


class Refresh:
    def __init__(self):
        self.runs = 0
        self.running = 0
        self.most_at_once = 0
        self.release = asyncio.Event()

    async def __call__(self):
        self.runs += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await self.release.wait()
        self.running -= 1


async def test_requests_during_a_run_make_one_more_run():
    refresh = Refresh()
    coalesced = CoalescedRefresh()
    coalesced.request(refresh)
    await asyncio.sleep(0)
    for _ in range(4):
        coalesced.request(refresh)
    assert refresh.runs == 1
    refresh.release.set()
    await coalesced.task
    assert refresh.runs == 2
    assert refresh.most_at_once == 1


async def test_request_after_the_run_ends_runs_again():
    refresh = Refresh()
    refresh.release.set()
    coalesced = CoalescedRefresh()
    coalesced.request(refresh)
    await coalesced.task
    coalesced.request(refresh)
    await coalesced.task
    assert refresh.runs == 2


async def test_now_waits_for_a_run_that_follows_the_call():
    refresh = Refresh()
    coalesced = CoalescedRefresh()
    coalesced.request(refresh)
    await asyncio.sleep(0)
    waiting = asyncio.create_task(coalesced.now(refresh))
    await asyncio.sleep(0)
    assert not waiting.done()
    refresh.release.set()
    await waiting
    assert refresh.runs == 2
    assert refresh.most_at_once == 1


async def test_now_runs_inline_when_idle():
    refresh = Refresh()
    refresh.release.set()
    coalesced = CoalescedRefresh()
    await coalesced.now(refresh)
    assert refresh.runs == 1
    assert coalesced.task is None
