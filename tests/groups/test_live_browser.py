"""A whole group chat in a real headless Chromium, served by daphne through Redis.

A facilitator and three survivors: two are let in, one is turned away; they
write in English, French and Chinese; the facilitator removes a message that
gives away an address, then removes a participant; the session ends on
schedule, and every participant's page is emptied and replaced.
"""

import contextlib
import time

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from accounts.models import Organization, OrganizationHostname, Role
from groups.models import GroupMeeting, MeetingKey, MeetingMessage, MeetingParticipant
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess
from tests.browser import browser  # noqa: F401  (fixture)
from tests.factories import client_for, staff_create
from tests.groups.conftest import agreement_publish, live_group_make, session_around

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH = "Hello everyone, I am glad to be here tonight."
FRENCH = "Bonsoir, merci de m'accueillir. Ça fait du bien."
CHINESE = "欢迎大家。这里很安全。"
ADDRESS = "I live at 12 Elm Street, come see me"
# Seconds from the set-up to the session's scheduled end: enough for the
# whole flow below, with room to spare on a slow machine.
SESSION_LEFT_SECONDS = 30


@pytest.fixture
def live_site():
    organization = Organization.objects.create(
        slug="live",
        name="Live",
        public_name="Live House",
        neutral_title="Book club",
        languages=["en", "fr"],
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname="live.localhost")
    moderator = staff_create(organization, [Role.MODERATOR])
    agreement_publish(organization, body_en="No screenshots. What is said here stays here.")
    group = live_group_make(organization, purpose="Meeting others who have been through it.")
    session_around(organization, group, ends_in=SESSION_LEFT_SECONDS)
    ends_at = time.monotonic() + SESSION_LEFT_SECONDS
    staff_session = client_for(organization, moderator).cookies[settings.SESSION_COOKIE_NAME].value
    server = ServerProcess().start()
    yield organization, group, f"http://live.localhost:{server.port}", staff_session, ends_at
    server.stop()


def _arrive(context, base, group, name, page=None):
    page = page or context.new_page()
    page.goto(f"{base}/en/groups/live/{group.link_id}/")
    assert page.title() == "Book club"
    assert page.get_by_text("No screenshots. What is said here stays here.").is_visible()
    page.get_by_label("Your name in the group chat").fill(name)
    page.get_by_label("I have read the group agreement and I accept it.").check()
    page.get_by_role("button", name="Go to the waiting room").click()
    page.get_by_role("heading", name="Waiting room").wait_for()
    return page


def _say(page, text):
    page.locator("#text").fill(text)
    page.get_by_role("button", name="Send").click()


def _assert_cleared(page, base, group, heading, within=10):
    page.wait_for_url(f"{base}/en/groups/live/{group.link_id}/left/", timeout=within * 1000)
    page.get_by_role("heading", name=heading).wait_for()
    shown = page.evaluate("document.documentElement.outerHTML")
    for text in (ENGLISH, FRENCH, CHINESE, ADDRESS):
        assert text not in shown
    assert page.evaluate("window.sessionStorage.length") == 0
    # Back leads to the room page, which shows nothing of the session now.
    with contextlib.suppress(PlaywrightError):
        page.go_back()
    page.wait_for_timeout(500)
    shown = page.evaluate("document.documentElement.outerHTML")
    for text in (ENGLISH, FRENCH, CHINESE, ADDRESS):
        assert text not in shown


def test_facilitator_and_three_survivors_meet_until_the_scheduled_end(live_site, browser):  # noqa: F811
    organization, group, base, staff_session, ends_at = live_site
    errors = []
    facilitator_context = browser.new_context()
    facilitator_context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": staff_session, "url": base}]
    )
    console = facilitator_context.new_page()
    console.on("console", lambda message: errors.append(message.text))
    console.goto(f"{base}/staff/groups/{group.pk}/live/")
    console.get_by_role("heading", name="Waiting room").wait_for()

    contexts = [browser.new_context() for _ in range(3)]
    lark = _arrive(contexts[0], base, group, "Brave Lark")
    fern = _arrive(contexts[1], base, group, "Kind Fern")
    stranger = _arrive(contexts[2], base, group, "Night Owl")
    for page in (lark, fern, stranger):
        page.on("console", lambda message: errors.append(message.text))

    waiting = console.locator("#waiting")
    for name in ("Brave Lark", "Kind Fern", "Night Owl"):
        waiting.locator("li", has_text=name).wait_for()
    waiting.locator("li", has_text="Brave Lark").get_by_role("button", name="Let in").click()
    waiting.locator("li", has_text="Kind Fern").get_by_role("button", name="Let in").click()
    waiting.locator("li", has_text="Night Owl").get_by_role("button", name="Turn away").click()
    _assert_cleared(stranger, base, group, "You were not let in")
    for page in (lark, fern):
        page.locator("#room").wait_for()
        page.locator("#roster li", has_text="Kind Fern").wait_for()
        page.locator("#roster li", has_text="Brave Lark").wait_for()

    _say(lark, ENGLISH)
    fern.locator(".bubble.from-other", has_text=ENGLISH).wait_for()
    _say(fern, FRENCH)
    lark.locator(".bubble.from-other", has_text=FRENCH).wait_for()
    console.locator("#text").fill(CHINESE)
    console.get_by_role("button", name="Send").click()
    for page in (lark, fern):
        bubble = page.locator(".bubble.from-facilitator", has_text=CHINESE)
        bubble.wait_for()
        assert bubble.locator(".who").inner_text() == "Facilitator"
        assert bubble.locator("p").get_attribute("dir") == "auto"
    french = lark.locator(".bubble p", has_text=FRENCH)
    assert french.evaluate("element => getComputedStyle(element).direction") == "ltr"
    assert lark.locator(".bubble.from-self", has_text=ENGLISH).locator(".who").inner_text() == "You"

    # A message that gives away an address disappears for everyone.
    _say(lark, ADDRESS)
    fern.locator(".bubble", has_text=ADDRESS).wait_for()
    message = console.locator(".bubble", has_text=ADDRESS)
    message.get_by_role("button", name="Remove message").click()
    for page in (lark, fern, console):
        page.locator(".bubble", has_text=ADDRESS).wait_for(state="detached")
    assert lark.locator(".bubble", has_text=ENGLISH).is_visible()

    # The facilitator removes a participant: her page is emptied at once.
    roster = console.locator("#roster")
    roster.locator("li", has_text="Kind Fern").get_by_role("button", name="Remove").click()
    _assert_cleared(fern, base, group, "You were removed from this session")
    lark.locator("#roster li", has_text="Kind Fern").wait_for(state="detached")

    # No one ends it: the schedule does.
    left = ends_at - time.monotonic()
    assert left > 0, "the flow took longer than the session"
    with organization_context(organization):
        assert GroupMeeting.objects.get().state == GroupMeeting.State.OPEN
    _assert_cleared(lark, base, group, "The group chat has ended", within=left + 10)
    assert contexts[0].cookies() == [], "a group chat that is over leaves no cookie"
    console.get_by_text("The session has ended. Its messages and names are erased.").wait_for()
    assert ENGLISH not in console.evaluate("document.documentElement.outerHTML")

    with organization_context(organization):
        meeting = GroupMeeting.objects.get()
        assert (meeting.state, meeting.outcome, meeting.participant_count) == (
            "ended",
            "scheduled",
            2,
        )
        assert meeting.ended_at >= meeting.ends_at
        assert meeting.ended_at <= timezone.now()
        assert not MeetingMessage.objects.exists()
        assert not MeetingKey.objects.exists()
        assert not MeetingParticipant.objects.exists()
    assert not [line for line in errors if "Content Security Policy" in line], errors
    for context in (facilitator_context, *contexts):
        context.close()


def test_leaving_asks_once_and_leaves_nothing_behind(live_site, browser):  # noqa: F811
    _organization, group, base, staff_session, _ends_at = live_site
    facilitator_context = browser.new_context()
    facilitator_context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": staff_session, "url": base}]
    )
    console = facilitator_context.new_page()
    console.goto(f"{base}/staff/groups/{group.pk}/live/")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    blank = context.new_page()
    blank.goto("about:blank")
    page = _arrive(context, base, group, "Quiet Heron", page=blank)
    console.locator("#waiting li", has_text="Quiet Heron").get_by_role(
        "button", name="Let in"
    ).click()
    page.locator("#room").wait_for()
    send = page.get_by_role("button", name="Send", exact=True)
    leave = page.get_by_role("button", name="Leave the group chat")
    assert (
        leave.bounding_box()["y"] - (send.bounding_box()["y"] + send.bounding_box()["height"]) >= 32
    )

    leave.click()
    question = page.get_by_text("Leave the group chat? Its messages will be cleared")
    assert question.is_visible() and not leave.is_visible()
    page.get_by_role("button", name="Stay").click()
    assert not question.is_visible()
    page.wait_for_timeout(300)
    assert page.locator("#room").is_visible()

    leave.click()
    page.get_by_role("button", name="Yes, leave").click()
    page.wait_for_url(f"{base}/en/groups/live/{group.link_id}/left/")
    page.get_by_role("heading", name="You have left the group chat").wait_for()
    assert page.get_by_text("you can clear the history").is_visible()
    assert context.cookies() == []
    assert page.evaluate("history.length") == 2
    with contextlib.suppress(PlaywrightError):
        page.go_back()
    page.wait_for_timeout(500)
    assert page.url == "about:blank"
    facilitator_context.close()
    context.close()
