"""What a survivor is told about who is there, in Chromium against daphne.

Open hours alone do not mean someone is there: she is told when nobody is
free, keeps the other ways to get help in view while she waits, and is told
plainly when no one has answered. She is told who may read along, and a
language switch keeps her chat.
"""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import ObserverNotice, Role
from conversations.models import Conversation
from conversations.services import shift_start
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conversations.conftest import make_chat_ready
from tests.factories import client_for, organization_create, staff_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def site():
    organization = organization_create(
        "open",
        hostname="open.localhost",
        neutral_title="Garden club",
        hotline_numbers="Crisis line: 1-800-555-0100",
        chat_unanswered_minutes=10,
    )
    make_chat_ready(organization)
    server = ServerProcess().start()
    yield organization, f"http://open.localhost:{server.port}"
    server.stop()


def _staff(organization, roles, name):
    """Return the session cookie of a staff member on shift, second factor verified."""
    user = staff_create(organization, roles, username=name)
    with organization_context(organization):
        shift_start(
            organization=organization,
            worker=user,
            ends_at=timezone.now() + datetime.timedelta(hours=4),
        )
    return client_for(organization, user).cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def worker_session(site):
    return _staff(site[0], [Role.SUPPORT_WORKER], "ana")


@pytest.fixture
def supervisor_session(site):
    return _staff(site[0], [Role.SUPERVISOR], "sue")


def _console(browser, base, session):  # noqa: F811
    context = browser.new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/staff/chat/")
    return context, page


def _to_the_queue(page, base, start="Start a chat"):
    page.goto(f"{base}/en/")
    page.get_by_role("link", name=start).click()
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_label("No").check()
    page.get_by_role("button", name="Start chat").click()
    page.get_by_text("Your place in line: 1").wait_for()


def test_nobody_on_shift_is_said_and_she_is_told_when_no_one_answers(browser, site):  # noqa: F811
    organization, base = site
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/en/")
    assert page.get_by_text("no one is free to answer right now").is_visible()
    assert not page.get_by_text("Someone is here to chat with you now.").is_visible()
    page.get_by_role("link", name="Start a chat and wait").click()
    assert page.get_by_text("no one is free to answer right now").is_visible()

    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_label("No").check()
    page.get_by_role("button", name="Start chat").click()
    page.get_by_text("Your place in line: 1").wait_for()
    # While she waits, the other ways to get help stay in view.
    assert page.get_by_role("link", name="1-800-555-0100").is_visible()
    assert page.get_by_role("link", name="911").is_visible()
    assert not page.get_by_text("No one has been able to answer you yet").is_visible()

    # Nine minutes and 57 seconds later, by the clock of her conversation: she
    # reloads, and three seconds on she is told plainly.
    with organization_context(organization):
        Conversation.objects.update(
            created_at=timezone.now() - datetime.timedelta(minutes=9, seconds=57)
        )
    page.reload()
    page.get_by_text("Your place in line: 1").wait_for()
    assert not page.get_by_text("No one has been able to answer you yet").is_visible()
    page.get_by_text("No one has been able to answer you yet").wait_for(timeout=8000)
    assert page.get_by_role("link", name="1-800-555-0100").is_visible()
    context.close()


def test_a_worker_on_shift_makes_it_staffed_with_a_rough_wait(
    site,
    worker_session,
    browser,  # noqa: F811
):
    organization, base = site
    with organization_context(organization):
        answered = Conversation.objects.create(
            organization=organization,
            token_hash="answered",
            state=Conversation.State.ENDED,
            survivor_seen_at=timezone.now(),
        )
        Conversation.objects.filter(pk=answered.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=20),
            accepted_at=timezone.now() - datetime.timedelta(minutes=12),
        )
        Conversation.objects.create(
            organization=organization, token_hash="waiting", survivor_seen_at=timezone.now()
        )
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/en/")
    assert page.get_by_text("Someone is here to chat with you now.").is_visible()
    assert page.get_by_text("One person is waiting to chat.").is_visible()
    assert page.get_by_text("The wait is about 10 minutes.").is_visible()
    assert page.get_by_role("link", name="Start a chat").is_visible()
    context.close()


def test_she_sees_who_may_read_and_a_language_switch_keeps_her_chat(
    site,
    worker_session,
    supervisor_session,
    browser,  # noqa: F811
):
    organization, base = site
    organization.chat_observer_notice = ObserverNotice.ANNOUNCED
    organization.save()
    worker_context, console = _console(browser, base, worker_session)
    supervisor_context, supervisor = _console(browser, base, supervisor_session)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{base}/en/connect/")
    assert page.get_by_text("A supervisor may read along to support our worker.").is_visible()
    _to_the_queue(page, base)
    assert page.get_by_text("A supervisor may read along to support our worker.").is_visible()

    console.locator("#queue button.accept").click()
    page.locator(".bubble.from-worker").first.wait_for()
    supervisor.locator("#overview button.observe").first.click()
    page.get_by_text("A supervisor is reading along to support our worker.").wait_for()
    page.locator("#text").fill("Is someone else there?")
    page.get_by_role("button", name="Send").click()
    console.locator(".pane .bubble.from-survivor", has_text="someone else").wait_for()

    page.get_by_role("link", name="français").click()
    page.wait_for_url(f"{base}/fr/connect/chat/")
    page.get_by_text("Une superviseure peut lire aussi la conversation").wait_for()
    page.get_by_text("Is someone else there?").wait_for()
    page.locator("#text").fill("Je préfère le français.")
    page.get_by_role("button", name="Envoyer").click()
    console.locator(".pane .bubble.from-survivor", has_text="Je préfère").wait_for()
    for each in (context, worker_context, supervisor_context):
        each.close()
