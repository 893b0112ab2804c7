"""The call being logged, as a typed draft kept in the conversation's data.

A draft has an identity (`draft_id`): saving it is idempotent on that id, so a double
tap, two comments or a retry after a crash save one call. It also remembers the client's
name (the prompts and the "not logged" notice name the client) and the message of the
step that is open (edited to its final state when the step is done).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from aiogram.fsm.context import FSMContext

from services.calls import CallDetails, NextContactChoice, NextContactMode, new_draft_id
from services.errors import StaleAction

LOG = "log"
RESCHEDULE = "next"
_KEY = "call"
_PAUSED = "call_paused"
_SAVED = "call_saved"
# a second text this soon after a comment saved the call is that comment sent twice
SECOND_COMMENT_WINDOW = timedelta(seconds=10)


@dataclass(frozen=True)
class CallDraft:
    client_id: int
    name: str
    mode: str = LOG
    draft_id: str = field(default_factory=new_draft_id)
    outcome: str | None = None
    next_mode: str | None = None
    next_on: date | None = None
    at: time | None = None
    meeting_place: str | None = None
    refusal_reason: str | None = None
    order_amount: str | None = None  # a Decimal as text (FSM data is JSON)
    voice_file_id: str | None = None  # a voice note kept while the text comment is awaited
    details_done: bool = False  # the order's amount / the refusal's reason answered
    time_done: bool = False
    place_done: bool = False
    step: str | None = None  # the state name of the open step
    message_id: int | None = None  # the message of the open step

    @property
    def rescheduling(self) -> bool:
        return self.mode == RESCHEDULE

    def choice(self) -> NextContactChoice:
        return NextContactChoice(
            mode=NextContactMode(self.next_mode or NextContactMode.TOMORROW),
            on=self.next_on,
            at=self.at,
        )

    def details(self) -> CallDetails:
        amount = Decimal(self.order_amount) if self.order_amount else None
        return CallDetails(
            meeting_place=self.meeting_place,
            refusal_reason=self.refusal_reason,
            order_amount=amount,
        )

    def with_(self, **changes: Any) -> CallDraft:
        return replace(self, **changes)

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["next_on"] = self.next_on.isoformat() if self.next_on else None
        data["at"] = self.at.strftime("%H:%M") if self.at else None
        return data

    @classmethod
    def from_data(cls, data: object) -> CallDraft | None:
        """The draft kept in FSM data; None for nothing or anything malformed."""
        if not isinstance(data, dict):
            return None
        try:
            values = dict(data)
            values["next_on"] = (
                date.fromisoformat(values["next_on"]) if values.get("next_on") else None
            )
            values["at"] = time.fromisoformat(values["at"]) if values.get("at") else None
            draft = cls(**values)
        except (TypeError, ValueError, KeyError):
            return None
        if not isinstance(draft.client_id, int) or not isinstance(draft.draft_id, str):
            return None
        return draft


async def current_draft(state: FSMContext) -> CallDraft | None:
    return CallDraft.from_data((await state.get_data()).get(_KEY))


async def draft_for(state: FSMContext, client_id: int) -> CallDraft:
    """The draft a button of `client_id` belongs to; a button of another one is refused."""
    draft = await current_draft(state)
    if draft is None or draft.client_id != client_id:
        raise StaleAction()
    return draft


async def open_draft(state: FSMContext) -> CallDraft:
    """The draft a typed answer belongs to."""
    draft = await current_draft(state)
    if draft is None:
        raise StaleAction()
    return draft


async def keep_draft(state: FSMContext, draft: CallDraft, step: str | None) -> CallDraft:
    """Write the draft and its step before the question is sent (a quick answer finds it)."""
    draft = draft.with_(step=step)
    await state.update_data({_KEY: draft.to_data()})
    await state.set_state(step)
    return draft


async def _drop(state: FSMContext, *keys: str) -> dict[str, Any]:
    data = await state.get_data()
    for key in keys:
        data.pop(key, None)
    return data


async def finish_draft(
    state: FSMContext,
    saved: CallDraft | None = None,
    *,
    at: datetime | None = None,
    by_comment: bool = False,
) -> None:
    """Leave the conversation but keep other data (recent searches); remember what was saved
    (when, and whether a typed comment saved it)."""
    await state.set_state(None)
    data = await _drop(state, _KEY, _PAUSED)
    if saved is not None:
        data[_SAVED] = {
            "draft_id": saved.draft_id,
            "client_id": saved.client_id,
            "at": at.isoformat() if at is not None else None,
            "by_comment": by_comment,
        }
    await state.set_data(data)


async def pause_draft(state: FSMContext, draft: CallDraft) -> None:
    """Something else came in: the draft is put aside (continue or drop it from the notice)."""
    await state.set_state(None)
    data = await _drop(state, _KEY)
    data[_PAUSED] = draft.to_data()
    await state.set_data(data)


async def take_paused(state: FSMContext, client_id: int) -> CallDraft:
    """The draft put aside for `client_id`, removed from the aside place."""
    data = await state.get_data()
    draft = CallDraft.from_data(data.get(_PAUSED))
    if draft is None or draft.client_id != client_id:
        raise StaleAction()
    data.pop(_PAUSED, None)
    await state.set_data(data)
    return draft


async def just_saved_by_comment(
    state: FSMContext, now: datetime, window: timedelta = SECOND_COMMENT_WINDOW
) -> str | None:
    """The draft a typed comment saved less than `window` ago: a text right after it is the
    same hurried comment sent twice, not a search."""
    saved = (await state.get_data()).get(_SAVED)
    if not isinstance(saved, dict) or not saved.get("by_comment"):
        return None
    try:
        at = datetime.fromisoformat(str(saved.get("at")))
    except ValueError:
        return None
    draft_id = saved.get("draft_id")
    if not isinstance(draft_id, str) or not timedelta(0) <= now - at < window:
        return None
    return draft_id


async def forget_second_comment(state: FSMContext) -> None:
    """The second text was answered: any further one is what it is (a search)."""
    data = await state.get_data()
    saved = data.get(_SAVED)
    if isinstance(saved, dict):
        data[_SAVED] = {**saved, "by_comment": False}
        await state.set_data(data)


async def saved_draft_id(state: FSMContext, client_id: int) -> str | None:
    """The id of the last draft saved in this chat, when it was for `client_id`."""
    saved = (await state.get_data()).get(_SAVED)
    if isinstance(saved, dict) and saved.get("client_id") == client_id:
        draft_id = saved.get("draft_id")
        return draft_id if isinstance(draft_id, str) else None
    return None
