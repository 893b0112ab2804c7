"""The demo base: a realistic, reproducible Russian B2B sales history.

`generate_demo` / `iter_demo_chunks` draw it as pandas frames (no database);
`load_demo_base` writes it through the unit of work; `demo_summary` counts what
is in the database; `DEMO_USERS` are the fixed identities the sandbox offers.
"""

from demo_data.generator import (
    DEFAULT_CLIENTS,
    DEFAULT_SEED,
    EXTERNAL_ID_PREFIX,
    DemoChunk,
    DemoFrames,
    demo_users_frame,
    generate_demo,
    inn_check_digits_ok,
    iter_demo_chunks,
)
from demo_data.loader import (
    DemoLoadResult,
    DemoSummary,
    demo_summary,
    load_demo_base,
    wipe_demo_base,
)
from demo_data.vocabulary import CATEGORIES, DEMO_TELEGRAM_IDS, DEMO_USERS, DemoUser

__all__ = [
    "CATEGORIES",
    "DEFAULT_CLIENTS",
    "DEFAULT_SEED",
    "DEMO_TELEGRAM_IDS",
    "DEMO_USERS",
    "EXTERNAL_ID_PREFIX",
    "DemoChunk",
    "DemoFrames",
    "DemoLoadResult",
    "DemoSummary",
    "DemoUser",
    "demo_summary",
    "demo_users_frame",
    "generate_demo",
    "inn_check_digits_ok",
    "iter_demo_chunks",
    "load_demo_base",
    "wipe_demo_base",
]
