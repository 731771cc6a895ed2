"""Enterprises: where they sit, what they make, how big they are and which lists they are on.

Output (annual output value, 万元) is lognormal with a median of about 1,100 万元, so that the
firms at or above 2,000 万元, the 规模以上 threshold that ``above_designated_size`` stands for, are
about 35%. Chain leaders are drawn first (one per chain in Hangzhou and in Ningbo at least, 1% in
all) and are far larger. Employees follow output through a noisy output-per-head, patents follow
employees, and the other tags go to the best-scoring firms so their shares are exact.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from graph_schema.identifiers import USCC_ALPHABET, make_uscc
from graph_schema.model import EnterpriseTag, Tier
from hub.demo.chains import CHAINS, SEGMENT_BY_ID, SUPPLIES, Chain, Segment, product_id
from hub.demo.dates import AS_OF, between
from hub.demo.names import Namer
from hub.demo.regions import BIG_CITIES, CITIES, COUNTIES_BY_CITY, Division
from hub.demo.sampling import Picker, lognormal, weighted_sample

LEADER_SHARE: Final = 0.01
LISTED_SHARE: Final = 0.02
LITTLE_GIANT_SHARE: Final = 0.03
HIGH_TECH_SHARE: Final = 0.20
ABOVE_SIZE_OUTPUT: Final = 2000.0  # 万元

CHAIN_SHARE: Final = {"nev": 0.32, "ic": 0.22, "bio": 0.20, "materials": 0.26}
# How much more (or less) of each chain (nev, ic, bio, materials) a city has than the province:
# Hangzhou's chips and drugs, Ningbo's cars and petrochemicals, Taizhou's pharmaceutical
# chemistry, Zhoushan's and Quzhou's chemical and materials bases.
AFFINITY: Final = {
    "330100": (1.0, 1.6, 1.6, 0.8),
    "330200": (1.6, 0.8, 0.6, 1.4),
    "330300": (1.3, 0.7, 0.8, 0.9),
    "330400": (1.1, 1.0, 0.7, 1.3),
    "330500": (1.5, 0.6, 0.7, 1.0),
    "330600": (0.9, 1.3, 1.1, 1.1),
    "330700": (1.4, 0.7, 0.8, 0.9),
    "330800": (1.2, 0.5, 0.5, 1.6),
    "330900": (0.6, 0.3, 0.5, 1.8),
    "331000": (1.4, 0.5, 1.5, 0.8),
    "331100": (0.9, 0.8, 0.7, 1.0),
}
PATENT_INTENSITY: Final = {"nev": 1.0, "ic": 2.0, "bio": 1.5, "materials": 1.0}
# Leaders are integrators: car makers, cell makers, fabs, drug makers rather than miners.
_LEADER_TIER_WEIGHT: Final = {Tier.UPSTREAM: 0.5, Tier.MIDSTREAM: 1.0, Tier.DOWNSTREAM: 1.5}
# GB 11714 organisation-code check: values of 0-9A-Z and the weights of positions 1-8.
_ORG_VALUES: Final = {ch: int(ch, 36) for ch in USCC_ALPHABET}
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


def _founding_years(last: int) -> Picker[int]:
    # Young firms outnumber old ones.
    years = range(1990, last + 1)
    return Picker(years, [1 + 0.15 * (y - 1990) for y in years])


_YEARS: Final = _founding_years(2025)
_OLD_YEARS: Final = _founding_years(2018)  # big firms have had time to grow


@dataclass(slots=True)
class Firm:
    county: Division
    chain: Chain
    segments: list[Segment]
    leader: bool = False
    output: float = 0.0
    employees: int = 0
    patents: int = 0
    tags: set[EnterpriseTag] = field(default_factory=set)
    founded: dt.date = AS_OF
    uscc: str = ""
    name: str = ""
    brand: str = ""
    products: list[str] = field(default_factory=list)

    @property
    def output_growth(self) -> float:
        """Year-on-year output growth, %: drawn from the firm's own id so adding it changed
        no other generated value. Young firms and little giants grow faster."""
        rng = random.Random(f"growth:{self.uscc}")
        mean = 6.0 + (6.0 if EnterpriseTag.LITTLE_GIANT in self.tags else 0.0)
        mean += 8.0 if self.founded.year >= AS_OF.year - 5 else 0.0
        return round(max(-60.0, rng.gauss(mean, 12.0)), 1)

    @property
    def city_code(self) -> str:
        return self.county.city_code

    def record(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "name": self.name,
            "region_code": self.county.code,
            "segment_ids": [s.id for s in self.segments],
            "product_ids": self.products,
            "tags": sorted(self.tags),
            "output": round(self.output, 1),
            "employees": self.employees,
            "patents": self.patents,
            "founded": self.founded,
            "output_growth": self.output_growth,
        }


def draft_firms(rng: random.Random, count: int, namer: Namer) -> list[Firm]:
    """``count`` enterprises spread over the province by economic weight."""
    firms = _place(rng, count)
    _choose_leaders(rng, firms)
    for firm in firms:
        _size(rng, firm)
    _tag(rng, firms)
    taken: set[str] = set()
    for firm in firms:
        _identify(rng, firm, namer, taken)
    return firms


def city_picker() -> Picker[Division]:
    return Picker(CITIES, [c.weight for c in CITIES])


def county_pickers() -> dict[str, Picker[Division]]:
    return {
        code: Picker(members, [c.weight for c in members])
        for code, members in COUNTIES_BY_CITY.items()
    }


def chain_pickers() -> dict[str, Picker[Chain]]:
    return {
        city.code: Picker(
            CHAINS,
            [CHAIN_SHARE[c.id] * a for c, a in zip(CHAINS, AFFINITY[city.code], strict=True)],
        )
        for city in CITIES
    }


def _place(rng: random.Random, count: int) -> list[Firm]:
    cities, counties, chains = city_picker(), county_pickers(), chain_pickers()
    segments = {c.id: Picker(c.segments, [s.weight for s in c.segments]) for c in CHAINS}
    partners = _partners()
    firms: list[Firm] = []
    for _ in range(count):
        city = cities.pick(rng)
        chain = chains[city.code].pick(rng)
        first = segments[chain.id].pick(rng)
        chosen = [first]
        # A third of firms work in two linked segments: cells and packs, design and test.
        if rng.random() < 0.33 and partners[first.id]:
            chosen.append(rng.choice(partners[first.id]))
        firms.append(Firm(counties[city.code].pick(rng), chain, chosen))
    return firms


def _partners() -> dict[str, list[Segment]]:
    partners: dict[str, list[Segment]] = {s.id: [] for c in CHAINS for s in c.segments}
    for source, target in SUPPLIES:
        if source.split(".")[0] == target.split(".")[0]:
            partners[source].append(SEGMENT_BY_ID[target])
            partners[target].append(SEGMENT_BY_ID[source])
    return partners


def _choose_leaders(rng: random.Random, firms: list[Firm]) -> None:
    def weight(firm: Firm) -> float:
        return _LEADER_TIER_WEIGHT[firm.segments[0].tier]

    for chain in CHAINS:
        for city in BIG_CITIES:
            local = [f for f in firms if f.chain is chain and f.city_code == city]
            if local:
                weighted_sample(rng, local, [weight(f) for f in local], 1)[0].leader = True
    wanted = max(round(LEADER_SHARE * len(firms)), 1) - sum(f.leader for f in firms)
    others = [f for f in firms if not f.leader]
    for firm in weighted_sample(rng, others, [weight(f) for f in others], max(wanted, 0)):
        firm.leader = True


def _size(rng: random.Random, firm: Firm) -> None:
    if firm.leader:
        firm.output = max(lognormal(rng, 400_000, 0.7), 50_000)
    else:
        firm.output = min(max(lognormal(rng, 1_080, 1.6), 30), 5_000_000)
    per_head = lognormal(rng, 70, 0.5)  # 万元 of output per employee
    firm.employees = max(3, round(firm.output / per_head))
    intensity = PATENT_INTENSITY[firm.chain.id] * (2.0 if firm.leader else 1.0)
    firm.patents = round(firm.employees**0.8 * lognormal(rng, 0.25, 0.9) * intensity)
    if firm.leader:
        year = rng.randint(1985, 2012)
    else:
        year = (_OLD_YEARS if firm.output > 50_000 else _YEARS).pick(rng)
    firm.founded = between(rng, dt.date(year, 1, 1), min(dt.date(year, 12, 31), AS_OF))


def _tag(rng: random.Random, firms: list[Firm]) -> None:
    n = len(firms)
    for firm in firms:
        if firm.leader:
            firm.tags.add(EnterpriseTag.CHAIN_LEADER)
        if firm.output >= ABOVE_SIZE_OUTPUT:
            firm.tags.add(EnterpriseTag.ABOVE_DESIGNATED_SIZE)
    # Little giants: specialised mid-sized firms with many patents per head.
    mid = [f for f in firms if not f.leader and 2_000 <= f.output <= 200_000]
    _top(rng, mid, round(LITTLE_GIANT_SHARE * n), EnterpriseTag.LITTLE_GIANT, _giant_score)
    # Little giants and leaders are all high-tech; the rest of the share goes by patents.
    for firm in firms:
        if EnterpriseTag.LITTLE_GIANT in firm.tags or firm.leader:
            firm.tags.add(EnterpriseTag.HIGH_TECH)
    rest = [f for f in firms if EnterpriseTag.HIGH_TECH not in f.tags]
    wanted = round(HIGH_TECH_SHARE * n) - (n - len(rest))
    _top(rng, rest, wanted, EnterpriseTag.HIGH_TECH, lambda f: math.log1p(f.patents))
    for firm in firms:
        if firm.leader and rng.random() < 0.6:
            firm.tags.add(EnterpriseTag.LISTED)
    rest = [f for f in firms if EnterpriseTag.LISTED not in f.tags]
    wanted = round(LISTED_SHARE * n) - (n - len(rest))
    _top(rng, rest, wanted, EnterpriseTag.LISTED, lambda f: math.log(f.output))


def _giant_score(firm: Firm) -> float:
    return math.log1p(firm.patents) - 0.3 * math.log(firm.employees)


def _top(
    rng: random.Random,
    firms: list[Firm],
    k: int,
    tag: EnterpriseTag,
    score: Callable[[Firm], float],
) -> None:
    # Noise keeps the ranking plausible rather than a hard cut on one number.
    ranked = sorted(((score(f) + rng.gauss(0, 0.8), i) for i, f in enumerate(firms)), reverse=True)
    for _, i in ranked[: max(k, 0)]:
        firms[i].tags.add(tag)


def _identify(rng: random.Random, firm: Firm, namer: Namer, taken: set[str]) -> None:
    while True:
        if firm.founded.year >= 2016:
            # Codes issued since the 2015 reform start with MA.
            body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=6))
        else:
            body = "".join(rng.choices("0123456789", k=8))
        org = body + _org_check(body)
        if org not in taken:
            taken.add(org)
            break
    firm.uscc = make_uscc(firm.county.code, org)
    big = firm.leader or firm.output > 100_000
    listed = EnterpriseTag.LISTED in firm.tags
    firm.name, firm.brand = namer.company(firm.county, firm.segments[0], big=big, listed=listed)
    offered = [product_id(s, slug) for s in firm.segments for slug, _ in s.products]
    firm.products = sorted(rng.sample(offered, k=min(len(offered), rng.choice((1, 1, 2, 3)))))


def _org_check(first8: str) -> str:
    total = sum(_ORG_VALUES[ch] * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)
