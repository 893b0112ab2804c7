"""Pure pandas analytics of the CRM: DataFrames in, DataFrames out.

No database, clock, network or Telegram here: callers pass the data, the
``as_of`` date and a :class:`SegmentationSettings`.
"""

from services.analytics.accounting import monthly_accounting
from services.analytics.bgnbd import (
    BgNbdParams,
    bgnbd_log_likelihood,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from services.analytics.cross_sell import category_lift, cross_sell
from services.analytics.migrations import segment_migrations
from services.analytics.segmentation import (
    SEGMENT_MEANINGS,
    ClientAnalysis,
    analyze_clients,
    at_risk_list,
    segment_matrix,
    status_counts,
)
from services.analytics.settings import (
    ABC_CLASSES,
    SEGMENTS,
    STATUSES,
    XYZ_CLASSES,
    SegmentationSettings,
)
from services.analytics.summary import client_summary

__all__ = [
    "ABC_CLASSES",
    "SEGMENTS",
    "SEGMENT_MEANINGS",
    "STATUSES",
    "XYZ_CLASSES",
    "BgNbdParams",
    "ClientAnalysis",
    "SegmentationSettings",
    "analyze_clients",
    "at_risk_list",
    "bgnbd_log_likelihood",
    "category_lift",
    "client_summary",
    "cross_sell",
    "expected_purchases",
    "fit_bgnbd",
    "monthly_accounting",
    "p_alive",
    "segment_matrix",
    "segment_migrations",
    "status_counts",
]
