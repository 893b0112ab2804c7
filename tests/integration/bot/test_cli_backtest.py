"""`crmbot backtest` on an export file, as an analyst runs it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from bot.cli import main
from tests.fixtures.cdnow import BUYERS, CALIBRATION_END, HOLDOUT_END, write_cdnow_csv
from ui.i18n import Translator

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return width, height


@pytest.fixture(scope="module")
def cdnow_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_cdnow_csv(tmp_path_factory.mktemp("cdnow") / "cdnow.csv")


def test_cdnow_backtest_writes_report_and_chart(
    cdnow_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, chart = tmp_path / "report.json", tmp_path / "report.png"
    code = main(
        [
            "backtest", str(cdnow_export),
            "--calibration-end", CALIBRATION_END.isoformat(),
            "--holdout-end", HOLDOUT_END.isoformat(),
            "--output", str(report), "--plot", str(chart),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr()
    assert "actual 1,882" in printed.out and printed.err == ""
    data = json.loads(report.read_text(encoding="utf-8"))
    assert {
        "calibration_end": "1997-09-30",
        "holdout_end": "1998-06-30",
        "holdout_weeks": 39.0,
        "clients": BUYERS,
        "actual_total": 1882,
    }.items() <= data.items()
    assert 1600 < data["predicted_total"] < 1720
    assert 0 < data["mae"] < 2
    table = data["by_repeat_purchases"]
    assert [row["repeat_purchases"] for row in table] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["clients"] for row in table) == BUYERS
    assert len(data["weekly"]) == 39
    assert data["weekly"][-1]["actual_cumulative"] == 1882
    width, height = png_size(chart)
    assert width == 1080 and 1200 <= height <= 2400
    assert chart.stat().st_size > 20_000  # a drawn chart, not an empty canvas


def test_english_chart_and_default_holdout_end(
    cdnow_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "backtest", str(cdnow_export), "--calibration-end", "1998-03-31",
            "--plot", "en.png", "--language", "en",
        ]
    )  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))  # the default name
    assert data["holdout_end"] == "1998-06-30"  # the last date in the file
    assert data["holdout_weeks"] == pytest.approx(91 / 7, abs=1e-4)
    assert png_size(tmp_path / "en.png")[0] == 1080


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", ["Покупки с 01.10.1997 по 30.06.1998", "факт 1\u00a0882 (−12\u00a0%)", "Факт"]),
        ("en", ["Purchases 1 Oct 1997 to 30 Jun 1998", "actual 1,882 (−12%)", "Model forecast"]),
    ],
)
def test_chart_is_readable_on_a_phone(language: str, expected: list[str]) -> None:
    from matplotlib.text import Text

    from services.analytics import backtest
    from tests.fixtures.cdnow import load_cdnow
    from ui.charts import backtest_figure
    from ui.texts.backtest import chart_data, chart_labels

    report = backtest(load_cdnow(), CALIBRATION_END, HOLDOUT_END)
    figure = backtest_figure(*chart_data(report), chart_labels(report, Translator(language)))
    figure.canvas.draw()
    assert figure.get_size_inches()[0] * figure.dpi == 1080
    texts = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    smallest_px = min(t.get_fontsize() for t in texts) * figure.dpi / 72
    assert smallest_px >= 28
    shown = "\n".join(t.get_text() for t in texts)
    for text in expected:
        assert text in shown
    # No title or label runs off the picture (a cut one is unreadable).
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = figure.bbox.width, figure.bbox.height
    headline = next(t for t in texts if t.get_text() == figure.get_suptitle())
    labelled = [
        t
        for axes in figure.axes
        for t in (axes.title, axes.xaxis.label, axes.yaxis.label, *axes.get_legend().get_texts())
    ]
    assert len(labelled) == 10
    for text in [headline, *labelled]:
        box = text.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= width + 1, text.get_text()
        assert box.y0 >= -1 and box.y1 <= height + 1, text.get_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--calibration-end", "1998-06-30"], "no transactions after the calibration end"),
        (["--calibration-end", "1996-12-31"], "nobody had bought by the calibration end"),
        (
            ["--calibration-end", "1997-09-30", "--holdout-end", "1997-09-01"],
            "must be after --calibration-end",
        ),
        (["--calibration-end", "30.09.1997"], "is not a date like 2024-06-30"),
    ],
)
def test_bad_dates_are_one_clear_line(
    cdnow_export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    output = tmp_path / "report.json"
    try:
        code = main(["backtest", str(cdnow_export), *args, "--output", str(output)])
    except SystemExit as exit_:  # argparse rejects the option itself
        code = int(exit_.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not output.exists()


def test_files_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "sales.csv"
    garbage.write_bytes(b"\x00\x01\x02 not a table \xff\xfe")
    for path in (garbage, tmp_path / "missing.csv"):
        code = main(["backtest", str(path), "--calibration-end", "2024-01-31"])
        assert code == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_bad_rows_stop_the_check_unless_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "sales.csv"
    export.write_text(
        "Клиент;Дата;Сумма\n"
        "ООО Ромашка;05.01.2024;1000\n"
        "ООО Ромашка;05.02.2024;1000\n"
        "ИП Петров;10.02.2024;500\n"
        "ООО Ромашка;05.13.2024;1000\n"  # no 13th month
        "ООО Ромашка;05.04.2024;1000\n"
        "ИП Петров;10.04.2024;500\n",
        encoding="utf-8",
    )
    output = tmp_path / "report.json"
    code = main(
        ["backtest", str(export), "--calibration-end", "2024-02-29", "--output", str(output)]
    )
    assert code == 1
    assert "row 5, date" in capsys.readouterr().err
    assert not output.exists()
    code = main(
        ["backtest", str(export), "--calibration-end", "2024-02-29", "--output", str(output),
         "--skip-invalid"]
    )  # fmt: skip
    assert code == 1  # rows were rejected, even though the rest was checked
    data = json.loads(output.read_text(encoding="utf-8"))
    assert (data["clients"], data["actual_total"]) == (2, 2)


def test_a_holdout_beyond_the_data_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "sales.csv"
    export.write_text(
        "Клиент;Дата;Сумма\nА;05.01.2024;10\nА;05.02.2024;10\nА;05.04.2024;10\n", encoding="utf-8"
    )
    code = main(
        ["backtest", str(export), "--calibration-end", "2024-02-29", "--holdout-end",
         "2024-12-31", "--output", str(tmp_path / "r.json")]
    )  # fmt: skip
    assert code == 0
    assert "warning: the file ends on 2024-04-05" in capsys.readouterr().err
