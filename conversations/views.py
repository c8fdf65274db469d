"""Crisis chat pages: the survivor's way in, and the staff console and library."""

from django.contrib import messages
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.access import staff_required
from accounts.models import Role
from accounts.selectors import weekly_hours
from accounts.services import organization_formset_save
from conversations import browser, handovers, selectors, services
from conversations.forms import (
    CannedMessageFormSet,
    OptionalQuestionFormSet,
    QuestionAnswersForm,
    ShiftForm,
)
from conversations.models import Conversation
from policies.models import ConsentDocument
from policies.selectors import consent_document_current


def _with_hours(request, template, context=None):
    """Render a page that shows the chat hours and the other ways to get help."""
    week = weekly_hours(organization=request.organization)
    return render(request, template, {"week": week, **(context or {})})


def _closed(request, availability):
    return _with_hours(request, "conversations/closed.html", {"availability": availability})


def _chat_page(request, ticket=""):
    response = _with_hours(
        request,
        "conversations/chat.html",
        {
            "ticket": ticket,
            # Rendered for a form's POST too: the other language's link is the chat page's.
            "page_path": reverse("chat:chat"),
            "availability": selectors.chat_availability(organization=request.organization),
        },
    )
    browser.token_keep(response, request)
    return response


def _questions_page(request, ticket, answers=None):
    """The optional questions, with the answers she already chose (after a language switch)."""
    language = get_language()
    answers = answers or {}
    return render(
        request,
        "conversations/questions.html",
        {
            "ticket": ticket,
            "questions": [
                (question.pk, *question.localized(language), answers.get(question.pk))
                for question in selectors.optional_question_list(organization=request.organization)
            ],
            "page_path": reverse("chat:questions"),
            "language_form": "questions",
        },
    )


def _notice(organization):
    return consent_document_current(
        organization=organization, kind=ConsentDocument.Kind.CHAT_NOTICE
    )


# Survivors send no cookie with these forms, so there is no session to forge
# a request for: CSRF protection has nothing to protect here.
@csrf_exempt
@never_cache
def chat_entry(request):
    """Show the notice of rights and limits of confidentiality; its acceptance opens the way."""
    organization = request.organization
    notice = _notice(organization)
    availability = selectors.chat_availability(organization=organization)
    if notice is None or not availability.is_open:
        return _closed(request, availability)
    if selectors.visitor_block_seconds_left(
        organization=organization, browser_token=browser.request_token(request)
    ):
        return _with_hours(request, "conversations/blocked.html")
    if request.method == "POST" and request.POST.get("version") == str(notice.version):
        ticket = services.notice_accept(organization=organization, document=notice)
        if not selectors.optional_question_list(organization=organization).exists():
            return _chat_page(request, ticket)
        return _questions_page(request, ticket)
    return render(
        request,
        "conversations/notice.html",
        {"notice": notice, "body": notice.body(get_language()), "availability": availability},
    )


@csrf_exempt
@never_cache
@require_POST
def chat_questions(request):
    """Count the answers given (skipped ones count nothing), then open the chat page.

    The language links of the questions page resubmit its form here with
    ``language_switch``: the same questions come back in that language, her
    answers kept and nothing counted yet.
    """
    ticket = request.POST.get("ticket", "")
    try:
        signing.TimestampSigner(salt="chat-admission").unsign(
            ticket, max_age=services.ADMISSION_MAX_AGE
        )
    except signing.BadSignature:
        return redirect(reverse("chat:entry"))
    answers = QuestionAnswersForm(
        request.POST,
        questions=selectors.optional_question_list(organization=request.organization),
        language=get_language(),
    ).answers()
    if request.POST.get("language_switch"):
        return _questions_page(request, ticket, answers)
    services.question_answers_record(organization=request.organization, answers=answers)
    return _chat_page(request, ticket)


@never_cache
def chat_page(request):
    """The chat page reached by reloading: it resumes the chat kept in this tab, if any."""
    return _chat_page(request)


@never_cache
def chat_ended(request):
    """Say why the chat ended, and where else to turn; keep the cookie only for a block."""
    reason = request.GET.get("reason", "")
    response = _with_hours(
        request,
        "conversations/ended.html",
        {"reason": reason if reason in Conversation.Outcome.values else ""},
    )
    blocked_seconds = selectors.visitor_block_seconds_left(
        organization=request.organization, browser_token=browser.request_token(request)
    )
    if blocked_seconds:
        browser.token_keep(response, request, seconds=blocked_seconds)
    else:
        browser.token_forget(response)
    return response


@never_cache
@staff_required(Role.SUPPORT_WORKER, Role.SUPERVISOR, Role.INTERPRETER)
def console(request):
    organization = request.organization
    form = ShiftForm(request.POST or None, organization=organization)
    if request.method == "POST":
        if request.POST.get("action") == "leave":
            services.shift_leave(organization=organization, worker=request.user)
            return redirect("conversations:console")
        if form.is_valid():
            services.shift_start(
                organization=organization, worker=request.user, ends_at=form.ends_at_datetime()
            )
            return redirect("conversations:console")
    canned = [
        {"id": item.pk, "title": item.title}
        for item in selectors.canned_message_list(organization=organization)
    ]
    return render(
        request,
        "conversations/console.html",
        {
            "form": form,
            "shift": services.shift_current(organization=organization, worker=request.user),
            "canned": canned,
            "takes_chats": request.membership.has_role(Role.SUPPORT_WORKER, Role.SUPERVISOR),
            "debriefs": (
                handovers.debrief_list(organization=organization)
                if request.membership.has_role(Role.SUPERVISOR)
                else []
            ),
        },
    )


def _library(request, formset_class, queryset, template, action):
    formset = formset_class(request.POST or None, queryset=queryset)
    if request.method == "POST" and formset.is_valid():
        organization_formset_save(
            organization=request.organization, actor=request.user, formset=formset, action=action
        )
        messages.success(request, _("Saved."))
        return redirect(request.path)
    return render(request, template, {"formset": formset})


@never_cache
@staff_required(Role.ORG_ADMIN)
def canned_messages(request):
    return _library(
        request,
        CannedMessageFormSet,
        selectors.canned_message_list(organization=request.organization),
        "conversations/canned.html",
        "canned.update",
    )


@never_cache
@staff_required(Role.ORG_ADMIN)
def optional_questions(request):
    return _library(
        request,
        OptionalQuestionFormSet,
        selectors.optional_question_library(organization=request.organization),
        "conversations/questions_admin.html",
        "questions.update",
    )
