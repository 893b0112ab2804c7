"""The demo generator, without a database: realistic, reproducible, internally consistent."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from demo_data import (
    CATEGORIES,
    DEMO_USERS,
    DemoFrames,
    generate_demo,
    inn_check_digits_ok,
    iter_demo_chunks,
)
from demo_data.vocabulary import PROFILES
from services.db.models import Channel, Outcome, Role
from services.normalize import normalize_name, normalize_phones

AS_OF = date(2026, 6, 30)
AS_OF_TS = pd.Timestamp(AS_OF)


@pytest.fixture(scope="module")
def demo() -> DemoFrames:
    return generate_demo(seed=11, as_of=AS_OF, clients=2000)


@pytest.fixture(scope="module")
def by_client(demo: DemoFrames) -> pd.DataFrame:
    """Per client: behaviour, orders (not returns), first and last order date."""
    sales = demo.transactions[demo.transactions["order_number"].str.startswith("РН-")]
    stats = sales.groupby("client_no").agg(
        orders=("order_number", "nunique"), first=("date", "min"), last=("date", "max")
    )
    return demo.clients.set_index("client_no")[["behaviour", "profile"]].join(stats)


def _days_ago(moment: pd.Series) -> pd.Series:
    return (AS_OF_TS - moment).dt.days


def test_same_seed_same_base_other_seed_other_base(demo: DemoFrames) -> None:
    again = generate_demo(seed=11, as_of=AS_OF, clients=2000)
    for name in ("users", "clients", "client_phones", "transactions", "interactions"):
        assert_frame_equal(getattr(demo, name), getattr(again, name))
    other = generate_demo(seed=12, as_of=AS_OF, clients=2000)
    assert (other.clients["name"] != demo.clients["name"]).mean() > 0.9
    assert len(other.transactions) != len(demo.transactions)


def test_chunks_do_not_depend_on_the_total_and_numbers_stay_unique() -> None:
    small = next(iter_demo_chunks(seed=3, as_of=AS_OF, clients=300, chunk_size=300))
    chunks = list(iter_demo_chunks(seed=3, as_of=AS_OF, clients=750, chunk_size=300))
    assert_frame_equal(small.clients, chunks[0].clients)
    assert_frame_equal(small.transactions, chunks[0].transactions)

    clients = pd.concat([c.clients for c in chunks], ignore_index=True)
    transactions = pd.concat([c.transactions for c in chunks], ignore_index=True)
    phones = pd.concat([c.client_phones for c in chunks], ignore_index=True)
    assert list(clients["client_no"]) == list(range(1, 751))
    for column in ("external_id", "tax_id"):
        assert clients[column].dropna().is_unique, column
    assert phones["phone"].is_unique
    # A document number belongs to one client on one day, across chunks too.
    documents = transactions.groupby("order_number")[["client_no", "date"]].nunique()
    assert (documents == 1).all().all()


def test_demo_users_are_fixed_identities() -> None:
    ids = {u.telegram_id: u for u in DEMO_USERS}
    assert set(ids) == {1000, 1001, 2001, 2002, 2003, 2004, 2005}
    assert ids[1000].role is Role.ADMIN and ids[1001].role is Role.HEAD
    managers = [u for u in DEMO_USERS if u.role is Role.MANAGER]
    assert len(managers) == 5
    assert [u.timezone for u in managers].count("Asia/Yekaterinburg") == 1
    assert all(u.timezone == "Europe/Moscow" for u in DEMO_USERS if u not in managers)
    assert all(u.daily_call_plan > 0 for u in managers)
    assert all(re.fullmatch(r"[А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+", u.display_name) for u in DEMO_USERS)


def test_clients_look_like_a_russian_b2b_base(demo: DemoFrames) -> None:
    clients = demo.clients
    assert len(clients) == 2000
    assert clients["external_id"].is_unique
    assert set(clients["owner_telegram_id"]) == {2001, 2002, 2003, 2004, 2005}
    assert clients["owner_telegram_id"].value_counts().min() > 150  # spread, if unevenly

    name = clients["name"]
    kinds = name.str.extract(r"^(ООО|АО|ИП) ")[0].fillna("person")
    assert kinds.value_counts(normalize=True)["ООО"] > 0.5
    assert {"АО", "ИП", "person"} <= set(kinds)
    assert name[kinds.isin(["ООО", "АО"])].str.fullmatch(r"(ООО|АО) «[^«»]+»").all()
    assert name[kinds == "ИП"].str.fullmatch(r"ИП [А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+").all()
    # The key search and the importer match by must be the shared normalization.
    assert (clients["name_normalized"] == name.map(normalize_name)).all()
    # A company's or an entrepreneur's name is the company; only a contact person has
    # an employer of another name.
    company = clients["company"]
    assert company[kinds != "person"].isna().all()
    employers = company[kinds == "person"].dropna()
    assert 0 < len(employers) < (kinds == "person").sum()
    assert employers.str.fullmatch(r"ООО «[^«»]+»").all()

    tax = clients["tax_id"]
    assert tax[kinds == "person"].isna().all()
    assert tax[kinds == "ИП"].str.len().eq(12).all()
    assert tax[kinds.isin(["ООО", "АО"])].str.len().eq(10).all()
    assert tax.dropna().map(inn_check_digits_ok).all()
    assert tax.dropna().is_unique

    email = clients["email"].dropna()
    assert 0.8 < len(email) / len(clients) < 0.95
    assert email.str.fullmatch(r"[a-z0-9.\-]+@[a-z0-9.\-]+\.(ru|com)").all()
    assert clients["city"].value_counts().index[0] == "Москва"
    urals = clients[clients["owner_telegram_id"] == 2005]["city"]
    assert (
        urals.isin(
            ["Екатеринбург", "Челябинск", "Пермь", "Тюмень", "Нижний Тагил", "Курган"]
        ).mean()
        > 0.9
    )


def test_phones_are_displayed_for_people_and_normalized_for_search(demo: DemoFrames) -> None:
    stored = demo.client_phones.groupby("client_no")["phone"].apply(list)
    parsed = demo.clients.set_index("client_no")["phones"].map(normalize_phones)
    assert stored.to_dict() == parsed.to_dict()
    assert demo.client_phones["phone"].str.fullmatch(r"7\d{10}").all()
    assert demo.clients["phones"].str.match(r"\+7 \(\d{3}\) \d{3}-\d{2}-\d{2}").all()


def test_buyer_behaviours_have_their_own_rhythm(by_client: pd.DataFrame) -> None:
    shares = by_client["behaviour"].value_counts(normalize=True)
    assert set(shares.index) == {
        "regular", "seasonal", "irregular", "one_off", "churned", "new", "potential"
    }  # fmt: skip
    assert (shares > 0.04).all()
    kind = by_client.groupby("behaviour", observed=True)

    potential = kind.get_group("potential")
    assert potential["orders"].isna().all()

    new = kind.get_group("new")
    assert (_days_ago(new["first"]) <= 92).all()  # +2: a weekend moves an order to Monday

    churned = kind.get_group("churned")
    assert _days_ago(churned["last"]).between(178, 550).all()
    assert (churned["orders"] >= 2).mean() > 0.9

    regular = kind.get_group("regular")
    assert (_days_ago(regular["last"]) <= 60).mean() > 0.95
    months = (regular["last"] - regular["first"]).dt.days / 30.4
    assert ((regular["orders"] - 1) / months).median() == pytest.approx(1.0, abs=0.25)

    assert (kind.get_group("one_off")["orders"] == 1).all()
    irregular = kind.get_group("irregular")
    assert irregular["orders"].std() > 2


def test_seasonal_buyers_buy_only_in_their_months(demo: DemoFrames) -> None:
    seasonal = demo.clients.loc[demo.clients["behaviour"] == "seasonal", "client_no"]
    sales = demo.transactions[
        demo.transactions["client_no"].isin(seasonal)
        & demo.transactions["order_number"].str.startswith("РН-")
    ]
    months = sales.groupby("client_no")["date"].agg(lambda d: d.dt.month.nunique())
    assert months.max() <= 7  # a season of 4-6 months, plus a weekend shift at its edge
    assert months.median() >= 3


def test_history_ends_at_as_of_and_spans_three_years(demo: DemoFrames) -> None:
    dates = demo.transactions["date"]
    assert dates.max() <= AS_OF_TS
    assert dates.min() >= AS_OF_TS - pd.Timedelta(days=3 * 365 + 3)
    assert dates.min() <= AS_OF_TS - pd.Timedelta(days=2 * 365)
    sales = demo.transactions[demo.transactions["order_number"].str.startswith("РН-")]
    assert (sales["date"].dt.day_of_week < 5).all()  # shipments on working days


def test_revenue_is_heavy_tailed_so_abc_means_something(demo: DemoFrames) -> None:
    revenue = demo.transactions.groupby("client_no")["amount_kopecks"].sum()
    revenue = revenue[revenue > 0].sort_values(ascending=False)
    top_fifth = revenue.iloc[: len(revenue) // 5].sum() / revenue.sum()
    assert 0.6 < top_fifth < 0.9


def test_orders_returns_and_categories(demo: DemoFrames) -> None:
    tx = demo.transactions
    assert tx["order_number"].str.fullmatch(r"(РН|ВП)-\d{6,}").all()
    returns = tx[tx["amount_kopecks"] < 0]
    assert 0.005 < len(returns) / len(tx) < 0.05
    assert returns["order_number"].str.startswith("ВП-").all()
    assert (tx.loc[tx["order_number"].str.startswith("РН-"), "amount_kopecks"] > 0).all()
    assert set(tx["category"].astype(str)) == set(CATEGORIES)
    # Order numbers follow the calendar, as in an accounting system.
    sales = tx[tx["order_number"].str.startswith("РН-")].drop_duplicates("order_number")
    numbered = sales.assign(n=sales["order_number"].str[3:].astype(int)).sort_values("n")
    assert numbered["date"].is_monotonic_increasing


def test_categories_follow_the_buyer_profile(demo: DemoFrames) -> None:
    lines = demo.transactions.merge(demo.clients[["client_no", "profile"]], on="client_no")
    lines = lines[lines["category"] != "Доставка"]
    share = pd.crosstab(lines["profile"], lines["category"].astype(str), normalize="index")
    for profile in PROFILES:
        favourite = CATEGORIES[int(np.argmax(profile.affinity))]
        assert share.loc[profile.name].idxmax() == favourite, profile.name
        assert share.loc[profile.name, favourite] > 0.3


def test_vips_have_reasons_and_tags_are_tuples(demo: DemoFrames) -> None:
    clients = demo.clients
    vip = clients[clients["is_vip"]]
    assert 0.01 < len(vip) / len(clients) < 0.06
    assert vip["vip_reason"].notna().all()
    assert clients.loc[~clients["is_vip"], "vip_reason"].isna().all()
    assert "Ключевой клиент региона" in set(vip["vip_reason"])
    assert clients["tags"].map(lambda tags: isinstance(tags, tuple)).all()
    assert clients["tags"].map(len).between(1, 4).mean() > 0.5


def test_logged_calls_are_consistent(demo: DemoFrames) -> None:
    calls = demo.interactions
    assert len(calls) > len(demo.clients)
    assert str(calls["occurred_at"].dt.tz) == "UTC"
    assert (calls["occurred_at"].dt.date < AS_OF).all()
    assert set(calls["outcome"]) == {o.value for o in Outcome}
    assert set(calls["channel"]) <= {c.value for c in Channel}
    # Every call was made in the caller's office hours, on a working day.
    zones = {u.telegram_id: u.timezone for u in DEMO_USERS}
    for telegram_id, group in calls.groupby("user_telegram_id"):
        local = group["occurred_at"].dt.tz_convert(ZoneInfo(zones[int(telegram_id)]))
        assert local.dt.hour.between(9, 18).all()
        assert (local.dt.day_of_week < 5).all()
    # Managers call their own clients; the head sometimes calls a VIP.
    owners = demo.clients.set_index("client_no")
    by_owner = calls["user_telegram_id"] == calls["client_no"].map(owners["owner_telegram_id"])
    head_vip = (calls["user_telegram_id"] == 1001) & calls["client_no"].map(owners["is_vip"])
    assert (by_owner | head_vip).all()


def test_next_contacts_mix_overdue_and_planned_and_drive_next_due(demo: DemoFrames) -> None:
    calls = demo.interactions
    planned = calls.dropna(subset=["next_contact_on"])
    assert (planned["next_contact_on"] >= AS_OF_TS).sum() > 30
    assert (planned["next_contact_on"] < AS_OF_TS).sum() > 30
    assert (planned["next_contact_on"] >= AS_OF_TS - pd.Timedelta(days=21)).all()
    # Only the latest contact with a client carries the agreed next step.
    latest = calls.groupby("client_no")["occurred_at"].transform("max")
    assert (planned["occurred_at"] == latest[planned.index]).all()
    timed = calls.dropna(subset=["next_contact_at"])
    assert len(timed) > 0 and (timed["outcome"] == Outcome.CALL_BACK.value).all()
    assert (timed["next_contact_at"] > pd.Timestamp(AS_OF, tz="UTC")).all()

    due = demo.clients.set_index("client_no")["next_due_on"]
    assert due.notna().all()
    agreed = planned.set_index("client_no")["next_contact_on"]
    assert (due[agreed.index] == agreed).all()
    untouched = demo.clients[
        ~demo.clients["client_no"].isin(calls["client_no"])
        & ~demo.clients["client_no"].isin(demo.transactions["client_no"])
    ]
    assert len(untouched) > 0 and (untouched["behaviour"] == "potential").all()
    assert (untouched["next_due_on"] == AS_OF_TS).all()  # fresh leads: call them today
    assert (AS_OF_TS - untouched["created_at"].dt.tz_localize(None)).dt.days.max() <= 14


def test_the_team_works_its_cadence(demo: DemoFrames) -> None:
    calls, clients = demo.interactions, demo.clients
    # Nearly everybody has been touched, and a touch history is not a flood.
    assert clients["client_no"].isin(calls["client_no"]).mean() > 0.97
    assert 3 < len(calls) / len(clients) < 15
    latest = calls.groupby("client_no")["occurred_at"].max().dt.tz_localize(None)
    recency = (AS_OF_TS - latest).dt.days.reindex(clients["client_no"])
    vip = clients.set_index("client_no")["is_vip"]
    assert (recency[vip] <= 8).mean() > 0.8  # VIPs about weekly
    lapsed = clients.set_index("client_no")["behaviour"].isin(["churned", "one_off", "potential"])
    assert (recency[lapsed] <= 90).mean() > 0.85
    # A minority is due (overdue by days or weeks, a few by months), not the whole book.
    overdue = (AS_OF_TS - clients["next_due_on"]).dt.days
    due = clients.assign(due=overdue >= 0).groupby("owner_telegram_id")["due"].mean()
    assert due.between(0.02, 0.12).all(), due
    late = overdue[overdue >= 0]
    assert (late <= 30).mean() > 0.8
    assert (late > 30).sum() >= 3  # some long-overdue material for the "просрочен" view


def test_created_at_is_aware_and_before_the_first_order(demo: DemoFrames) -> None:
    created = demo.clients.set_index("client_no")["created_at"]
    assert str(created.dt.tz) == "UTC"
    first = demo.transactions.groupby("client_no")["date"].min()
    first_utc = first.dt.tz_localize("UTC")
    assert (created[first.index] < first_utc + pd.Timedelta(days=1)).all()
    assert (created < pd.Timestamp(AS_OF, tz="UTC")).all()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        next(iter_demo_chunks(seed=-1, as_of=AS_OF, clients=10))
    with pytest.raises(ValueError):
        next(iter_demo_chunks(seed=1, as_of=AS_OF, clients=-5))
    assert inn_check_digits_ok("7707083893")  # a real ИНН (Сбербанк)
    assert not inn_check_digits_ok("7707083894")
    assert inn_check_digits_ok("500100732259")  # a valid 12-digit ИНН
    assert not inn_check_digits_ok(str(date.today() - timedelta(days=1)))


def _calls_per_plan(frames: DemoFrames) -> pd.DataFrame:
    """Each manager's logged calls per working day over the bot's months, as a share of plan."""
    calls = frames.interactions[frames.interactions["channel"] == Channel.CALL.value]
    zones = {u.telegram_id: u.timezone for u in DEMO_USERS}
    days = pd.Series(index=calls.index, dtype=object)
    for telegram_id, group in calls.groupby("user_telegram_id"):
        local = group["occurred_at"].dt.tz_convert(ZoneInfo(zones[int(telegram_id)]))
        days[group.index] = local.dt.date
    counts = calls.assign(day=days).groupby(["day", "user_telegram_id"]).size().unstack(1)
    managers = [u for u in DEMO_USERS if u.role is Role.MANAGER]
    counts = counts.reindex(columns=[u.telegram_id for u in managers]).fillna(0)
    plans = pd.Series({u.telegram_id: u.daily_call_plan for u in managers})
    recent = counts[counts.index >= AS_OF - timedelta(days=180)]
    return recent / plans


def test_each_manager_calls_about_the_plan_every_working_day(demo: DemoFrames) -> None:
    share = _calls_per_plan(demo)
    assert len(share) > 110  # every working day of the last half year
    assert share.min().min() >= 0.55 and share.max().max() <= 1.25, share.describe()
    assert share.stack().between(0.6, 1.2).mean() > 0.95
    assert share.mean().between(0.7, 1.0).all()
    # the last working day is like any other (weekends are not folded into it)
    assert share.iloc[-1].between(0.55, 1.25).all()
    # no calls on weekends or public holidays: 12 June (Russia Day) was a Friday
    assert date(2026, 6, 12) not in share.index
    assert all(day.weekday() < 5 for day in share.index)


def test_calls_follow_the_plan_at_any_size() -> None:
    # twice the default book, in three chunks: together they still call about the plan
    chunks = list(iter_demo_chunks(seed=11, as_of=AS_OF, clients=4000, chunk_size=1500))
    interactions = pd.concat([c.interactions for c in chunks], ignore_index=True)
    bigger = DemoFrames(
        users=pd.DataFrame(),
        clients=pd.DataFrame(),
        client_phones=pd.DataFrame(),
        transactions=pd.DataFrame(),
        interactions=interactions,
    )
    share = _calls_per_plan(bigger)
    assert share.stack().between(0.6, 1.2).mean() > 0.9, share.describe()
    assert share.mean().between(0.7, 1.0).all()
