"""What a client may send on each socket: one strict schema per action, in one place.

A socket's consumer names the schemas it accepts (its ``actions``); its
frames are decoded against the tagged union of them (``Route``), the
``type`` field choosing the schema, so an action method only ever receives a
struct whose fields have their declared types and bounds. Strict types: a
boolean is not a number, a number is not a string, and a field the action
does not know refuses the frame.

What crashed the consumers is refused while decoding, before any handler
runs: nesting (no frame nests, so a list or object where a value belongs is
a wrong type; one deep enough to exhaust the decoder is refused too), a lone
UTF-16 surrogate (it cannot be encoded for the database or the cipher), and
NUL in any string (PostgreSQL refuses it in text).

The pages' scripts in static/js/ send these frames; a change here is a
change of their contract.
"""

import json
import uuid
from typing import Annotated, Literal, Union

import msgspec
from msgspec import Meta

MAX_FRAME_BYTES = 16 * 1024

# The range of the database's positive integer columns (sequence numbers).
MAX_SEQ = 2**31 - 1
# The range of the database's big-integer primary keys.
MAX_ROW_ID = 2**63 - 1

ClientId = Annotated[str, Meta(max_length=64)]
Text = Annotated[str, Meta(max_length=MAX_FRAME_BYTES)]
Seq = Annotated[int, Meta(ge=0, le=MAX_SEQ)]
RowId = Annotated[int, Meta(ge=1, le=MAX_ROW_ID)]
# A page's language tag ("en", "fr-CA"); 35 characters hold any tag in use.
LanguageTag = Annotated[str, Meta(max_length=35)]
# The longest word the services accept, once normalized, is 100 characters;
# this bounds what reaches them before normalizing.
Word = Annotated[str, Meta(max_length=200)]


class FrameRefused(Exception):
    """A frame not understood; ``code`` says why, ``client_id`` is the frame's when valid."""

    def __init__(self, code, client_id=None):
        super().__init__(code)
        self.code = code
        self.client_id = client_id


class Frame(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    """The base of every frame schema; a subclass's ``tag`` is its frame's ``type``."""

    def __post_init__(self):
        # Raised here, a ValueError makes the decoder refuse the frame.
        for name in self.__struct_fields__:
            if _holds_nul(getattr(self, name)):
                raise ValueError(f"NUL in {name}")


def _holds_nul(value):
    return isinstance(value, str) and "\x00" in value


class Route:
    """The frames one socket accepts: a tagged union of its actions' schemas."""

    def __init__(self, frame_types):
        self.tags = {frame_type.__struct_config__.tag for frame_type in frame_types}
        self.decoder = msgspec.json.Decoder(Union[tuple(frame_types)])  # noqa: UP007

    def decode(self, text):
        """Return the frame ``text`` holds; FrameRefused if it is not one of this socket's."""
        try:
            data = text.encode()
        except UnicodeEncodeError:
            raise FrameRefused("malformed") from None
        if len(data) > MAX_FRAME_BYTES:
            raise FrameRefused("frame_too_large")
        try:
            return self.decoder.decode(data)
        except (msgspec.DecodeError, RecursionError):
            raise self.refusal(text) from None

    def refusal(self, text):
        """Say why ``text`` was refused, echoing its client id when it had a valid one.

        The standard library's parser reads what the strict decoder refused
        (a lone surrogate in a message, say), to find the frame's type and
        client id; a frame too deep for it is only "malformed".
        """
        try:
            content = json.loads(text)
        except (ValueError, RecursionError):
            return FrameRefused("malformed")
        if not isinstance(content, dict):
            return FrameRefused("malformed")
        client_id = content.get("client_id")
        if not _client_id_valid(client_id):
            client_id = None
        kind = content.get("type")
        if isinstance(kind, str) and kind not in self.tags:
            return FrameRefused("unknown_type", client_id)
        return FrameRefused("malformed", client_id)


def _client_id_valid(value):
    try:
        msgspec.convert(value, ClientId)
        value.encode()
    except (msgspec.ValidationError, UnicodeEncodeError):
        return False
    return not _holds_nul(value)


# Frames of several sockets.


class Ping(Frame, tag="ping"):
    """Ask for a pong: the pages' check that the socket still answers."""


class End(Frame, tag="end"):
    """End the chat or the meeting this socket is in."""


class Message(Frame, tag="message"):
    client_id: ClientId
    text: Text


# Crisis chat: the survivor's socket (/ws/connect/).


class ChatStart(Frame, tag="start"):
    # Empty when the page holds none: the service then answers no_consent.
    ticket: Annotated[str, Meta(max_length=200)]
    # One of Conversation.Safety; the service takes anything else as unanswered.
    safety: Annotated[str, Meta(max_length=20)]
    language: LanguageTag = ""


class ChatResume(Frame, tag="resume"):
    """Ask for what followed ``last_seq``: on the staff socket, in one of her conversations."""

    conversation: uuid.UUID | None = None
    last_seq: Seq = 0


# kw_only applies to the fields a struct declares itself.
class ChatResumeByToken(ChatResume, tag="resume", kw_only=True):
    """Come back to her chat after a reload or a dropped connection."""

    token: Annotated[str, Meta(max_length=100)]


class InterpreterAnswer(Frame, tag="interpreter_answer"):
    agree: bool


class CodeWord(Frame, tag="code_word"):
    """A word typed into the private prompt: to check, to set (with the current one), or to keep
    as her safe word."""

    purpose: Literal["verify", "set", "safe_word"]
    word: Word
    current: Word | None = None


# Crisis chat: the staff console's socket (/ws/staff/chat/).


class ConversationAction(Frame):
    """An action on one conversation, named by its public id."""

    conversation: uuid.UUID


class Accept(ConversationAction, tag="accept"):
    pass


class StaffMessage(ConversationAction, tag="message"):
    client_id: ClientId
    text: Text


class Canned(ConversationAction, tag="canned"):
    canned: RowId
    client_id: ClientId


class StaffEnd(ConversationAction, tag="end"):
    debrief: bool = False


class Block(ConversationAction, tag="block"):
    hours: Annotated[int, Meta(ge=1, le=24 * 30)] = 24


class Transfer(ConversationAction, tag="transfer"):
    """Hand the chat to a colleague (her user id), or back to the queue (none)."""

    to: RowId | None = None


class Escalate(ConversationAction, tag="escalate"):
    pass


class Observe(ConversationAction, tag="observe"):
    pass


class TakeOver(ConversationAction, tag="take_over"):
    pass


class InterpreterRequest(ConversationAction, tag="interpreter_request"):
    language: Annotated[str, Meta(max_length=40)]


class Interpret(ConversationAction, tag="interpret"):
    pass


class InterpreterLeave(ConversationAction, tag="interpreter_leave"):
    pass


class CaseOpen(ConversationAction, tag="case_open"):
    pass


class CaseLink(ConversationAction, tag="case_link"):
    reference: Annotated[str, Meta(max_length=20)]


class Verify(ConversationAction, tag="verify"):
    pass


# Group chats: the participant's and the facilitator's sockets.


class Join(Frame, tag="join"):
    """Enter the room (or its waiting room), or resume after ``last_seq`` once in."""

    last_seq: Seq = 0
    language: LanguageTag = ""


class Leave(Frame, tag="leave"):
    pass


class Pin(Message, tag="pin"):
    pass


class RemoveMessage(Frame, tag="remove_message"):
    seq: Seq


class ParticipantAction(Frame):
    """An action on one person in the meeting, named by her participant id."""

    participant: RowId


class Admit(ParticipantAction, tag="admit"):
    pass


class Refuse(ParticipantAction, tag="refuse"):
    pass


class Remove(ParticipantAction, tag="remove"):
    pass


class Mute(ParticipantAction, tag="mute"):
    pass


class Unmute(ParticipantAction, tag="unmute"):
    pass
