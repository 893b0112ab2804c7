import json

import numpy as np
import pytest

from services.analytics import BacktestReport, backtest, expected_purchases
from tests.fixtures.cdnow import BUYERS, CALIBRATION_END, HOLDOUT_END, load_cdnow
from tests.unit.services.analytics.builders import CDNOW, day, transactions

CAL = day("2024-03-31")


def test_cdnow_39_plus_39_weeks():
    # Fader, Hardie & Lee (2005): calibrate on the first 39 weeks, predict the next 39.
    report = backtest(load_cdnow(), CALIBRATION_END, HOLDOUT_END)
    assert report.holdout_weeks == pytest.approx(39.0)
    assert report.clients == BUYERS
    assert report.actual_total == 1882  # the repeat purchases of the cohort in weeks 40-78
    # The model is known to under-forecast this holdout by about a tenth.
    assert 1600 < report.predicted_total < 1720
    assert report.error_share == pytest.approx(-0.12, abs=0.02)
    assert report.model.r == pytest.approx(0.24, abs=0.01)
    assert report.model.alpha == pytest.approx(4.41, abs=0.05)
    table = report.by_repeat_purchases
    assert list(table["repeat_purchases"]) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["clients"].sum() == BUYERS
    assert table["clients"].iloc[0] == 1403  # bought once in the calibration period
    # Those who bought more before buy more after, and the model follows them.
    assert table["predicted_mean"].is_monotonic_increasing
    assert table["actual_mean"].is_monotonic_increasing
    assert (
        (table["predicted_mean"] - table["actual_mean"]).abs() < 0.35 * table["actual_mean"]
    ).all()
    weekly = report.weekly
    assert len(weekly) == 39 and weekly["end"].iloc[-1] == HOLDOUT_END
    assert weekly["actual_cumulative"].iloc[-1] == report.actual_total
    assert weekly["predicted_cumulative"].iloc[-1] == pytest.approx(report.predicted_total)
    assert weekly["actual_cumulative"].is_monotonic_increasing
    assert np.all(np.diff(weekly["predicted_cumulative"]) > 0)
    assert report.mae > 0


def test_counts_purchase_days_of_the_cohort_only():
    tx = transactions(
        [
            (1, "2024-01-01", 100.0),
            (1, "2024-02-01", 100.0),  # calibration: x = 1
            (1, "2024-04-07", 50.0),  # holdout day 7: week 1
            (1, "2024-04-07", 70.0),  # same day: still one purchase
            (1, "2024-04-08", 80.0),  # day 8: week 2
            (1, "2024-04-20", -30.0),  # a return is not a purchase
            (2, "2024-03-01", 100.0),  # calibration: x = 0
            (2, "2024-04-28", 40.0),  # day 28: week 4
            (2, "2024-05-10", 40.0),  # after the holdout end
            (3, "2024-04-10", 500.0),  # first purchase in the holdout: not in the cohort
        ]
    )
    report = backtest(tx, CAL, day("2024-05-01"), params=CDNOW)
    assert report.clients == 2
    assert report.actual_total == 3
    assert report.holdout_weeks == pytest.approx(31 / 7)
    horizon = 31 / 7
    predicted = expected_purchases(
        CDNOW, horizon, [1, 0], [31 / 7, 0.0], [(CAL - day("2024-01-01")).days / 7, 30 / 7]
    )
    assert report.predicted_total == pytest.approx(float(predicted.sum()))
    assert report.mae == pytest.approx(float(np.abs(predicted - [2, 1]).mean()))
    assert report.rmse == pytest.approx(float(np.sqrt(((predicted - [2, 1]) ** 2).mean())))
    weekly = report.weekly
    assert list(weekly["week"]) == [1, 2, 3, 4, 5]
    assert list(weekly["actual_cumulative"]) == [1, 2, 2, 3, 3]
    assert [d.isoformat() for d in weekly["end"]] == [
        "2024-04-07", "2024-04-14", "2024-04-21", "2024-04-28", "2024-05-01",
    ]  # fmt: skip
    table = report.by_repeat_purchases.set_index("repeat_purchases")
    assert table.loc["0", "clients"] == 1 and table.loc["0", "actual_mean"] == 1.0
    assert table.loc["1", "clients"] == 1 and table.loc["1", "actual_mean"] == 2.0
    assert table.loc["7+", "clients"] == 0 and np.isnan(table.loc["7+", "actual_mean"])
    assert report.data_end == day("2024-04-28")


def test_holdout_end_defaults_to_the_last_date():
    tx = transactions([(1, "2024-01-01", 10.0), (1, "2024-02-01", 10.0), (2, "2024-04-30", 5.0)])
    report = backtest(tx, CAL, params=CDNOW)
    assert report.holdout_end == day("2024-04-30") == report.data_end
    assert report.actual_total == 0 and np.isnan(report.error_share)


@pytest.mark.parametrize(
    ("calibration_end", "holdout_end", "message"),
    [
        ("2024-03-31", "2024-03-31", "must be after the calibration end"),
        ("2024-03-31", "2024-01-31", "must be after the calibration end"),
        ("2023-12-31", "2024-05-31", "nobody had bought by the calibration end 2023-12-31"),
        ("2024-06-30", None, "no transactions after the calibration end 2024-06-30"),
        ("2024-04-15", "2024-04-20", "no transactions after .* up to the holdout end 2024-04-20"),
    ],
)
def test_bad_dates_are_explained(calibration_end, holdout_end, message):
    tx = transactions([(1, "2024-01-01", 10.0), (1, "2024-04-30", 10.0)])
    with pytest.raises(ValueError, match=message):
        backtest(tx, day(calibration_end), holdout_end and day(holdout_end), params=CDNOW)


def test_no_transactions_at_all():
    with pytest.raises(ValueError, match="no transactions"):
        backtest(transactions([]), CAL)


def test_json_form():
    tx = transactions([(1, "2024-01-01", 10.0), (1, "2024-02-01", 10.0), (1, "2024-04-09", 9.0)])
    report = backtest(tx, CAL, day("2024-04-30"), params=CDNOW)
    assert isinstance(report, BacktestReport)
    data = json.loads(json.dumps(report.to_json_dict()))
    assert {
        "calibration_end": "2024-03-31",
        "holdout_end": "2024-04-30",
        "clients": 1,
        "actual_total": 1,
    }.items() <= data.items()
    assert data["holdout_weeks"] == pytest.approx(30 / 7, abs=1e-4)
    assert data["predicted_total"] == pytest.approx(report.predicted_total, abs=0.005)
    assert data["mae"] == pytest.approx(report.mae, abs=1e-4)
    assert len(data["by_repeat_purchases"]) == 8
    assert data["by_repeat_purchases"][7]["predicted_mean"] is None  # empty group
    assert data["weekly"][-1] == {
        "week": 5,
        "end": "2024-04-30",
        "predicted_cumulative": round(report.predicted_total, 2),
        "actual_cumulative": 1,
    }
    assert data["model"]["model"] == "bg/nbd"
