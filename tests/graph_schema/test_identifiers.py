from __future__ import annotations

import pytest

from graph_schema.identifiers import (
    make_uscc,
    project_code_problem,
    region_code_problem,
    region_level,
    uscc_check_char,
    uscc_problem,
)


def test_check_character_follows_gb32100_weights() -> None:
    # Worked by hand: values of "91330106MA2B3C4D5" times weights 1,3,9,...,28, summed, mod 31.
    first17 = "91330106MA2B3C4D5"
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights, strict=True))
    assert uscc_check_char(first17) == alphabet[(31 - total % 31) % 31]
    assert uscc_check_char(first17) == "D"


def test_made_codes_validate_and_every_wrong_check_character_is_caught() -> None:
    code = make_uscc("330106", "MA2B3C4D5")
    assert uscc_problem(code) is None
    for ch in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if ch != code[-1]:
            problem = uscc_problem(code[:-1] + ch)
            assert problem is not None and "check character" in problem


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91330106MA2B3C4D", "18 characters"),
        ("91330106MA2B3C4DIX", "alphabet"),
        ("Z1330106MA2B3C4D5D", "alphabet"),
        ("B1330106MA2B3C4D5D", "registration authority"),
        ("91990106MA2B3C4D5D", "region code"),
    ],
)
def test_bad_credit_codes_say_why(code: str, reason: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None and reason in problem


def test_project_codes() -> None:
    assert project_code_problem("2024-330106-04-01-A1B2C3") is None
    assert "YYYY" in (project_code_problem("2024-330106-04-01-A1B2C") or "")
    assert "project type" in (project_code_problem("2024-330106-04-09-A1B2C3") or "")
    assert "region" in (project_code_problem("2024-990106-04-01-A1B2C3") or "")
    assert "year" in (project_code_problem("1899-330106-04-01-A1B2C3") or "")


def test_region_codes_and_levels() -> None:
    assert region_code_problem("330000") is None
    assert region_code_problem("33010") is not None
    assert region_code_problem("990000") is not None
    assert region_code_problem("330001") is not None  # county part without a city part
    assert [region_level(c) for c in ("330000", "330100", "331003")] == [
        "province",
        "city",
        "county",
    ]
