"""The monthly model check: computed by the first recompute of a month, said by the digest
on the first working day of the month only (the clock is the digest's `today`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from demo_data import load_demo_base
from services.db.models import ModelCheck, Role, User
from services.digest import build_digest
from services.model_check import months_before
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory
from ui.i18n import Translator
from ui.texts.digest import render_digest

FIRST = date(2026, 6, 1)  # a Monday, the month's first working day
SECOND = date(2026, 6, 2)


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(date(2026, 6, 1), 3) == date(2026, 3, 1)
    assert months_before(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert months_before(date(2026, 2, 15), 3) == date(2025, 11, 15)


async def test_the_digest_says_how_the_model_did_once_a_month(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await load_demo_base(uow_factory(), as_of=SECOND, seed=4, clients=300)
    await recompute_segments(uow_factory(), FIRST, timezone="Europe/Moscow")
    await recompute_segments(uow_factory(), SECOND, timezone="Europe/Moscow")
    async with uow_factory() as uow:
        checks = list(await uow.session.scalars(select(ModelCheck)))
        head = await uow.session.scalar(select(User).where(User.role == Role.HEAD.value))
        assert await uow.session.scalar(select(func.count()).select_from(ModelCheck)) == 1
    assert head is not None
    (check,) = checks  # the second recompute of the month does not check again
    assert (check.month, check.calibration_end, check.holdout_end) == (
        date(2026, 6, 1),
        date(2026, 3, 1),
        FIRST,
    )
    assert check.clients > 0 and check.predicted_total > 0 and check.actual_total > 0

    now = datetime.combine(FIRST, time(6), tzinfo=UTC)
    first = await build_digest(
        uow_factory(), head.id, now, default_timezone="Europe/Moscow", today=FIRST
    )
    assert first.model_check is not None
    predicted, actual = round(check.predicted_total), check.actual_total
    ru = render_digest(first, Translator("ru"))
    nbsp = "\u00a0"
    ru_predicted = f"{predicted:,}".replace(",", nbsp)
    ru_actual = f"{actual:,}".replace(",", nbsp)
    assert f"📐 Модель ждала {ru_predicted} покуп" in ru
    assert f"за квартал (02.03–01.06), было {ru_actual}" in ru
    en = render_digest(first, Translator("en"))
    assert f"📐 The model expected {predicted:,} purchase" in en
    assert f"for the quarter (2 Mar–1 Jun); there were {actual:,}" in en

    later = await build_digest(
        uow_factory(), head.id, now, default_timezone="Europe/Moscow", today=SECOND
    )
    assert later.model_check is None
    assert "Модель ждала" not in render_digest(later, Translator("ru"))
