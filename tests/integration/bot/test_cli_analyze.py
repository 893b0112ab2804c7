"""`crmbot analyze` on an export file, as an analyst runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bot.cli import main

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
