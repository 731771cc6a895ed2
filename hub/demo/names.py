"""Plausible, unique company names and project names.

A company name is the usual 行政区划 + 字号 + 行业 + 组织形式, e.g. 慈溪恒锐电机有限公司. Trade
names are drawn from two pools of characters common in Zhejiang company names; a name already
taken is drawn again, so names stay unique at any scale.
"""

from __future__ import annotations

import random
from typing import Final

from hub.demo.chains import Segment
from hub.demo.regions import CITY_BY_CODE, PROVINCE, Division

_FIRST: Final = "华恒瑞鑫德泰宏卓晶天正远博凯英金永嘉海信联创星锐诚盛荣明光安汇众启致弘宇东中新万力"
_SECOND: Final = "达丰源通科业芯能峰驰辰威润和晟泽航钧越宸拓川禾迈邦腾祥康瀚翔跃昌基诺鼎朗烁旭晖"
_THIRD: Final = "源达科业通泰创成"

# Project names by project type (TT of the project code); {b} brand, {p} product, {c} capacity.
_TEMPLATES: Final = {
    "01": ("{b}年产{c}{p}项目", "{b}{p}生产基地建设项目", "{b}{p}产业化项目"),
    "02": ("{b}{p}生产线智能化技术改造项目", "{b}年产{c}{p}技改项目", "{b}数字化车间改造项目"),
    "03": ("{b}{p}生产线设备购置项目",),
    "04": ("{b}智能工厂数字化建设项目", "{b}工业互联网平台建设项目"),
    "05": ("{b}研发中心建设项目", "{b}总部及研发中心项目"),
}
# Service segments have no 年产 capacity; these read like their real projects.
_SERVICE_TEMPLATES: Final = {
    "nev.charging": ("{b}超充网络建设项目", "{b}充换电站建设项目"),
    "ic.eda-ip": ("{b}集成电路设计产业园项目", "{b}EDA研发中心项目"),
    "ic.design": ("{b}芯片研发及产业化项目", "{b}集成电路设计产业园项目"),
    "bio.reagents": ("{b}生命科学试剂研发生产基地项目",),
    "bio.lab-animals": ("{b}实验动物中心建设项目",),
    "bio.cro": ("{b}新药研发服务平台项目", "{b}临床研究中心项目"),
    "bio.innovative-drugs": ("{b}创新药研发及产业化项目", "{b}{p}产业化项目"),
    "bio.distribution": ("{b}医药物流中心项目",),
    "bio.hospitals": ("{b}医院新院区建设项目", "{b}医学中心建设项目"),
    "bio.pharmacies": ("{b}医药连锁配送中心项目", "{b}互联网医院项目"),
}


class Namer:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def company(
        self, county: Division, segment: Segment, *, big: bool, listed: bool
    ) -> tuple[str, str]:
        """A unique company name and its brand (place + trade name) for project names."""
        rng = self._rng
        place = self._place(county, big=big)
        form = self._form(big=big, listed=listed)
        for attempt in range(1000):
            trade = rng.choice(_FIRST) + rng.choice(_SECOND)
            if attempt >= 20:
                # The two-character space of a place and industry is crowded; go to three.
                trade += rng.choice(_THIRD)
            if trade[0] == trade[1]:
                continue
            name = f"{place}{trade}{rng.choice(segment.words)}{form}"
            if name not in self._taken:
                self._taken.add(name)
                return name, place + trade
        raise RuntimeError(f"no free company name for {county.name} {segment.id}")

    def _place(self, county: Division, *, big: bool) -> str:
        roll = self._rng.random()
        if roll < (0.45 if big else 0.12):
            return PROVINCE.short
        # Firms in counties and county-level cities often carry the county's name (慈溪, 义乌).
        if not county.is_district and roll < 0.6:
            return county.short
        return CITY_BY_CODE[county.city_code].short

    def _form(self, *, big: bool, listed: bool) -> str:
        if listed:
            return "股份有限公司"
        if big:
            return self._rng.choice(("集团有限公司", "股份有限公司", "有限公司"))
        return "股份有限公司" if self._rng.random() < 0.08 else "有限公司"

    def project(self, brand: str, segment: Segment, project_type: str) -> str:
        """A project name in the style of provincial major-project lists."""
        rng = self._rng
        product = rng.choice(segment.products)[1].split("（")[0]
        templates: tuple[str, ...] = _TEMPLATES[project_type]
        if segment.capacity is None:
            if project_type in ("01", "02") and segment.id in _SERVICE_TEMPLATES:
                templates = _SERVICE_TEMPLATES[segment.id]
            templates = tuple(t for t in templates if "{c}" not in t) or ("{b}{p}产业化项目",)
        capacity = ""
        if segment.capacity is not None:
            unit, low, high = segment.capacity
            capacity = _round_figure(rng.randint(low, high), unit)
        name = rng.choice(templates).format(b=brand, p=product, c=capacity)
        roll = rng.random()
        if roll < 0.12:
            name = name.removesuffix("项目") + "项目（一期）"
        elif roll < 0.18:
            name = name.removesuffix("项目") + "项目（二期）"
        return name


def _round_figure(n: int, unit: str) -> str:
    # Capacities are announced in round figures: 年产1.5万吨, 年产440吨, not 年产10517吨.
    if n >= 10_000 and unit[0] not in "万亿":
        return f"{round(n / 5_000) * 0.5:g}万{unit}"
    if n >= 100:
        digits = len(str(n)) - 2
        n = round(n, -digits)
    return f"{n}{unit}"
