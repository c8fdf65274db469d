import datetime

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from accounts.models import OpeningHours, Organization, OrganizationHostname, Role
from conversations.models import OptionalQuestion
from conversations.services import notice_accept, shift_start
from policies.models import ConsentDocument
from policies.services import consent_document_publish
from policies.tenancy import organization_context
from tests.asgi_server import ServerProcess
from tests.factories import client_for, staff_create
from tests.websocket import JsonSocket, communicator


def make_chat_ready(organization):
    """Open the organization's chat around the clock and publish its notice."""
    with organization_context(organization):
        OpeningHours.objects.bulk_create(
            OpeningHours(
                organization=organization,
                weekday=day,
                opens_at=datetime.time(0),
                closes_at=datetime.time(0),
            )
            for day in range(7)
        )
        consent_document_publish(
            organization=organization,
            actor=None,
            kind=ConsentDocument.Kind.CHAT_NOTICE,
            body_en="We must report when a child is at risk.",
            body_fr="Nous devons signaler quand un enfant est en danger.",
        )


def optional_question_create(organization):
    """Ask one optional question before the chat, in both languages."""
    with organization_context(organization):
        return OptionalQuestion.objects.create(
            organization=organization,
            text_en="Is this your first time?",
            text_fr="Est-ce la première fois?",
            why_en="To plan our services.",
            why_fr="Pour planifier nos services.",
            choices_en="Yes\nNo",
            choices_fr="Oui\nNon",
        )


def on_shift(organization, roles=(Role.SUPPORT_WORKER,), hours=4):
    user = staff_create(organization, roles)
    with organization_context(organization):
        shift_start(
            organization=organization,
            worker=user,
            ends_at=timezone.now() + datetime.timedelta(hours=hours),
        )
    return user


def in_tenant(organization, function):
    """Run ``function`` on a worker thread inside the organization; return its awaitable result."""

    def run():
        with organization_context(organization):
            return function()

    return sync_to_async(run)()


async def live_chat(organization):
    """Open an accepted chat: a worker on shift and a survivor, past the greeting."""
    user = await sync_to_async(on_shift)(organization)
    worker = await Worker(organization, user).open()
    survivor = await Survivor(organization).open()
    await survivor.start()
    conversation_id = await worker.next_waiting()
    await worker.send(type="accept", conversation=conversation_id)
    await worker.receive_until("message")
    await survivor.receive_until("message")
    return worker, survivor, conversation_id


def ticket_for(organization):
    from policies.selectors import consent_document_current

    with organization_context(organization):
        notice = consent_document_current(
            organization=organization, kind=ConsentDocument.Kind.CHAT_NOTICE
        )
        return notice_accept(organization=organization, document=notice)


@pytest.fixture
def chat_organization(organization):
    make_chat_ready(organization)
    return organization


@pytest.fixture
def other_chat_organization(other_organization):
    make_chat_ready(other_organization)
    return other_organization


class ChatSocket(JsonSocket):
    """A crisis-chat socket; messages must come once and in order."""

    def __init__(self, organization):
        self.organization = organization

    def check(self, frame):
        if frame.get("type") == "message":
            self.check_order(frame)

    def check_order(self, frame):
        raise NotImplementedError


class Survivor(ChatSocket):
    """A survivor's socket with what her page keeps: the token and the last number seen."""

    def __init__(self, organization):
        super().__init__(organization)
        self.token = None
        self.seen = 0

    def check_order(self, frame):
        assert frame["seq"] == self.seen + 1, (frame, self.seen)
        self.seen = frame["seq"]

    async def open(self, cookie=""):
        self.socket = communicator(self.organization, "/ws/connect/", cookie=cookie)
        connected, _ = await self.socket.connect()
        assert connected
        return self

    async def start(self, safety="not_worried", language="en", ticket=None, **extra):
        ticket = ticket or await sync_to_async(ticket_for)(self.organization)
        await self.send(type="start", ticket=ticket, safety=safety, language=language, **extra)
        started = await self.receive()
        if started["type"] == "started":
            self.token = started["token"]
        return started

    async def resume(self):
        await self.open()
        await self.send(type="resume", token=self.token, last_seq=self.seen)


class Worker(ChatSocket):
    """A worker's console socket, signed in with a verified second factor."""

    def __init__(self, organization, user):
        super().__init__(organization)
        self.user = user
        self.seen = {}

    def check_order(self, frame):
        last = self.seen.get(frame["conversation"], 0)
        assert frame["seq"] == last + 1, (frame, last)
        self.seen[frame["conversation"]] = frame["seq"]

    async def open(self):
        client = await sync_to_async(client_for)(self.organization, self.user)
        self.socket = communicator(self.organization, "/ws/staff/chat/", client)
        connected, code = await self.socket.connect()
        assert connected, code
        return self

    async def next_waiting(self):
        """Return the id of the first conversation the queue offers her."""
        while True:
            frame = await self.receive_until("queue")
            if frame["conversations"]:
                return frame["conversations"][0]["conversation"]


@pytest.fixture
def chat_site(neutral_site):
    organization = Organization.objects.create(
        slug="chat",
        name="Chat",
        public_name="Chat House",
        neutral_title="Garden club",
        languages=["en", "fr"],
        quick_exit_url=neutral_site[0],
    )
    with organization_context(organization):
        OrganizationHostname.objects.create(organization=organization, hostname="chat.localhost")
    make_chat_ready(organization)
    optional_question_create(organization)
    sessions = []
    for name in ("ana", "bea"):
        worker = staff_create(organization, [Role.SUPPORT_WORKER], username=name)
        with organization_context(organization):
            shift_start(
                organization=organization,
                worker=worker,
                ends_at=timezone.now() + datetime.timedelta(hours=4),
            )
        # A signed-in, second-factor-verified session, as the sign-in pages would leave.
        client = client_for(organization, worker)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    server = ServerProcess().start()
    yield organization, f"http://chat.localhost:{server.port}", sessions
    server.stop()


def signed_in(browser, base_url, session):
    context = browser.new_context()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}])
    return context


def survivor_to_the_queue(page):
    """Walk her way in from the home page: notice, a skipped question, safety check, queue.

    Each step is shown in place of the last, so each waits for the next step's words.
    """
    page.get_by_role("link", name="Start a chat").click()
    page.get_by_role("button", name="I understand, continue").click()
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("heading", name="Before we start").wait_for()
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Start chat").click()
    page.get_by_text("Your place in line: 1").wait_for()


def survivor_waiting(browser, base_url):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/en/")
    survivor_to_the_queue(page)
    return context, page
