"""`crmbot analyze` on an export file, as an analyst runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bot.cli import main
from tests.fixtures.cdnow import CALIBRATION_END, write_cdnow_csv

EXPORT = """\
Контрагент;Дата;Сумма;Номер документа;Категория
ООО Ромашка;05.01.2026;12 345,50;РН-1;Инструмент
ООО Ромашка;05.02.2026;10 000,00;РН-2;Крепёж
ООО Ромашка;05.03.2026;11 000,00;РН-3;Инструмент
ИП Петров;10.03.2026;500;РН-4;Крепёж
"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_bytes(EXPORT.encode("cp1251"))
    return path


def test_writes_clients_csv_and_model_json(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output, model = tmp_path / "clients.csv", tmp_path / "model.json"
    code = main(
        [
            "analyze", str(export), "--as-of", "2026-06-30",
            "--output", str(output), "--model-json", str(model),
        ]
    )  # fmt: skip

    assert code == 0
    printed = capsys.readouterr().out
    assert "2 clients from 4 rows" in printed
    assert "Statuses:" in printed
    clients = pd.read_csv(output).set_index("client_id")
    required = {
        "revenue", "purchases", "active_months", "abc", "xyz", "segment", "status",
        "deal_cycle_days", "days_since_last_purchase", "p_alive", "expected_purchases_90d",
        "cadence_days",
    }  # fmt: skip
    assert required <= set(clients.columns)
    romashka = clients.loc["ООО Ромашка"]
    assert romashka["revenue"] == pytest.approx(33345.50)
    assert (romashka["abc"], romashka["purchases"], romashka["active_months"]) == ("A", 3, 3)
    assert clients.loc["ИП Петров", "segment"] == "CZ"
    stored = json.loads(model.read_text())
    assert stored["model"] == "bg/nbd" and stored["time_unit"] == "weeks"
    assert {"r", "alpha", "a", "b", "log_likelihood", "n_clients"} <= set(stored)
    assert stored["n_clients"] == 2
    # Only Ромашка bought twice: the spend model rests on one client.
    assert stored["spend"]["model"] == "gamma-gamma"
    assert stored["spend"]["n_clients"] == 1
    assert {"p", "q", "v"} <= set(stored["spend"])
    assert {"expected_spend_per_purchase", "value_12m"} <= set(clients.columns)
    assert romashka["value_12m"] > 0


def test_cdnow_spend_model_and_customer_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_cdnow_csv(tmp_path / "cdnow.csv")
    output, model = tmp_path / "clients.csv", tmp_path / "model.json"
    code = main(
        [
            "analyze", str(export), "--as-of", CALIBRATION_END.isoformat(),
            "--output", str(output), "--model-json", str(model),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Gamma-Gamma spend: p=6.2" in printed and "on 946 clients" in printed
    spend = json.loads(model.read_text())["spend"]
    assert spend["model"] == "gamma-gamma" and spend["n_clients"] == 946
    assert (spend["p"], spend["q"], spend["v"]) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    clients = pd.read_csv(output).set_index("client")
    # Customer 1: 2 repeat purchases of 22.35 on average; Fader & Hardie's expectation 24.66.
    first = clients.loc["Покупатель 1"]
    assert first["expected_spend_per_purchase"] == pytest.approx(24.66, abs=0.02)
    assert first["value_12m"] > 0
    one_off = clients[clients["purchase_days"] == 1]
    # Those who bought once get the mean of the population, p v / (q - 1).
    assert len(one_off) == 1403
    assert one_off["expected_spend_per_purchase"].sub(35.17).abs().max() < 0.011
    # Lost clients have left: no risk level, on the win-back list, never at risk.
    lost = clients[clients["status"] == "lost"]
    assert len(lost) and lost["churn_risk"].isna().all() and not lost["at_risk"].any()
    assert not (clients["at_risk"] & clients["reactivation"]).any()


def test_config_changes_thresholds(export: Path, tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[segmentation]\ncadence_days = { AY = 3 }\n", encoding="utf-8")
    output = tmp_path / "clients.csv"
    code = main(
        ["analyze", str(export), "--as-of", "2026-06-30", "--config", str(config),
         "--output", str(output)]
    )  # fmt: skip
    assert code == 0
    clients = pd.read_csv(output).set_index("client_id")
    assert clients.loc["ООО Ромашка", "segment"] == "AY"
    assert clients.loc["ООО Ромашка", "cadence_days"] == 3


def test_bad_rows_are_reported_and_nothing_written(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export.write_bytes((EXPORT + "ИП Петров;10.13.2026;500;РН-5;Крепёж\n").encode("cp1251"))
    output = tmp_path / "clients.csv"
    code = main(["analyze", str(export), "--as-of", "2026-06-30", "--output", str(output)])
    assert code == 1
    assert "row 6, date" in capsys.readouterr().err
    assert not output.exists()

    code = main(
        ["analyze", str(export), "--as-of", "2026-06-30", "--output", str(output),
         "--skip-invalid"]
    )  # fmt: skip
    assert code == 1  # rows were rejected, even though the rest was analysed
    assert len(pd.read_csv(output)) == 2


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", str(tmp_path / "nope.csv"), "--as-of", "2026-06-30"])
    assert code == 2
    assert "error:" in capsys.readouterr().err
