"""One picture of each client, through the real services over a database after a real recompute.

Over generated bases (the demo generator with several seeds): no client is both lost and
at risk; everyone on /risk is active or dormant; /risk and the win-back list are
disjoint; /risk is ranked by value at risk; a lost client shows how long ago it left and
no risk band; the card and the list rows explain their labels from the stored figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select

from demo_data import load_demo_base
from services.access import Viewer
from services.clients import get_card
from services.db.models import ClientSegment, Role, User
from services.lists import reactivation_list, risk_list
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory
from ui.i18n import Translator
from ui.texts.card import card_text
from ui.texts.explain import percent, risk_reason, status_reason

AS_OF = date(2026, 6, 30)
NOW = datetime.combine(AS_OF, time(9), tzinfo=UTC)


async def _recomputed(uow_factory: UnitOfWorkFactory, seed: int, clients: int) -> None:
    await load_demo_base(uow_factory(), as_of=AS_OF, seed=seed, clients=clients)
    await recompute_segments(uow_factory(), AS_OF, timezone="Europe/Moscow")


@pytest.mark.parametrize("seed", [3, 11])
async def test_status_risk_and_lists_agree(uow_factory: UnitOfWorkFactory, seed: int) -> None:
    await _recomputed(uow_factory, seed, 300)
    async with uow_factory() as uow:
        states = {s.client_id: s for s in await uow.session.scalars(select(ClientSegment))}
        at_risk = await risk_list(uow, None, AS_OF)
        win_back = await reactivation_list(uow, None, AS_OF)

    assert len(states) == 300 and at_risk and win_back  # the lists mean something here
    for state in states.values():
        assert not (state.status == "lost" and state.at_risk)
        assert not (state.status == "lost" and state.risk is not None)  # left: no band
        assert not (state.at_risk and state.reactivation)
    risk_ids = [item.client_id for item in at_risk]
    assert {states[c].status for c in risk_ids} <= {"active", "dormant"}
    assert not set(risk_ids) & {item.client_id for item in win_back}
    assert {c for c, s in states.items() if s.at_risk} == set(risk_ids)
    # ranked by value at risk = value_12m × (1 − P(alive)), the money at stake
    values = [item.reasons.value_at_risk for item in at_risk if item.reasons]
    assert len(values) == len(at_risk) and values == sorted(values, reverse=True)
    for item in at_risk:
        s = states[item.client_id]
        assert s.value_12m is not None and s.p_alive is not None
        expected = Decimal(s.value_12m) * Decimal(1 - s.p_alive)
        assert abs(Decimal(s.value_at_risk or 0) - expected) <= Decimal("0.02")


async def test_card_explains_every_label_in_both_languages(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _recomputed(uow_factory, 3, 300)
    ru, en = Translator("ru"), Translator("en")
    async with uow_factory() as uow:
        states = list(await uow.session.scalars(select(ClientSegment)))
        head = await uow.session.scalar(select(User).where(User.role == Role.HEAD.value))
    assert head is not None
    viewer = Viewer(user_id=head.id, role=Role.HEAD, timezone="Europe/Moscow", language="ru")
    lost = next(s for s in states if s.status == "lost")
    slipping = next(s for s in states if s.at_risk)

    card = await get_card(uow_factory(), viewer, lost.client_id, NOW)
    assert card.reasons is not None and card.churn_risk is None
    text = card_text(card, ru, viewer.zone)
    assert "Статус: потерянный\n" in text and "риск ухода" not in text
    days = lost.days_since_last_purchase
    assert days is not None and status_reason(card.reasons, ru) == (
        f"ушёл {ru.plural('common.days', days)} назад"
    )
    assert risk_reason(card.reasons, ru) is None

    card = await get_card(uow_factory(), viewer, slipping.client_id, NOW)
    assert card.reasons is not None
    text = card_text(card, ru, viewer.zone)
    assert slipping.revenue_share is not None and slipping.revenue_rank is not None
    share = percent(slipping.revenue_share, ru)
    assert f"{share} выручки ({slipping.revenue_rank}-й из " in text
    assert "вероятность, что ещё покупает, " in text and " покупкам за " in text
    assert "💰 Ожидаемая выручка за 12 месяцев: " in text and "под угрозой" in text
    english = card_text(card, en, viewer.zone)
    assert f"{percent(slipping.revenue_share, en)} of revenue (" in english
    assert "probability still buying" in english
    assert "💰 Expected revenue over 12 months: " in english
