"""Typed callback data of every button the bot shows, in one place (prefixes are unique).

Payloads carry ids, page numbers and short codes only (64-byte limit); every
handler re-checks that the person may act on the client named here.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class CardAction(StrEnum):
    OPEN = "o"  # the card as a new message (from a list or search results)
    BACK = "b"  # the card in place of the history
    HISTORY = "h"
    LOG_CALL = "l"
    NEXT_CONTACT = "n"
    VIP = "v"
    CONTACTS = "e"  # edit phones, email, city
    NOTE = "t"
    HAND_OVER = "g"  # to another manager (heads and admins)


class ClientCb(CallbackData, prefix="cl"):
    a: CardAction
    c: int  # client id
    p: int = 0  # history page; for VIP: 1 = make VIP, 0 = remove
    v: int = 0  # the card's version (a card button): an older card is refreshed, not acted on


class SearchCb(CallbackData, prefix="sr"):
    k: str  # key of the query kept in the conversation data
    p: int = 0
    log: bool = False  # results of /log: a row starts logging a call


class ListCb(CallbackData, prefix="ls"):
    k: str  # ListKind value
    p: int = 0
    o: int = 0  # a head's list narrowed to this manager (user id); 0: everyone
    d: int = 0  # /week: the day shown, as date.toordinal(); 0: the week's overview


class TeamCb(CallbackData, prefix="tm"):
    """The manager picker under a head's list."""

    k: str  # ListKind value the picked manager's list is shown for


class ContactField(StrEnum):
    PHONES = "p"
    EMAIL = "e"
    CITY = "g"


class ContactCb(CallbackData, prefix="ct"):
    c: int  # client id
    f: ContactField
    x: bool = False  # clear the field


class HandCb(CallbackData, prefix="hd"):
    c: int  # client id
    t: int  # the manager to give it to


class VoiceCb(CallbackData, prefix="vc"):
    i: int  # interaction id of the voice comment


class AddAction(StrEnum):
    COMPANY = "c"
    PERSON = "p"
    SKIP = "s"
    SAVE = "v"


class AddClientCb(CallbackData, prefix="ad"):
    a: AddAction
    k: str = ""  # COMPANY/PERSON: the search key of the name; SAVE: the draft id


class CallAction(StrEnum):
    OUTCOME = "o"
    NEXT = "n"  # a preset: v = NextContactMode value
    CALENDAR = "k"
    TIME = "t"  # v = the hour ("15"); ":" is the callback data separator
    NO_TIME = "nt"
    NO_COMMENT = "s"  # save: without a comment, or with the voice note already sent
    CANCEL = "x"
    REASON = "r"  # a refusal's preset reason: v = its key
    NO_AMOUNT = "na"
    NO_PLACE = "np"


class CallCb(CallbackData, prefix="cf"):
    a: CallAction
    c: int  # client id
    v: str = ""


class CalendarCb(CallbackData, prefix="ca"):
    c: int  # client id
    y: int
    m: int
    d: int = 0  # 0: show the month


class UndoCb(CallbackData, prefix="un"):
    i: int  # interaction id; what undo restores is on the saved row, never in the button


class DraftAction(StrEnum):
    RESUME = "r"
    DROP = "d"


class DraftCb(CallbackData, prefix="dr"):
    """The choice under "the call was not logged": go back to it, or drop it."""

    a: DraftAction
    c: int  # client id of the draft


class VipCb(CallbackData, prefix="vp"):
    c: int
    a: str = "s"  # s: keep without a reason


class NoopCb(CallbackData, prefix="no"):
    """A label-only button (page counter, empty calendar cell)."""


class CancelCb(CallbackData, prefix="cancel"):
    pass


class InviteCb(CallbackData, prefix="inv"):
    role: str


class UsersAction:
    PAGE = "p"
    VIEW = "v"
    DEACTIVATE = "d"
    DEACTIVATE_CONFIRM = "dc"
    ACTIVATE = "a"
    REASSIGN = "r"
    REASSIGN_TARGET = "rt"
    REASSIGN_CONFIRM = "rc"


class UsersCb(CallbackData, prefix="us"):
    """Ids and a page number only: names never travel in callback data."""

    action: str
    user_id: int = 0
    target_id: int = 0
    page: int = 0


class SettingsAction:
    MENU = "m"
    LANGUAGE = "l"
    PUSH_TIME = "t"
    TIMEZONE = "z"
    MUTE = "u"
    SET_LANGUAGE = "L"
    SET_PUSH_TIME = "T"
    SET_TIMEZONE = "Z"
    SET_MUTE = "U"
    SET_PUSHES = "P"


class SettingsCb(CallbackData, prefix="st"):
    """`value`: a language code, HHMM, an index in COMMON_TIMEZONES, a mute option or 1/0."""

    action: str
    value: str = ""


class ImportAction(StrEnum):
    GO = "g"
    CANCEL = "x"


class ImportCb(CallbackData, prefix="im"):
    """A file sent to the bot, waiting server-side under this id (its owner is checked)."""

    a: ImportAction
    i: str  # import id (16 hex characters)
