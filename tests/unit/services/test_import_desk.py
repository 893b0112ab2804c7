"""Files waiting for "Import": claimed once, by their owner, within a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from services.db.models import Role
from services.import_desk import (
    ImportButtonExpired,
    ImportDesk,
    ImportNotAllowed,
    claim_import,
    forget_stale,
    new_upload_path,
    prepare_import,
)
from services.users import UserDTO

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SALES = "Контрагент;Дата;Сумма\nООО «Ромашка»;10.02.2026;100,00\n".encode()


def _user(user_id: int, role: Role = Role.HEAD) -> UserDTO:
    return UserDTO(user_id, 100 + user_id, "X", role, None, "ru", 10, True)


async def _waiting(desk: ImportDesk, owner: UserDTO) -> str:
    import_id, path = new_upload_path(desk, "sales.csv")
    path.write_bytes(SALES)
    # a sales file needs no database to preview
    await prepare_import(
        None,  # type: ignore[arg-type]
        desk,
        owner,
        import_id,
        path,
        file_name="sales.csv",
        now=NOW,
        today=date(2026, 3, 2),
    )
    return import_id


async def test_claimed_once_by_its_owner(tmp_path: Path) -> None:
    desk = ImportDesk(tmp_path)
    head = _user(1)
    import_id = await _waiting(desk, head)
    with pytest.raises(ImportButtonExpired):
        claim_import(desk, import_id, _user(2, Role.ADMIN), NOW)  # someone else's
    with pytest.raises(ImportNotAllowed):
        claim_import(desk, import_id, _user(3, Role.MANAGER), NOW)
    pending = claim_import(desk, import_id, head, NOW)
    assert pending.path.read_bytes() == SALES
    with pytest.raises(ImportButtonExpired):
        claim_import(desk, import_id, head, NOW)  # the second tap
    for forged in ("../../etc", "0" * 16, ""):
        with pytest.raises(ImportButtonExpired):
            claim_import(desk, forged, head, NOW)


async def test_a_day_old_file_is_gone(tmp_path: Path) -> None:
    desk = ImportDesk(tmp_path)
    head = _user(1)
    import_id = await _waiting(desk, head)
    with pytest.raises(ImportButtonExpired):
        claim_import(desk, import_id, head, NOW + timedelta(hours=25))
    assert not (tmp_path / import_id).exists()
    other = await _waiting(desk, head)
    assert forget_stale(desk, NOW + timedelta(hours=1)) == 0
    assert forget_stale(desk, NOW + timedelta(hours=25)) == 1
    assert not (tmp_path / other).exists()
