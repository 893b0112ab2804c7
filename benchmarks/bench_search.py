"""How fast a manager's lookup answers on a 100,000-client base.

Fills a freshly migrated SQLite database (or PostgreSQL with `--url`) with N
clients that look like a Russian B2B base: people with surnames in male and
female forms, companies with quoted names and legal forms, one or two phones,
tax ids and external ids. Then it times a few hundred realistic queries through
`services.search.search_clients` (exactly what `/client` and plain text call,
the card of a single match included): surnames in other cases, Latin spelling,
typos (a wrong, a dropped or two swapped letters), name + first name, name + city,
company words (also of names written as one word, typed apart), prefixes, phones in
several formats and their last 7 digits, tax ids with and without the "ИНН" label and
external ids in lower case, half of them as a head (everyone's clients) and half as a
manager (own clients). The target: p95 <= 20 ms after the index is built.

It also times the first search after a restart: a new index store reading the index
kept in the database, against building it from the rows (what a first start does).

    python -m benchmarks.bench_search [--clients N] [--queries N] [--url URL] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from services.access import Viewer
from services.db.engine import make_engine, make_session_factory
from services.db.models import Client, ClientPhone, Role, User
from services.db.schema import upgrade
from services.normalize import normalize_name
from services.search import SearchIndexStore, search_clients, transliterate_to_latin
from services.uow import UnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARGET_P95_MS = 20.0
CHUNK = 5_000
MANAGERS = 5


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


ROOTS = _split(
    "Иван Петр Сидор Кузнец Смирн Попов Васил Соколов Михайл Новик Федор Морозов Волков "
    "Алексе Лебед Семен Егор Павл Козл Степан Никола Орл Андре Макар Никит Захар Зайц Соловь "
    "Борис Яковл Григорь Роман Воробь Сергее Кузьмин Фрол Александр Дмитри Корол Гусев "
    "Киселев Ильин Максим Поляк Сорокин Виноград Ковал Белов Медвед Антон Тарас Жук Баран "
    "Фил Комар Давыд Беляев Герасим Богдан Осип Сидоренк Матве Титов Марк Миронов Крылов "
    "Куликов Карп Власов Мельник Денис Гаврил Тихон Казак Афанась Данил Савель Тимофе Фомин "
    "Чернов Абрам Мартын Ефим Федотов Щербак Назар Калинин Исаев Чернышев Быков Маслов "
    "Родион Коновал Лазар Суханов Ильич Прохор Рыбак Шубин Гордеев"
)
SUFFIXES = ("ов", "ев", "ин", "ский", "енко", "ук", "ых", "цев", "ников", "ченко")
MALE_NAMES = _split(
    "Александр Алексей Андрей Антон Артём Борис Вадим Василий Виктор Владимир Григорий Денис "
    "Дмитрий Евгений Егор Иван Игорь Илья Кирилл Константин Максим Михаил Никита Николай "
    "Олег Павел Пётр Роман Сергей Станислав Степан Тимур Фёдор Юрий Ярослав"
)
FEMALE_NAMES = _split(
    "Александра Алёна Алина Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья "
    "Евгения Екатерина Елена Елизавета Жанна Зоя Инна Ирина Карина Кристина Ксения Лариса "
    "Любовь Людмила Марина Мария Надежда Наталья Нина Ольга Полина Светлана Софья Татьяна "
    "Юлия Яна"
)
PATRONYMIC_ROOTS = ("Александров", "Сергеев", "Иванов", "Петров", "Николаев", "Викторов")
COMPANY_WORDS = _split(
    "Ромашка Лютик Василёк Стройсервис Техноком Альфа Вектор Гранит Меридиан Орион Прогресс "
    "Ресурс Сибирь Урал Волга Север Юг Восток Запад Сфера Эталон Логистик Маркет Трейд Снаб "
    "Комплект Профи Мастер Дом Сад Авто Агро Энерго Мед Фарм Хим Пласт Металл Лес Бетон "
    "Кровля Инструмент Электро Свет Вода Тепло Климат Офис Принт"
)
LEGAL = ("ООО", "АО", "ИП", "ПАО", "ЗАО")
CITIES = _split("Москва Подольск Химки Тула Калуга Рязань Тверь Казань Самара Пермь Тюмень Курган")


def _surname(rng: random.Random) -> tuple[str, str]:
    """A male and the matching female form."""
    root = rng.choice(ROOTS)
    suffix = rng.choice(SUFFIXES)
    male = root + suffix
    if suffix in ("ов", "ев", "ин", "цев", "ников"):
        return male, male + "а"
    if suffix == "ский":
        return male, root + "ская"
    return male, male


def make_clients(count: int, rng: random.Random) -> list[dict[str, Any]]:
    clients = []
    for number in range(1, count + 1):
        if rng.random() < 0.65:
            male, female = _surname(rng)
            if rng.random() < 0.5:
                name = f"{male} {rng.choice(MALE_NAMES)} {rng.choice(PATRONYMIC_ROOTS)}ич"
            else:
                name = f"{female} {rng.choice(FEMALE_NAMES)} {rng.choice(PATRONYMIC_ROOTS)}на"
            company = None
        else:
            chosen = rng.sample(COMPANY_WORDS, rng.choice((1, 1, 2)))
            words = "".join(chosen) if rng.random() < 0.5 else " ".join(chosen)
            name = f"{rng.choice(LEGAL)} «{words}»"
            company = name
        phones = [f"79{rng.randrange(10**9):09d}" for _ in range(rng.choice((1, 1, 2)))]
        clients.append(
            {
                "id": number,
                "external_id": f"EXT-{number:06d}",
                "name": name,
                "name_normalized": normalize_name(name),
                "company": company,
                "tax_id": f"{rng.randrange(10**9, 10**10)}",
                "city": rng.choice(CITIES),
                "phones": ", ".join(phones),
                "owner_id": 1 + number % MANAGERS,
                "is_vip": rng.random() < 0.02,
                "tags": [],
                "created_at": NOW,
                "_phones": phones,
            }
        )
    return clients


def _typo(word: str, rng: random.Random) -> str:
    position = rng.randrange(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4:  # a wrong letter
        return word[:position] + rng.choice("аеиоуя") + word[position + 1 :]
    if kind < 0.7:  # a dropped letter
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def _phone_format(phone: str, rng: random.Random) -> str:
    local = phone[1:]
    return rng.choice(
        (
            f"8 ({local[:3]}) {local[3:6]}-{local[6:8]}-{local[8:]}",
            f"+7{local}",
            local,
            f"+7 {local[:3]} {local[3:6]} {local[6:8]} {local[8:]}",
        )
    )


def make_queries(
    clients: list[dict[str, Any]], count: int, rng: random.Random
) -> list[tuple[str, str]]:
    """(kind, query) pairs in realistic proportions."""
    people = [c for c in clients if c["company"] is None]
    companies = [c for c in clients if c["company"] is not None]
    queries = []
    for number in range(count):
        kind = rng.random()
        person = rng.choice(people)
        surname, first = person["name"].split()[:2]
        if kind < 0.15:
            queries.append(("surname", surname))
        elif kind < 0.23:
            queries.append(("case form", surname + rng.choice(("у", "ым", "е", "а"))))
        elif kind < 0.31:
            queries.append(("surname + name", f"{surname} {first}"))
        elif kind < 0.35:
            queries.append(("surname + city", f"{surname} {person['city']}"))
        elif kind < 0.41:
            queries.append(("latin", transliterate_to_latin(surname).capitalize()))
        elif kind < 0.49:
            queries.append(("typo", _typo(surname, rng) if len(surname) > 4 else surname))
        elif kind < 0.54:
            queries.append(("prefix", surname[: max(4, len(surname) - 3)]))
        elif kind < 0.64:
            company = rng.choice(companies)
            words = company["name"].split("«")[1].rstrip("»")
            split = " ".join(re.findall(r"[А-ЯЁ][а-яё]+", words)).lower()
            queries.append(("company", split if rng.random() < 0.5 else split.split()[0]))
        elif kind < 0.76:
            phone = rng.choice(rng.choice(clients)["_phones"])
            queries.append(("phone", _phone_format(phone, rng)))
        elif kind < 0.80:
            phone = rng.choice(rng.choice(clients)["_phones"])
            queries.append(("phone tail", f"{phone[-7:-4]}-{phone[-4:-2]}-{phone[-2:]}"))
        elif kind < 0.88:
            tax_id = rng.choice(clients)["tax_id"]
            queries.append(("tax id", tax_id if rng.random() < 0.5 else f"ИНН {tax_id}"))
        else:
            external_id = rng.choice(clients)["external_id"]
            queries.append(("external id", external_id.lower() if number % 2 else external_id))
    return queries


async def fill(uow_factory: UnitOfWorkFactory, clients: list[dict[str, Any]]) -> None:
    async with uow_factory() as uow:
        session = uow.session
        await session.execute(
            insert(User.__table__),
            [
                {
                    "id": 1 + n,
                    "telegram_id": 5000 + n,
                    "display_name": f"Менеджер {n}",
                    "role": Role.MANAGER.value,
                    "is_active": True,
                    "daily_call_plan": 20,
                    "pushes_enabled": True,
                    "created_at": NOW,
                }
                for n in range(MANAGERS)
            ]
            + [
                {
                    "id": 100,
                    "telegram_id": 4000,
                    "display_name": "Руководитель",
                    "role": Role.HEAD.value,
                    "is_active": True,
                    "daily_call_plan": 20,
                    "pushes_enabled": True,
                    "created_at": NOW,
                }
            ],
        )
        rows = [{k: v for k, v in c.items() if not k.startswith("_")} for c in clients]
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(Client.__table__), rows[start : start + CHUNK])
        phones = [{"client_id": c["id"], "phone": phone} for c in clients for phone in c["_phones"]]
        for start in range(0, len(phones), CHUNK):
            await session.execute(insert(ClientPhone.__table__), phones[start : start + CHUNK])
        await uow.commit()


async def first_search_after_restart(uow_factory: UnitOfWorkFactory, head: Viewer) -> None:
    """Keep a built index in the database, then time a new store's first answer."""
    keeping = SearchIndexStore(uow_factory)
    started = time.perf_counter()
    await keeping._rebuild_now()  # what a running bot does in the background
    print(f"index built and kept in the database in {time.perf_counter() - started:.2f} s")
    await keeping.close()
    restarted = SearchIndexStore(uow_factory)
    started = time.perf_counter()
    restarted.start()  # as the bot does when polling starts
    await search_clients(uow_factory(), restarted, head, "Иванова", now=NOW)
    elapsed = time.perf_counter() - started
    source = "the kept index" if restarted.started_from_kept_index else "a new build"
    print(f"first search after a restart: {elapsed:.2f} s (from {source})")
    await restarted.close()


async def database_scan_reference(uow_factory: UnitOfWorkFactory, surnames: list[str]) -> None:
    """The database's own scan for the same surnames (LIKE '%...%': no stems, no typos)."""
    timings = []
    for surname in surnames:
        pattern = f"%{normalize_name(surname)}%"
        began = time.perf_counter()
        async with uow_factory() as uow:
            await uow.session.scalars(
                select(Client.id).where(Client.name_normalized.like(pattern)).limit(100)
            )
        timings.append((time.perf_counter() - began) * 1000)
    print(
        f"reference, the database's LIKE scan for the {len(timings)} surnames: "
        f"p50 {_percentile(timings, 0.5):.2f} ms, p95 {_percentile(timings, 0.95):.2f} ms"
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(20260302)
    workdir = Path(tempfile.mkdtemp(prefix="bench_search_"))
    url = args.url or f"sqlite+aiosqlite:///{workdir / 'search.sqlite3'}"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        clients = make_clients(args.clients, rng)
        started = time.perf_counter()
        await fill(uow_factory, clients)
        print(f"filled {len(clients):,} clients in {time.perf_counter() - started:.1f} s")

        head = Viewer(user_id=100, role=Role.HEAD)
        managers = [Viewer(user_id=1 + n, role=Role.MANAGER) for n in range(MANAGERS)]
        index = SearchIndexStore(uow_factory, keep=False)
        started = time.perf_counter()
        await search_clients(uow_factory(), index, head, "прогрев", now=NOW)
        built = time.perf_counter() - started
        print(f"first search on a first start (index built from the rows): {built:.2f} s")
        await first_search_after_restart(uow_factory, head)

        queries = make_queries(clients, args.queries, rng)
        del clients  # what a bot process holds is the index, not the generator's rows
        gc.collect()
        timings: list[float] = []
        cpu_started = time.process_time()
        by_kind: dict[str, list[float]] = {}
        found = 0
        for number, (kind, query) in enumerate(queries):
            viewer = head if number % 2 == 0 else managers[number % MANAGERS]
            began = time.perf_counter()
            page = await search_clients(uow_factory(), index, viewer, query, now=NOW)
            timings.append((time.perf_counter() - began) * 1000)
            by_kind.setdefault(kind, []).append(timings[-1])
            found += page.total > 0
        cpu_ms = (time.process_time() - cpu_started) * 1000 / len(queries)
        p50, p95 = _percentile(timings, 0.50), _percentile(timings, 0.95)
        print(
            f"{len(queries)} queries on {args.clients:,} clients: "
            f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {max(timings):.2f} ms, "
            f"mean {statistics.fmean(timings):.2f} ms (CPU {cpu_ms:.2f} ms); "
            f"{found} found something"
        )
        for kind, values in by_kind.items():
            print(
                f"  {kind:<15} n={len(values):<4} p50 {_percentile(values, 0.5):6.2f} ms"
                f"  p95 {_percentile(values, 0.95):6.2f} ms"
            )
        if args.verbose:
            slowest = sorted(zip(timings, queries, strict=True), reverse=True)[:15]
            for elapsed, (kind, query) in slowest:
                print(f"  {elapsed:7.2f} ms  {kind}: {query}")
        await database_scan_reference(uow_factory, [q for k, q in queries if k == "surname"])
        ok = p95 <= TARGET_P95_MS
        print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        await index.close()
        await engine.dispose()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--url", default="", help="a migrated-or-empty database URL")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    parser.add_argument("--verbose", action="store_true", help="print the slowest queries")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
