"""The words and people the demo base is made of: data, not code."""

from __future__ import annotations

from dataclasses import dataclass

from services.db.models import Channel, Outcome, Role


@dataclass(frozen=True)
class DemoUser:
    """One demo identity; the sandbox web chat offers these to log in as."""

    telegram_id: int
    display_name: str
    role: Role
    timezone: str
    language: str
    daily_call_plan: int
    # Share of the clients this manager owns; heads and admins own none.
    client_share: float = 0.0


# Fixed Telegram ids so the sandbox can offer them before the database is read.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(1000, "Алексей Орлов", Role.ADMIN, "Europe/Moscow", "ru", 0),
    DemoUser(1001, "Ольга Власова", Role.HEAD, "Europe/Moscow", "ru", 10),
    DemoUser(2001, "Иван Петров", Role.MANAGER, "Europe/Moscow", "ru", 25, 0.25),
    DemoUser(2002, "Анна Смирнова", Role.MANAGER, "Europe/Moscow", "ru", 30, 0.23),
    DemoUser(2003, "Дмитрий Козлов", Role.MANAGER, "Europe/Moscow", "ru", 20, 0.19),
    DemoUser(2004, "Екатерина Новикова", Role.MANAGER, "Europe/Moscow", "ru", 25, 0.18),
    # The Urals office: another time zone, so pushes and "today" must follow the user.
    DemoUser(2005, "Сергей Морозов", Role.MANAGER, "Asia/Yekaterinburg", "ru", 20, 0.15),
)
DEMO_TELEGRAM_IDS: tuple[int, ...] = tuple(user.telegram_id for user in DEMO_USERS)
DEMO_MANAGERS: tuple[DemoUser, ...] = tuple(u for u in DEMO_USERS if u.role is Role.MANAGER)
DEMO_HEAD: DemoUser = next(u for u in DEMO_USERS if u.role is Role.HEAD)
URALS_MANAGER_TELEGRAM_ID = 2005

# --- Places -----------------------------------------------------------------
# (city, region part of the ИНН, landline code or 0 when only mobiles are used, office)
CITIES: tuple[tuple[str, int, int, str], ...] = (
    ("Москва", 77, 495, "center"),
    ("Подольск", 50, 0, "center"),
    ("Химки", 50, 0, "center"),
    ("Балашиха", 50, 0, "center"),
    ("Тула", 71, 0, "center"),
    ("Калуга", 40, 0, "center"),
    ("Рязань", 62, 0, "center"),
    ("Тверь", 69, 0, "center"),
    ("Ярославль", 76, 485, "center"),
    ("Владимир", 33, 0, "center"),
    ("Санкт-Петербург", 78, 812, "other"),
    ("Казань", 16, 843, "other"),
    ("Нижний Новгород", 52, 831, "other"),
    ("Воронеж", 36, 473, "other"),
    ("Самара", 63, 846, "other"),
    ("Екатеринбург", 66, 343, "urals"),
    ("Челябинск", 74, 351, "urals"),
    ("Пермь", 59, 342, "urals"),
    ("Тюмень", 72, 0, "urals"),
    ("Нижний Тагил", 66, 0, "urals"),
    ("Курган", 45, 0, "urals"),
)
# Relative city weights inside each office's territory (Moscow dominates the center).
CITY_WEIGHTS: tuple[float, ...] = (
    10, 3, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1, 3, 2, 2, 1.5, 1.5, 6, 3, 2, 2, 1, 1,
)  # fmt: skip
MOBILE_CODES: tuple[int, ...] = (
    900, 903, 905, 906, 909, 910, 912, 915, 916, 917, 919, 920, 921, 922, 925, 926, 929,
    950, 951, 952, 953, 960, 961, 963, 964, 965, 977, 985, 989, 999,
)  # fmt: skip

# --- People -----------------------------------------------------------------
# Surnames in the masculine form; every one of them takes "а" for the feminine.
SURNAMES: tuple[str, ...] = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
    "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв",
    "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв",
    "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
    "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
    "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
)  # fmt: skip
MALE_NAMES: tuple[str, ...] = (
    "Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван",
    "Михаил", "Артём", "Николай", "Владимир", "Игорь", "Олег", "Павел", "Роман", "Виктор",
    "Юрий", "Денис", "Константин", "Антон", "Илья", "Кирилл", "Пётр", "Вадим", "Григорий",
)  # fmt: skip
FEMALE_NAMES: tuple[str, ...] = (
    "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Мария",
    "Екатерина", "Юлия", "Марина", "Галина", "Людмила", "Оксана", "Анастасия", "Ксения",
    "Вера", "Надежда", "Алёна", "Дарья",
)  # fmt: skip
# (masculine, feminine) patronymics
PATRONYMICS: tuple[tuple[str, str], ...] = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"),
    ("Дмитриевич", "Дмитриевна"), ("Андреевич", "Андреевна"), ("Алексеевич", "Алексеевна"),
    ("Иванович", "Ивановна"), ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"),
    ("Владимирович", "Владимировна"), ("Викторович", "Викторовна"), ("Петрович", "Петровна"),
    ("Юрьевич", "Юрьевна"), ("Олегович", "Олеговна"), ("Павлович", "Павловна"),
    ("Анатольевич", "Анатольевна"), ("Васильевич", "Васильевна"),
    ("Геннадьевич", "Геннадьевна"), ("Евгеньевич", "Евгеньевна"), ("Игоревич", "Игоревна"),
    ("Борисович", "Борисовна"),
)  # fmt: skip

# --- Companies --------------------------------------------------------------
# (short form in the name, full form in `company`, share of the base); "" = a private person
LEGAL_FORMS: tuple[tuple[str, str, float], ...] = (
    ("ООО", "Общество с ограниченной ответственностью", 0.63),
    ("ИП", "Индивидуальный предприниматель", 0.26),
    ("АО", "Акционерное общество", 0.05),
    ("", "", 0.06),
)
REGION_PREFIXES: tuple[str, ...] = (
    "", "", "", "", "", "Урал", "Волга", "Север", "Центр", "Мос", "Гранд", "Евро", "Нова",
)  # fmt: skip
BRAND_SUFFIXES: tuple[str, ...] = (
    "Мастер", "Снаб", "Сервис", "Комплект", "Торг", "Групп", "Инвест", "Проект", "Монтаж",
    "Ресурс", "Альянс", "Партнёр", "Плюс", "Лидер", "Трейд", "Систем", "Профи", "Юнит",
)  # fmt: skip
# Stand-alone brands that need no suffix.
STANDALONE_BRANDS: tuple[str, ...] = (
    "Вектор", "Гарант", "Меридиан", "Прогресс", "Новый Дом", "Тёплый Дом", "Феникс",
    "Атлант", "Горизонт", "Фундамент", "Квадрат", "Магистраль", "Эталон", "Созвездие",
    "Зодчий", "Основа", "Капитель", "Кровля и Фасад", "Светлый Город", "Старый Мастер",
)  # fmt: skip

# --- Products ---------------------------------------------------------------
CATEGORIES: tuple[str, ...] = (
    "Стройматериалы", "Инструмент", "Электрика", "Сантехника", "Крепёж", "Отделка",
    "Спецодежда", "Доставка",
)  # fmt: skip
DELIVERY = CATEGORIES.index("Доставка")


@dataclass(frozen=True)
class Profile:
    """A kind of buyer: what it buys together (the cross-sell signal) and how it is named."""

    name: str
    share: float
    # Weights over CATEGORIES without "Доставка" (delivery is a line of its own).
    affinity: tuple[float, ...]
    brand_stems: tuple[str, ...]
    delivery_rate: float


PROFILES: tuple[Profile, ...] = (
    Profile(
        "general_construction", 0.35, (0.45, 0.12, 0.05, 0.05, 0.2, 0.08, 0.05),
        ("Строй", "ГлавСтрой", "Монолит", "СтройДвор", "Бетон", "Кирпич", "Каркас", "Дом"),
        0.3,
    ),
    Profile(
        "electrical", 0.17, (0.03, 0.2, 0.6, 0.02, 0.08, 0.02, 0.05),
        ("Электро", "Энерго", "Вольт", "Ампер", "Свет", "Кабель", "ЭлектроМонтаж"),
        0.15,
    ),
    Profile(
        "plumbing", 0.15, (0.05, 0.15, 0.03, 0.6, 0.12, 0.02, 0.03),
        ("Сантех", "Аква", "Гидро", "Термо", "Тепло", "Водо", "Трубо"),
        0.2,
    ),
    Profile(
        "finishing", 0.2, (0.15, 0.1, 0.05, 0.05, 0.05, 0.55, 0.05),
        ("Ремонт", "Декор", "Интерьер", "Отделка", "Колор", "Уют", "Фасад"),
        0.2,
    ),
    Profile(
        "industrial", 0.13, (0.05, 0.35, 0.1, 0.05, 0.15, 0.0, 0.3),
        ("Пром", "Техно", "Индустрия", "Завод", "Мех", "Металл", "Спец"),
        0.25,
    ),
)  # fmt: skip

# --- Buyer behaviours -------------------------------------------------------
# (name, share of the base); the generator gives each its own rhythm.
BEHAVIOURS: tuple[tuple[str, float], ...] = (
    ("regular", 0.22),
    ("seasonal", 0.10),
    ("irregular", 0.22),
    ("one_off", 0.10),
    ("churned", 0.14),
    ("new", 0.07),
    ("potential", 0.15),
)

# --- VIPs and tags ----------------------------------------------------------
VIP_REASONS_BIG: tuple[str, ...] = (
    "Ключевой клиент региона",
    "Крупный застройщик, тендерные поставки",
    "Стратегический партнёр",
    "Годовой договор поставки",
)
VIP_REASONS_PERSONAL: tuple[str, ...] = (
    "Личный контакт директора",
    "Рекомендация генерального директора",
    "Потенциально крупный заказчик",
)
TAGS: tuple[str, ...] = (
    "опт", "розница", "застройщик", "прораб", "тендер", "постоплата", "предоплата",
    "самовывоз", "доставка", "сеть", "объект", "ремонт",
)  # fmt: skip

# --- Logged calls -----------------------------------------------------------
CHANNELS: tuple[tuple[Channel, float], ...] = (
    (Channel.CALL, 0.78),
    (Channel.MESSAGE, 0.12),
    (Channel.EMAIL, 0.05),
    (Channel.MEETING, 0.05),
)
# Outcomes of calls that did not come with an order (orders get their own rows).
OUTCOMES_BUYERS: tuple[tuple[Outcome, float], ...] = (
    (Outcome.REACHED, 0.38),
    (Outcome.NO_ANSWER, 0.27),
    (Outcome.CALL_BACK, 0.15),
    (Outcome.MEETING_SET, 0.08),
    (Outcome.REFUSED, 0.12),
)
OUTCOMES_LAPSED: tuple[tuple[Outcome, float], ...] = (
    (Outcome.REACHED, 0.28),
    (Outcome.NO_ANSWER, 0.32),
    (Outcome.CALL_BACK, 0.14),
    (Outcome.MEETING_SET, 0.06),
    (Outcome.REFUSED, 0.20),
)
COMMENTS: dict[Outcome, tuple[str, ...]] = {
    Outcome.REACHED: (
        "Поговорили, пока потребности нет",
        "Обсудили план закупок на следующий месяц",
        "Уточнили контакты снабженца",
        "Рассказал про новые поступления",
        "Отправил прайс, обещали посмотреть",
        "Клиент доволен последней поставкой",
        "Спрашивали про отсрочку платежа",
    ),
    Outcome.NO_ANSWER: ("Не берёт трубку", "Недоступен", "Занято", "Автоответчик"),
    Outcome.CALL_BACK: (
        "Просил перезвонить после обеда",
        "Перезвонить в понедельник",
        "Снабженец в отпуске, перезвонить через неделю",
        "На объекте, просил набрать позже",
        "Ждут смету от заказчика, перезвонить",
    ),
    Outcome.MEETING_SET: (
        "Договорились о встрече в офисе клиента",
        "Встреча на объекте, обсудим комплектацию",
        "Приедут на склад посмотреть образцы",
    ),
    Outcome.ORDER: ("Оформили заказ", "Заказ по прайсу", "Дозаказ к прошлой поставке"),
    Outcome.REFUSED: (
        "Закупаются у конкурентов",
        "Не устроили цены",
        "Объект закрыли, закупок пока не будет",
        "Нет бюджета до конца квартала",
    ),
}
