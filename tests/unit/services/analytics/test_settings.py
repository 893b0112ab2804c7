import dataclasses
import json

import pytest

from services.analytics import SegmentationSettings
from services.analytics.settings import DEFAULT_CADENCE_DAYS


def test_defaults_match_the_spec():
    s = SegmentationSettings()
    assert (s.window_months, s.abc_a_share, s.abc_b_share) == (12, 0.80, 0.95)
    assert (s.xyz_method, s.xyz_x_month_share, s.xyz_cv_x, s.xyz_cv_y) == (
        "frequency",
        0.75,
        0.10,
        0.25,
    )
    assert (s.default_deal_cycle_days, s.new_days) == (90, 90)
    assert (s.dormant_cycle_multiplier, s.lost_cycle_multiplier, s.lost_max_days) == (1.5, 4, 365)
    assert (s.reactivation_contact_days, s.reactivation_max_days) == (14, 730)
    assert dict(s.cadence_days) == {
        "AX": 7,
        "AY": 14,
        "AZ": 21,
        "BX": 14,
        "BY": 30,
        "BZ": 45,
        "CX": 30,
        "CY": 60,
        "CZ": 90,
    }
    assert (s.default_cadence_days, s.vip_cadence_cap_days) == (90, 7)
    assert (s.churn_horizon_days, s.cross_sell_max_suggestions) == (90, 3)
    assert (s.at_risk_p_alive, s.high_risk_p_alive, s.at_risk_overdue_cycles) == (0.8, 0.5, 1.0)
    assert s.monthly_discount_rate == 0.01


def test_settings_stored_before_the_risk_thresholds_still_load():
    # A stored dict written by an older version: every field it knew, none of the new ones.
    old = {
        k: v
        for k, v in SegmentationSettings().to_dict().items()
        if k
        not in {
            "high_risk_p_alive",
            "at_risk_overdue_cycles",
            "monthly_discount_rate",
            "reactivation_max_days",
        }
    }
    old["at_risk_p_alive"] = 0.5
    s = SegmentationSettings.from_dict(old)
    assert (s.at_risk_p_alive, s.high_risk_p_alive) == (0.5, 0.5)


def test_json_round_trip_is_lossless():
    custom = SegmentationSettings.from_dict(
        {"abc_a_share": 0.7, "xyz_method": "cv", "cadence_days": {"AX": 5}}
    )
    restored = SegmentationSettings.from_dict(json.loads(json.dumps(custom.to_dict())))
    assert restored == custom
    assert restored.to_dict() == custom.to_dict()


def test_partial_dict_overrides_only_given_keys():
    s = SegmentationSettings.from_dict({"lost_max_days": 200, "cadence_days": {"CZ": 120}})
    assert s.lost_max_days == 200
    assert s.cadence_days["CZ"] == 120
    assert s.cadence_days["AX"] == DEFAULT_CADENCE_DAYS["AX"]
    assert s.abc_a_share == 0.80


def test_unknown_key_is_named_in_the_error():
    with pytest.raises(ValueError, match="abc_share_a"):
        SegmentationSettings.from_dict({"abc_share_a": 0.8})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"abc_a_share": 0.96}, "abc_a_share"),
        ({"xyz_method": "variance"}, "xyz_method"),
        ({"cadence_days": {"QQ": 3}}, "QQ"),
        ({"cadence_days": {"AX": 0}}, "AX"),
        ({"window_months": 6.5}, "window_months"),
        ({"window_months": 0}, "window_months"),
        ({"vip_cadence_cap_days": True}, "vip_cadence_cap_days"),
        ({"at_risk_p_alive": 1.5}, "at_risk_p_alive"),
        ({"high_risk_p_alive": 0.9}, "high_risk_p_alive <= at_risk_p_alive"),
        ({"monthly_discount_rate": 1.0}, "monthly_discount_rate"),
        ({"monthly_discount_rate": -0.01}, "monthly_discount_rate"),
        ({"at_risk_overdue_cycles": -1}, "at_risk_overdue_cycles"),
        ({"reactivation_max_days": 0}, "reactivation_max_days"),
    ],
)
def test_invalid_values_are_rejected(data, message):
    with pytest.raises(ValueError, match=message):
        SegmentationSettings.from_dict(data)


def test_whole_floats_from_json_become_ints():
    s = SegmentationSettings.from_dict({"window_months": 6.0})
    assert s.window_months == 6
    assert isinstance(s.window_months, int)


def test_settings_are_immutable():
    s = SegmentationSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.window_months = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.cadence_days["AX"] = 1  # type: ignore[index]


def test_from_toml_top_level_and_table(tmp_path):
    top = tmp_path / "top.toml"
    top.write_text('new_days = 60\nxyz_method = "cv"\n[cadence_days]\nAX = 3\n', encoding="utf-8")
    s = SegmentationSettings.from_toml(top)
    assert (s.new_days, s.xyz_method, s.cadence_days["AX"], s.cadence_days["AY"]) == (
        60,
        "cv",
        3,
        14,
    )

    nested = tmp_path / "app.toml"
    nested.write_text("[analytics.segmentation]\nlost_max_days = 300\n", encoding="utf-8")
    assert SegmentationSettings.from_toml(nested, "analytics.segmentation").lost_max_days == 300
    with pytest.raises(ValueError, match="missing"):
        SegmentationSettings.from_toml(nested, "missing")
