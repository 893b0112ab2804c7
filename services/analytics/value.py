"""Customer value: BG/NBD purchases times Gamma-Gamma spend, discounted month by month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.analytics._frames import require_columns
from services.analytics.bgnbd import BgNbdParams, discounted_expected_purchases
from services.analytics.gamma_gamma import GammaGammaParams, expected_spend
from services.analytics.summary import DAYS_PER_WEEK

VALUE_MONTHS = 12
# A month is a twelfth of a year, so that twelve of them are the next year
# (``lifetimes`` uses 30 days).
DAYS_PER_MONTH = 365.25 / 12


def customer_value(
    summary: pd.DataFrame,
    purchases: BgNbdParams,
    spend: GammaGammaParams,
    *,
    monthly_discount_rate: float = 0.01,
    months: int = VALUE_MONTHS,
) -> pd.DataFrame:
    """Expected spend per purchase and discounted revenue of each client over the next months.

    ``value = sum_{k=1..months} E[purchases in month k] * E[spend per purchase]
    / (1 + monthly_discount_rate)^k``, with the purchases from BG/NBD (given
    each client's ``x, t_x, T``) and the spend from Gamma-Gamma (given ``x``
    and the mean of its repeat purchases). This is the ``customer_lifetime_value``
    of the ``lifetimes`` library, with months of 365.25 / 12 days.

    Parameters
    ----------
    summary : DataFrame
        Columns ``x`` (Int64 or float; NA = never bought), ``t_x``, ``T``
        (weeks) and ``monetary_value`` (mean value of the repeat purchases,
        NaN where ``x`` is 0), e.g. the output of :func:`client_summary`.
    purchases : BgNbdParams
    spend : GammaGammaParams
    monthly_discount_rate : float
        Discount rate per month (0.01 = 1 % a month, about 12.7 % a year).
    months : int
        Horizon in months.

    Returns
    -------
    DataFrame
        Same index as ``summary``; NaN in every column for clients who never bought:

        - ``expected_spend_per_purchase`` (float64): Gamma-Gamma conditional
          expectation; the population mean for clients without repeat
          purchases (when the fitted population has no finite mean, ``q <= 1``,
          the mean of the repeat buyers' expectations stands in).
        - ``discounted_purchases`` (float64): the discounted expected
          purchases over the horizon (the value divided by the spend).
        - ``value`` (float64, 2 dp): expected discounted revenue over the horizon.
    """
    require_columns(summary, ("x", "t_x", "T", "monetary_value"), "summary")
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)
    bought = ~np.isnan(x)
    xb = x[bought]
    spend_per_purchase = np.full(len(summary), np.nan)
    per_purchase = expected_spend(
        spend, xb, summary["monetary_value"].to_numpy(dtype=np.float64)[bought]
    )
    missing = np.isnan(per_purchase)
    if missing.any():
        repeat = per_purchase[xb > 0]
        per_purchase[missing] = float(repeat.mean()) if len(repeat) else np.nan
    spend_per_purchase[bought] = per_purchase
    discounted = np.full(len(summary), np.nan)
    if bought.any():
        discounted[bought] = discounted_expected_purchases(
            purchases,
            DAYS_PER_MONTH / DAYS_PER_WEEK,
            months,
            monthly_discount_rate,
            xb,
            summary["t_x"].to_numpy(dtype=np.float64)[bought],
            summary["T"].to_numpy(dtype=np.float64)[bought],
        )
    return pd.DataFrame(
        {
            "expected_spend_per_purchase": spend_per_purchase,
            "discounted_purchases": discounted,
            "value": np.round(discounted * spend_per_purchase, 2),
        },
        index=summary.index,
    )
