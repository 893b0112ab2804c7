"""The demo base as pure data: seed, date and size in; pandas frames out; no database.

Everything is drawn with numpy over whole arrays (no Python loop per client or
per row; the only loops run over vocabularies and outcome tables). Clients are
generated in chunks of `CHUNK_CLIENTS`, each from its own seeded stream, so
memory stays bounded at any size and the same seed, date and size always give
the same base; a full chunk k is also the same in every base that contains it.

Days are counted backwards from `as_of` ("days ago") while drawing; day 0 is
`as_of` itself and nothing happens after it.

Logged contacts fall on working days (Russian calendar) and each manager's *calls* follow
their daily plan at any size of the base (`_CallPlan`): a day's calls sit between about
60 and 120 % of the plan. Contacts beyond the plan are logged as messages, and days short
of it get extra attempts to clients already touched since, so who was contacted when
(and every next due date) is the same whatever the plan. That choice depends on the
chunk's share of the base, so a chunk's `interactions` differ between bases of different
sizes; its clients and transactions do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from demo_data import vocabulary as v
from services.analytics.segmentation import classify_abc, classify_xyz
from services.analytics.settings import SEGMENTS, SegmentationSettings
from services.analytics.summary import window_bounds
from services.calendar import WorkCalendar
from services.db.models import Channel, Outcome
from services.normalize import normalize_name, tax_id_checksum_ok

DEFAULT_SEED = 20240601
DEFAULT_CLIENTS = 2000
CHUNK_CLIENTS = 25_000
HISTORY_DAYS = 3 * 365
INTERACTION_WINDOW_DAYS = 270
# Follow-ups older than this are treated as done (a later call happened off the record);
# otherwise every manager would start the demo with months of overdue promises.
OVERDUE_FOLLOW_UP_MAX_DAYS = 21
# A team that works its cadence: most clients were last touched within their cadence
# (or have a call-back planned), a minority slipped by days or weeks, a few by months.
OVERDUE_SHARE = 0.045
LONG_OVERDUE_SHARE = 0.008
DUE_TODAY_SHARE = 0.01
OVERDUE_MEAN_DAYS = 8
OVERDUE_MAX_DAYS = 35
LONG_OVERDUE_DAYS = (50, 151)
FRESH_LEAD_SHARE = 0.04  # prospects added in the last two weeks and not called yet
LOGGED_TOUCH_SHARE = 0.75  # earlier touches that made it into the CRM
# Calls a manager logs on a working day, as a share of the daily plan: a level per
# manager and chunk, times a day-to-day swing; the product stays within about 60-120 %.
CALL_LEVEL = (0.8, 1.0)
CALL_SWING = (0.75, 1.15)
CALL_WINDOW_DAYS = INTERACTION_WINDOW_DAYS
# The segmentation the demo is tuned for (the defaults of a fresh installation).
CADENCE_SETTINGS = SegmentationSettings()
EXTERNAL_ID_PREFIX = "DEMO-"
ORDER_PREFIX = "РН-"  # расходная накладная: the sale document in 1C
RETURN_PREFIX = "ВП-"  # возврат от покупателя
NUMBER_WIDTH = 6

BEHAVIOUR_NAMES: tuple[str, ...] = tuple(name for name, _ in v.BEHAVIOURS)
REGULAR, SEASONAL, IRREGULAR, ONE_OFF, CHURNED, NEW, POTENTIAL = range(len(BEHAVIOUR_NAMES))

_EPOCH = np.datetime64("1970-01-01", "D")
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class DemoChunk:
    """One slice of the base; `client_no` (1-based, global) links the frames.

    clients: client_no, external_id, name, name_normalized, company, tax_id, phones,
        email, city, owner_telegram_id, is_vip, vip_reason, tags (tuple of str),
        next_due_on, created_at (UTC), and what drove the drawing: behaviour, profile.
    client_phones: client_no, phone (digits, 7XXXXXXXXXX).
    transactions: client_no, date, amount_kopecks (exact; negative for returns),
        category, order_number.
    interactions: client_no, user_telegram_id, occurred_at (UTC), channel, outcome,
        comment, next_contact_on, next_contact_at (UTC).
    """

    clients: pd.DataFrame
    client_phones: pd.DataFrame
    transactions: pd.DataFrame
    interactions: pd.DataFrame


@dataclass(frozen=True)
class DemoFrames:
    """The whole base; `users` has telegram_id, display_name, role, timezone,
    language, daily_call_plan."""

    users: pd.DataFrame
    clients: pd.DataFrame
    client_phones: pd.DataFrame
    transactions: pd.DataFrame
    interactions: pd.DataFrame


def demo_users_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "telegram_id": [u.telegram_id for u in v.DEMO_USERS],
            "display_name": [u.display_name for u in v.DEMO_USERS],
            "role": [u.role.value for u in v.DEMO_USERS],
            "timezone": [u.timezone for u in v.DEMO_USERS],
            "language": [u.language for u in v.DEMO_USERS],
            "daily_call_plan": [u.daily_call_plan for u in v.DEMO_USERS],
        }
    )


def generate_demo(
    *, seed: int = DEFAULT_SEED, as_of: date, clients: int = DEFAULT_CLIENTS
) -> DemoFrames:
    """The whole demo base in memory (fine up to a few hundred thousand clients)."""
    chunks = list(iter_demo_chunks(seed=seed, as_of=as_of, clients=clients))

    def concat(name: str) -> pd.DataFrame:
        return pd.concat([getattr(c, name) for c in chunks], ignore_index=True)

    return DemoFrames(
        users=demo_users_frame(),
        clients=concat("clients"),
        client_phones=concat("client_phones"),
        transactions=concat("transactions"),
        interactions=concat("interactions"),
    )


def iter_demo_chunks(
    *, seed: int, as_of: date, clients: int, chunk_size: int = CHUNK_CLIENTS
) -> Iterator[DemoChunk]:
    """The base chunk by chunk; a different `chunk_size` gives a different base."""
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    if clients < 1:
        raise ValueError("clients must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    numbers = _Numbering()
    for index, start in enumerate(range(0, clients, chunk_size)):
        rng = np.random.default_rng([seed, index])
        size = min(chunk_size, clients - start)
        yield _ChunkBuilder(rng, seed, as_of, start, size, numbers, share=size / clients).build()


class _Numbering:
    """Document numbers keep counting across chunks."""

    def __init__(self) -> None:
        self.orders = 0
        self.returns = 0


# --- small vectorised helpers -------------------------------------------------


def _objects(values: Sequence[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _pick_rows(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category per row from row-specific cumulative weights (rows x categories)."""
    u = rng.random(len(cumulative))
    picked = (u[:, None] >= cumulative).sum(axis=1)
    return np.minimum(picked, cumulative.shape[1] - 1)


def _zfill(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(values.astype(np.int64).astype(str), width).astype(object)


def _scramble(g: np.ndarray, modulus: int, multiplier: int, offset: int | np.integer) -> np.ndarray:
    """A bijection of 0..modulus-1: distinct clients get distinct numbers at any size.

    `multiplier` must be coprime with `modulus` (a power of ten: odd, not ending in 5).
    """
    return (g.astype(np.int64) * multiplier + offset) % modulus


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def _check_digit(digits: np.ndarray, weights: Sequence[int]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.int64)
    return (digits[:, -len(w) :] @ w) % 11 % 10


def inn_check_digits_ok(tax_id: str) -> bool:
    """The ИНН checksum, written out digit by digit in `services.normalize`, independently
    of the vectorised generator here, so each can check the other."""
    return tax_id_checksum_ok(tax_id)


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya", " ": "-",
    }
)  # fmt: skip


def _translit(words: Sequence[str]) -> np.ndarray:
    return _objects([w.lower().translate(_TRANSLIT) for w in words])


def _normalized(words: Sequence[str]) -> np.ndarray:
    # Only vocabulary words go through normalize_name; names are concatenations of
    # them, and normalization works letter by letter, so the pieces add up.
    return _objects([normalize_name(w) for w in words])


def _weekday(days_since_epoch: np.ndarray) -> np.ndarray:
    return (days_since_epoch + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def _to_weekdays(days_ago: np.ndarray, as_of_day: int, *, latest: int = 0) -> np.ndarray:
    """Move Saturday to Friday and Sunday to Monday, or to Friday when that Monday
    would be later than `latest` days ago (the future, or today for logged calls)."""
    weekday = _weekday(as_of_day - days_ago)
    out = days_ago.copy()
    out[weekday == 5] += 1
    sunday = weekday == 6
    monday_ok = days_ago - 1 >= latest
    out[sunday & monday_ok] -= 1
    out[sunday & ~monday_ok] += 2
    return out


@cache
def _working_days_ago(as_of: date, horizon: int) -> np.ndarray:
    """Days ago (ascending, from 1) of the working days before `as_of`: Monday to Friday
    without the public holidays of the default calendar (the one the digest plans by)."""
    calendar = WorkCalendar()
    days = [
        ago
        for ago in range(1, horizon + 1)
        if (day := as_of - timedelta(days=ago)).weekday() < 5 and calendar.is_working_day(day)
    ]
    return np.array(days, dtype=np.int64)


def _random_rank(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row's place, in a random order, among the rows of its group (0, 1, ...)."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((rng.random(len(groups)), groups))
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    start_of = np.repeat(starts, np.diff(np.r_[starts, len(groups)]))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups), dtype=np.int64) - start_of
    return rank


def _utc_offset_minutes(timezone: str, as_of: date) -> int:
    moment = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=ZoneInfo(timezone))
    offset = moment.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def _dates(as_of_day: int, days_ago: np.ndarray) -> np.ndarray:
    return (_EPOCH + (as_of_day - days_ago)).astype("datetime64[D]")


def _utc_times(
    as_of_day: int, days_ago: np.ndarray, utc_minutes: np.ndarray, present: np.ndarray | None = None
) -> pd.Series:
    """Aware UTC timestamps; rows where `present` is False are NaT."""
    seconds = (as_of_day - days_ago).astype(np.int64) * _SECONDS_PER_DAY + utc_minutes * 60
    moments = seconds.astype("datetime64[s]")
    if present is not None:
        moments[~present] = np.datetime64("NaT")
    return pd.Series(moments).dt.tz_localize("UTC")


# --- one chunk ------------------------------------------------------------------

_NONE = np.iinfo(np.int64).min  # "no such day" in days-ago arrays
# Whether the latest touch agreed a next step, and how many days after it.
_FOLLOW_UP = {  # outcome: (probability, earliest, latest+1 days after the call)
    Outcome.CALL_BACK: (1.0, 1, 8),
    Outcome.MEETING_SET: (1.0, 2, 11),
    Outcome.NO_ANSWER: (0.7, 1, 4),
    Outcome.REACHED: (0.5, 7, 31),
    Outcome.REFUSED: (0.2, 60, 121),
}
_OFFSETS_STREAM = 2**32  # never a chunk index
_PLAN_STREAM = 2**32 + 1
_CLIENT_COLUMNS = (
    "client_no", "external_id", "name", "name_normalized", "company", "tax_id", "phones",
    "email", "city", "owner_telegram_id", "is_vip", "vip_reason", "tags", "next_due_on",
    "created_at", "behaviour", "profile",
)  # fmt: skip


class _ChunkBuilder:
    """Draws one chunk step by step; each step adds client columns to `self.columns`."""

    def __init__(
        self,
        rng: np.random.Generator,
        seed: int,
        as_of: date,
        start: int,
        size: int,
        numbers: _Numbering,
        *,
        share: float = 1.0,
    ) -> None:
        self.rng = rng
        self.share = share  # of the whole base: this chunk's part of each manager's plan
        # the calls-per-plan choices draw from their own stream (see `_follow_plan`)
        self.plan_rng = np.random.default_rng([seed, start, _PLAN_STREAM])
        self.seed = seed
        self.as_of = as_of
        self.as_of_day = int((np.datetime64(as_of, "D") - _EPOCH).astype(np.int64))
        self.g = np.arange(start, start + size, dtype=np.int64)  # 0-based global numbers
        self.n = size
        self.numbers = numbers
        self.columns: dict[str, object] = {"client_no": self.g + 1}
        # Offsets of the numbering bijections: the same for every chunk of a base (or
        # numbers would repeat across chunks), different between seeds.
        self.offsets = np.random.default_rng([seed, _OFFSETS_STREAM]).integers(0, 10**8, 4)
        self.workdays = _working_days_ago(as_of, HISTORY_DAYS + 2 * 365)
        self.workday_ratio = len(self.workdays) / float(self.workdays[-1])

    def _on_working_days(self, days_ago: np.ndarray) -> np.ndarray:
        """Calendar days ago to working days ago, evenly: a rhythm of `k` calendar days
        becomes one of about `k * 5 / 7` working days, so no weekday gets the weekend's
        share (a plain shift would double Fridays or Mondays)."""
        spread = (days_ago - 1 + self.rng.random(len(days_ago))) * self.workday_ratio
        index = np.clip(np.floor(spread).astype(np.int64), 0, len(self.workdays) - 1)
        return self.workdays[index]

    def build(self) -> DemoChunk:
        self._draw_kinds()
        self._identity()
        phones = self._phones()
        transactions, orders = self._transactions()
        self._vip_and_tags()
        interactions = self._interactions(orders)
        self._dates_of_record()
        clients = pd.DataFrame({name: self.columns[name] for name in _CLIENT_COLUMNS})
        return DemoChunk(clients, phones, transactions, interactions)

    # Who the clients are ------------------------------------------------------

    def _draw_kinds(self) -> None:
        rng, n = self.rng, self.n
        managers = v.DEMO_MANAGERS
        share = [m.client_share for m in managers]
        self.owner = np.array([m.telegram_id for m in managers])[_pick(rng, share, n)]
        office = np.array([c[3] for c in v.CITIES])
        weights = np.array(v.CITY_WEIGHTS)
        urals = self.owner == v.URALS_MANAGER_TELEGRAM_ID
        # Territories overlap a little: a Moscow manager keeps a few Urals accounts.
        w_urals = weights * np.where(office == "urals", 1.0, 0.02)
        w_other = weights * np.select([office == "center", office == "other"], [1.0, 0.5], 0.01)
        self.city = np.empty(n, dtype=np.int64)
        self.city[urals] = _pick(rng, w_urals, int(urals.sum()))
        self.city[~urals] = _pick(rng, w_other, int((~urals).sum()))
        self.profile = _pick(rng, [p.share for p in v.PROFILES], n)
        self.behaviour = _pick(rng, [share for _, share in v.BEHAVIOURS], n)
        self.legal = _pick(rng, [form[2] for form in v.LEGAL_FORMS], n)
        # Order size in roubles: a lognormal body plus a few key accounts far out in the
        # tail, so that a fifth of the buyers bring most of the revenue (ABC needs it).
        size = np.exp(rng.normal(np.log(22_000), 1.0, n))
        size *= np.where(rng.random(n) < 0.04, 3 + rng.pareto(1.6, n) * 4, 1.0)
        size *= np.array([1.0, 1.3, 0.9, 0.7, 0.9, 0.8, 1.0])[self.behaviour]
        self.order_size = np.maximum(size, 1_500.0)
        self.columns["owner_telegram_id"] = self.owner
        self.columns["city"] = _objects([c[0] for c in v.CITIES])[self.city]
        self.columns["behaviour"] = pd.Categorical.from_codes(self.behaviour, BEHAVIOUR_NAMES)
        self.columns["profile"] = pd.Categorical.from_codes(
            self.profile, [p.name for p in v.PROFILES]
        )

    def _identity(self) -> None:
        rng, n = self.rng, self.n
        female = rng.random(n) < 0.3
        surname_i = rng.integers(0, len(v.SURNAMES), n)
        first_i = rng.integers(0, 1 << 30, n)
        patronymic_i = rng.integers(0, len(v.PATRONYMICS), n)
        male_first = first_i % len(v.MALE_NAMES)
        female_first = first_i % len(v.FEMALE_NAMES)

        def person(words: Callable[[Sequence[str]], np.ndarray], fem_suffix: str) -> np.ndarray:
            """Full name (Фамилия Имя Отчество) built from `words(vocabulary)` pieces."""
            surname = words(v.SURNAMES)[surname_i] + np.where(female, fem_suffix, "")
            first = np.where(
                female, words(v.FEMALE_NAMES)[female_first], words(v.MALE_NAMES)[male_first]
            )
            patronymic = np.where(
                female,
                words([p[1] for p in v.PATRONYMICS])[patronymic_i],
                words([p[0] for p in v.PATRONYMICS])[patronymic_i],
            )
            return surname + " " + first + " " + patronymic

        fio, fio_norm = person(_objects, "а"), person(_normalized, "а")
        brand, brand_norm, brand_latin = self._brands()
        forms = v.LEGAL_FORMS
        short = _objects([f[0] for f in forms])[self.legal]
        short_norm = _normalized([f[0] for f in forms])[self.legal]
        entrepreneur, private = self.legal == 1, self.legal == 3
        is_person = entrepreneur | private
        # ООО «Вектор» / ИП Иванов Пётр Сергеевич / Петров Иван Ильич (a private buyer)
        self.columns["name"] = np.where(
            is_person, np.where(private, fio, short + " " + fio), short + " «" + brand + "»"
        )
        self.columns["name_normalized"] = np.where(
            is_person,
            np.where(private, fio_norm, short_norm + " " + fio_norm),
            short_norm + " " + brand_norm,
        )
        # `company` is the employer of a contact person; for a legal entity or an
        # entrepreneur the name already is the company, and repeating it is noise.
        contact_person = private & (rng.random(n) < 0.4)
        company = np.full(n, None, dtype=object)
        company[contact_person] = forms[0][0] + " «" + brand[contact_person] + "»"
        self.columns["company"] = company
        self.columns["external_id"] = EXTERNAL_ID_PREFIX + _zfill(self.g + 1, 7)

        # ИНН: the region of the city, a serial unique per client, the check digits.
        region = np.array([c[1] for c in v.CITIES], dtype=np.int64)[self.city]
        first9 = region * 10**7 + _scramble(self.g, 10**7, 7_654_321, self.offsets[0])
        inn10 = first9 * 10 + _check_digit(_digits(first9, 9), _INN10)
        first10 = region * 10**8 + _scramble(self.g, 10**8, 76_543_211, self.offsets[1])
        first11 = first10 * 10 + _check_digit(_digits(first10, 10), _INN12_1)
        inn12 = first11 * 10 + _check_digit(_digits(first11, 11), _INN12_2)
        tax_id = np.where(entrepreneur, inn12.astype(str), inn10.astype(str)).astype(object)
        tax_id[private] = None
        self.columns["tax_id"] = tax_id

        # E-mail: companies write from their own domain, people from a public mailbox.
        mailbox = _objects(["info", "zakaz", "snab", "office", "sales"])
        public = _objects(["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru"])
        person_mail = (
            _translit(v.SURNAMES)[surname_i]
            + np.where(female, "a", "")
            + "."
            + np.where(
                female,
                _translit(v.FEMALE_NAMES)[female_first],
                _translit(v.MALE_NAMES)[male_first],
            )
        )
        email = np.where(
            is_person,
            person_mail + "@" + public[rng.integers(0, len(public), n)],
            mailbox[rng.integers(0, len(mailbox), n)] + "@" + brand_latin + ".ru",
        )
        email[rng.random(n) < 0.12] = None
        self.columns["email"] = email

    def _brands(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Company names like «УралСтройМастер», «ЭлектроСнаб», «Новый Дом»: as written,
        normalized, and in Latin letters for the e-mail domain."""
        rng, n = self.rng, self.n
        stems = [s for p in v.PROFILES for s in p.brand_stems]
        stem_count = np.array([len(p.brand_stems) for p in v.PROFILES])
        stem_start = np.cumsum(stem_count) - stem_count
        stem_i = stem_start[self.profile] + rng.integers(0, 1 << 30, n) % stem_count[self.profile]
        prefix_i = rng.integers(0, len(v.REGION_PREFIXES), n)
        suffix_i = rng.integers(0, len(v.BRAND_SUFFIXES), n)
        alone_i = rng.integers(0, len(v.STANDALONE_BRANDS), n)
        alone = rng.random(n) < 0.15

        def compose(words: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
            built = (
                words(v.REGION_PREFIXES)[prefix_i]
                + words(stems)[stem_i]
                + words(v.BRAND_SUFFIXES)[suffix_i]
            )
            return np.where(alone, words(v.STANDALONE_BRANDS)[alone_i], built)

        return compose(_objects), compose(_normalized), compose(_translit)

    def _phones(self) -> pd.DataFrame:
        rng, n = self.rng, self.n
        codes = np.array(v.MOBILE_CODES)
        mobile = codes[rng.integers(0, len(codes), n)]
        sub1 = _scramble(self.g, 10**7, 7_919_347, self.offsets[2])
        landline = np.array([c[2] for c in v.CITIES])[self.city]
        code2 = np.where(landline > 0, landline, codes[rng.integers(0, len(codes), n)])
        sub2 = _scramble(self.g, 10**7, 3_456_789, self.offsets[3])
        has_second = rng.random(n) < 0.35

        def display(code: np.ndarray, sub: np.ndarray) -> np.ndarray:
            return (
                "+7 ("
                + _zfill(code, 3)
                + ") "
                + _zfill(sub // 10_000, 3)
                + "-"
                + _zfill(sub // 100 % 100, 2)
                + "-"
                + _zfill(sub % 100, 2)
            )

        def digits(code: np.ndarray, sub: np.ndarray) -> np.ndarray:
            return "7" + _zfill(code, 3) + _zfill(sub, 7)

        first, second = display(mobile, sub1), display(code2, sub2)
        self.columns["phones"] = np.where(has_second, first + ", " + second, first)
        client_no = self.g + 1
        frame = pd.DataFrame(
            {
                "client_no": np.concatenate([client_no, client_no[has_second]]),
                "phone": np.concatenate([digits(mobile, sub1), digits(code2, sub2)[has_second]]),
            }
        )
        return frame.sort_values("client_no", kind="stable", ignore_index=True)

    # What they bought ---------------------------------------------------------------

    def _order_days(self) -> tuple[np.ndarray, np.ndarray]:
        """(client index in the chunk, days ago) of every order."""
        rng, n, b = self.rng, self.n, self.behaviour
        history = HISTORY_DAYS
        kinds = [b == REGULAR, b == SEASONAL, b == CHURNED, b == NEW]

        # Rhythmic buyers: an order every `interval` days (give or take) from `start`
        # down to `end`. Churned ones stopped `end` days ago; new ones started recently.
        interval = np.select(
            kinds,
            [rng.uniform(21, 40, n), rng.uniform(10, 24, n), rng.uniform(20, 55, n),
             rng.uniform(14, 35, n)],
            1.0,
        )  # fmt: skip
        end = np.where(b == CHURNED, rng.integers(180, 481, n), 0)
        start = np.select(
            kinds,
            [rng.integers(150, history + 1, n), rng.integers(400, history + 1, n),
             end + rng.integers(120, history - 480 + 1, n), rng.integers(0, 90, n)],
            0,
        )  # fmt: skip
        count = np.where(np.any(kinds, axis=0), (start - end) // interval + 1, 0)
        count = count.astype(np.int64)
        client = np.repeat(np.arange(n), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        jitter = np.where(k == 0, 0.0, rng.normal(0, 0.15, len(client)) * interval[client])
        days = np.rint(start[client] - k * interval[client] + jitter).astype(np.int64)
        keep = (days >= end[client]) & (days <= start[client])
        # Seasonal buyers buy only in their season: 4-6 months starting in March-May.
        season_start = rng.integers(2, 5, n)
        season_len = rng.integers(4, 7, n)
        month = _dates(self.as_of_day, days).astype("datetime64[M]").astype(np.int64) % 12
        in_season = (month - season_start[client]) % 12 < season_len[client]
        keep &= (b[client] != SEASONAL) | in_season
        rhythm_client, rhythm_days = client[keep], days[keep]

        # Irregular buyers: a first order, then more at random moments.
        irregular = np.flatnonzero(b == IRREGULAR)
        first = rng.integers(60, history + 1, len(irregular))
        extra = rng.poisson(first / rng.uniform(45, 150, len(irregular)))
        extra_client = np.repeat(irregular, extra)
        extra_days = (rng.random(len(extra_client)) * np.repeat(first, extra)).astype(np.int64)

        one_off = np.flatnonzero(b == ONE_OFF)
        one_off_days = rng.integers(100, history + 1, len(one_off))

        client = np.concatenate([rhythm_client, irregular, extra_client, one_off])
        days = np.concatenate([rhythm_days, first, extra_days, one_off_days])
        return client, _to_weekdays(days, self.as_of_day)

    def _transactions(self) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        rng, n = self.rng, self.n
        client, days = self._order_days()
        # Orders are numbered in date order, as an accounting system would number them.
        chronological = np.lexsort((client, -days))
        client, days = client[chronological], days[chronological]
        m = len(client)
        order_seq = self.numbers.orders + np.arange(1, m + 1)
        self.numbers.orders += m
        value = np.maximum(self.order_size[client] * np.exp(rng.normal(0, 0.45, m)), 500.0)

        # Lines: a main category from the buyer's profile, sometimes a second one from the
        # same profile (what cross-sell learns from), sometimes delivery.
        affinity = np.array([p.affinity for p in v.PROFILES])
        cumulative = np.cumsum(affinity / affinity.sum(axis=1, keepdims=True), axis=1)
        rows = cumulative[self.profile[client]]
        primary, secondary = _pick_rows(rng, rows), _pick_rows(rng, rows)
        second = (rng.random(m) < 0.3) & (secondary != primary)
        share = np.where(second, rng.uniform(0.55, 0.85, m), 1.0)
        delivery_rate = np.array([p.delivery_rate for p in v.PROFILES])[self.profile[client]]
        delivery = rng.random(m) < delivery_rate
        fee = np.array([1500, 2000, 2500, 3500, 4500, 6000])[rng.integers(0, 6, m)]

        line_client = np.concatenate([client, client[second], client[delivery]])
        line_days = np.concatenate([days, days[second], days[delivery]])
        line_order = np.concatenate(
            [np.arange(m), np.flatnonzero(second), np.flatnonzero(delivery)]
        )
        line_cat = np.concatenate(
            [primary, secondary[second], np.full(int(delivery.sum()), v.DELIVERY)]
        )
        line_kopecks = np.concatenate(
            [np.rint(value * share * 100), np.rint(value * (1 - share) * 100)[second],
             fee[delivery] * 100]
        ).astype(np.int64)  # fmt: skip
        # Format each number once per order, not once per line.
        line_number = (ORDER_PREFIX + _zfill(order_seq, NUMBER_WIDTH))[line_order]

        # Returns: part of a product line comes back 3-30 days later.
        returned = np.flatnonzero((line_cat != v.DELIVERY) & (rng.random(len(line_cat)) < 0.025))
        r_days = line_days[returned] - rng.integers(3, 31, len(returned))
        returned, r_days = returned[r_days >= 0], r_days[r_days >= 0]
        fraction = rng.uniform(0.1, 1.0, len(returned))
        r_kopecks = -np.maximum(np.rint(line_kopecks[returned] * fraction), 100).astype(np.int64)
        r_seq = np.empty(len(returned), dtype=np.int64)
        r_seq[np.argsort(-r_days, kind="stable")] = self.numbers.returns + np.arange(
            1, len(returned) + 1
        )
        self.numbers.returns += len(returned)

        all_client = np.concatenate([line_client, line_client[returned]])
        all_days = np.concatenate([line_days, r_days])
        all_kopecks = np.concatenate([line_kopecks, r_kopecks])
        all_cat = np.concatenate([line_cat, line_cat[returned]])
        all_number = np.concatenate([line_number, RETURN_PREFIX + _zfill(r_seq, NUMBER_WIDTH)])
        # Sort keys stay numeric: sorting the number strings would cost more than the rest.
        all_seq = np.concatenate([order_seq[line_order], r_seq + self.numbers.orders])
        by_client = np.lexsort((all_seq, -all_days, all_client))
        frame = pd.DataFrame(
            {
                "client_no": self.g[0] + all_client[by_client] + 1,
                "date": _dates(self.as_of_day, all_days[by_client]),
                "amount_kopecks": all_kopecks[by_client],
                "category": pd.Categorical.from_codes(all_cat[by_client], v.CATEGORIES),
                "order_number": all_number[by_client],
            }
        )
        self.revenue = np.bincount(all_client, weights=all_kopecks, minlength=n)
        self.has_delivery = np.bincount(client[delivery], minlength=n) > 0
        self.last_order_days = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(self.last_order_days, client, days)
        self.last_order_days[self.last_order_days == np.iinfo(np.int64).max] = -1
        self.first_order_days = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.first_order_days, client, days)
        self._window_figures(client, days, all_client, all_days, all_kopecks)
        return frame, {"client": client, "days": days, "category": primary}

    def _window_figures(
        self,
        client: np.ndarray,
        days: np.ndarray,
        line_client: np.ndarray,
        line_days: np.ndarray,
        line_kopecks: np.ndarray,
    ) -> None:
        """Revenue and months with an order in the segmentation window, per client."""
        n = self.n
        first_day, first_month, _ = window_bounds(self.as_of_day, CADENCE_SETTINGS.window_months)
        oldest = self.as_of_day - first_day  # in days ago
        lines = line_days <= oldest
        self.window_revenue = np.bincount(
            line_client[lines], weights=line_kopecks[lines], minlength=n
        )
        orders = days <= oldest
        month = _dates(self.as_of_day, days[orders]).astype("datetime64[M]").astype(np.int64)
        pairs = np.unique(client[orders] * CADENCE_SETTINGS.window_months + month - first_month)
        self.window_orders = np.bincount(client[orders], minlength=n)
        self.active_months = np.bincount(pairs // CADENCE_SETTINGS.window_months, minlength=n)

    def _vip_and_tags(self) -> None:
        rng, n = self.rng, self.n
        # VIPs: most of the top 3% by revenue, plus a few personal relationships.
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(-self.revenue, kind="stable")] = np.arange(n)
        top = (rank < max(1, round(n * 0.03))) & (self.revenue > 0)
        big = top & (rng.random(n) < 0.6)
        personal = ~big & (rng.random(n) < 0.01)
        self.is_vip = big | personal
        reason = np.full(n, None, dtype=object)
        big_reasons, personal_reasons = v.VIP_REASONS_BIG, v.VIP_REASONS_PERSONAL
        reason[big] = _objects(big_reasons)[rng.integers(0, len(big_reasons), int(big.sum()))]
        reason[personal] = _objects(personal_reasons)[
            rng.integers(0, len(personal_reasons), int(personal.sum()))
        ]
        self.columns["is_vip"] = self.is_vip
        self.columns["vip_reason"] = reason

        large = self.order_size > np.median(self.order_size) * 2 if n else np.zeros(0, bool)
        person = np.isin(self.legal, [1, 3])
        builder, finishing = self.profile == 0, self.profile == 3
        chance = {
            "опт": np.where(large, 0.5, 0.05),
            "розница": np.where(person & ~large, 0.3, 0.03),
            "застройщик": np.where(builder & ~person & large, 0.4, 0.02),
            "прораб": np.where(person & (builder | finishing), 0.3, 0.0),
            "тендер": np.where(self.legal == 2, 0.5, 0.02),
            "постоплата": np.where(self.is_vip, 0.5, np.where(large, 0.2, 0.04)),
            "предоплата": np.where(large, 0.03, 0.12),
            "самовывоз": np.where(self.has_delivery, 0.03, 0.2),
            "доставка": np.where(self.has_delivery, 0.3, 0.0),
            "сеть": np.where(~person & large, 0.05, 0.0),
            "объект": np.where(np.isin(self.profile, [0, 1, 2]), 0.1, 0.02),
            "ремонт": np.where(finishing, 0.3, 0.02),
        }
        probability = np.column_stack([chance[tag] for tag in v.TAGS])
        bits = rng.random(probability.shape) < probability
        masks = bits.astype(np.int64) @ (1 << np.arange(len(v.TAGS), dtype=np.int64))
        unique, inverse = np.unique(masks, return_inverse=True)
        lookup = np.empty(len(unique), dtype=object)
        for i, mask in enumerate(unique.tolist()):  # one per distinct combination, not per row
            lookup[i] = tuple(tag for bit, tag in enumerate(v.TAGS) if mask >> bit & 1)
        self.columns["tags"] = lookup[inverse.reshape(-1)]

    # What the managers did ----------------------------------------------------------

    def _expected_cadence(self) -> np.ndarray:
        """Days between contacts the segmentation will ask for, per client.

        The rules of `services.analytics` applied to the drawn purchases; ABC ranks
        within the chunk, a random sample of the whole base, so it is close enough.
        """
        s = CADENCE_SETTINGS
        buyer = self.window_orders > 0
        abc = classify_abc(self.window_revenue / 100, buyer, s.abc_a_share, s.abc_b_share)
        xyz = classify_xyz(self.active_months, np.full(self.n, np.nan), buyer, s)
        table = np.array([s.cadence_days[segment] for segment in SEGMENTS], dtype=np.int64)
        segment = abc.astype(np.int64) * 3 + xyz
        cadence = np.where(abc >= 0, table[np.maximum(segment, 0)], s.default_cadence_days)
        return np.where(self.is_vip, np.minimum(cadence, s.vip_cadence_cap_days), cadence)

    def _latest_touch(
        self, contacted: np.ndarray, outcome: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(days ago of the latest touch, days ago of the next step it agreed or _NONE).

        The team works its cadence: most clients were touched within it or have a
        step planned ahead, some slipped by days or weeks, a few by months, a
        handful fall due exactly today.
        """
        rng, n, cadence = self.rng, self.n, self.cadence
        u = rng.random(n)
        long_overdue = u < LONG_OVERDUE_SHARE
        overdue = ~long_overdue & (u < LONG_OVERDUE_SHARE + OVERDUE_SHARE)
        on_track = (u >= LONG_OVERDUE_SHARE + OVERDUE_SHARE) & (u < 1 - DUE_TODAY_SHARE)
        late = np.select(
            [long_overdue, overdue],
            [rng.integers(*LONG_OVERDUE_DAYS, n),
             np.minimum(rng.geometric(1 / OVERDUE_MEAN_DAYS, n), OVERDUE_MAX_DAYS)],
            0,
        )  # fmt: skip

        outcomes = [o for o, _ in v.OUTCOMES_BUYERS]
        rule = np.array([_FOLLOW_UP[o] for o in outcomes])
        probability, low, high = rule[outcome, 0], rule[outcome, 1], rule[outcome, 2]
        low, high = low.astype(np.int64), high.astype(np.int64)
        planned = (rng.random(n) < probability) & ~long_overdue
        planned &= late <= OVERDUE_FOLLOW_UP_MAX_DAYS

        # On track: inside the cadence, and before the agreed step when there is one.
        limit = np.where(planned, np.minimum(cadence - 1, high - 2), cadence - 1)
        inside = 1 + (rng.random(n) * np.maximum(limit, 1)).astype(np.int64)
        ahead = on_track & planned
        delay = rng.integers(np.where(ahead, np.maximum(low, inside + 1), low), high)
        slipped = np.where(planned, late + delay, cadence + late)  # due `late` days ago
        days = np.where(on_track, inside, slipped)
        days = np.clip(days, 1, np.maximum(self.known_days - 1, 1)).astype(np.int64)
        next_days = np.where(planned & contacted, days - delay, _NONE)
        return days, next_days

    def _interactions(self, orders: dict[str, np.ndarray]) -> pd.DataFrame:
        rng, n, b = self.rng, self.n, self.behaviour
        fresh = (b == POTENTIAL) & (rng.random(n) < FRESH_LEAD_SHARE)
        # Known since shortly before the first order; prospects for up to two years,
        # fresh leads for a few days.
        known = np.select(
            [self.first_order_days >= 0, fresh],
            [self.first_order_days + rng.integers(0, 31, n), rng.integers(1, 15, n)],
            rng.integers(10, 701, n),
        )
        self.known_days = np.maximum(known, 1)
        self.cadence = self._expected_cadence()
        contacted = ~fresh & (self.known_days >= 2)

        outcomes = [o for o, _ in v.OUTCOMES_BUYERS]
        if outcomes != [o for o, _ in v.OUTCOMES_LAPSED]:
            raise ValueError("both outcome tables must list the same outcomes in one order")
        lapsed_client = np.isin(b, [ONE_OFF, CHURNED, POTENTIAL])

        def draw_outcomes(lapsed: np.ndarray) -> np.ndarray:
            return np.where(
                lapsed,
                _pick(rng, [w for _, w in v.OUTCOMES_LAPSED], len(lapsed)),
                _pick(rng, [w for _, w in v.OUTCOMES_BUYERS], len(lapsed)),
            )

        latest_outcome = draw_outcomes(lapsed_client)
        latest_days, latest_next = self._latest_touch(contacted, latest_outcome)
        latest_days = self._on_working_days(latest_days)
        # the agreed next step stays after the touch
        latest_next = np.where(
            latest_next != _NONE, np.minimum(latest_next, latest_days - 1), _NONE
        )
        # A weekend shift may move the touch a day or two before the client was known.
        self.known_days = np.where(
            contacted, np.maximum(self.known_days, latest_days + 1), self.known_days
        )
        l_client = np.flatnonzero(contacted)

        # Earlier touches at about the same rhythm, over the months the bot has been in
        # use; not every one of them was logged.
        horizon = np.minimum(self.known_days - 1, INTERACTION_WINDOW_DAYS)
        count = np.where(contacted, np.maximum(horizon - latest_days, 0) // self.cadence, 0)
        h_client = np.repeat(np.arange(n), count)
        k = np.arange(len(h_client)) - np.repeat(np.cumsum(count) - count, count)
        step = self.cadence[h_client]
        h_days = latest_days[h_client] + (k + 1) * step
        h_days += np.rint(rng.uniform(-0.3, 0.3, len(h_client)) * step).astype(np.int64)
        logged = (h_days <= horizon[h_client]) & (rng.random(len(h_client)) < LOGGED_TOUCH_SHARE)
        h_client, h_days = h_client[logged], h_days[logged]
        h_outcome = draw_outcomes(lapsed_client[h_client])

        # A share of recent orders, before the latest touch, came with a logged call.
        o_days_all = orders["days"]
        o_call_days = self._on_working_days(np.maximum(o_days_all, 1))  # the call's day
        recent = (o_days_all <= INTERACTION_WINDOW_DAYS) & (
            o_call_days > np.where(contacted, latest_days, 0)[orders["client"]]
        )
        linked = recent & (o_days_all >= 1) & (rng.random(len(o_days_all)) < 0.15)
        o_client = orders["client"][linked]
        o_comment = "Оформили заказ: " + _objects(v.CATEGORIES)[orders["category"][linked]]

        client = np.concatenate([l_client, h_client, o_client])
        days = np.concatenate(
            [
                latest_days[l_client],
                self._on_working_days(h_days),
                o_call_days[linked],
            ]
        )
        outcome_names = _objects([o.value for o in outcomes])
        outcome = np.concatenate(
            [
                outcome_names[latest_outcome[l_client]],
                outcome_names[h_outcome],
                np.full(len(o_client), Outcome.ORDER.value, object),
            ]
        )
        m = len(client)

        comment = np.full(m, None, dtype=object)
        for value, texts in v.COMMENTS.items():
            here = outcome == value.value
            comment[here] = _objects(texts)[rng.integers(0, len(texts), int(here.sum()))]
        comment[rng.random(m) < 0.15] = None  # not every call gets a note
        comment[m - len(o_client) :] = o_comment

        channel = _objects([c.value for c, _ in v.CHANNELS])[
            _pick(rng, [w for _, w in v.CHANNELS], m)
        ]
        # Only a conversation can happen at a meeting; "no answer" or "call back" cannot.
        face_to_face = np.isin(outcome, [Outcome.REACHED, Outcome.ORDER, Outcome.REFUSED])
        channel[(channel == Channel.MEETING.value) & ~face_to_face] = Channel.CALL.value

        user = self.owner[client]
        user = np.where(self.is_vip[client] & (rng.random(m) < 0.15), v.DEMO_HEAD.telegram_id, user)

        # Each manager's calls follow the plan: beyond it contacts were messages, short of
        # it the manager made extra attempts (to clients touched again since).
        channel, extra_client, extra_days = self._follow_plan(
            days, channel, user, latest_days, contacted
        )
        # Calls happen in the caller's working hours, stored in UTC.
        ids = np.array(sorted(u.telegram_id for u in v.DEMO_USERS))
        tz = {u.telegram_id: u.timezone for u in v.DEMO_USERS}
        offsets = np.array([_utc_offset_minutes(tz[i], self.as_of) for i in ids.tolist()])
        user_offset = offsets[np.searchsorted(ids, user)]
        utc_minutes = rng.integers(9 * 60, 19 * 60, m) - user_offset
        occurred_at = _utc_times(self.as_of_day, days, utc_minutes)

        # Only the latest contact with a client (the first rows) carries the agreed step.
        next_days = np.full(m, _NONE, dtype=np.int64)
        next_days[: len(l_client)] = latest_next[l_client]
        has_next = next_days != _NONE
        next_on = np.full(m, np.datetime64("NaT"), dtype="datetime64[D]")
        next_on[has_next] = _dates(self.as_of_day, next_days[has_next])
        # An exact time only for call-backs still ahead: a reminder job should not wake
        # up to a backlog of overdue alarms the moment the demo starts.
        timed = has_next & (outcome == Outcome.CALL_BACK.value) & (next_days <= 0)
        at_minutes = rng.integers(10 * 60, 18 * 60, m) - user_offset
        next_at = _utc_times(self.as_of_day, np.where(timed, next_days, 0), at_minutes, timed)

        self.last_contact_days = np.where(contacted, latest_days, -1)
        self.next_contact_days = np.where(contacted, latest_next, _NONE)

        frame = pd.DataFrame(
            {
                "client_no": self.g[0] + client + 1,
                "user_telegram_id": user,
                "occurred_at": occurred_at,
                "channel": channel,
                "outcome": outcome,
                "comment": comment,
                "next_contact_on": next_on,
                "next_contact_at": next_at,
            }
        )
        extra = self._extra_calls(extra_client, extra_days, lapsed_client, offsets, ids)
        frame = pd.concat([frame, extra], ignore_index=True)
        return frame.sort_values(["client_no", "occurred_at"], kind="stable", ignore_index=True)

    def _extra_calls(
        self,
        client: np.ndarray,
        days: np.ndarray,
        lapsed_client: np.ndarray,
        offsets: np.ndarray,
        ids: np.ndarray,
    ) -> pd.DataFrame:
        """The extra attempts `_follow_plan` asked for, as interaction rows (no next step)."""
        rng, k = self.plan_rng, len(client)
        outcomes = [o for o, _ in v.OUTCOMES_BUYERS]
        lapsed = lapsed_client[client]
        drawn = np.where(
            lapsed,
            _pick(rng, [w for _, w in v.OUTCOMES_LAPSED], k),
            _pick(rng, [w for _, w in v.OUTCOMES_BUYERS], k),
        )
        outcome = _objects([o.value for o in outcomes])[drawn]
        comment = np.full(k, None, dtype=object)
        for value, texts in v.COMMENTS.items():
            here = outcome == value.value
            comment[here] = _objects(texts)[rng.integers(0, len(texts), int(here.sum()))]
        comment[rng.random(k) < 0.15] = None
        user = self.owner[client]
        utc_minutes = rng.integers(9 * 60, 19 * 60, k) - offsets[np.searchsorted(ids, user)]
        return pd.DataFrame(
            {
                "client_no": self.g[0] + client + 1,
                "user_telegram_id": user,
                "occurred_at": _utc_times(self.as_of_day, days, utc_minutes),
                "channel": np.full(k, Channel.CALL.value, dtype=object),
                "outcome": outcome,
                "comment": comment,
                "next_contact_on": np.full(k, np.datetime64("NaT"), dtype="datetime64[D]"),
                "next_contact_at": pd.Series(
                    np.full(k, np.datetime64("NaT"), "datetime64[s]")
                ).dt.tz_localize("UTC"),
            }
        )

    def _follow_plan(
        self,
        days: np.ndarray,
        channel: np.ndarray,
        user: np.ndarray,
        latest_days: np.ndarray,
        contacted: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Make each manager's calls per working day follow their plan (this chunk's share).

        Draws from `plan_rng` only, so everything else in the chunk stays the same at
        any size of the base.

        Returns the channels (calls beyond a day's target become messages or e-mails, and
        messages become calls where a day falls short) and the extra calls still missing:
        (client index, days ago), each before that client's latest touch, so recency and
        next due dates stay as drawn.
        """
        rng = self.plan_rng
        call, message, email = Channel.CALL.value, Channel.MESSAGE.value, Channel.EMAIL.value
        channel = channel.copy()
        window = self.workdays[self.workdays <= CALL_WINDOW_DAYS]
        position = np.minimum(np.searchsorted(window, days), len(window) - 1)
        on_window_day = window[position] == days
        extra_client: list[np.ndarray] = []
        extra_days: list[np.ndarray] = []
        for manager in v.DEMO_MANAGERS:  # a loop over the vocabulary of managers
            wanted = manager.daily_call_plan * self.share * rng.uniform(*CALL_LEVEL)
            wanted = wanted * rng.uniform(*CALL_SWING, len(window))
            target = np.floor(wanted + rng.random(len(window))).astype(np.int64)
            rows = np.flatnonzero((user == manager.telegram_id) & on_window_day)
            day = position[rows]

            calls = rows[channel[rows] == call]
            rank = _random_rank(position[calls], rng)
            beyond = calls[rank >= target[position[calls]]]
            channel[beyond] = np.where(rng.random(len(beyond)) < 0.25, email, message)

            short = target - np.bincount(day[channel[rows] == call], minlength=len(window))
            written = rows[np.isin(channel[rows], [message, email])]
            rank = _random_rank(position[written], rng)
            channel[written[rank < short[position[written]]]] = call

            short = np.maximum(
                target - np.bincount(day[channel[rows] == call], minlength=len(window)), 0
            )
            own = np.flatnonzero(contacted & (self.owner == manager.telegram_id))
            own = own[np.argsort(latest_days[own], kind="stable")]
            missing_day = np.repeat(window, short)
            # clients whose latest touch is more recent than that day
            count = np.searchsorted(latest_days[own], missing_day, side="left")
            possible = count > 0
            pick = (rng.random(int(possible.sum())) * count[possible]).astype(np.int64)
            extra_client.append(own[pick])
            extra_days.append(missing_day[possible])
        return channel, np.concatenate(extra_client), np.concatenate(extra_days)

    def _dates_of_record(self) -> None:
        rng, n = self.rng, self.n
        # The next contact: what was agreed on the last call, else the later of the last
        # order and call plus the expected cadence; fresh leads are due today. The
        # segmentation service recomputes it from the real segments later.
        ordered, called = self.last_order_days >= 0, self.last_contact_days >= 0
        touch = np.where(
            ordered & called,
            np.minimum(self.last_order_days, self.last_contact_days),
            np.maximum(self.last_order_days, self.last_contact_days),
        )
        due = np.where(touch >= 0, touch - self.cadence, 0)
        agreed = self.next_contact_days != _NONE
        self.columns["next_due_on"] = _dates(
            self.as_of_day, np.where(agreed, self.next_contact_days, due)
        )
        office_hours_utc = rng.integers(6 * 60, 15 * 60, n)
        self.columns["created_at"] = _utc_times(self.as_of_day, self.known_days, office_hours_utc)
