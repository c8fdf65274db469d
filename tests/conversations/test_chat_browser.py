"""A whole crisis chat in a real headless Chromium: a survivor and a worker, served by daphne."""

import contextlib

import pytest
from playwright.sync_api import Error as PlaywrightError

from conversations.models import Conversation, ConversationKey, Message
from policies.tenancy import organization_context
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conversations.conftest import signed_in, survivor_waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARABIC = "مرحبا، أحتاج إلى التحدث مع شخص ما"


def test_survivor_and_worker_complete_a_chat(chat_site, browser):  # noqa: F811
    organization, base_url, (worker_session, _other) = chat_site
    worker_context = signed_in(browser, base_url, worker_session)
    console = worker_context.new_page()
    console.goto(f"{base_url}/staff/chat/")

    survivor_context = browser.new_context()
    page = survivor_context.new_page()
    page.goto(f"{base_url}/en/")
    assert page.title() == "Garden club"
    page.get_by_role("link", name="Start a chat").click()
    page.get_by_text("Before you chat").wait_for()
    assert "We must report when a child is at risk." in page.content()
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_text("Is this your first time?").wait_for()
    assert page.get_by_label("Skip this question").is_checked()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Before we start").wait_for()

    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Start chat").click()
    page.get_by_text("Your place in line: 1").wait_for()

    console.locator("#queue button.accept").click()
    console.locator(".pane .bubble").first.wait_for()
    opening = page.locator(".bubble.from-worker").first
    opening.wait_for()
    assert "thank you for reaching out" in opening.inner_text()

    page.locator("#text").fill(ARABIC)
    page.get_by_role("button", name="Send").click()
    console.locator(".pane .bubble.from-survivor").wait_for()
    assert ARABIC in console.locator(".pane .bubble.from-survivor").inner_text()
    assert console.locator(".pane .bubble.from-survivor p").get_attribute("dir") == "auto"

    console.locator(".pane textarea").fill("I am here with you.")
    console.locator(".pane button", has_text="Send").click()
    page.locator(".bubble.from-worker", has_text="I am here with you.").wait_for()

    console.locator(".pane button.end").click()
    page.wait_for_url(f"{base_url}/en/connect/ended/?reason=worker_ended")
    assert page.get_by_text("The chat has ended").is_visible()
    content = page.content()
    assert ARABIC not in content and "I am here with you." not in content
    assert page.evaluate("window.sessionStorage.length") == 0
    assert page.evaluate("window.localStorage.length") == 0
    # Back leaves the journey, which kept one history entry: no conversation.
    with contextlib.suppress(PlaywrightError):
        page.go_back()
    page.wait_for_timeout(1000)
    shown = page.evaluate("document.documentElement.outerHTML")
    assert ARABIC not in shown and "I am here with you." not in shown

    with organization_context(organization):
        conversation = Conversation.objects.get()
        assert conversation.state == "ended"
        assert not Message.objects.exists() and not ConversationKey.objects.exists()
    survivor_context.close()
    worker_context.close()


def test_hand_over_while_she_keeps_typing(chat_site, browser):  # noqa: F811
    organization, base_url, (ana_session, bea_session) = chat_site
    ana_context = signed_in(browser, base_url, ana_session)
    ana = ana_context.new_page()
    ana.goto(f"{base_url}/staff/chat/")
    bea_context = signed_in(browser, base_url, bea_session)
    bea = bea_context.new_page()
    bea.goto(f"{base_url}/staff/chat/")
    survivor_context, page = survivor_waiting(browser, base_url)

    ana.locator("#queue button.accept").click()
    page.locator(".bubble.from-worker").first.wait_for()
    sent = [f"message {n} · رسالة {n}" for n in range(1, 13)]

    def say(text):
        page.locator("#text").fill(text)
        page.get_by_role("button", name="Send").click()

    for text in sent[:6]:
        say(text)
    ana.locator(".pane select.colleagues").select_option(label="bea")
    ana.locator(".pane button.transfer").click()
    for text in sent[6:]:
        say(text)

    page.get_by_text("You are now talking with someone new.").wait_for()
    bea.locator(".pane .bubble.from-survivor", has_text=sent[-1]).wait_for()
    received = bea.locator(".pane .bubble.from-survivor p").all_inner_texts()
    assert received == sent
    ana.get_by_text("You handed this chat over.").wait_for()
    own = page.locator(".bubble.from-survivor:not(.pending) p").all_inner_texts()
    assert own == sent

    bea.locator(".pane textarea").fill("Hello, I am taking over from my colleague.")
    bea.locator(".pane button", has_text="Send").click()
    page.locator(".bubble.from-worker", has_text="taking over").wait_for()
    with organization_context(organization):
        seqs = list(Message.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    for context in (ana_context, bea_context, survivor_context):
        context.close()
