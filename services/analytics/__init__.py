"""Pure pandas analytics of the CRM: DataFrames in, DataFrames out.

No database, clock, network or Telegram here: callers pass the data, the
``as_of`` date and a :class:`SegmentationSettings` (stored as JSON).

Choices the specification left open, in one place:

- Everything is "as known on ``as_of``": rows dated later are ignored, so a
  past ``as_of`` reproduces past figures (interactions included).
- Money arrives as Decimal, float or numeric strings and is rounded to int64
  cents on input; sums are exact integers; outputs are float64 currency units
  rounded to 2 dp (acceptable for analytics, never for bookkeeping).
- A *purchase day* is a day with a positive net amount for the client;
  returns (negative amounts) reduce revenue but are never purchases. A client
  whose transactions are only returns or zeros has never bought: ``potential``.
- "Within the last N days" means ``0 <= as_of - date < N`` (``new_days``,
  ``reactivation_contact_days``); "no purchase for more than N days" means
  ``as_of - last_purchase > N``.
- Status precedence: potential, lost, dormant, new, active — a new client
  who has already gone silent needs a call more than a welcome. Status,
  churn risk and the two work lists follow one model (see
  :mod:`services.analytics.segmentation`): lost needs P(alive) to agree,
  lost clients have no churn risk and are on the win-back list, at-risk
  clients are active or dormant and never on the win-back list.
- BG/NBD: P(alive) is exactly 1 for clients without repeat purchases (the
  model lets clients drop out only after a repeat purchase); potential
  clients get NaN. ``analyze_clients`` returns ``model=None`` when nobody
  has bought yet.
- Gamma-Gamma spend per purchase is fitted on the mean of the repeat
  purchases (the first purchase left out); ``value_12m`` is the expected
  revenue over the next 12 months (BG/NBD purchases month by month times the
  expected spend, discounted); ``value_at_risk = value_12m * (1 - p_alive)``
  ranks the at-risk list; ``revenue_at_risk = max(revenue, 0) * (1 - p_alive)``.
- Explanations are data: every label comes with the figures behind it as
  columns (revenue share and rank, months with purchases, cycle and days of
  silence, P(alive) with the purchases and history it rests on, where the
  next contact date comes from, the category behind a cross-sell lift).
- Monthly accounting: "revenue from new clients" is the revenue of clients
  whose first purchase is in that calendar month; lost and returned events
  use the deal cycle known at that moment, so past months never change; the
  total of each month is the row with ``manager_id`` NA.
- Cross-sell uses the whole history up to ``as_of``; a category counts as
  bought when its net amount is positive; zero-lift candidates are dropped.
"""

from services.analytics.accounting import monthly_accounting
from services.analytics.backtest import BacktestReport, backtest
from services.analytics.bgnbd import (
    BgNbdParams,
    bgnbd_log_likelihood,
    discounted_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from services.analytics.cross_selling import category_lift, cross_sell
from services.analytics.gamma_gamma import (
    GammaGammaParams,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from services.analytics.migrations import segment_migrations
from services.analytics.segmentation import (
    CADENCE_SOURCES,
    NEXT_DUE_SOURCES,
    SEGMENT_MEANINGS,
    ClientAnalysis,
    analyze_clients,
    at_risk_list,
    segment_matrix,
    status_counts,
)
from services.analytics.settings import (
    ABC_CLASSES,
    CHURN_RISKS,
    SEGMENTS,
    STATUSES,
    XYZ_CLASSES,
    SegmentationSettings,
)
from services.analytics.summary import client_summary
from services.analytics.value import customer_value

__all__ = [
    "ABC_CLASSES",
    "CADENCE_SOURCES",
    "CHURN_RISKS",
    "NEXT_DUE_SOURCES",
    "SEGMENTS",
    "SEGMENT_MEANINGS",
    "STATUSES",
    "XYZ_CLASSES",
    "BacktestReport",
    "BgNbdParams",
    "ClientAnalysis",
    "GammaGammaParams",
    "SegmentationSettings",
    "analyze_clients",
    "at_risk_list",
    "backtest",
    "bgnbd_log_likelihood",
    "category_lift",
    "client_summary",
    "cross_sell",
    "customer_value",
    "discounted_expected_purchases",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "monthly_accounting",
    "p_alive",
    "segment_matrix",
    "segment_migrations",
    "status_counts",
]
