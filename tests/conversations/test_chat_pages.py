"""The survivor's way into a chat, and the organization's chat library pages."""

import datetime
import hashlib

import pytest
from django.utils import timezone

from accounts.models import Role
from conversations.models import (
    Conversation,
    OptionalQuestion,
    QuestionAnswerCount,
    VisitorBlock,
)
from conversations.services import conversation_end, conversation_start
from policies.models import ConsentRecord
from policies.retention import enforce_retention
from policies.tenancy import organization_context
from tests.conversations.conftest import make_chat_ready, ticket_for
from tests.factories import client_for, staff_create

pytestmark = pytest.mark.django_db


def question_create(organization, **fields):
    fields = {
        "text_en": "How did you hear about us?",
        "text_fr": "Comment nous avez-vous connues?",
        "why_en": "It helps us reach others.",
        "why_fr": "Cela nous aide à joindre d'autres femmes.",
        "choices_en": "A friend\nOnline",
        "choices_fr": "Une amie\nEn ligne",
        **fields,
    }
    with organization_context(organization):
        return OptionalQuestion.objects.create(organization=organization, **fields)


@pytest.fixture
def question(chat_organization):
    return question_create(chat_organization)


def test_notice_then_questions_then_chat(chat_organization, question):
    client = client_for(chat_organization)
    notice = client.get("/fr/connect/")
    assert b"Nous devons signaler" in notice.content
    assert notice["Cache-Control"].startswith("max-age=0")
    assert "set-cookie" not in {key.lower() for key in notice.headers}
    questions = client.post("/fr/connect/", {"version": "1"})
    page = questions.content.decode()
    assert "Comment nous avez-vous connues?" in page and "Cela nous aide" in page
    assert "Passer cette question" in page
    with organization_context(chat_organization):
        assert ConsentRecord.objects.count() == 1
    ticket = questions.context["ticket"]
    chat = client.post("/fr/connect/questions/", {"ticket": ticket, f"q-{question.pk}": "1"})
    assert b'id="chat"' in chat.content and b"quick-exit" in chat.content
    assert chat.context["ticket"] == ticket
    with organization_context(chat_organization):
        counts = list(QuestionAnswerCount.objects.values_list("choice", "count"))
    assert counts == [(1, 1)]


def test_skipped_question_counts_nothing(chat_organization, question):
    client = client_for(chat_organization)
    ticket = client.post("/en/connect/", {"version": "1"}).context["ticket"]
    client.post("/en/connect/questions/", {"ticket": ticket, f"q-{question.pk}": "skip"})
    client.post("/en/connect/questions/", {"ticket": ticket, f"q-{question.pk}": "7"})
    with organization_context(chat_organization):
        assert not QuestionAnswerCount.objects.exists()


@pytest.mark.parametrize(
    "answers",
    [
        {"q-{pk}": "²"},
        {"q-²": "0"},
        {"q-{pk}": "9" * 5000},
        {"q-{pk}": "-1"},
        {"q-{pk}": " 1"},
        {"q-{pk}": "1\x00"},
        {"q-{pk}0": "1"},
        {"q-": "1"},
    ],
)
def test_bad_answers_count_nothing_and_lead_to_the_chat(chat_organization, question, answers):
    client = client_for(chat_organization)
    ticket = client.post("/en/connect/", {"version": "1"}).context["ticket"]
    answers = {key.format(pk=question.pk): value for key, value in answers.items()}
    response = client.post("/en/connect/questions/", {"ticket": ticket, **answers})
    assert response.status_code == 200 and b'id="chat"' in response.content
    with organization_context(chat_organization):
        assert not QuestionAnswerCount.objects.exists()


def test_a_bad_answer_does_not_lose_the_good_ones(chat_organization, question):
    second = question_create(
        chat_organization, text_en="Is this your first time?", choices_en="Yes\nNo"
    )
    client = client_for(chat_organization)
    ticket = client.post("/en/connect/", {"version": "1"}).context["ticket"]
    client.post(
        "/en/connect/questions/", {"ticket": ticket, f"q-{question.pk}": "²", f"q-{second.pk}": "1"}
    )
    with organization_context(chat_organization):
        counts = list(QuestionAnswerCount.objects.values_list("question", "choice", "count"))
    assert counts == [(second.pk, 1, 1)]


def test_answer_counts_have_no_link_to_a_conversation():
    fields = {field.name for field in QuestionAnswerCount._meta.concrete_fields}
    assert fields == {"id", "organization", "question", "choice", "month", "count"}


def test_forged_ticket_goes_back_to_the_notice(chat_organization):
    response = client_for(chat_organization).post("/en/connect/questions/", {"ticket": "x:y"})
    assert response["Location"] == "/en/connect/"


def test_without_questions_the_notice_leads_to_the_chat(chat_organization):
    response = client_for(chat_organization).post("/en/connect/", {"version": "1"})
    assert b"Are you worried that someone can see this device?" in response.content


def test_outdated_notice_version_shows_the_notice_again(chat_organization):
    response = client_for(chat_organization).post("/en/connect/", {"version": "0"})
    assert b"I understand, continue" in response.content


def test_closed_outside_hours_shows_hours_and_alternatives(organization):
    make_chat_ready(organization)
    with organization_context(organization):
        from accounts.models import OpeningHours

        OpeningHours.objects.update(opens_at=datetime.time(3), closes_at=datetime.time(3, 1))
    organization.hotline_numbers = "Ligne de crise : 1-800-555-0123"
    organization.save()
    page = client_for(organization).get("/fr/connect/").content.decode()
    assert "Le clavardage est fermé en ce moment." in page
    assert "Heures du clavardage" in page
    assert "1-800-555-0123" in page
    assert """En cas d'urgence, composez le <a href="tel:911">911</a>.""" in page


def test_closed_during_outage(chat_organization):
    chat_organization.outage_banner = "Panne technique"
    chat_organization.save()
    page = client_for(chat_organization).get("/en/connect/").content.decode()
    assert "Panne technique" in page and "Chat is closed right now." in page


def test_chat_ended_page_is_neutral(chat_organization):
    page = client_for(chat_organization).get("/en/connect/ended/")
    assert page.status_code == 200
    assert b"The chat has ended" in page.content
    assert page.context["organization"].neutral_title.encode() in page.content


def test_metadata_purged_after_window_and_content_never_kept(chat_organization):
    with organization_context(chat_organization):
        conversation, _token = conversation_start(
            organization=chat_organization,
            ticket=ticket_for(chat_organization),
            safety="unanswered",
            language="en",
        )
        conversation_end(conversation=conversation, outcome="survivor_ended")
        Conversation.objects.filter(pk=conversation.pk).update(
            ended_at=timezone.now() - datetime.timedelta(days=91)
        )
        recent, _token = conversation_start(
            organization=chat_organization,
            ticket=ticket_for(chat_organization),
            safety="unanswered",
            language="en",
        )
        conversation_end(conversation=recent, outcome="survivor_ended")
    assert enforce_retention()["conversation_metadata"] == 1
    with organization_context(chat_organization):
        assert list(Conversation.objects.values_list("pk", flat=True)) == [recent.pk]


def test_console_needs_chat_role(chat_organization):
    moderator = staff_create(chat_organization, [Role.MODERATOR])
    assert client_for(chat_organization, moderator).get("/staff/chat/").status_code == 404
    worker = staff_create(chat_organization, [Role.SUPPORT_WORKER])
    page = client_for(chat_organization, worker).get("/staff/chat/")
    assert page.status_code == 200 and b"Go on shift" in page.content


def test_going_on_shift_records_its_end(chat_organization):
    from conversations.models import Shift

    worker = staff_create(chat_organization, [Role.SUPPORT_WORKER])
    client = client_for(chat_organization, worker)
    ends = (
        timezone.localtime(timezone.now(), chat_organization.tz) + datetime.timedelta(hours=3)
    ).strftime("%H:%M")
    assert client.post("/staff/chat/", {"ends_at": ends}).status_code == 302
    with organization_context(chat_organization):
        shift = Shift.objects.get(worker=worker)
    remaining = shift.ends_at - timezone.now()
    assert datetime.timedelta(hours=2, minutes=58) < remaining <= datetime.timedelta(hours=3)
    client.post("/staff/chat/", {"action": "leave"})
    with organization_context(chat_organization):
        assert Shift.objects.get(worker=worker).left_at is not None


def test_admin_edits_canned_messages_and_another_org_sees_none(
    chat_organization, other_organization, org_admin
):
    client = client_for(chat_organization, org_admin)
    response = client.post(
        "/staff/chat/canned/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-0-title": "Breathing",
            "form-0-body_en": "Let's breathe together.",
            "form-0-body_fr": "Respirons ensemble.",
            "form-0-position": "1",
        },
    )
    assert response.status_code == 302
    other_admin = staff_create(other_organization, [Role.ORG_ADMIN])
    page = client_for(other_organization, other_admin).get("/staff/chat/canned/")
    assert b"Breathing" not in page.content


def _visit(client, token):
    client.cookies["visit"] = token
    return client


def test_the_chat_page_marks_the_browser_once_for_a_while(chat_organization):
    client = client_for(chat_organization)
    first = client.post("/en/connect/", {"version": "1"}).cookies["visit"]
    assert first["httponly"] and first["samesite"] == "Strict"
    assert first["max-age"] == 12 * 60 * 60
    again = client.get("/en/connect/chat/").cookies["visit"]
    assert again.value == first.value


def test_the_ended_page_says_why_and_forgets_the_browser(chat_organization):
    client = _visit(client_for(chat_organization), "a-token")
    for reason, words in (
        ("survivor_ended", "You ended the chat."),
        ("worker_ended", "The worker ended the chat."),
        ("silence", "we had not heard from you for a while"),
        ("abandoned", "The connection was lost"),
    ):
        page = client.get("/en/connect/ended/", {"reason": reason})
        assert words in page.content.decode()
        assert "Start a new chat" in page.content.decode()
        assert page.cookies["visit"]["max-age"] == 0
    french = client.get("/fr/connect/ended/", {"reason": "silence"}).content.decode()
    assert "nous n'avions pas eu de vos nouvelles" in french
    assert "In an emergency" not in french


def test_the_ended_page_ignores_a_reason_it_does_not_know(chat_organization):
    page = client_for(chat_organization).get("/en/connect/ended/", {"reason": "<b>hacked</b>"})
    assert page.status_code == 200
    assert page.context["reason"] == ""
    assert "hacked" not in page.content.decode()
    assert "Nothing of the conversation is kept on this page." in page.content.decode()


def test_a_blocked_browser_sees_the_other_ways_to_get_help(
    chat_organization, other_chat_organization
):
    with organization_context(chat_organization):
        VisitorBlock.objects.create(
            organization=chat_organization,
            token_hash=hashlib.sha256(b"blocked-token").hexdigest(),
            blocked_until=timezone.now() + datetime.timedelta(hours=3),
        )
    client = _visit(client_for(chat_organization), "blocked-token")
    entry = client.get("/en/connect/").content.decode()
    assert "Chat is not available from this browser right now." in entry
    assert "In an emergency, call" in entry
    assert "I understand, continue" not in entry
    ended = client.get("/en/connect/ended/", {"reason": "blocked"})
    assert "not available from this browser for now" in ended.content.decode()
    assert "Start a new chat" not in ended.content.decode()
    assert 3 * 3600 - 60 < ended.cookies["visit"]["max-age"] <= 3 * 3600
    # The same token means nothing to another organization.
    elsewhere = _visit(client_for(other_chat_organization), "blocked-token")
    assert "I understand, continue" in elsewhere.get("/en/connect/").content.decode()
