"""The JSON the API answers: plain values a spreadsheet can take.

Money is a string with two decimals ("12345.60", exact), dates are ISO ("2026-12-09"),
shares are fractions from 0 to 1 (four decimals), counts are integers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services.dashboard import (
    ClientFlow,
    ClientsPage,
    DashboardClient,
    Matrix,
    RiskOverview,
    SegmentCell,
    TeamKpis,
    Trends,
)
from services.team import ManagerCalls


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def share(value: float) -> float:
    return round(value, 4)


def cell(item: SegmentCell) -> dict[str, Any]:
    return {
        "segment": item.segment or None,
        "abc": item.abc,
        "xyz": item.xyz,
        "clients": item.clients,
        "clients_share": share(item.clients_share),
        "revenue": money(item.revenue),
        "revenue_share": share(item.revenue_share),
        "at_risk_clients": item.at_risk_clients,
        "revenue_at_risk": money(item.revenue_at_risk),
    }


def matrix(item: Matrix) -> dict[str, Any]:
    return {
        "as_of": day(item.as_of),
        "segments_as_of": day(item.segments_as_of),
        "owner_id": item.owner_id,
        "clients": item.clients,
        "revenue": money(item.revenue),
        "at_risk_clients": item.at_risk_clients,
        "revenue_at_risk": money(item.revenue_at_risk),
        "cells": [cell(c) for c in item.cells],
        "unsegmented": cell(item.unsegmented),
    }


def client(item: DashboardClient) -> dict[str, Any]:
    return {
        "id": item.client_id,
        "name": item.name,
        "owner_id": item.owner_id,
        "owner_name": item.owner_name,
        "vip": item.is_vip,
        "segment": item.segment,
        "status": item.status,
        "revenue": money(item.revenue),
        "p_alive": None if item.p_alive is None else round(item.p_alive, 4),
        "at_risk": item.at_risk,
        "revenue_at_risk": money(item.revenue_at_risk),
        "next_due": day(item.next_due),
    }


def clients_page(item: ClientsPage) -> dict[str, Any]:
    return {
        "segment": item.segment,
        "owner_id": item.owner_id,
        "segments_as_of": day(item.segments_as_of),
        "page": item.page,
        "pages": item.pages,
        "total": item.total,
        "clients": [client(c) for c in item.clients],
    }


def flow(item: ClientFlow) -> dict[str, Any]:
    return {
        "start": day(item.start),
        "end": day(item.end),
        "new": item.new,
        "lost": item.lost,
        "returned": item.returned,
        "revenue_new": money(item.revenue_new),
        "revenue_existing": money(item.revenue_existing),
    }


def trends(item: Trends) -> dict[str, Any]:
    return {
        "as_of": day(item.as_of),
        "through": day(item.through),
        "owner_id": item.owner_id,
        "months": [
            {"month": f.start.strftime("%Y-%m"), "partial": f.end == item.through, **flow(f)}
            for f in item.months
        ],
    }


def _calls(item: ManagerCalls) -> dict[str, Any]:
    return {"calls": item.calls, "plan": item.plan, "percent": item.percent}


def team(item: TeamKpis) -> dict[str, Any]:
    return {
        "as_of": day(item.as_of),
        "today": day(item.today),
        "week_start": day(item.week_start),
        "month_start": day(item.month_start),
        "working_day": item.working_day,
        "month_to_date": flow(item.flow),
        "managers": [
            {
                "id": m.user_id,
                "name": m.name,
                "daily_plan": m.daily_plan,
                "calls": {
                    "today": _calls(m.today),
                    "week": _calls(m.week),
                    "month": _calls(m.month),
                },
                "overdue": m.overdue,
                "month_to_date": flow(m.flow),
                "at_risk_clients": m.at_risk_clients,
                "revenue_at_risk": money(m.revenue_at_risk),
            }
            for m in item.managers
        ],
    }


def risk(item: RiskOverview) -> dict[str, Any]:
    return {
        "as_of": day(item.as_of),
        "segments_as_of": day(item.segments_as_of),
        "clients": item.clients,
        "revenue_at_risk": money(item.revenue_at_risk),
        "revenue": money(item.revenue),
        "by_manager": [
            {
                "id": o.owner_id,
                "name": o.name,
                "clients": o.clients,
                "revenue_at_risk": money(o.revenue_at_risk),
            }
            for o in item.by_owner
        ],
        "top": clients_page(item.top),
    }
