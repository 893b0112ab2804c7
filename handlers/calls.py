"""Placeholder: filled in by the feature that owns these commands."""

from __future__ import annotations

from aiogram import Router


def create_router() -> Router:
    return Router(name=__name__)
