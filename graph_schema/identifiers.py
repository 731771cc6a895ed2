"""Validation and generation of the identifiers the model keys on.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check
  character.
- National investment-project code (项目代码, GB/T 40058-2021): ``YYYY-RRRRRR-DD-TT-NNNNNC``; the
  check algorithm is unpublished, so the last character is treated as opaque.
- Administrative division code (GB/T 2260): six digits, province + city + county.
"""

from __future__ import annotations

import re
from typing import Final

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authorities (position 1): 机构编制, 外交, 司法行政, 文化, 民政, 旅游, 宗教, 工会,
# 工商/市场监管 (9, which every enterprise carries), 中央军委改革和编制 (A), 农业 (N), 其他 (Y).
# Entity types (position 2) differ per authority and are not checked beyond the alphabet.
_USCC_AUTHORITIES: Final = frozenset("123456789ANY")

_PROJECT_CODE_RE: Final = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-([0-9A-Z]{6})$")
_REGION_CODE_RE: Final = re.compile(r"^\d{6}$")
# GB/T 2260 province-level prefixes (first two digits).
PROVINCE_PREFIXES: Final = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
PROJECT_TYPES: Final = {
    "01": "基本建设",
    "02": "技术改造",
    "03": "单纯购置",
    "04": "信息化",
    "05": "其他",
}


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    try:
        total = sum(_USCC_VALUES[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the code alphabet") from None
    check = 31 - total % 31
    return USCC_ALPHABET[0 if check == 31 else check]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or ``None`` when it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in _USCC_VALUES})
    if bad:
        return f"characters {''.join(bad)!r} are not in the code alphabet (no I, O, S, V, Z)"
    if code[0] not in _USCC_AUTHORITIES:
        return f"registration authority {code[0]!r} is not defined by GB 32100-2015"
    if not _REGION_CODE_RE.match(code[2:8]) or code[2:4] not in PROVINCE_PREFIXES:
        return f"positions 3-8 must be a GB/T 2260 region code, got {code[2:8]!r}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None


def make_uscc(region_code: str, org_code: str, *, authority: str = "9", kind: str = "1") -> str:
    """Build a valid credit code from a region and a 9-character organisation code."""
    first17 = f"{authority}{kind}{region_code}{org_code}"
    return first17 + uscc_check_char(first17)


def project_code_problem(code: str) -> str | None:
    """Why ``code`` is not a national investment-project code, or ``None`` when it is."""
    match = _PROJECT_CODE_RE.match(code)
    if match is None:
        return "must look like YYYY-RRRRRR-DD-TT-NNNNNC (24 characters)"
    year, region, _dept, kind, _tail = match.groups()
    if not 2000 <= int(year) <= 2100:
        return f"year {year} is out of range"
    problem = region_code_problem(region)
    if problem is not None:
        return f"region part: {problem}"
    if kind not in PROJECT_TYPES:
        return f"project type {kind} must be one of {', '.join(PROJECT_TYPES)}"
    return None


def region_code_problem(code: str) -> str | None:
    """Why ``code`` is not a GB/T 2260 six-digit division code, or ``None`` when it is."""
    if not _REGION_CODE_RE.match(code):
        return f"must be six digits, got {code!r}"
    if code[:2] not in PROVINCE_PREFIXES:
        return f"province prefix {code[:2]} is not a GB/T 2260 province"
    if code[2:4] == "00" and code[4:] != "00":
        return "a county code needs a city part"
    return None


def region_level(code: str) -> str:
    """``province``, ``city`` or ``county`` from the shape of a valid division code."""
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"
