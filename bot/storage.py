"""Conversation (FSM) state kept in the database, so a half-logged call survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.models import FsmRecord


class DatabaseStorage(BaseStorage):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        key_builder: KeyBuilder | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._key_builder.build(key)

    async def _load(self, session: AsyncSession, key: StorageKey) -> FsmRecord | None:
        return await session.get(FsmRecord, self._key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session_factory() as session, session.begin():
            record = await self._load(session, key)
            if record is None:
                if value is None:
                    return
                session.add(FsmRecord(key=self._key(key), state=value, data={}))
            else:
                record.state = value
                if value is None and not record.data:
                    await session.delete(record)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session_factory() as session:
            record = await self._load(session, key)
            return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session_factory() as session, session.begin():
            record = await self._load(session, key)
            if record is None:
                if data:
                    session.add(FsmRecord(key=self._key(key), state=None, data=dict(data)))
                return
            record.data = dict(data)
            if not data and record.state is None:
                await session.delete(record)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session_factory() as session:
            record = await self._load(session, key)
            return dict(record.data) if record else {}

    async def clear_all(self) -> None:
        async with self._session_factory() as session, session.begin():
            await session.execute(delete(FsmRecord))

    async def count(self) -> int:
        async with self._session_factory() as session:
            return len((await session.execute(select(FsmRecord.key))).all())

    async def close(self) -> None:
        """The engine is owned and disposed by the application."""
