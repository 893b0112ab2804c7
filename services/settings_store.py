"""Business settings kept as data in `app_settings`, with defaults in code."""

from __future__ import annotations

from typing import Any

from services.analytics.settings import SegmentationSettings
from services.db.models import AppSetting
from services.uow import UnitOfWork

SEGMENTATION_KEY = "segmentation"


async def read_setting(uow: UnitOfWork, key: str) -> dict[str, Any]:
    """The stored value of `key`, or an empty dict; call inside `async with uow`."""
    row = await uow.session.get(AppSetting, key)
    return dict(row.value) if row else {}


async def write_setting(
    uow: UnitOfWork, key: str, value: dict[str, Any], updated_by: int | None = None
) -> None:
    """Store `value` under `key` (the caller commits)."""
    row = await uow.session.get(AppSetting, key)
    if row is None:
        uow.session.add(AppSetting(key=key, value=value, updated_by=updated_by))
    else:
        row.value = value
        row.updated_by = updated_by


async def load_segmentation_settings(uow: UnitOfWork) -> SegmentationSettings:
    """The company's segmentation settings: stored overrides on top of the defaults.

    Call inside `async with uow`, like every query helper.
    """
    return SegmentationSettings.from_dict(await read_setting(uow, SEGMENTATION_KEY))


async def save_segmentation_settings(
    uow: UnitOfWork, settings: SegmentationSettings, updated_by: int | None = None
) -> None:
    async with uow:
        await write_setting(uow, SEGMENTATION_KEY, settings.to_dict(), updated_by)
        await uow.commit()
