"""Financing (融项通) on the hand-built graph (tests/hub/handbuilt.py), scores worked out by hand.

Preferences:
- bank-a: chains [nev], regions [330100 杭州], 1000-20000万元, term ≤ 60 months.
- bank-b: chains [ic], regions [330200 宁波], 0-800万元, term ≤ 36 months.
- bank-c: no preference (any industry, region, amount up to 1e9, term ≤ 360).

Needs (weights: industry 30, region 30, amount band 25, term 15; matched at ≥ 60):

| need | project | amount (band) | term | bank-a | bank-b | bank-c |
|---|---|---|---|---|---|---|
| N1 | P1 西湖区, nev | 3456.7 (1000-5000) | 36 | 30+30+25+15 = 100 | 0+0+0+15 = 15 | 100 |
| N2 | P2 海曙区, ic | 620 (500-1000) | 48 | 0+0+0+15 = 15 (1000 excl.) | 30+30+25+0 = 85 | 100 |
| N3 | P1 | 12000 (10000-50000) | 120 | 30+30+25+0 = 85 | 0+0+0+0 = 0 | 100 |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    is_required_argument,
)

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.statements.financing import FinancingPreference
from hub.api.access import ROOT_FIELDS
from hub.projects import financing as fin
from hub.roles import Role
from tests.hub import handbuilt as hb

pytestmark = pytest.mark.anyio

CONTACT = "王小明"
PHONE = "13812345678"
NOTE = "扩产二期设备款"
N1, N2, N3 = "fn-n1hangzhou", "fn-n2ningbo", "fn-n3hangzhou"
# What no bank may see before its consent: identity, contact and exact amounts.
SECRETS = (
    hb.OWNER,
    hb.OWNER_NAME,
    hb.OTHER,
    hb.OTHER_NAME,
    hb.P1,
    hb.P2,
    hb.P1_NAME,
    hb.P2_NAME,
    CONTACT,
    PHONE,
    "13900001111",
    "赵经理",
    NOTE,
    "3456.7",
    "620",
    "12000",
)

PREFS = """mutation($input: FinancingPreferenceInput!) {
  setFinancingPreference(input: $input) { bankId chainIds regionCodes amountMin amountMax }
}"""
SUBMIT = """mutation($items: [FinancingNeedInput!]!) {
  submitFinancingNeeds(items: $items) { accepted rejected
    items { index key ok errors { code field message } } }
}"""


def _need(
    id: str, project: str, amount: float, term: int, contact: str, phone: str, note: str | None
) -> dict[str, Any]:
    return {
        "id": id,
        "projectCode": project,
        "amount": amount,
        "termMonths": term,
        "purpose": "FIXED_ASSETS",
        "collateral": "LAND_USE_RIGHT",
        "contactName": contact,
        "contactPhone": phone,
        "note": note,
        "submittedOn": "2025-06-10",
    }


@pytest.fixture
async def graph(store: FalkorDBStore) -> FalkorDBStore:
    """A graph of the test's own on the shared embedded FalkorDB (tests/conftest.py)."""
    await hb.build(store)
    prefs = [
        {
            "bankId": "bank-a",
            "chainIds": ["nev"],
            "regionCodes": ["330100"],
            "amountMin": 1000,
            "amountMax": 20000,
            "termMaxMonths": 60,
        },
        {
            "bankId": "bank-b",
            "chainIds": ["ic"],
            "regionCodes": ["330200"],
            "amountMin": 0,
            "amountMax": 800,
            "termMaxMonths": 36,
        },
        {"bankId": "bank-c"},
    ]
    for pref in prefs:
        await hb.ok(store, PREFS, role=Role.OPERATOR, input=pref)
    items = [
        _need(N1, hb.P1, 3456.7, 36, CONTACT, PHONE, NOTE),
        _need(N2, hb.P2, 620, 48, "赵经理", "13900001111", None),
        _need(N3, hb.P1, 12000, 120, CONTACT, PHONE, None),
    ]
    data = await hb.ok(store, SUBMIT, role=Role.OPERATOR, items=items)
    assert data["submitFinancingNeeds"]["accepted"] == 3
    return store


OPPORTUNITIES = """{ financingOpportunities {
  totalCount nodes { needId score industries city { code name } stage termMonths
    amountBand { label min max } reasons { criterion met points detail } } } }"""


async def _scores(store: FalkorDBStore, bank: str) -> dict[str, int]:
    data = await hb.ok(store, OPPORTUNITIES, role=Role.BANK, subject=bank)
    return {n["needId"]: n["score"] for n in data["financingOpportunities"]["nodes"]}


async def test_matches_have_the_hand_computed_scores_and_reasons(graph: FalkorDBStore) -> None:
    assert await _scores(graph, "bank-a") == {N1: 100, N3: 85}
    assert await _scores(graph, "bank-b") == {N2: 85}
    assert await _scores(graph, "bank-c") == {N1: 100, N2: 100, N3: 100}
    data = await hb.ok(graph, OPPORTUNITIES, role=Role.BANK, subject="bank-a")
    nodes = data["financingOpportunities"]["nodes"]
    assert [n["needId"] for n in nodes] == [N1, N3]  # best score first
    n3 = nodes[1]
    assert n3["city"] == {"code": "330100", "name": "杭州市"}
    assert n3["industries"] == ["nev"]
    assert n3["stage"] == "PREPARATION"
    assert n3["amountBand"] == {"label": "10000-50000万元", "min": 10000.0, "max": 50000.0}
    assert [(r["criterion"], r["met"], r["points"]) for r in n3["reasons"]] == [
        ("INDUSTRY", True, 30),
        ("REGION", True, 30),
        ("AMOUNT", True, 25),
        ("TERM", False, 0),
    ]
    assert n3["reasons"][1]["detail"] == "city 330100 is within preferred region 330100"
    assert n3["reasons"][3]["detail"] == "term 120 months exceeds 60"


def test_score_on_the_band_edge_and_with_no_preference() -> None:
    need = fin.PublicNeed(
        id="fn-x00000",
        city=fin.Place("330200", "宁波市"),
        chains=("ic",),
        stage="preparation",
        band=fin.band_of(620),
        term_months=48,
        purpose="equipment",
        collateral="credit",
        submitted_month="2025-06",
        within=("330203", "330200", "330000"),
    )
    a = fin.score(
        need,
        FinancingPreference(
            bank_id="bank-a",
            chain_ids=["nev"],
            region_codes=["330100"],
            amount_min=1000,
            amount_max=20000,
            term_max_months=60,
        ),
    )
    assert a.total == 15
    assert [r.met for r in a.reasons] == [False, False, False, True]
    assert a.reasons[2].detail == "amount band 500-1000万元 is outside 1000-20000万元"
    anything = fin.score(need, FinancingPreference(bank_id="bank-c"))
    assert anything.total == 100
    assert anything.reasons[0].detail == "any industry accepted"
    assert fin.band_of(50000).label == "50000万元以上"
    assert fin.band_of(499.99).label == "0-500万元"


async def test_a_preference_change_rematches(graph: FalkorDBStore) -> None:
    pref = {"bankId": "bank-b", "chainIds": ["ic", "nev"], "regionCodes": ["330000"]}
    await hb.ok(graph, PREFS, role=Role.OPERATOR, input=pref)
    # Now any amount and term ≤ 360: every need scores 100 with bank-b.
    assert await _scores(graph, "bank-b") == {N1: 100, N2: 100, N3: 100}


# --- what a bank can reach -----------------------------------------------------------------

# Arguments for fields that require them when walking.
_ARGS = {
    ("Query", "financingOpportunity"): f'(id: "{N1}")',
    ("Mutation", "expressFinancingInterest"): f'(needId: "{N1}")',
    ("Mutation", "setFinancingPreference"): '(input: {bankId: "BANK"})',
    ("Mutation", "recordCredit"): (
        '(items: [{needId: "' + N1 + '", bankId: "BANK", granted: 1, grantedOn: "2025-06-16"}])'
    ),
}


def _named(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _selection(t: Any, reached: set[str], depth: int = 0) -> str:
    """Every field of ``t`` and below (each type expanded once per path, to depth 8)."""
    t = _named(t)
    if isinstance(t, GraphQLScalarType | GraphQLEnumType):
        return ""
    reached.add(t.name)
    assert depth < 8, "selection too deep: a cycle among bank-reachable types?"
    if isinstance(t, GraphQLUnionType | GraphQLInterfaceType):
        raise AssertionError(f"{t.name}: abstract types are not expected below bank fields")
    assert isinstance(t, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in t.fields.items():
        required = [a for a, arg in field.args.items() if is_required_argument(arg)]
        assert not required, f"{t.name}.{name} needs arguments {required}: extend _ARGS"
        parts.append(name + _selection(field.type, reached, depth + 1))
    return " { " + " ".join(parts) + " }"


def _walk(bank: str, root: str, reached: set[str]) -> str:
    """One operation selecting every bank entry point of ``root`` and everything below."""
    root_type = hb.schema()._schema.get_type(root)
    assert isinstance(root_type, GraphQLObjectType)
    parts = []
    for name, field in root_type.fields.items():
        if name not in ROOT_FIELDS[Role.BANK] or name in ("node", "nodes"):
            # node(id:) answers only the bank's own types (test_node_reveals_no_more_...).
            continue
        args = _ARGS.get((root, name), "").replace("BANK", bank)
        required = [a for a, arg in field.args.items() if is_required_argument(arg)]
        assert not required or args, f"{root}.{name} needs arguments {required}: extend _ARGS"
        parts.append(name + args + _selection(field.type, reached))
    assert parts
    keyword = "mutation" if root == "Mutation" else "query"
    return keyword + " { " + " ".join(parts) + " }"


async def _everything(store: FalkorDBStore, bank: str) -> tuple[str, set[str]]:
    """Every value a bank gets from all its entry points, queries then mutations."""
    reached: set[str] = set()
    out = []
    for root in ("Query", "Mutation"):
        data, errors = await hb.run(store, _walk(bank, root, reached), role=Role.BANK, subject=bank)
        # Only "not matched to you" may fail (expressing interest in another bank's match).
        assert all(e["code"] == "NOT_FOUND" for e in errors), errors
        out.append(hb.text(data))
        out.append(hb.text([e["message"] for e in errors]))
    return "\n".join(out), reached


async def test_no_bank_reaches_identity_contact_or_amounts_before_consent(
    graph: FalkorDBStore,
) -> None:
    for bank in ("bank-a", "bank-b", "bank-c"):
        seen, reached = await _everything(graph, bank)
        leaked = [s for s in SECRETS if s in seen]
        assert leaked == [], (bank, leaked)
        # The walk is not vacuous: it reached the opportunities and their disclosure field.
        assert "FinancingDisclosure" in reached and "FinancingOpportunity" in reached
        assert '"disclosure": null' in seen
        # Nothing of the general graph hangs below the bank's fields.
        general = {"Project", "Enterprise", "Region", "Bank", "LandParcel", "FinancingNeed"}
        assert not reached & general, reached & general
    # bank-c was matched to all three needs and saw their bands, never their amounts.
    seen, _ = await _everything(graph, "bank-c")
    assert "1000-5000万元" in seen and "500-1000万元" in seen


async def test_consent_reveals_the_identity_to_that_bank_only(graph: FalkorDBStore) -> None:
    interest = (
        f'mutation {{ expressFinancingInterest(needId: "{N1}") {{ interest {{ consent }} }} }}'
    )
    for bank in ("bank-a", "bank-c"):
        data = await hb.ok(graph, interest, role=Role.BANK, subject=bank)
        assert data["expressFinancingInterest"]["interest"]["consent"] == "PENDING"
    respond = """mutation($need: String!, $bank: String!, $consent: Boolean!) {
      respondToFinancingInterest(needId: $need, bankId: $bank, consent: $consent) { consent } }"""
    data = await hb.ok(graph, respond, role=Role.OPERATOR, need=N1, bank="bank-a", consent=True)
    assert data["respondToFinancingInterest"]["consent"] == "GRANTED"
    await hb.ok(graph, respond, role=Role.OPERATOR, need=N1, bank="bank-c", consent=False)
    # bank-a now sees N1's owner (and only N1's: N3 was not consented).
    seen_a, _ = await _everything(graph, "bank-a")
    for revealed in (hb.OWNER, hb.OWNER_NAME, hb.P1, hb.P1_NAME, CONTACT, PHONE, NOTE, "3456.7"):
        assert revealed in seen_a, revealed
    assert "12000" not in seen_a
    one = f"""{{ financingOpportunity(needId: "{N1}") {{ interest {{ consent }}
      disclosure {{ ownerName ownerUscc contactName contactPhone amount projectCode }} }} }}"""
    data = await hb.ok(graph, one, role=Role.BANK, subject="bank-a")
    assert data["financingOpportunity"]["disclosure"] == {
        "ownerName": hb.OWNER_NAME,
        "ownerUscc": hb.OWNER,
        "contactName": CONTACT,
        "contactPhone": PHONE,
        "amount": 3456.7,
        "projectCode": hb.P1,
    }
    # bank-c declined, bank-b never matched N1: neither sees anything.
    for bank in ("bank-b", "bank-c"):
        seen, _ = await _everything(graph, bank)
        assert [s for s in SECRETS if s in seen] == [], bank
    data = await hb.ok(graph, one, role=Role.BANK, subject="bank-c")
    assert data["financingOpportunity"] == {"interest": {"consent": "DECLINED"}, "disclosure": None}
    # Operators see the audit trail: who read the identity, first when and how often.
    audit = f"""{{ financingNeeds(projectCode: "{hb.P1}") {{ nodes {{ needId
      matches {{ bankId firstDisclosedAt disclosures interest {{ consent }} }} }} }} }}"""
    data = await hb.ok(graph, audit, role=Role.OPERATOR)
    n1 = next(n for n in data["financingNeeds"]["nodes"] if n["needId"] == N1)
    trail = {m["bankId"]: (m["firstDisclosedAt"], m["disclosures"]) for m in n1["matches"]}
    assert trail["bank-a"][0] == hb.NOW.astimezone(dt.UTC).isoformat(timespec="seconds")
    assert trail["bank-a"][1] >= 2  # the walk and the query above
    assert trail["bank-c"] == (None, 0)
    # The walk set bank-b's preference to "anything" and showed interest in N1: still pending.
    data = await hb.ok(graph, one, role=Role.BANK, subject="bank-b")
    assert data["financingOpportunity"] == {"interest": {"consent": "PENDING"}, "disclosure": None}


async def test_the_bank_role_is_confined_to_its_entry_points(graph: FalkorDBStore) -> None:
    for query in (
        "{ projects { nodes { code } } }",
        f'{{ project(code: "{hb.P1}") {{ name }} }}',
        "{ enterprises { nodes { name } } }",
        "{ financingNeeds { nodes { contactName } } }",
        "query { ...F } fragment F on Query { banks { nodes { name } } }",
        f'mutation {{ respondToFinancingInterest(needId: "{N1}", bankId: "bank-a", '
        "consent: true) { consent } }",
    ):
        data, errors = await hb.run(graph, query, role=Role.BANK, subject="bank-a")
        assert data is None and [e["code"] for e in errors] == ["FORBIDDEN"], (query, errors)
    # node(id:) is an entry point (for the bank's own types); a graph object's id is refused.
    data, errors = await hb.run(graph, '{ node(id: "UHJvamVjdDox") { id } }', role=Role.BANK,
                                subject="bank-a")  # fmt: skip
    assert data == {"node": None} and [e["code"] for e in errors] == ["FORBIDDEN"]
    # Without a bank id (subject) the bank fields are refused too.
    _, errors = await hb.run(graph, OPPORTUNITIES, role=Role.BANK, subject=None)
    assert [e["code"] for e in errors] == ["FORBIDDEN"]
    # A bank may not set another bank's preference.
    _, errors = await hb.run(
        graph, PREFERS_OF_B, role=Role.BANK, subject="bank-a", input={"bankId": "bank-b"}
    )
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


PREFERS_OF_B = PREFS


async def test_bad_needs_are_rejected_item_by_item(graph: FalkorDBStore) -> None:
    items = [
        _need("fn-newone1", hb.P2, 100, 12, "李四", "0574-87654321", None),
        _need("fn-bad0001", "2025-330106-36-01-X99999", 100, 12, "李四", "13800000000", None),
        {**_need("fn-bad0002", hb.P2, -5, 0, "李四", "12345", None)},
        _need(N1, hb.P2, 100, 12, "李四", "13800000000", None),  # N1 belongs to P1
    ]
    data = await hb.ok(graph, SUBMIT, role=Role.OPERATOR, items=items)
    result = data["submitFinancingNeeds"]
    assert (result["accepted"], result["rejected"]) == (1, 3)
    by_index = {i["index"]: i for i in result["items"]}
    assert by_index[0]["ok"] and by_index[0]["key"] == "fn-newone1"
    assert by_index[1]["errors"][0]["code"] == "NOT_FOUND"
    bad_fields = {e["field"] for e in by_index[2]["errors"]}
    assert {"amount", "termMonths", "contactPhone"} <= bad_fields
    assert by_index[3]["errors"][0]["field"] == "id"
    # A need submitted without an id gets a new opaque one.
    fresh = {k: v for k, v in items[0].items() if k != "id"}
    data = await hb.ok(graph, SUBMIT, role=Role.OPERATOR, items=[fresh])
    key = data["submitFinancingNeeds"]["items"][0]["key"]
    assert key.startswith("fn-") and hb.P2 not in key


async def test_credit_is_totalled_by_region_and_bank(graph: FalkorDBStore) -> None:
    # Interest and consent for bank-a on N1 and bank-b on N2.
    for bank, need in (("bank-a", N1), ("bank-b", N2)):
        await hb.ok(
            graph,
            f'mutation {{ expressFinancingInterest(needId: "{need}") {{ id }} }}',
            role=Role.BANK,
            subject=bank,
        )
        await hb.ok(
            graph,
            f'mutation {{ respondToFinancingInterest(needId: "{need}", bankId: "{bank}", '
            "consent: true) { consent } }",
            role=Role.OPERATOR,
        )
    record = """mutation($items: [CreditInput!]!) { recordCredit(items: $items) {
      accepted rejected items { ok errors { code field } } } }"""
    # A bank records its own consented credit; not another bank's, nor an unconsented need.
    items = [
        {
            "needId": N1,
            "bankId": "bank-a",
            "granted": 3000,
            "disbursed": 1200,
            "grantedOn": "2025-06-12",
        },
        {"needId": N1, "bankId": "bank-b", "granted": 1, "grantedOn": "2025-06-12"},
        {"needId": N3, "bankId": "bank-a", "granted": 1, "grantedOn": "2025-06-12"},
        {"needId": N1, "bankId": "bank-a", "granted": 5, "disbursed": 9, "grantedOn": "2025-06-12"},
    ]
    data = await hb.ok(graph, record, role=Role.BANK, subject="bank-a", items=items)
    outcome = data["recordCredit"]
    assert (outcome["accepted"], outcome["rejected"]) == (1, 3)
    assert [i["errors"][0]["code"] if i["errors"] else None for i in outcome["items"]] == [
        None,
        "FORBIDDEN",
        "FORBIDDEN",
        "BAD_USER_INPUT",
    ]
    # Operators record for any bank: bank-b on N2, and bank-c on N3 (no consent needed here).
    more = [
        {
            "needId": N2,
            "bankId": "bank-b",
            "granted": 600,
            "disbursed": 600,
            "grantedOn": "2025-06-13",
        },
        {
            "needId": N3,
            "bankId": "bank-c",
            "granted": 8000,
            "disbursed": 0,
            "grantedOn": "2025-06-14",
        },
    ]
    data = await hb.ok(graph, record, role=Role.OPERATOR, items=more)
    assert data["recordCredit"]["accepted"] == 2
    # Recording the same need and bank again replaces the figures (not added twice).
    again = [{**items[0], "disbursed": 2000}]
    await hb.ok(graph, record, role=Role.OPERATOR, items=again)
    totals = """query($by: CreditGrouping!, $level: RegionLevel!) {
      creditTotals(by: $by, regionLevel: $level) { key name granted disbursed loans } }"""
    # Viewers get statistics: no group of fewer than 3 loans (each bank has one here), only
    # their sum, which covers 3.
    suppressed = {"key": "suppressed", "name": "3 groups of under 3 loans",
                  "granted": 11600.0, "disbursed": 2600.0, "loans": 3}  # fmt: skip
    data = await hb.ok(graph, totals, role=Role.VIEWER, by="BANK", level="CITY")
    assert data["creditTotals"] == [suppressed]
    data = await hb.ok(graph, totals, role=Role.VIEWER, by="REGION", level="CITY")
    assert data["creditTotals"] == [{**suppressed, "name": "2 groups of under 3 loans"}]
    # Operators see every cell.
    data = await hb.ok(graph, totals, role=Role.OPERATOR, by="BANK", level="CITY")
    assert data["creditTotals"] == [
        {"key": "bank-c", "name": "丙农商银行", "granted": 8000.0, "disbursed": 0.0, "loans": 1},
        {
            "key": "bank-a",
            "name": "甲银行杭州分行",
            "granted": 3000.0,
            "disbursed": 2000.0,
            "loans": 1,
        },
        {
            "key": "bank-b",
            "name": "乙银行宁波分行",
            "granted": 600.0,
            "disbursed": 600.0,
            "loans": 1,
        },
    ]
    data = await hb.ok(graph, totals, role=Role.OPERATOR, by="REGION", level="CITY")
    assert data["creditTotals"] == [
        {"key": "330100", "name": "杭州市", "granted": 11000.0, "disbursed": 2000.0, "loans": 2},
        {"key": "330200", "name": "宁波市", "granted": 600.0, "disbursed": 600.0, "loans": 1},
    ]
    data = await hb.ok(graph, totals, role=Role.VIEWER, by="REGION", level="PROVINCE")
    assert data["creditTotals"] == [
        {"key": "330000", "name": "浙江省", "granted": 11600.0, "disbursed": 2600.0, "loans": 3}
    ]
    # A bank sees only its own lending.
    data = await hb.ok(graph, totals, role=Role.BANK, subject="bank-b", by="REGION", level="CITY")
    assert data["creditTotals"] == [
        {"key": "330200", "name": "宁波市", "granted": 600.0, "disbursed": 600.0, "loans": 1}
    ]


async def test_opportunities_page_with_cursors_and_filters(graph: FalkorDBStore) -> None:
    query = """query($after: String, $where: FinancingOpportunityWhere) {
      financingOpportunities(first: 2, after: $after, where: $where) {
        totalCount pageInfo { hasNextPage endCursor } nodes { needId } } }"""
    first = await hb.ok(graph, query, role=Role.BANK, subject="bank-c", after=None, where=None)
    page = first["financingOpportunities"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    after = page["pageInfo"]["endCursor"]
    rest = await hb.ok(graph, query, role=Role.BANK, subject="bank-c", after=after, where=None)
    ids = [n["needId"] for n in page["nodes"] + rest["financingOpportunities"]["nodes"]]
    assert sorted(ids) == sorted([N1, N2, N3]) and len(set(ids)) == 3
    assert not rest["financingOpportunities"]["pageInfo"]["hasNextPage"]
    where = {"industry": "ic", "city": "330200"}
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-c", after=None, where=where)
    assert [n["needId"] for n in data["financingOpportunities"]["nodes"]] == [N2]
    # A cursor from another bank's list is refused.
    _, errors = await hb.run(
        graph, query, role=Role.BANK, subject="bank-a", after=after, where=None
    )
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]


# --- identity: Nodes and global ids --------------------------------------------------------

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on FinancingNeed { needId projectCode project { code } }
  ... on FinancingPreference { bankId } } }"""


async def test_needs_and_preferences_round_trip_through_node(graph: FalkorDBStore) -> None:
    query = "{ financingNeeds { nodes { id needId } } }"
    data = await hb.ok(graph, query, role=Role.OPERATOR)
    needs = data["financingNeeds"]["nodes"]
    assert [n["needId"] for n in needs] == [N1, N2, N3]
    for need in needs:
        found = (await hb.ok(graph, NODE, role=Role.OPERATOR, id=need["id"]))["node"]
        assert found["__typename"] == "FinancingNeed" and found["id"] == need["id"]
        assert found["needId"] == need["needId"] and found["project"]["code"] in (hb.P1, hb.P2)
    # A need's global id names it wherever a need is named, and filters by project take the
    # project's global id.
    project = f'{{ project(code: "{hb.P2}") {{ id }} }}'
    project_id = (await hb.ok(graph, project, role=Role.VIEWER))["project"]["id"]
    query = """query($p: String!) { financingNeeds(where: {projectCode: $p}) {
      nodes { needId } } }"""
    data = await hb.ok(graph, query, role=Role.OPERATOR, p=project_id)
    assert [n["needId"] for n in data["financingNeeds"]["nodes"]] == [N2]
    pref = """{ financingPreference(bankId: "bank-a") { id bankId } }"""
    found = (await hb.ok(graph, pref, role=Role.OPERATOR))["financingPreference"]
    again = (await hb.ok(graph, NODE, role=Role.OPERATOR, id=found["id"]))["node"]
    assert again == {"__typename": "FinancingPreference", "id": found["id"], "bankId": "bank-a"}


async def test_an_opportunity_has_its_own_id(graph: FalkorDBStore) -> None:
    query = "{ financingOpportunities { nodes { id needId } } }"
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-a")
    opportunities = {n["needId"]: n["id"] for n in data["financingOpportunities"]["nodes"]}
    data = await hb.ok(graph, "{ financingNeeds { nodes { id needId } } }", role=Role.OPERATOR)
    needs = {n["needId"]: n["id"] for n in data["financingNeeds"]["nodes"]}
    # Distinct ids: a normalized cache keeps the need and the bank's view of it apart.
    assert set(opportunities.values()).isdisjoint(needs.values())
    # The opportunity's id finds it again, and names its need in the bank's mutations.
    one = """query($id: ID!) { financingOpportunity(id: $id) { id needId } }"""
    data = await hb.ok(graph, one, role=Role.BANK, subject="bank-a", id=opportunities[N1])
    assert data["financingOpportunity"] == {"id": opportunities[N1], "needId": N1}
    interest = """mutation($id: ID!) { expressFinancingInterest(opportunity: $id) {
      id interest { consent expressedAt } } }"""
    data = await hb.ok(graph, interest, role=Role.BANK, subject="bank-a", id=opportunities[N1])
    done = data["expressFinancingInterest"]
    assert done["id"] == opportunities[N1] and done["interest"]["consent"] == "PENDING"
    assert done["interest"]["expressedAt"] == hb.NOW.astimezone(dt.UTC).isoformat()
    # The owner answers naming the need and the bank by their ids, in ID variables.
    bank = (await hb.ok(graph, '{ bank(key: "bank-a") { id } }', role=Role.OPERATOR))["bank"]
    respond = """mutation($need: ID!, $bank: ID!) {
      respondToFinancingInterest(need: $need, bank: $bank, consent: true) { consent } }"""
    data = await hb.ok(graph, respond, role=Role.OPERATOR, need=needs[N1], bank=bank["id"])
    assert data["respondToFinancingInterest"]["consent"] == "GRANTED"
    both = f"""mutation($need: ID!) {{ respondToFinancingInterest(need: $need, needId: "{N1}",
      bankId: "bank-a", consent: true) {{ consent }} }}"""
    _, errors = await hb.run(graph, both, role=Role.OPERATOR, need=needs[N1])
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]
    # The need's own id names it too; a global id of another type is refused, not looked up.
    data = await hb.ok(graph, one, role=Role.BANK, subject="bank-a", id=needs[N3])
    assert data["financingOpportunity"] == {"id": opportunities[N3], "needId": N3}
    pref_id = (
        await hb.ok(graph, "{ financingPreference { id } }", role=Role.BANK, subject="bank-a")
    )["financingPreference"]["id"]
    _, errors = await hb.run(graph, one, role=Role.BANK, subject="bank-a", id=pref_id)
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_node_reveals_no_more_than_the_financing_fields(graph: FalkorDBStore) -> None:
    data = await hb.ok(graph, "{ financingNeeds { nodes { id } } }", role=Role.OPERATOR)
    need_id = data["financingNeeds"]["nodes"][0]["id"]
    query = "{ financingOpportunities { nodes { id } } }"
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-a")
    opportunity_id = data["financingOpportunities"]["nodes"][0]["id"]
    # A bank finds its own opportunity again through node(id:), as financingOpportunity(id:)
    # gives it: the same fields, nothing more.
    mine = """query($id: ID!) { node(id: $id) { __typename id
      ... on FinancingOpportunity { needId amountBand { label } } } }"""
    found = await hb.ok(graph, mine, role=Role.BANK, subject="bank-a", id=opportunity_id)
    assert found["node"]["__typename"] == "FinancingOpportunity"
    assert found["node"]["id"] == opportunity_id and found["node"]["needId"] == N1
    # Another bank, not matched to that need, finds nothing.
    other, errors = await hb.run(graph, mine, role=Role.BANK, subject="bank-b", id=opportunity_id)
    assert other == {"node": None} and errors == []
    # The need in full stays hidden from every bank, and so does the general graph.
    graph_ids = await hb.ok(graph, "{ projects(first: 1) { nodes { id } } }", role=Role.OPERATOR)
    project_id = graph_ids["projects"]["nodes"][0]["id"]
    for global_id in (need_id, project_id):
        for bank in ("bank-a", "bank-b"):
            refused, errors = await hb.run(graph, NODE, role=Role.BANK, subject=bank, id=global_id)
            assert refused == {"node": None} and [e["code"] for e in errors] == ["FORBIDDEN"]
    # Viewers and promoters may not read needs in full, as through financingNeeds.
    for role in (Role.VIEWER, Role.PROMOTER):
        _, errors = await hb.run(graph, NODE, role=role, id=need_id)
        assert [e["code"] for e in errors] == ["FORBIDDEN"], role
    # An opportunity is a bank's view: no other role reads it through node(id:).
    _, errors = await hb.run(graph, NODE, role=Role.OPERATOR, id=opportunity_id)
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


async def test_opportunities_sort(graph: FalkorDBStore) -> None:
    query = """query($sort: [FinancingOpportunitySort!]) {
      financingOpportunities(sort: $sort) { nodes { needId score termMonths } } }"""
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-a", sort=None)
    assert [n["needId"] for n in data["financingOpportunities"]["nodes"]] == [N1, N3]
    by_term = [{"field": "TERM_MONTHS", "direction": "DESC"}]
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-a", sort=by_term)
    assert [n["termMonths"] for n in data["financingOpportunities"]["nodes"]] == [120, 36]
    # Equal scores (bank-c: 100 each) keep the default order, by need id.
    by_score = [{"field": "SCORE", "direction": "ASC"}]
    data = await hb.ok(graph, query, role=Role.BANK, subject="bank-c", sort=by_score)
    assert [n["needId"] for n in data["financingOpportunities"]["nodes"]] == [N1, N2, N3]
