"""Indicator series for the demo: the barometer's leading indicators, investment and GDP growth,
the race indicators and the 2026 targets, for the province and its 11 cities.

Synthetic, but shaped on Zhejiang's story: a common investment cycle (a modest 2018-19, the
2020 Q1 collapse, the 2021 rebound on a low base, the 2022 downturn that the leading
indicators signalled at the end of 2021, a soft 2023-24 and a recovery into 2026) plus a
city's own drift. Fixed-asset investment growth (year-to-date, %) follows the cycle; each
leading indicator follows it a few months *ahead* (its lead below), with its own level,
swing and noise, so the forecast has a real lag structure to find. GDP growth (quarterly,
year-to-date) is 2.5 + 0.45 × investment growth plus noise: an elasticity of 0.45 for the
target derivation to recover. Monthly from 2018-01 to 2026-10 (the demo's clock stands at
2026-11-15, when October's figures are out); the province's values are the cities' averages
weighted by GDP.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from hub.demo.regions import CITIES, PROVINCE

FIRST_YEAR: Final = 2018
LAST_MONTH: Final = (2026, 10)
TARGET_YEAR: Final = 2026


@dataclass(frozen=True, slots=True)
class _Spec:
    id: str
    name: str
    name_en: str
    unit: str
    lead: int  # months ahead of the cycle (0: coincident)
    level: float
    swing: float  # per unit of the cycle; negative for indicators that cool as it heats
    noise: float
    barometer_weight: float | None = None
    race_weight: float | None = None
    polarity: str = "positive"
    floor: float = -100.0
    ceiling: float = 1e9
    scaled: bool = False  # an amount, scaled by the city's size
    description: str | None = None


# The 10 barometer indicators (投资晴雨表) of Zhejiang's 投资感应 module.
LEADING: Final = (
    _Spec(
        "new_start_investment_growth",
        "新开工项目计划总投资增速",
        "New-start project investment growth",
        "%",
        3,
        8.0,
        10.0,
        3.0,
        1.5,
        0.1,
    ),
    _Spec(
        "loan_balance_growth",
        "本外币贷款余额增速",
        "Domestic and foreign currency loan balance growth",
        "%",
        4,
        13.0,
        2.0,
        0.4,
        1.0,
    ),
    _Spec(
        "sany_excavator_index",
        "三一挖掘机指数",
        "Sany excavator index (operating rate)",
        "点",
        2,
        62.0,
        8.0,
        2.5,
        1.0,
        floor=0.0,
    ),
    _Spec(
        "industrial_profit_growth",
        "规上工业企业利润增速",
        "Profit growth of industrial enterprises above designated size",
        "%",
        5,
        8.0,
        12.0,
        4.0,
        1.0,
    ),
    _Spec(
        "land_transaction_value",
        "土地成交金额",
        "Land transaction value",
        "亿元",
        6,
        60.0,
        15.0,
        8.0,
        1.0,
        floor=1.0,
        scaled=True,
    ),
    _Spec(
        "intended_investment_growth",
        "意向投资额增速",
        "Intended investment growth",
        "%",
        6,
        10.0,
        9.0,
        3.0,
        1.0,
    ),
    _Spec(
        "manufacturing_loan_growth",
        "制造业贷款余额增速",
        "Manufacturing loan balance growth",
        "%",
        4,
        18.0,
        4.0,
        0.8,
        1.0,
    ),
    _Spec(
        "industrial_power_growth",
        "工业用电量增速",
        "Industrial electricity consumption growth",
        "%",
        1,
        6.0,
        5.0,
        1.5,
        1.0,
    ),
    _Spec(
        "cement_output_growth", "水泥产量增速", "Cement output growth", "%", 2, 2.0, 6.0, 2.0, 0.5
    ),
    _Spec(
        "housing_destocking_months",
        "商品住宅去化周期",
        "Months to sell the housing stock",
        "月",
        5,
        14.0,
        -3.0,
        0.8,
        0.5,
        polarity="negative",
        floor=3.0,
    ),
)
# Coincident indicators: investment itself and what the quarterly race (投资赛马) scores.
COINCIDENT: Final = (
    _Spec(
        "fai_growth",
        "固定资产投资增速（累计）",
        "Fixed-asset investment growth, year to date",
        "%",
        0,
        0.0,
        4.0,
        0.6,
        None,
        0.2,
    ),
    _Spec(
        "manufacturing_investment_growth",
        "制造业投资增速",
        "Manufacturing investment growth",
        "%",
        0,
        2.0,
        5.0,
        1.5,
        None,
        0.15,
    ),
    _Spec(
        "private_investment_growth",
        "民间投资增速",
        "Private investment growth",
        "%",
        0,
        -1.0,
        4.0,
        1.2,
        None,
        0.1,
    ),
    _Spec(
        "hightech_investment_growth",
        "高新技术产业投资增速",
        "High-tech industry investment growth",
        "%",
        0,
        4.0,
        6.0,
        2.0,
        None,
        0.1,
    ),
    _Spec(
        "infrastructure_investment_growth",
        "交通投资增速",
        "Transport investment growth",
        "%",
        0,
        1.0,
        3.0,
        2.5,
        None,
        0.1,
    ),
    _Spec(
        "new_start_rate",
        "省重大项目新开工率",
        "Provincial major projects started of those due",
        "%",
        0,
        88.0,
        5.0,
        3.0,
        None,
        0.15,
        floor=40.0,
        ceiling=100.0,
    ),
    _Spec(
        "fai_completed",
        "固定资产投资完成额",
        "Fixed-asset investment completed in the month",
        "亿元",
        0,
        400.0,
        30.0,
        15.0,
        floor=1.0,
        scaled=True,
    ),
)
# Investment-growth specs add the city's own base growth to their level.
_ON_BASE: Final = frozenset(
    {
        "fai_growth",
        "manufacturing_investment_growth",
        "private_investment_growth",
        "hightech_investment_growth",
        "infrastructure_investment_growth",
    }
)
# The province's cycle by year (mean level), shaped on Zhejiang's investment story.
_YEAR_LEVEL: Final = {
    2018: 0.4,
    2019: 0.5,
    2020: -0.6,
    2021: 1.0,
    2022: -0.4,
    2023: -0.6,
    2024: -0.9,
    2025: -0.3,
    2026: 0.2,
    2027: 0.3,
}
# 2020 Q1 collapse (year to date), and the 2021 rebound on that low base.
_SHOCK: Final = {
    (2020, 1): -5.0,
    (2020, 2): -6.0,
    (2020, 3): -4.0,
    (2020, 4): -2.2,
    (2020, 5): -1.2,
    (2020, 6): -0.6,
    (2021, 1): 4.5,
    (2021, 2): 5.5,
    (2021, 3): 3.5,
    (2021, 4): 2.0,
    (2021, 5): 1.0,
    (2021, 6): 0.5,
}


def _months(until: tuple[int, int]) -> Iterator[tuple[int, int]]:
    year, month = FIRST_YEAR, 1
    while (year, month) <= until:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _cycle(rng: random.Random) -> dict[tuple[int, int], float]:
    """The province's cycle by month, running 12 months past the last one for the leads."""
    months = list(_months((LAST_MONTH[0] + 1, LAST_MONTH[1])))
    out: dict[tuple[int, int], float] = {}
    wiggle = 0.0
    for year, month in months:
        # Yearly levels joined smoothly: each month leans towards the next year's level.
        here, there = _YEAR_LEVEL[year], _YEAR_LEVEL.get(year + 1, _YEAR_LEVEL[year])
        level = here + (there - here) * max(0.0, (month - 6) / 12)
        wiggle = 0.7 * wiggle + rng.gauss(0, 0.12)
        out[(year, month)] = level + wiggle + _SHOCK.get((year, month), 0.0)
    return out


def indicator_dicts() -> list[dict[str, Any]]:
    out = []
    for spec in (*LEADING, *COINCIDENT):
        out.append(
            {
                "id": spec.id,
                "name": spec.name,
                "name_en": spec.name_en,
                "unit": spec.unit,
                "frequency": "monthly",
                "polarity": spec.polarity,
                "barometer_weight": spec.barometer_weight,
                "race_weight": spec.race_weight,
                "description": f"Leads investment by about {spec.lead} months (demo data)."
                if spec.lead
                else None,
            }
        )
    out.append(
        {
            "id": "gdp_growth",
            "name": "地区生产总值增速（累计）",
            "name_en": "GDP growth, year to date",
            "unit": "%",
            "frequency": "quarterly",
            "polarity": "positive",
        }
    )
    return out


def value_dicts(rng: random.Random) -> list[dict[str, Any]]:
    """Every value of every indicator for the cities, then the province (their weighted mean)."""
    cycle = _cycle(rng)
    months = list(_months(LAST_MONTH))
    total_weight = sum(c.weight for c in CITIES)
    mean_weight = total_weight / len(CITIES)
    by_city: dict[str, dict[str, dict[tuple[int, int], float]]] = {}
    rows: list[dict[str, Any]] = []
    for city in CITIES:
        base = rng.uniform(5.5, 9.0)  # the city's own trend investment growth
        drift = 0.0
        own: dict[tuple[int, int], float] = {}
        for ym in cycle:
            drift = 0.85 * drift + rng.gauss(0, 0.15)
            own[ym] = cycle[ym] + drift
        size = city.weight / mean_weight
        series: dict[str, dict[tuple[int, int], float]] = {}
        for spec in (*LEADING, *COINCIDENT):
            points = {}
            for year, month in months:
                ahead = _add(year, month, spec.lead)
                level = spec.level + (base if spec.id in _ON_BASE else 0.0)
                value = level + spec.swing * own[ahead] + rng.gauss(0, spec.noise)
                if spec.scaled:
                    value *= size * _season(month)
                points[(year, month)] = round(min(max(value, spec.floor), spec.ceiling), 2)
            series[spec.id] = points
        series["gdp_growth"] = {
            (year, month): round(
                2.5 + 0.45 * series["fai_growth"][(year, month)] + rng.gauss(0, 0.4), 2
            )
            for year, month in months
            if month % 3 == 0
        }
        by_city[city.code] = series
        rows += _rows(city.code, series)
    province: dict[str, dict[tuple[int, int], float]] = {}
    for name, points in by_city[CITIES[0].code].items():
        scaled = name in {s.id for s in (*LEADING, *COINCIDENT) if s.scaled}
        province[name] = {
            ym: round(
                sum(
                    by_city[c.code][name][ym] * (1 if scaled else c.weight / total_weight)
                    for c in CITIES
                ),
                2,
            )
            for ym in points
        }
    return _rows(PROVINCE.code, province) + rows


def _rows(region: str, series: dict[str, dict[tuple[int, int], float]]) -> list[dict[str, Any]]:
    rows = []
    for name, points in series.items():
        for (year, month), value in sorted(points.items()):
            period = f"{year}-Q{month // 3}" if name == "gdp_growth" else f"{year}-{month:02d}"
            rows.append(
                {"indicator_id": name, "region_code": region, "period": period, "value": value}
            )
    return rows


def _add(year: int, month: int, months: int) -> tuple[int, int]:
    k = year * 12 + month - 1 + months
    return k // 12, k % 12 + 1


def _season(month: int) -> float:
    # Investment completed piles up towards the year's end, as Chinese statistics show.
    return 0.75 + 0.5 * (1 - math.cos(math.pi * (month - 1) / 11)) / 2


def target_dicts(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """2026 targets for the province and each city: growth rates to reach, the start rate,
    a cap on unsold housing, and investment completed (6% above 2025's)."""
    last_year: dict[str, float] = {}
    for row in values:
        if row["indicator_id"] == "fai_completed" and row["period"].startswith("2025-"):
            last_year[row["region_code"]] = last_year.get(row["region_code"], 0.0) + row["value"]
    out = []
    for region in (PROVINCE.code, *(c.code for c in CITIES)):
        for indicator, target, basis in (
            ("fai_growth", 6.0, "level"),
            ("manufacturing_investment_growth", 8.0, "level"),
            ("private_investment_growth", 5.0, "level"),
            ("new_start_rate", 95.0, "level"),
            ("housing_destocking_months", 18.0, "level"),
            ("fai_completed", round(last_year[region] * 1.06, 1), "total"),
        ):
            out.append(
                {
                    "indicator_id": indicator,
                    "region_code": region,
                    "year": TARGET_YEAR,
                    "target": target,
                    "basis": basis,
                }
            )
    return out
