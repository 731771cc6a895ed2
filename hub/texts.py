"""Texts as data: what the hub says is a stable code plus parameters, rendered per language.

Alerts (and the reasons behind them) carry ``code`` and ``params``; the API returns both and a
``message`` rendered in the request's language (``Accept-Language``: zh-CN by default, en).
A code without a template renders as the code itself with its parameters, so nothing is lost
and nothing crashes on a text the catalog does not know yet.

Templates use ``str.format`` fields named after parameters; a few parameters are rendered
before formatting (``_PREPARE``): durations in seconds get units of the language, stages,
feeds and camera faults their names, lists are joined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Final

from connectors import feeds


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


DEFAULT: Final = Lang.ZH


def language(accept: str | None) -> Lang:
    """The language of an ``Accept-Language`` header: the first of zh or en by quality;
    zh-CN when neither is asked for (the console's users read Chinese)."""
    if not accept:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        rest = rest.strip()
        if rest.startswith("q="):
            try:
                q = float(rest[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return Lang.ZH
        if tag.startswith("en"):
            return Lang.EN
    return DEFAULT


STAGES: Final = {
    "planning": ("谋划储备", "planning"),
    "preparation": ("前期工作", "preparation"),
    "construction": ("施工建设", "construction"),
    "completed": ("竣工验收", "completed"),
    "suspended": ("停缓建", "suspended"),
}
FEEDS: Final = {f.kind: (f.name_zh, f.kind) for f in feeds.FEEDS}
CAMERA_FAULTS: Final = {
    1: ("离线", "offline"),
    2: ("画面冻结", "frozen"),
    3: ("画面过暗", "dark"),
    4: ("过曝", "overexposed"),
    5: ("模糊", "blurred"),
    6: ("遮挡或破坏", "tampered"),
    7: ("被移动", "moved"),
    8: ("损坏", "damaged"),
}
CHANGE_STATES: Final = {1: ("发现", "detected"), 2: ("确认", "confirmed")}
SATELLITE_REASONS: Final = {
    "WHILE_SUSPENDED": ("项目上报为停缓建", "the project is reported suspended"),
    "AFTER_COMPLETION": ("项目上报已于此前竣工", "the project is reported completed before it"),
    "BEFORE_REPORTED_START": ("上报开工日期晚于此", "the reported start is later"),
    "REPORTED_STANDSTILL": ("当月上报完成投资为零", "no investment was reported for the month"),
}

# Verification mismatches without the project's name (the project is named around them: MPI
# drill-downs, the verificationMismatches list); alerts put "{project}: " before these.
MISMATCH_DETAILS: Final[dict[str, tuple[str, str]]] = {
    "NO_ACTIVITY": (
        "上报施工建设，但 {first} 至 {last} 的 {days} 天里{feeds}均无活动",
        "reported under construction, but {feeds} showed no activity on any of the "
        "{days} days from {first} to {last}",
    ),
    "INVESTMENT_JUMP": (
        "{month} 上报完成投资 {amount} 万元，为此前月份中位数 {median} 的 {ratio} 倍，"
        "但当月 {days} 个观测日中仅 {active_share} 为施工状态",
        "reported {amount} 万元 in {month}, {ratio}× the median {median} of earlier "
        "months, but only {active_share} of that month's {days} observed days were ACTIVE",
    ),
    "SATELLITE_CONSTRUCTION": (
        "上报未开工（{stage}），但卫星在 {day} 发现地块有施工变化",
        "reported not started ({stage}), but the satellite shows construction on its "
        "parcel on {day}",
    ),
}
ENTERPRISE_TAGS: Final = {
    "chain_leader": ("链主企业", "chain leader"),
    "listed": ("上市企业", "listed"),
    "little_giant": ("专精特新“小巨人”", "little giant"),
    "high_tech": ("高新技术企业", "high-tech"),
    "above_designated_size": ("规上企业", "above designated size"),
}

# code -> (zh, en)
TEMPLATES: Final[dict[str, tuple[str, str]]] = {
    "FEED_STALE": (
        "{kind}传感器 {sensor} 已 {silent} 无数据（超时 {timeout}）",
        "{kind} sensor {sensor} silent for {silent} (timeout {timeout})",
    ),
    "PROJECT_IDLE": (
        "{project}：施工建设中，已连续 {days} 天停工",
        "{project}: under construction, IDLE for {days} days",
    ),
    "CAMERA_HEALTH": (
        "摄像头 {camera}：{fault}，始于 {since}",
        "camera {camera}: {fault} since {since}",
    ),
    "SATELLITE_CHANGE": (
        "卫星 {sensor}：{day} {state}地块变化，但{reason}（{stage}）",
        "satellite {sensor}: change {state} on {day}, but {reason} ({stage})",
    ),
    "CASE_OPENED": (
        "督办：项目 {project} 已交 {unit}（{person}）整改，{level}级督办，{deadline} 前回复",
        "Supervision: project {project} assigned to {unit} ({person}) at {level} level, reply "
        "by {deadline}",
    ),
    "CASE_ESCALATED": (
        "督办升级：项目 {project} 逾期未回复，升至{level}级督办，{deadline} 前回复",
        "Supervision escalated: project {project} missed its deadline, now at {level} level, "
        "reply by {deadline}",
    ),
    "CASE_REPLIED": (
        "督办回复：项目 {project} 的 {unit} 已提交整改回复",
        "Supervision reply: {unit} replied for project {project}",
    ),
    "CASE_CLOSED": ("督办办结：项目 {project}", "Supervision closed: project {project}"),
    "CASE_REOPENED": (
        "督办重启：项目 {project}，{deadline} 前回复",
        "Supervision reopened: project {project}, reply by {deadline}",
    ),
    "LAND_NODE_OVERDUE": (
        "{project}：{count} 个用地节点逾期（{nodes}）",
        "{project}: {count} land nodes overdue ({nodes})",
    ),
    # Why a chain segment is a chokepoint (hub.promotion.chains.judge), one code per rule that
    # holds.
    "CHOKEPOINT_FEW_LOCAL": (
        "本地企业 {count} 家，少于最低 {minimum} 家",
        "{count} local enterprises, fewer than the minimum of {minimum}",
    ),
    "CHOKEPOINT_FEW_AGAINST_PEERS": (
        "本地企业 {count} 家，同级地区中位数为 {median} 家（门槛：中位数 × {ratio}）",
        "{count} local enterprises against a median of {median} in peer regions "
        "(bar: {ratio} × median)",
    ),
    "CHOKEPOINT_DEMAND_OUTSIDE": (
        "本地产值只满足本地下游需求的 {covered}，{external} 来自外地",
        "local output covers {covered} of local downstream demand; {external} comes from outside",
    ),
    "CHOKEPOINT_SINGLE_SUPPLIER": (
        "最大的本地供应商占本地产值的 {top}",
        "the largest local supplier makes {top} of local output",
    ),
    # What a target enterprise's score rests on (hub.promotion.chains.rank_targets).
    "TARGET_OUTPUT": ("产值 {amount} 万元", "output {amount} 万元"),
    "TARGET_PATENTS": ("专利 {count} 项", "{count} patents"),
    "TARGET_TAG": ("{tag}", "tagged {tag}"),
    "TARGET_GROWTH": ("产值年增长 {growth}%", "output growth {growth}% a year"),
    # Why a project counts or not for an MPI rate (hub.monitoring.mpi.contributions).
    "MPI_SUSPENDED": ("上报为停缓建", "reported suspended"),
    "MPI_POWER": (
        "{days} 天中有 {n} 天用电达到基线的 {share} 以上",
        "power at or above {share} of baseline on {n} of {days} days",
    ),
    "MPI_ACTIVITY": (
        "无用电数据；{days} 个观测日中有 {n} 天为施工状态",
        "no power readings; ACTIVE on {n} of {days} observed days",
    ),
    "MPI_NO_EVIDENCE": ("无监测证据；上报为{stage}", "no evidence; reported {stage}"),
    "MPI_STARTED": (
        "计划 {planned} 开工，已于 {started} 开工",
        "planned {planned}, started {started}",
    ),
    "MPI_NOT_STARTED": ("计划 {planned} 开工，尚未开工", "planned {planned}, not started"),
    "MPI_COMPLETION": ("完成 {done} 万元，年度计划 {plan} 万元", "{done} of {plan} 万元"),
    "MPI_AGREES": ("{days} 天的监测证据与上报一致", "evidence on {days} days agrees"),
    "MPI_MISMATCH": ("{mismatches}", "{mismatches}"),
}
for _kind, (_zh, _en) in MISMATCH_DETAILS.items():
    TEMPLATES[f"MISMATCH_{_kind}"] = ("{project}：" + _zh, "{project}: " + _en)
    TEMPLATES[f"MISMATCH_{_kind}_DETAIL"] = (_zh, _en)


def _span(seconds: Any, lang: Lang) -> str:
    s = float(seconds)
    units = (("天", "d"), ("小时", "h"), ("分钟", "min"), ("秒", "s"))
    if s >= 86400:
        value, unit = f"{s / 86400:.1f}", units[0]
    elif s >= 3600:
        value, unit = f"{s / 3600:.1f}", units[1]
    elif s >= 60:
        value, unit = f"{s / 60:.0f}", units[2]
    else:
        value, unit = f"{s:.0f}", units[3]
    return f"{value} {unit[0] if lang is Lang.ZH else unit[1]}"


def _pick(table: Mapping[Any, tuple[str, str]], key: Any, lang: Lang) -> str:
    found = table.get(key)
    return str(key) if found is None else found[0 if lang is Lang.ZH else 1]


def _nodes(nodes: Any, lang: Lang) -> str:
    sep, day = ("；", "{name} 逾期 {days} 天") if lang is Lang.ZH else ("; ", "{name} {days} d")
    return sep.join(
        day.format(name=n.get("name", n.get("node", "")), days=n.get("days_overdue", ""))
        for n in nodes or []
    )


def _share(value: Any, lang: Lang) -> str:
    return f"{float(value):.0%}"


def _mismatches(found: Any, lang: Lang) -> str:
    """Mismatches given as ``[{"kind": ..., "params": {...}}]``, each rendered, joined."""
    sep = "；" if lang is Lang.ZH else "; "
    return sep.join(
        render(f"MISMATCH_{m.get('kind')}_DETAIL", m.get("params") or {}, lang) for m in found or []
    )


LEVELS: Final = {"county": ("县", "county"), "city": ("市", "city"), "province": ("省", "province")}

_PREPARE: Final[dict[str, Callable[[Any, Lang], str]]] = {
    "level": lambda v, lang: _pick(LEVELS, v, lang),
    "silent": _span,
    "timeout": _span,
    "kind": lambda v, lang: _pick(FEEDS, v, lang),
    "stage": lambda v, lang: _pick(STAGES, v, lang),
    "feeds": lambda v, lang: ("、" if lang is Lang.ZH else ", ").join(
        _pick(FEEDS, f, lang) for f in v
    ),
    "fault": lambda v, lang: _pick(CAMERA_FAULTS, int(v), lang),
    "reason": lambda v, lang: _pick(SATELLITE_REASONS, v, lang),
    "state": lambda v, lang: _pick(CHANGE_STATES, 2 if int(v) >= 2 else 1, lang),
    "nodes": _nodes,
    "active_share": lambda v, lang: f"{float(v):.0%}",
    "tag": lambda v, lang: _pick(ENTERPRISE_TAGS, v, lang),
    "covered": _share,
    "external": _share,
    "top": _share,
    "share": _share,
    "mismatches": _mismatches,
    "done": lambda v, lang: f"{float(v):g}",
    "plan": lambda v, lang: f"{float(v):g}",
}


def render(code: str, params: Mapping[str, Any], lang: Lang = DEFAULT) -> str:
    """The text of ``code`` with ``params`` in ``lang``; unknown codes and missing parameters
    fall back to the code and its parameters, never to an error."""
    template = TEMPLATES.get(code)
    values = {k: (_PREPARE[k](v, lang) if k in _PREPARE else v) for k, v in params.items()}
    if template is not None:
        try:
            return template[0 if lang is Lang.ZH else 1].format(**values)
        except (KeyError, IndexError, ValueError):
            pass
    shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
    return f"{code}({shown})"
