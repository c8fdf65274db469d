"""What a survivor's browser keeps of a crisis chat, and what her screen tells her.

Walked in Chromium at phone size: the journey leaves one history entry and
Back shows no step of it; the silence warning sits by the compose box; every
ending says why, with the other ways to get help; ending asks once.
"""

import contextlib
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from conversations.models import Conversation
from policies.tenancy import organization_context
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conversations.conftest import signed_in, survivor_to_the_queue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
SERVICE_WORDS = ("Talk with someone", "Before you chat", "optional questions", "Before we start")


def _survivor(browser, base_url, language="en"):  # noqa: F811
    """Open her page as she would, coming from another site (about:blank stands in)."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto("about:blank")
    page.goto(f"{base_url}/{language}/")
    return context, page


def _back_shows_no_service_page(page):
    with contextlib.suppress(PlaywrightError):
        page.go_back()
    page.wait_for_timeout(500)
    assert page.url == "about:blank"
    shown = page.evaluate("document.documentElement.outerHTML")
    assert not any(words in shown for words in SERVICE_WORDS)


def test_a_whole_chat_leaves_one_history_entry(chat_site, browser):  # noqa: F811
    _organization, base_url, (worker_session, _other) = chat_site
    console = signed_in(browser, base_url, worker_session).new_page()
    console.goto(f"{base_url}/staff/chat/")
    context, page = _survivor(browser, base_url)
    survivor_to_the_queue(page)
    assert page.evaluate("history.length") == 2
    console.locator("#queue button.accept").click()
    page.locator(".bubble.from-worker").first.wait_for()
    console.locator(".pane button.end").click()
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=worker_ended")
    assert page.evaluate("history.length") == 2
    assert page.get_by_text("clear the history").is_visible()
    _back_shows_no_service_page(page)
    context.close()


def test_back_after_a_quick_exit_shows_nothing_of_the_service(chat_site, browser, neutral_site):  # noqa: F811
    _organization, base_url, _sessions = chat_site
    context, page = _survivor(browser, base_url)
    page.get_by_role("link", name="Start a chat").click()
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_text("A few optional questions").wait_for()
    page.get_by_role("button", name="Exit this page").click()
    page.wait_for_url(neutral_site[0])
    assert page.evaluate("history.length") == 2
    _back_shows_no_service_page(page)
    context.close()


def test_the_forms_still_work_without_javascript(chat_site, browser):  # noqa: F811
    _organization, base_url, _sessions = chat_site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/en/")
    page.get_by_role("link", name="Start a chat").click()
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_role("button", name="Continue", exact=True).click()
    assert page.url == f"{base_url}/en/connect/questions/"
    assert page.get_by_text("Before we start").is_visible()
    context.close()


def _in_a_chat(browser, base_url, worker_session):  # noqa: F811
    console = signed_in(browser, base_url, worker_session).new_page()
    console.goto(f"{base_url}/staff/chat/")
    context, page = _survivor(browser, base_url)
    survivor_to_the_queue(page)
    console.locator("#queue button.accept").click()
    page.locator(".bubble.from-worker").first.wait_for()
    return console, context, page


def _say(page, text):
    page.locator("#text").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def _conversations_update(organization, **fields):
    with organization_context(organization):
        Conversation.objects.update(**fields)


def test_the_silence_warning_is_in_sight_and_the_end_says_why(chat_site, browser):  # noqa: F811
    organization, base_url, (worker_session, _other) = chat_site
    _console, context, page = _in_a_chat(browser, base_url, worker_session)
    for n in range(25):
        _say(page, f"line {n} of a long story")
    page.locator(".bubble.from-survivor:not(.pending)", has_text="line 24 of").wait_for()

    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    _conversations_update(organization, survivor_seen_at=an_hour_ago)
    warning = page.locator("#silence-warning")
    warning.wait_for()
    assert warning.get_attribute("role") == "alert"
    assert "The chat will close in 5 min (at " in warning.inner_text()
    box = warning.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    text_box = page.locator("#text").bounding_box()
    assert 0 < text_box["y"] - (box["y"] + box["height"]) < 60

    _conversations_update(organization, silence_warned_at=an_hour_ago)
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=silence")
    assert page.get_by_text("we had not heard from you for a while").is_visible()
    assert page.get_by_text("In an emergency, call 911.").is_visible()
    assert page.get_by_role("link", name="Start a new chat").is_visible()
    assert "line 24" not in page.content()
    context.close()


def test_ending_asks_once_and_stands_apart_from_send(chat_site, browser):  # noqa: F811
    organization, base_url, (worker_session, _other) = chat_site
    _console, context, page = _in_a_chat(browser, base_url, worker_session)
    send = page.get_by_role("button", name="Send", exact=True)
    end = page.get_by_role("button", name="End chat")
    send_box, end_box = send.bounding_box(), end.bounding_box()
    assert end_box["y"] - (send_box["y"] + send_box["height"]) >= 32
    colour = "el => getComputedStyle(el).color + ' ' + getComputedStyle(el).backgroundColor"
    assert send.evaluate(colour) != end.evaluate(colour)

    end.click()
    question = page.get_by_text("End the chat? Everything will be erased.")
    assert question.is_visible() and not end.is_visible()
    assert page.evaluate("document.activeElement.id") == "end-chat-confirm"
    page.get_by_role("button", name="Keep chatting").click()
    assert not question.is_visible() and end.is_visible()
    assert page.evaluate("document.activeElement.id") == "end-chat-ask"
    page.wait_for_timeout(300)
    with organization_context(organization):
        assert Conversation.objects.get().state == "active"

    end.click()
    page.get_by_role("button", name="Yes, end and erase").click()
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=survivor_ended")
    assert page.get_by_text("You ended the chat.").is_visible()
    context.close()


def test_a_block_leaves_no_storage_and_a_cookie_only_as_long_as_it(chat_site, browser):  # noqa: F811
    _organization, base_url, (worker_session, _other) = chat_site
    console, context, page = _in_a_chat(browser, base_url, worker_session)
    console.locator(".pane button.block").click()
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=blocked")
    assert page.get_by_text("chat is not available from this browser for now").is_visible()
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    (cookie,) = context.cookies()
    assert cookie["name"] == "visit" and cookie["httpOnly"]
    hours_left = (cookie["expires"] - timezone.now().timestamp()) / 3600
    assert 23.9 < hours_left <= 24

    page.goto(f"{base_url}/en/connect/")
    assert page.get_by_text("Chat is not available from this browser right now.").is_visible()
    assert page.get_by_text("In an emergency, call 911.").is_visible()
    assert page.get_by_role("button", name="I understand, continue").count() == 0
    context.close()


def test_an_ordinary_end_leaves_no_cookie(chat_site, browser):  # noqa: F811
    _organization, base_url, (worker_session, _other) = chat_site
    console, context, page = _in_a_chat(browser, base_url, worker_session)
    assert [cookie["name"] for cookie in context.cookies()] == ["visit"]
    console.locator(".pane button.end").click()
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=worker_ended")
    assert page.get_by_text("The worker ended the chat.").is_visible()
    assert context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    context.close()
