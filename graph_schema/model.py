"""The graph model: one validated record type per entity, and the spec that maps it to the graph.

A record is what import files, mutations and the demo generator produce. Its plain fields become
node properties; its *link* fields (foreign keys such as ``owner_uscc``) become relationships to
other nodes. ``ENTITIES`` is the single table the statements, the importer and the exporter are
generated from, so adding a field here is the whole change.

Amounts are in 万元 (10,000 CNY), the unit of Chinese investment statistics. Dates are ISO
``YYYY-MM-DD`` strings in the graph, which sort and compare the same way in FalkorDB and Neo4j.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from graph_schema import geometry
from graph_schema.errors import InvalidRecord, Problem, UnstorableText, unstorable_text
from graph_schema.identifiers import (
    project_code_problem,
    region_code_problem,
    region_level,
    uscc_problem,
)
from graph_schema.periods import period_problem


class Term(StrEnum):
    """A stored string with the programme's term for it. The class docstring and each member's
    ``description`` are the API's documentation of the enum (hub.api.enums builds the GraphQL
    enums from them), so a new value is declared here once."""

    description: str

    def __new__(cls, value: str, description: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class Tier(Term):
    """Position of a segment along its industry chain."""

    UPSTREAM = "upstream", "上游: materials and parts."
    MIDSTREAM = "midstream", "中游: components and assembly."
    DOWNSTREAM = "downstream", "下游: products and services."


class RegionLevel(Term):
    """Administrative level of a region (GB/T 2260)."""

    PROVINCE = "province", "省: a province."
    CITY = "city", "市: a prefecture-level city."
    COUNTY = "county", "区/县/县级市: a county-level region."


class EnterpriseTag(Term):
    """Labels the programmes give enterprises."""

    CHAIN_LEADER = "chain_leader", "链主企业: chain leader."
    ABOVE_DESIGNATED_SIZE = (
        "above_designated_size",
        "规上企业: revenue above the statistical threshold.",
    )
    LITTLE_GIANT = "little_giant", '专精特新"小巨人": specialised little giant.'
    HIGH_TECH = "high_tech", "高新技术企业: high-tech enterprise."
    LISTED = "listed", "上市企业: listed company."


class ProjectStage(Term):
    """Where a project is in its life."""

    PLANNING = "planning", "谋划储备: planned, in the pool."
    PREPARATION = "preparation", "前期工作: approvals, land and financing under way."
    CONSTRUCTION = "construction", "施工建设: being built."
    COMPLETED = "completed", "竣工验收: completed."
    SUSPENDED = "suspended", "停缓建: stopped or slowed."


class ProjectKind(Term):
    """New start or continuing construction this year."""

    NEW = "new", "新开工: starts this year."
    CONTINUING = "continuing", "续建: started before."


class ProjectLevel(Term):
    """Which government's major-project list carries the project."""

    PROVINCIAL = "provincial", "省重大项目."
    CITY = "city", "市重大项目."
    COUNTY = "county", "县重大项目."


class LandUse(Term):
    """Planned use of a land parcel."""

    INDUSTRIAL = "industrial", "工业用地."
    WAREHOUSING = "warehousing", "仓储用地."
    COMMERCIAL = "commercial", "商服用地."
    INFRASTRUCTURE = "infrastructure", "交通与公用设施用地."
    PUBLIC_SERVICE = "public_service", "公共管理与公共服务用地."
    RESIDENTIAL = "residential", "住宅用地."


class BankKind(Term):
    """Kind of bank."""

    POLICY = "policy", "政策性银行."
    STATE_OWNED = "state_owned", "国有大型商业银行."
    JOINT_STOCK = "joint_stock", "股份制商业银行."
    CITY_COMMERCIAL = "city_commercial", "城市商业银行."
    RURAL = "rural", "农村商业银行/农信社."


def _checked(problem_of: Any) -> AfterValidator:
    def check(value: str) -> str:
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


RegionCode = Annotated[str, _checked(region_code_problem)]
Uscc = Annotated[str, _checked(uscc_problem)]
ProjectCode = Annotated[str, _checked(project_code_problem)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
SegmentId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}\.[a-z][a-z0-9_-]{0,47}$")]
# Parcel numbers vary by city; keep them printable and free of separators used in topics/CSV.
ParcelId = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.:-]{2,63}$")]
# A sensor's kind names its feed (``hub/v1/<kind>/<sensor_id>``). The feeds are declared once, in
# ``connectors.feeds``, which this layer does not import: the hub checks a kind against that
# table where sensors come in (GraphQL's SensorKind enum, bulk import); here it is a topic level.
FeedKind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
# Sensor ids appear in MQTT topics, so they exclude '/', '+', '#' and whitespace.
SensorId = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}$")]
BankId = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z_.:-]{1,63}$")]
IndustryCode = Annotated[str, Field(pattern=r"^\d{4}$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# 1e9 万元 is 10 万亿元, the size of Hubei's whole project database: a bound, not a target.
Amount = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Longitude = Annotated[float, Field(ge=73, le=136)]
Latitude = Annotated[float, Field(ge=3, le=54)]


class RecordProblems(ValueError):
    """Several cross-field problems of one record, each naming its field: a model validator
    raises it so that ``validate`` reports every one, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in problems))


def _report(problems: list[Problem]) -> None:
    if problems:
        raise RecordProblems(problems)


class Record(BaseModel):
    """Base of every entity record: strict about unknown fields, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        problem = unstorable_text(value)
        if problem is not None:
            raise PydanticCustomError(UnstorableText.code, problem)
        return value

    # Filled by ``EntitySpec``; keeps the record and its graph mapping side by side.
    entity: ClassVar[str]
    # The fields a derived key ``id`` is made of ("/"-joined); empty when the key is given.
    key_parts: ClassVar[tuple[str, ...]] = ()

    def key(self) -> str:
        return str(getattr(self, SPECS_BY_RECORD[type(self)].key))


class Region(Record):
    entity = "region"
    code: RegionCode = Field(description="GB/T 2260 six-digit division code.")
    name: Name = Field(description="Chinese name, e.g. 杭州市.")
    name_en: str | None = Field(default=None, max_length=200, description="English name.")
    level: RegionLevel = Field(description="province, city or county; must match the code.")
    parent_code: RegionCode | None = Field(default=None, description="Code of the parent region.")
    lon: Longitude | None = Field(default=None, description="Longitude of the seat of government.")
    lat: Latitude | None = Field(default=None, description="Latitude of the seat of government.")

    @model_validator(mode="after")
    def _consistent(self) -> Region:
        problems: list[Problem] = []
        if self.level != region_level(self.code):
            problems.append(Problem("level", f"level {self.level} does not match code {self.code}"))
        if self.level is RegionLevel.PROVINCE:
            if self.parent_code is not None:
                problems.append(Problem("parent_code", "a province has no parent"))
        elif self.parent_code is None:
            problems.append(Problem("parent_code", f"a {self.level} needs parent_code"))
        elif self.parent_code[:2] != self.code[:2] or self.parent_code == self.code:
            problems.append(
                Problem("parent_code", "parent_code must be a higher region in the same province")
            )
        if (self.lon is None) != (self.lat is None):
            missing = "lon" if self.lon is None else "lat"
            problems.append(Problem(missing, "lon and lat go together"))
        _report(problems)
        return self


class IndustryChain(Record):
    entity = "chain"
    id: Slug = Field(description="Short stable id, e.g. nev.")
    name: Name
    name_en: str | None = Field(default=None, max_length=200)
    industry_codes: list[IndustryCode] = Field(
        default_factory=list, description="GB/T 4754-2017 classes the chain covers."
    )


class ChainSegment(Record):
    entity = "segment"
    id: SegmentId = Field(description="'<chain id>.<segment slug>', e.g. nev.cathode.")
    chain_id: Slug
    name: Name
    name_en: str | None = Field(default=None, max_length=200)
    tier: Tier
    position: Count = Field(default=0, description="Order within the tier, for drawing.")
    industry_codes: list[IndustryCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _in_chain(self) -> ChainSegment:
        if self.id.split(".", 1)[0] != self.chain_id:
            message = f"id {self.id} must start with its chain id {self.chain_id}."
            _report([Problem("chain_id", message)])
        return self


class Supply(Record):
    """A SUPPLIES edge: the upstream segment feeds the downstream one (may cross chains)."""

    entity = "supply"
    from_segment: SegmentId
    to_segment: SegmentId

    @model_validator(mode="after")
    def _distinct(self) -> Supply:
        if self.from_segment == self.to_segment:
            raise ValueError("a segment cannot supply itself")
        return self

    def key(self) -> str:
        return f"{self.from_segment}>{self.to_segment}"


class Product(Record):
    entity = "product"
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{1,95}$")]
    name: Name
    segment_id: SegmentId


class Enterprise(Record):
    entity = "enterprise"
    uscc: Uscc = Field(description="Unified social credit code (GB 32100-2015).")
    name: Name
    region_code: RegionCode
    segment_ids: list[SegmentId] = Field(default_factory=list)
    product_ids: list[str] = Field(default_factory=list)
    tags: list[EnterpriseTag] = Field(default_factory=list)
    output: Amount = Field(default=0, description="Annual output value, 万元.")
    employees: Count = 0
    patents: Count = 0
    founded: dt.date | None = None
    output_growth: float | None = Field(
        default=None, ge=-100, le=10_000, description="Year-on-year output growth, %."
    )

    @field_validator("tags", "segment_ids", "product_ids")
    @classmethod
    def _unique(cls, value: list[Any]) -> list[Any]:
        return sorted(set(value))


class LandParcel(Record):
    entity = "parcel"
    id: ParcelId = Field(description="Parcel number (宗地编号).")
    region_code: RegionCode
    use: LandUse
    area_m2: Annotated[float, Field(gt=0, le=1e8)]
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, lon/lat.")

    @field_validator("geometry")
    @classmethod
    def _valid_geometry(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = geometry.geometry_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _area_matches(self) -> LandParcel:
        # Surveyed area and polygon area differ by rounding and projection, not by half.
        drawn = geometry.area_m2(self.geometry)
        if not 0.5 <= self.area_m2 / drawn <= 2.0:
            message = f"area_m2 {self.area_m2:.0f} is far from the polygon's {drawn:.0f}"
            _report([Problem("area_m2", message)])
        return self


class Project(Record):
    entity = "project"
    code: ProjectCode = Field(description="National investment-project code (GB/T 40058-2021).")
    name: Name
    owner_uscc: Uscc
    region_code: RegionCode
    segment_ids: list[SegmentId] = Field(default_factory=list)
    parcel_ids: list[ParcelId] = Field(default_factory=list)
    stage: ProjectStage
    kind: ProjectKind
    level: ProjectLevel
    leader_project: bool = Field(default=False, description="Tracked by a provincial leader.")
    total_investment: Amount
    annual_plan_investment: Amount = Field(default=0, description="This year's plan, 万元.")
    completed_investment: Amount = Field(default=0, description="Cumulative, 万元.")
    year_completed_investment: Amount = Field(default=0, description="Completed this year, 万元.")
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None
    permit_date: dt.date | None = Field(default=None, description="Construction permit issued.")

    @field_validator("segment_ids", "parcel_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> Project:
        problems: list[Problem] = []
        if self.annual_plan_investment > self.total_investment:
            message = "annual_plan_investment exceeds total_investment"
            problems.append(Problem("annual_plan_investment", message))
        if self.year_completed_investment > self.completed_investment:
            message = "year_completed_investment exceeds completed_investment"
            problems.append(Problem("year_completed_investment", message))
        for first, then in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            a, b = getattr(self, first), getattr(self, then)
            if a is not None and b is not None and b < a:
                problems.append(Problem(then, f"{then} {b} is before {first} {a}"))
        if self.code[5:11] != self.region_code and self.code[5:7] != self.region_code[:2]:
            message = "project code's region part is in another province"
            problems.append(Problem("region_code", message))
        started = self.stage in (ProjectStage.CONSTRUCTION, ProjectStage.COMPLETED)
        if started and self.actual_start is None:
            problems.append(Problem("actual_start", f"stage {self.stage} needs actual_start"))
        if self.stage is ProjectStage.COMPLETED and self.actual_end is None:
            problems.append(Problem("actual_end", "stage completed needs actual_end"))
        _report(problems)
        return self


class Bank(Record):
    entity = "bank"
    id: BankId
    name: Name
    kind: BankKind
    region_code: RegionCode


Polygon = Annotated[
    list[Annotated[list[float], Field(min_length=2, max_length=2)]],
    Field(min_length=3, max_length=64, description="[[x, y], ...], shares 0..1 of the frame."),
]


class CameraSource(Term):
    """How a camera is read."""

    STREAM = "stream", "Video file, RTSP, HTTP or MJPEG stream, read continuously."
    SNAPSHOT = "snapshot", "JPEG snapshot URL, polled at fps."


class CameraConfig(BaseModel):
    """How a camera sensor is read and analysed (stored on its Sensor node as JSON text)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    url: str = Field(min_length=1, max_length=2000, description="File path, rtsp://, http(s)://.")
    source: CameraSource = Field(default=CameraSource.STREAM, description="stream or snapshot.")
    fps: float = Field(default=2.0, gt=0, le=30, description="Frames analysed per second.")
    interval_s: float = Field(
        default=60.0, ge=1, le=3600, description="Seconds per camera observation."
    )
    masks: list[Polygon] = Field(
        default_factory=list, max_length=32, description="Areas to ignore (road, trees, sky)."
    )
    zones: list[Polygon] = Field(
        default_factory=list, max_length=32, description="Site areas watched; none: all."
    )
    persons: bool = Field(default=False, description="Count people (a CNN detector on the CPU).")
    persons_every_s: float = Field(
        default=5.0, ge=0.5, le=3600, description="Seconds between two looks for people."
    )
    person_tile: int = Field(
        default=320, ge=64, le=4096, description="Tile side, px, the people detector looks at."
    )
    motion_threshold: int = Field(default=30, ge=1, le=255, description="Luma change that moves.")
    min_object: float = Field(default=0.0005, gt=0, le=1, description="Smallest object, share.")
    large_object: float = Field(default=0.02, gt=0, le=1, description="Machinery from, share.")
    min_active: float = Field(default=0.001, gt=0, le=1, description="Moving share: active.")
    motion_on_s: float = Field(default=1.0, ge=0, le=600, description="Activity before ON, s.")
    motion_off_s: float = Field(default=30.0, ge=0, le=3600, description="Calm before OFF, s.")
    dark_luma: float = Field(default=35.0, ge=0, le=255, description="Mean luma below: dark.")
    bright_luma: float = Field(default=225.0, ge=0, le=255, description="Above: overexposed.")
    blur_var: float = Field(default=30.0, ge=0, description="Laplacian variance below: blurred.")
    offline_s: float = Field(default=30.0, gt=0, le=86400, description="No frames: offline, s.")
    moved_shift: float = Field(
        default=0.075, gt=0, le=1, description="View shifted by this share of its width: moved."
    )
    moved_angle: float = Field(default=5.0, gt=0, le=180, description="View turned, degrees.")
    moved_zoom: float = Field(default=0.15, gt=0, le=10, description="View zoomed by this share.")

    @field_validator("masks", "zones")
    @classmethod
    def _polygons(cls, value: list[list[list[float]]]) -> list[list[list[float]]]:
        for i, poly in enumerate(value):
            problem = geometry.relative_polygon_problem(poly)
            if problem is not None:
                raise ValueError(f"polygon {i}: {problem}")
        return value

    @model_validator(mode="after")
    def _levels(self) -> CameraConfig:
        if self.dark_luma >= self.bright_luma:
            _report([Problem("dark_luma", "dark_luma must be below bright_luma")])
        return self


class Sensor(Record):
    entity = "sensor"
    id: SensorId
    kind: FeedKind
    project_code: ProjectCode
    name: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=16, description="e.g. kWh, person.")
    stale_after_s: float | None = Field(
        default=None,
        gt=0,
        le=90 * 86400,
        description="Silence after which the sensor is stale, s (satellites: days).",
    )
    camera: CameraConfig | None = Field(
        default=None, description="Cameras: stream, sampling, masks, zones, thresholds."
    )


# Names of the project lists the hub derives from project properties; a stored list cannot
# take one of them (see hub.promotion.scoreboard for what each holds).
BUILT_IN_PROJECT_LISTS: Final = ("all", "leaders", "provincial", "city", "county")


class ProjectList(Record):
    """A named list of projects kept by operators, e.g. one leader's follow-up list."""

    entity = "project_list"
    id: Slug = Field(description="Short stable id, e.g. spring-signing.")
    name: Name
    description: str | None = Field(default=None, max_length=1000)
    project_codes: list[ProjectCode] = Field(
        default_factory=list, max_length=100_000, description="The projects on the list."
    )

    @field_validator("id")
    @classmethod
    def _not_built_in(cls, value: str) -> str:
        if value in BUILT_IN_PROJECT_LISTS:
            raise ValueError(f"{value} is a built-in list")
        return value

    @field_validator("project_codes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


PeriodName = Annotated[str, _checked(period_problem)]


def derived_key(data: dict[str, Any], parts: tuple[str, ...]) -> str:
    """The key made of ``parts`` ("-" for a part left out)."""
    values = [data.get(f) for f in parts]
    return "/".join(str(v).strip() if v not in (None, "") else "-" for v in values)


def _derived_id(data: Any, parts: tuple[str, ...]) -> Any:
    if not isinstance(data, dict):
        return data
    derived = derived_key(data, parts)
    given = data.get("id")
    if given not in (None, "") and str(given).strip() != derived:
        raise ValueError(f"id {given} does not match its parts ({derived})")
    return {**data, "id": derived}


class ChainStat(Record):
    """Reported figures of one chain (or one of its segments) in one region for one period.

    The key ``id`` is derived, ``<chain>/<segment or ->/<region>/<period>``, so importing the
    same row again finds the same node. Figures are stored as reported: a city's row is not
    the sum of its counties' rows."""

    entity = "chain_stat"
    key_parts = ("chain_id", "segment_id", "region_code", "period")
    id: str = Field(default="", description="Derived key; may be left out.")
    chain_id: Slug
    segment_id: SegmentId | None = Field(default=None, description="None: the whole chain.")
    region_code: RegionCode
    period: PeriodName = Field(description="YYYY, YYYY-Qn or YYYY-MM.")
    output: Amount | None = Field(default=None, description="Output value, 万元.")
    project_count: Count | None = Field(default=None, description="Projects under way.")
    employment: Count | None = Field(default=None, description="People employed.")
    patents: Count | None = Field(default=None, description="Patents held.")

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        return _derived_id(data, cls.key_parts)

    @model_validator(mode="after")
    def _consistent(self) -> ChainStat:
        problems: list[Problem] = []
        if self.segment_id is not None and self.segment_id.split(".", 1)[0] != self.chain_id:
            message = f"segment {self.segment_id} is not in chain {self.chain_id}"
            problems.append(Problem("segment_id", message))
        figures = (self.output, self.project_count, self.employment, self.patents)
        if all(f is None for f in figures):
            message = "give at least one of output, project_count, employment, patents"
            problems.append(Problem("", message))
        _report(problems)
        return self


class Frequency(Term):
    """How often an indicator is reported."""

    MONTHLY = "monthly", "Periods YYYY-MM."
    QUARTERLY = "quarterly", "Periods YYYY-Qn."
    ANNUAL = "annual", "Periods YYYY."


def frequency_of(period: str) -> Frequency:
    """The frequency a period name belongs to: 2025-06 monthly, 2025-Q2 quarterly, 2025 annual."""
    if len(period) == 4:
        return Frequency.ANNUAL
    return Frequency.QUARTERLY if period[5] == "Q" else Frequency.MONTHLY


class Polarity(Term):
    """Which way an indicator reads."""

    POSITIVE = "positive", "Higher is hotter (barometer) and better (race, targets)."
    NEGATIVE = "negative", "Higher is cooler and worse, e.g. months of unsold housing."


class TargetBasis(Term):
    """What a yearly target is."""

    LEVEL = "level", "A rate or level to reach; the latest value of the year counts."
    TOTAL = "total", "An amount for the year; the year's values add up (序时进度 applies)."


IndicatorId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Weight = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]
# Indicator values: growth rates, indices, amounts; bounded only to keep out nonsense.
Figure = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]


class Indicator(Record):
    """A statistical indicator tracked per region: its unit, frequency and how to read it.

    ``barometer_weight`` puts it in the investment barometer, ``race_weight`` in the quarterly
    race (none: not in it); the weights are defaults a query may override."""

    entity = "indicator"
    id: IndicatorId = Field(description="Stable id, e.g. loan_balance_growth.")
    name: Name = Field(description="Chinese name, e.g. 本外币贷款余额增速.")
    name_en: str | None = Field(default=None, max_length=200)
    unit: str = Field(min_length=1, max_length=16, description="e.g. %, 亿元, 点.")
    frequency: Frequency
    polarity: Polarity = Field(default=Polarity.POSITIVE)
    barometer_weight: Weight | None = Field(default=None, description="Weight in the barometer.")
    race_weight: Weight | None = Field(default=None, description="Weight in the regional race.")
    description: str | None = Field(default=None, max_length=1000)


class IndicatorValue(Record):
    """One indicator's value in one region for one period of the indicator's frequency.

    The key ``id`` is derived, ``<indicator>/<region>/<period>``; whether the period matches
    the indicator's frequency is checked against the graph when the value is written."""

    entity = "indicator_value"
    key_parts = ("indicator_id", "region_code", "period")
    id: str = Field(default="", description="Derived key; may be left out.")
    indicator_id: IndicatorId
    region_code: RegionCode
    period: PeriodName = Field(description="YYYY, YYYY-Qn or YYYY-MM.")
    value: Figure

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        return _derived_id(data, cls.key_parts)


class IndicatorTarget(Record):
    """A yearly target for one indicator in one region (key ``<indicator>/<region>/<year>``)."""

    entity = "indicator_target"
    key_parts = ("indicator_id", "region_code", "year")
    id: str = Field(default="", description="Derived key; may be left out.")
    indicator_id: IndicatorId
    region_code: RegionCode
    year: Annotated[int, Field(ge=1900, le=2200)]
    target: Figure
    basis: TargetBasis = Field(default=TargetBasis.LEVEL)

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        return _derived_id(data, cls.key_parts)


@dataclass(frozen=True, slots=True)
class Link:
    """A record field that becomes relationships: ``(record)-[type]->(target {target key})``."""

    field: str
    type: str
    target: str  # entity name
    many: bool = False


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """How one record type maps onto the graph."""

    name: str
    label: str
    key: str
    record: type[Record]
    links: tuple[Link, ...] = ()
    # Properties stored as JSON text because graph properties cannot hold maps.
    json_fields: tuple[str, ...] = ()
    # Derived from the above once (a bulk import asks for them for every row).
    link_fields: frozenset[str] = field(init=False, repr=False, compare=False)
    property_fields: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        links = frozenset(link.field for link in self.links)
        object.__setattr__(self, "link_fields", links)
        fields = tuple(f for f in self.record.model_fields if f not in links)
        object.__setattr__(self, "property_fields", fields)


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    """A relationship-only record type, e.g. SUPPLIES between segments."""

    name: str
    relationship: str
    record: type[Record]
    source: str
    source_field: str
    target: str
    target_field: str


ENTITIES: Final[tuple[EntitySpec, ...]] = (
    EntitySpec("region", "Region", "code", Region, (Link("parent_code", "PART_OF", "region"),)),
    EntitySpec("chain", "IndustryChain", "id", IndustryChain),
    EntitySpec(
        "segment", "ChainSegment", "id", ChainSegment, (Link("chain_id", "PART_OF", "chain"),)
    ),
    EntitySpec("product", "Product", "id", Product, (Link("segment_id", "IN_SEGMENT", "segment"),)),
    EntitySpec(
        "enterprise",
        "Enterprise",
        "uscc",
        Enterprise,
        (
            Link("region_code", "LOCATED_IN", "region"),
            Link("segment_ids", "IN_SEGMENT", "segment", many=True),
            Link("product_ids", "MAKES", "product", many=True),
        ),
    ),
    EntitySpec(
        "parcel",
        "LandParcel",
        "id",
        LandParcel,
        (Link("region_code", "LOCATED_IN", "region"),),
        json_fields=("geometry",),
    ),
    EntitySpec(
        "project",
        "Project",
        "code",
        Project,
        (
            Link("owner_uscc", "OWNED_BY", "enterprise"),
            Link("region_code", "LOCATED_IN", "region"),
            Link("segment_ids", "BUILDS_IN", "segment", many=True),
            Link("parcel_ids", "ON_PARCEL", "parcel", many=True),
        ),
    ),
    EntitySpec("bank", "Bank", "id", Bank, (Link("region_code", "LOCATED_IN", "region"),)),
    EntitySpec(
        "sensor",
        "Sensor",
        "id",
        Sensor,
        (Link("project_code", "MONITORS", "project"),),
        json_fields=("camera",),
    ),
    EntitySpec(
        "project_list",
        "ProjectList",
        "id",
        ProjectList,
        (Link("project_codes", "INCLUDES", "project", many=True),),
    ),
    EntitySpec(
        "chain_stat",
        "ChainStat",
        "id",
        ChainStat,
        (
            Link("chain_id", "OF_CHAIN", "chain"),
            Link("segment_id", "OF_SEGMENT", "segment"),
            Link("region_code", "FOR_REGION", "region"),
        ),
    ),
    EntitySpec("indicator", "Indicator", "id", Indicator),
    EntitySpec(
        "indicator_value",
        "IndicatorValue",
        "id",
        IndicatorValue,
        (
            Link("indicator_id", "OF_INDICATOR", "indicator"),
            Link("region_code", "FOR_REGION", "region"),
        ),
    ),
    EntitySpec(
        "indicator_target",
        "IndicatorTarget",
        "id",
        IndicatorTarget,
        (
            Link("indicator_id", "OF_INDICATOR", "indicator"),
            Link("region_code", "FOR_REGION", "region"),
        ),
    ),
)
EDGES: Final[tuple[EdgeSpec, ...]] = (
    EdgeSpec("supply", "SUPPLIES", Supply, "segment", "from_segment", "segment", "to_segment"),
)
SPECS: Final = {spec.name: spec for spec in ENTITIES}
EDGE_SPECS: Final = {spec.name: spec for spec in EDGES}
SPECS_BY_RECORD: Final[dict[type[Record], Any]] = {
    **{spec.record: spec for spec in ENTITIES},
    **{spec.record: spec for spec in EDGES},
}
# Import order: every link points at an entity loaded earlier.
LOAD_ORDER: Final = (
    "region",
    "chain",
    "segment",
    "supply",
    "product",
    "enterprise",
    "parcel",
    "project",
    "bank",
    "sensor",
    "project_list",
    "chain_stat",
    "indicator",
    "indicator_value",
    "indicator_target",
)


def validate(entity: str, data: dict[str, Any]) -> Record:
    """Validate one raw record; raise ``InvalidRecord`` with every problem found."""
    record_type = (SPECS[entity] if entity in SPECS else EDGE_SPECS[entity]).record
    try:
        return record_type.model_validate(data)
    except ValidationError as exc:
        key_field = SPECS[entity].key if entity in SPECS else None
        key = data.get(key_field) if key_field else None
        problems = pydantic_problems(exc)
        raise InvalidRecord(entity, str(key) if key is not None else None, problems) from None


def pydantic_problems(exc: ValidationError) -> list[Problem]:
    """Every problem of a pydantic validation error, each with its field (dotted path)."""
    return [problem for err in exc.errors() for problem in _problems(err)]


def _problems(err: Any) -> list[Problem]:
    """The problems of one pydantic error: one, or each of a ``RecordProblems``."""
    path = ".".join(str(p) for p in err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, RecordProblems):
        return [
            Problem(".".join(x for x in (path, p.field) if x), p.message, p.code)
            for p in cause.problems
        ]
    code = UnstorableText.code if err["type"] == UnstorableText.code else None
    return [Problem(path, _message(err), code)]


def _message(err: Any) -> str:
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def to_properties(spec: EntitySpec, record: Record) -> dict[str, Any]:
    """The node properties of a record, in graph-portable types (no maps, ISO dates)."""
    props: dict[str, Any] = {}
    for name in spec.property_fields:
        value = getattr(record, name)
        if name in spec.json_fields and value is not None:
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json")
            value = geometry.dumps(value)
        props[name] = _portable(value)
    if spec.name == "parcel":
        lon, lat = geometry.centroid(getattr(record, "geometry"))  # noqa: B009
        props["lon"], props["lat"] = lon, lat
    return props


def _portable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list):
        return [_portable(v) for v in value]
    return value


def link_targets(link: Link, record: Record) -> list[str]:
    value = getattr(record, link.field)
    if value is None:
        return []
    return list(value) if link.many else [value]


# Derived properties written beside the record's own (not part of the record on export).
DERIVED_PROPERTIES: Final = {"parcel": ("lon", "lat")}
