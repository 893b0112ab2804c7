"""Business settings of the segmentation engine.

The thresholds are data, not code: they are stored as JSON in the database
(:meth:`SegmentationSettings.to_dict` / :meth:`SegmentationSettings.from_dict`)
and can be seeded from a TOML file (:meth:`SegmentationSettings.from_toml`).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from types import MappingProxyType
from typing import Any, Literal

ABC_CLASSES: tuple[str, ...] = ("A", "B", "C")
XYZ_CLASSES: tuple[str, ...] = ("X", "Y", "Z")
SEGMENTS: tuple[str, ...] = tuple(a + x for a in ABC_CLASSES for x in XYZ_CLASSES)
STATUSES: tuple[str, ...] = ("potential", "new", "active", "dormant", "lost")
CHURN_RISKS: tuple[str, ...] = ("low", "medium", "high")
XYZ_METHODS: tuple[str, ...] = ("frequency", "cv")

DEFAULT_CADENCE_DAYS: Mapping[str, int] = MappingProxyType(
    {
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
)


def _default_cadence() -> Mapping[str, int]:
    return DEFAULT_CADENCE_DAYS


@dataclass(frozen=True)
class SegmentationSettings:
    """Thresholds of ABC/XYZ segmentation, lifecycle statuses and contact cadence.

    All durations are in days; shares are fractions in (0, 1].

    Attributes
    ----------
    window_months : int
        Length of the analysis window in calendar months ending with the month of
        ``as_of`` (the window starts on the 1st of month M-(window_months-1)).
    abc_a_share, abc_b_share : float
        Cumulative revenue shares closing classes A and B.
    xyz_method : {"frequency", "cv"}
        How XYZ is computed: share of months with purchases, or the coefficient
        of variation of monthly revenue.
    xyz_x_month_share : float
        ``frequency`` method: X when purchases fall in at least this share of
        the window's months.
    xyz_cv_x, xyz_cv_y : float
        ``cv`` method: X when CV <= ``xyz_cv_x``, Y when CV <= ``xyz_cv_y``.
    default_deal_cycle_days : float
        Deal cycle of clients with fewer than two gaps between purchase days.
    new_days : int
        A client is ``new`` while its first purchase is less than this many days old.
    dormant_cycle_multiplier, lost_cycle_multiplier : float
        ``dormant``/``lost`` after more than this many deal cycles without purchase.
    lost_max_days : int
        ``lost`` after more than this many days without purchase, whatever the cycle.
    reactivation_contact_days : int
        A client leaves the reactivation list for this many days after a
        logged contact.
    reactivation_max_days : int
        Lost clients silent for longer than this are no longer offered for
        reactivation (they stay ``lost``).
    cadence_days : Mapping[str, int]
        Contact cadence per segment ("AX".."CZ"); a partial mapping given to
        :meth:`from_dict` overrides the defaults key by key.
    default_cadence_days : int
        Cadence of clients without a segment (no purchase in the window).
    vip_cadence_cap_days : int
        VIP clients are contacted at least this often: ``min(cadence, cap)``.
    churn_horizon_days : int
        Horizon of ``expected_purchases_90d`` (the name keeps the default).
    at_risk_p_alive : float
        Churn risk is ``medium`` or ``high`` below this P(alive) (``low`` at or
        above it); a valuable active or dormant client overdue against its
        cycle with such a risk is "at risk".
    high_risk_p_alive : float
        Churn risk is ``high`` below this P(alive). A client silent for longer
        than the ``lost`` rules allow is ``lost`` only when its P(alive) is
        below this too (or it never bought twice); otherwise it is ``dormant``.
    at_risk_overdue_cycles : float
        "Overdue against its own cycle": more than this many deal cycles
        since the last purchase.
    monthly_discount_rate : float
        Discount rate per month of the expected 12-month revenue (``value_12m``).
    cross_sell_max_suggestions : int
        Categories suggested per client.
    """

    window_months: int = 12
    abc_a_share: float = 0.80
    abc_b_share: float = 0.95
    xyz_method: Literal["frequency", "cv"] = "frequency"
    xyz_x_month_share: float = 0.75
    xyz_cv_x: float = 0.10
    xyz_cv_y: float = 0.25
    default_deal_cycle_days: float = 90.0
    new_days: int = 90
    dormant_cycle_multiplier: float = 1.5
    lost_cycle_multiplier: float = 4.0
    lost_max_days: int = 365
    reactivation_contact_days: int = 14
    reactivation_max_days: int = 730
    cadence_days: Mapping[str, int] = field(default_factory=_default_cadence)
    default_cadence_days: int = 90
    vip_cadence_cap_days: int = 7
    churn_horizon_days: int = 90
    at_risk_p_alive: float = 0.8
    high_risk_p_alive: float = 0.5
    at_risk_overdue_cycles: float = 1.0
    monthly_discount_rate: float = 0.01
    cross_sell_max_suggestions: int = 3

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name in ("cadence_days", "xyz_method"):
                continue
            value = getattr(self, f.name)
            expected = int if f.type in ("int", int) else float
            # bool is an int subclass; True as a threshold is always a typo.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if expected is int and not float(value).is_integer():
                raise ValueError(f"{f.name} must be a whole number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
            # Normalise so that to_dict() round-trips through JSON unchanged.
            object.__setattr__(self, f.name, expected(value))

        if self.xyz_method not in XYZ_METHODS:
            raise ValueError(f"xyz_method must be one of {XYZ_METHODS}, got {self.xyz_method!r}")
        if not 0 < self.abc_a_share <= self.abc_b_share <= 1:
            raise ValueError("need 0 < abc_a_share <= abc_b_share <= 1")
        if not 0 < self.xyz_x_month_share <= 1:
            raise ValueError("xyz_x_month_share must be in (0, 1]")
        if not 0 <= self.xyz_cv_x <= self.xyz_cv_y:
            raise ValueError("need 0 <= xyz_cv_x <= xyz_cv_y")
        if not 0 <= self.high_risk_p_alive <= self.at_risk_p_alive <= 1:
            raise ValueError("need 0 <= high_risk_p_alive <= at_risk_p_alive <= 1")
        if not 0 <= self.monthly_discount_rate < 1:
            raise ValueError("monthly_discount_rate must be in [0, 1)")
        if self.at_risk_overdue_cycles < 0:
            raise ValueError("at_risk_overdue_cycles must not be negative")
        if self.dormant_cycle_multiplier > self.lost_cycle_multiplier:
            raise ValueError("dormant_cycle_multiplier must not exceed lost_cycle_multiplier")
        for name in (
            "window_months",
            "default_deal_cycle_days",
            "dormant_cycle_multiplier",
            "lost_cycle_multiplier",
            "lost_max_days",
            "default_cadence_days",
            "vip_cadence_cap_days",
            "churn_horizon_days",
            "reactivation_max_days",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("new_days", "reactivation_contact_days", "cross_sell_max_suggestions"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")

        cadence = dict(self.cadence_days)
        unknown = sorted(set(cadence) - set(SEGMENTS))
        if unknown:
            raise ValueError(f"unknown segment in cadence_days: {unknown[0]}")
        missing = [s for s in SEGMENTS if s not in cadence]
        if missing:
            raise ValueError(f"cadence_days has no value for segment {missing[0]}")
        for seg in SEGMENTS:
            days = cadence[seg]
            if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
                raise ValueError(f"cadence_days[{seg!r}] must be a positive integer")
        # A read-only view keeps the frozen dataclass actually immutable.
        object.__setattr__(
            self, "cadence_days", MappingProxyType({s: int(cadence[s]) for s in SEGMENTS})
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with every field (for the database)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if f.name == "cadence_days" else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentationSettings:
        """Build settings from a (possibly partial) dict; missing keys keep defaults.

        Raises
        ------
        ValueError
            On an unknown key (the message names it) or an invalid value.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise ValueError(f"unknown segmentation setting: {key}")
        kwargs = dict(data)
        if "cadence_days" in kwargs:
            override = kwargs["cadence_days"]
            if not isinstance(override, Mapping):
                raise ValueError("cadence_days must be a mapping of segment to days")
            kwargs["cadence_days"] = {**DEFAULT_CADENCE_DAYS, **override}
        return cls(**kwargs)

    @classmethod
    def from_toml(cls, path: str | PathLike[str], table: str | None = None) -> SegmentationSettings:
        """Read settings from a TOML file.

        Parameters
        ----------
        path : path-like
            The TOML file.
        table : str, optional
            Dotted name of the table holding the settings (e.g. ``"segmentation"``);
            by default the top level of the file is used.
        """
        with open(path, "rb") as fh:
            data: Any = tomllib.load(fh)
        if table:
            for part in table.split("."):
                if not isinstance(data, dict) or part not in data:
                    raise ValueError(f"table [{table}] not found in {path}")
                data = data[part]
        return cls.from_dict(data)
