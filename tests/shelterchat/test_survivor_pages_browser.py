# ruff: noqa: RUF001 (the French pages' own apostrophes and dashes)
"""Survivor pages as a person sees them in Chromium, on a phone and on a desktop.

What they say must be true (closed or open, and why), in the organization's
languages, and every answer a survivor URL gives, an error included, keeps the
quick exit.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Closure, OpeningHours
from conversations.models import QuestionAnswerCount
from policies.tenancy import organization_context
from tests.browser import browser, neutral_site  # noqa: F401  (fixtures)
from tests.conversations.conftest import make_chat_ready, on_shift, optional_question_create
from tests.factories import organization_create
from tests.groups.conftest import agreement_publish, live_group_make, session_around

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOST = "honest.localhost"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def site(live_server, neutral_site):  # noqa: F811
    neutral = neutral_site[0].rsplit("/", 1)[0]
    organization = organization_create(
        "honest",
        hostname=HOST,
        neutral_title="Garden club",
        neutral_title_fr="Club de jardinage",
        quick_exit_url=f"{neutral}/weather",
        quick_exit_url_fr=f"{neutral}/meteo",
        hotline_numbers="Crisis line: 1-800-555-0100 (24 h)",
    )
    make_chat_ready(organization)
    port = live_server.url.rsplit(":", 1)[1]
    return organization, f"http://{HOST}:{port}"


@pytest.fixture
def staffed(site):
    """Put a worker on shift (before the browser's event loop runs in this thread)."""
    on_shift(site[0])
    return site


def _page(browser, size=DESKTOP, **options):  # noqa: F811
    context = browser.new_context(**size, **options)
    return context, context.new_page()


def _hours(organization, opens, closes):
    with organization_context(organization):
        OpeningHours.objects.filter(organization=organization).delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(organization=organization, weekday=day, opens_at=opens, closes_at=closes)
            for day in range(7)
        )


def _zone_where_it_is(hour):
    """Return a fixed-offset time zone in which it is now ``hour`` o'clock (give or take)."""
    offset = (hour - timezone.now().hour) % 24
    offset = offset - 24 if offset > 14 else offset
    # The POSIX names have the sign the other way round: Etc/GMT-5 is UTC+5.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def test_questions_switch_language_and_come_back_as_the_same_step(staffed, browser):  # noqa: F811
    organization, base = staffed
    question = optional_question_create(organization)
    context, page = _page(browser)
    page.goto(f"{base}/en/connect/")
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_label("No").check()
    page.get_by_role("button", name="français").click()

    page.wait_for_url(f"{base}/fr/connect/questions/")
    assert page.get_by_text("Est-ce la première fois?").is_visible()
    assert page.get_by_label("Non").is_checked()
    assert page.title() == "Club de jardinage"
    with organization_context(organization):
        assert not QuestionAnswerCount.objects.exists()

    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("heading", name="Avant de commencer").wait_for()
    # The chat page's own address, not the form's that brought her here.
    assert page.get_by_role("link", name="English").get_attribute("href") == "/en/connect/chat/"
    with organization_context(organization):
        assert list(QuestionAnswerCount.objects.values_list("question", "choice")) == [
            (question.pk, 1)
        ]
    context.close()


def _assert_survivor_page(page, title, language):
    assert page.locator("#quick-exit").is_visible()
    assert page.title() == title
    assert page.locator("html").get_attribute("lang") == language


def test_every_error_keeps_the_quick_exit(browser, site, monkeypatch, neutral_site):  # noqa: F811
    _organization, base = site
    context, page = _page(browser, PHONE)

    response = page.goto(f"{base}/fr/connect/questions/")
    assert response.status == 405
    _assert_survivor_page(page, "Club de jardinage", "fr")
    assert page.get_by_role("link", name="English").get_attribute("href") == "/en/"

    response = page.goto(f"{base}/en/nowhere/")
    assert response.status == 404
    _assert_survivor_page(page, "Garden club", "en")

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("shelterchat.views.chat_availability", broken)
    response = page.goto(f"{base}/fr/")
    assert response.status == 500
    _assert_survivor_page(page, "Club de jardinage", "fr")
    assert "the database went away" not in page.content()

    def refused(request):
        raise PermissionDenied

    monkeypatch.setattr("groups.views.session_member", refused)
    response = page.goto(f"{base}/en/groups/")
    assert response.status == 403
    _assert_survivor_page(page, "Garden club", "en")
    monkeypatch.undo()

    # A form whose CSRF cookie is gone (cleared, or expired with the session).
    page.goto(f"{base}/en/groups/")
    context.clear_cookies()
    page.get_by_label("Your name in the group").fill("Kind Fern")
    page.get_by_label("Passphrase").fill("lanterns over the harbour")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 403
    _assert_survivor_page(page, "Garden club", "en")

    page.locator("#quick-exit").click()
    page.wait_for_url(neutral_site[0])
    context.close()


@pytest.mark.parametrize(
    ("languages", "browser_locale", "lands_on"),
    [
        (["fr", "en"], "de-DE", "/fr/"),
        (["fr", "en"], "en-CA", "/en/"),
        (["fr"], "en-CA", "/fr/"),
        (["en", "fr"], "es-MX", "/en/"),
        (["en", "fr"], "fr-CA", "/fr/"),
    ],
)
def test_first_language_is_the_default_and_the_browser_chooses_among_hers(
    browser,  # noqa: F811
    site,
    languages,
    browser_locale,
    lands_on,
):
    organization, base = site
    organization.languages = languages
    organization.save()
    context, page = _page(browser, locale=browser_locale)
    page.goto(f"{base}/")
    page.wait_for_url(f"{base}{lands_on}")
    assert page.locator("html").get_attribute("lang") == lands_on.strip("/")
    context.close()


def test_neutral_title_and_quick_exit_follow_the_language(browser, site, neutral_site):  # noqa: F811
    _organization, base = site
    neutral, visits = neutral_site[0].rsplit("/", 1)[0], neutral_site[1]
    context, page = _page(browser, PHONE)
    page.goto("about:blank")
    page.goto(f"{base}/fr/")
    assert page.title() == "Club de jardinage"
    page.get_by_role("button", name="Quitter cette page").click()
    page.wait_for_url(f"{neutral}/meteo")
    page.goto(f"{base}/en/")
    assert page.title() == "Garden club"
    page.get_by_role("button", name="Exit this page").click()
    page.wait_for_url(f"{neutral}/weather")
    assert [visit for visit in visits if visit != "/favicon.ico"] == ["/meteo", "/weather"]
    context.close()


def test_closed_page_says_why_and_when_it_reopens(browser, site):  # noqa: F811
    organization, base = site
    organization.time_zone = _zone_where_it_is(3)
    organization.save()
    _hours(organization, datetime.time(9), datetime.time(18))
    context, page = _page(browser, PHONE)

    page.goto(f"{base}/en/connect/")
    assert page.get_by_text("Chat opens again today at 9 AM.").is_visible()
    page.goto(f"{base}/fr/")
    assert page.get_by_text("Le clavardage rouvre aujourd'hui à 9 h.").is_visible()
    assert page.get_by_text("lundi : 9 h – 18 h").is_visible()

    today = timezone.localtime(timezone=organization.tz).date()
    with organization_context(organization):
        Closure.objects.create(
            organization=organization,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=1),
            note="Closed for the staff retreat.",
        )
    page.goto(f"{base}/en/connect/")
    assert page.get_by_text("Closed for the staff retreat.").is_visible()
    weekday = (today + datetime.timedelta(days=2)).strftime("%A")
    assert page.get_by_text(f"Chat opens again {weekday} at 9 AM.").is_visible()

    organization.outage_banner = "Our chat is down for repairs."
    organization.save()
    page.goto(f"{base}/en/")
    assert page.get_by_text("Our chat is down for repairs.").is_visible()
    assert page.get_by_text("Chat is closed right now.").is_visible()
    assert "opens again" not in page.content()

    # Phone numbers are tap-to-call.
    assert page.get_by_role("link", name="911").get_attribute("href") == "tel:911"
    hotline = page.get_by_role("link", name="1-800-555-0100")
    assert hotline.get_attribute("href") == "tel:18005550100"
    assert page.get_by_text("(24 h)").is_visible()
    context.close()


def test_hours_read_in_her_terms(staffed, browser):  # noqa: F811
    organization, base = staffed
    context, page = _page(browser, PHONE)
    page.goto(f"{base}/en/")
    assert page.get_by_text("Open 24 hours a day, every day.").is_visible()
    assert "00:00" not in page.content()
    page.goto(f"{base}/fr/")
    assert page.get_by_text("Ouvert 24 h sur 24, tous les jours.").is_visible()

    organization.time_zone = "America/Toronto"
    organization.save()
    with organization_context(organization):
        OpeningHours.objects.filter(organization=organization, weekday=0).update(
            opens_at=datetime.time(9), closes_at=datetime.time(21, 30)
        )
    page.goto(f"{base}/en/")
    assert page.get_by_text("Monday: 9 AM – 9:30 PM").is_visible()
    assert page.get_by_text("Tuesday: open 24 hours").is_visible()
    assert page.get_by_text("Hours are Toronto time.").is_visible()
    assert "America/Toronto" not in page.content()
    page.goto(f"{base}/fr/")
    assert page.get_by_text("mardi : 24 h sur 24").is_visible()
    assert page.get_by_text("lundi : 9 h – 21 h 30").is_visible()
    context.close()


def test_hint_focus_order_and_targets(staffed, browser):  # noqa: F811
    organization, base = staffed
    phone, on_phone = _page(browser, PHONE)
    on_phone.goto(f"{base}/en/")
    assert not on_phone.get_by_text("press the Shift key 3 times").is_visible()
    desktop, on_desktop = _page(browser)
    on_desktop.goto(f"{base}/en/")
    assert on_desktop.get_by_text("press the Shift key 3 times").is_visible()
    on_desktop.keyboard.press("Tab")
    assert on_desktop.evaluate("document.activeElement.id") == "quick-exit"
    desktop.close()

    optional_question_create(organization)
    # What she can see and tap; a page being replaced in place has nothing to measure.
    targets = (
        "button:visible, a.button:visible, .languages a:visible,"
        " label:has(> input[type=radio]):visible"
    )
    for step in ("home", "notice", "questions", "chat"):
        # Each step replaces the page in place: measure once the next one is there.
        if step == "notice":
            on_phone.get_by_role("link", name="Start a chat").click()
            on_phone.get_by_role("button", name="I understand, continue").wait_for()
        elif step == "questions":
            on_phone.get_by_role("button", name="I understand, continue").click()
            on_phone.get_by_role("button", name="Continue", exact=True).wait_for()
        elif step == "chat":
            on_phone.get_by_role("button", name="Continue").click()
            on_phone.get_by_role("heading", name="Before we start").wait_for()
        boxes = [element.bounding_box() for element in on_phone.locator(targets).all()]
        assert boxes and None not in boxes, step
        for box in boxes:
            assert box["width"] >= 44 and box["height"] >= 44, (step, box)
        for radio in on_phone.locator("input[type=radio]").all():
            assert radio.bounding_box()["width"] >= 24, step

    # The private prompt for a first code word asks for no "current" one.
    on_phone.evaluate(
        "document.getElementById('conversation').hidden = false;"
        "document.getElementById('code-word').hidden = false;"
    )
    assert on_phone.locator("#secret-word").is_visible()
    assert not on_phone.get_by_text("Current code word").is_visible()
    phone.close()


def test_english_times_end_a_sentence_once(browser, site):  # noqa: F811
    organization, base = site
    agreement_publish(organization, body_en="Be kind.", body_fr="Soyez bienveillantes.")
    group = live_group_make(organization)
    session_around(organization, group, started=-3 * 3600, ends_in=4 * 3600)
    context, page = _page(browser, PHONE)
    page.goto(f"{base}/en/groups/live/{group.link_id}/")
    notice = page.locator(".banner").inner_text()
    assert notice.startswith("The next session is on") and notice.endswith(("AM.", "PM."))
    assert ".." not in notice
    context.close()
