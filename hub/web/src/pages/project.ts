// Project page: power, headcount, camera activity and satellite indices on one time axis;
// land stages; Gantt and investment curve; financing status.

import { ApiError, query, request } from "../api";
import { clear, fmt, h, pct, s } from "../dom";
import { nm, t, tx } from "../i18n";
import type { Cleanup } from "../main";
import { dayStart, timePanel, type Line } from "../charts";
import { ACTIVITY_COLOURS, WARNING_COLOURS, badge, failure, loading, panel } from "../ui";

const WINDOW_DAYS = 45;

const PROJECT = `query Project($code: String!, $from: DateTime!, $to: DateTime!, $sat: Date!) {
  project(code: $code) { code name stage kind level totalInvestment annualPlanInvestment completedInvestment
    yearCompletedInvestment plannedStart plannedEnd actualStart actualEnd
    owner { name } region { name nameEn parent { name nameEn } }
    parcels(first: 10) { nodes { parcelId areaM2
      satellite(from: $sat) { state changeScore observations { day ndvi ndbi bsi clear } } } }
    sensors(first: 50) { nodes { sensorId kind status lastReadingAt } }
    monitoring(from: $from, to: $to, bucket: DAY) {
      energy { days { day value } baselineKwh }
      headcount { day value }
      daily { kind metric day value } } } }`;
const ACTIVITY = `query Activity($code: String!) { projectActivity(projectCode: $code, days: ${WINDOW_DAYS}) { day status score confidence } }`;
const LAND = `query Land($code: String!) { landProgress(projectCode: $code) { template done total share currentStage overdueNodes
  stages { code name nameEn status done total share dueOn overdueNodes } } }`;
const SCHEDULE = `query Schedule($code: String!) { projectSchedule(projectCode: $code) { asOf lateTasks
  tasks { code name owner status plannedStart plannedEnd actualStart actualEnd startDelayDays finishDelayDays }
  investmentCurve(yellowPoints: 10, redPoints: 30) { totalPlanned
    points { month plannedCumulative actualCumulative deviationPoints warning }
    latest { month deviation deviationPoints warning } } } }`;
const FINANCING = `query Financing($code: String!) { financingNeeds(where: {projectCode: $code}, first: 10) { totalCount
  nodes { id amount termMonths purpose collateral submittedOn
    matches { bankName score interest { expressedAt consent respondedAt } } } } }`;

interface Project {
  code: string;
  name: string;
  stage: string;
  totalInvestment: number;
  annualPlanInvestment: number;
  completedInvestment: number;
  yearCompletedInvestment: number;
  plannedStart: string | null;
  plannedEnd: string | null;
  actualStart: string | null;
  actualEnd: string | null;
  owner: { name: string } | null;
  region: { name: string; nameEn: string | null; parent: { name: string; nameEn: string | null } | null } | null;
  parcels: { nodes: { parcelId: string; areaM2: number; satellite: null | { state: string; changeScore: number; observations: { day: string; ndvi: number | null; ndbi: number | null; bsi: number | null; clear: boolean }[] } }[] };
  sensors: { nodes: { sensorId: string; kind: string; status: string; lastReadingAt: string | null }[] } | null;
  monitoring: null | {
    energy: { days: { day: string; value: number }[]; baselineKwh: number | null };
    headcount: { day: string; value: number }[];
    daily: { kind: string; metric: string; day: string; value: number }[];
  };
}

export function mountProject(root: HTMLElement, _params: URLSearchParams, rest: string[]): Cleanup {
  let alive = true;
  const code = rest[0] ?? "";
  const input = h("input", { type: "search", placeholder: t("openProject"), value: code, "data-testid": "project-code", class: "code-input" });
  const form = h("form", { class: "controls", onsubmit: (e: Event) => {
    e.preventDefault();
    if (input.value.trim()) location.hash = `#/project/${encodeURIComponent(input.value.trim())}`;
  } }, input, h("button", { type: "submit" }, t("go")));
  root.append(form);
  if (!code) return () => undefined;
  const head = h("div", { class: "project-head" }, loading());
  const evidence = h("div", { class: "evidence" });
  const land = h("div", null, loading());
  const gantt = h("div", null, loading());
  const curve = h("div", null, loading());
  const financing = h("div", null, loading());
  root.append(
    head,
    h("div", { class: "project-grid" },
      panel(t("evidence"), { class: "panel span2", "data-testid": "evidence" }, evidence),
      panel(t("land"), { "data-testid": "land" }, land),
      panel(t("financing"), { "data-testid": "financing" }, financing),
      panel(t("gantt"), { "data-testid": "gantt" }, gantt),
      panel(t("curve"), { "data-testid": "curve" }, curve),
    ),
  );
  const now = new Date();
  const from = new Date(now.getTime() - WINDOW_DAYS * 86400_000);
  const sat = new Date(now.getTime() - 150 * 86400_000).toISOString().slice(0, 10);
  const xRange: [number, number] = [from.getTime() / 1000, now.getTime() / 1000];

  void (async () => {
    try {
      const answer = await request<{ project: Project | null }>(PROJECT, { code, from: from.toISOString(), to: now.toISOString(), sat });
      if (!alive) return;
      const p = answer.data?.project;
      if (!p) {
        clear(head, h("div", { class: "failure", "data-testid": "not-found" }, `${t("notFound")}: ${code}`));
        clear(evidence);
        return;
      }
      drawHead(head, p);
      let days: { day: string; status: string }[] = [];
      try {
        days = (await query<{ projectActivity: { day: string; status: string }[] }>(ACTIVITY, { code })).projectActivity;
      } catch (exc) {
        if (!(exc instanceof ApiError && exc.code === "NOT_FOUND")) throw exc;
      }
      if (!alive) return;
      drawEvidence(evidence, p, days, xRange, answer.errors.length ? answer.errors[0]!.message : null);
    } catch (exc) {
      if (alive) clear(head, failure(exc));
    }
  })();
  void section(land, LAND, code, (d: { landProgress: Land | null }) => clear(land, drawLand(d.landProgress)));
  void section(gantt, SCHEDULE, code, (d: { projectSchedule: Schedule | null }) => {
    drawGantt(gantt, d.projectSchedule);
    drawCurve(curve, d.projectSchedule);
  }, curve);
  void section(financing, FINANCING, code, (d: { financingNeeds: { totalCount: number; nodes: Need[] } }) =>
    clear(financing, drawFinancing(d.financingNeeds.nodes)));

  async function section<T>(el: HTMLElement, q: string, c: string, draw: (d: T) => void, also?: HTMLElement): Promise<void> {
    try {
      const d = await query<T>(q, { code: c });
      if (alive) draw(d);
    } catch (exc) {
      if (!alive) return;
      const code = exc instanceof ApiError ? exc.code : "";
      const shown = code === "FORBIDDEN" && q === FINANCING ? h("p", { class: "muted", "data-code": code }, t("financingNeedsKey")) : failure(exc);
      clear(el, shown);
      if (also) clear(also, shown.cloneNode(true));
    }
  }

  return () => {
    alive = false;
  };
}

function drawHead(el: HTMLElement, p: Project): void {
  const where = p.region ? [p.region.parent ? nm(p.region.parent.name, p.region.parent.nameEn) : "", nm(p.region.name, p.region.nameEn)].join(" ") : "";
  const fig = (label: string, value: string) => h("div", { class: "stat" }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
  clear(
    el,
    h("h1", { "data-testid": "project-name" }, p.name),
    h("div", { class: "muted" }, `${t("projectCode")} ${p.code} · ${where} · ${t("owner")} ${p.owner?.name ?? "—"}`),
    h("div", { class: "totals" },
      fig(t("stage"), tx(p.stage)),
      fig(t("totalInvestment"), fmt(p.totalInvestment)),
      fig(t("annualPlan"), fmt(p.annualPlanInvestment)),
      fig(t("completedTotal"), fmt(p.completedInvestment)),
      fig(`${p.plannedStart ?? "?"} → ${p.plannedEnd ?? "?"}`, p.actualStart ? `▶ ${p.actualStart}` : "—"),
      fig(t("sensors"), p.sensors ? String(p.sensors.nodes.length) : "—")),
  );
}

function drawEvidence(el: HTMLElement, p: Project, days: { day: string; status: string }[], xRange: [number, number], warning: string | null): void {
  clear(el);
  if (warning) el.append(h("p", { class: "muted" }, warning));
  // Activity strip: one cell a day on the same axis as the charts below.
  const strip = h("div", { class: "strip", "data-testid": "activity-strip" });
  const span = xRange[1] - xRange[0];
  for (const d of days) {
    const x0 = (dayStart(d.day) - xRange[0]) / span, x1 = (dayStart(d.day) + 86400 - xRange[0]) / span;
    if (x1 <= 0 || x0 >= 1) continue;
    strip.append(h("span", { class: "cell", title: `${d.day} ${tx(d.status)}`, style: { left: `${Math.max(0, x0) * 100}%`, width: `${(Math.min(1, x1) - Math.max(0, x0)) * 100}%`, background: ACTIVITY_COLOURS[d.status] } }));
  }
  el.append(
    h("h3", null, t("activity")),
    h("div", { class: "strip-wrap" }, strip),
    h("div", { class: "legend small" }, ["ACTIVE", "LOW", "IDLE", "NO_DATA"].map((st) => h("span", { class: "legend-item" }, h("i", { style: { background: ACTIVITY_COLOURS[st] } }), tx(st)))),
  );
  const m = p.monitoring;
  const sync = "project-" + p.code;
  let aligned = false;
  const chart = (title: string, xs: number[], lines: Line[], unit: string, range?: "auto") => {
    const box = h("div", { class: "chart" });
    el.append(h("h3", null, title), box);
    if (!xs.length) {
      box.append(h("p", { class: "muted small" }, t("noSeries")));
      return;
    }
    requestAnimationFrame(() => {
      const plot = timePanel(box, xs, lines, { height: 170, unit, sync, xRange, range });
      if (!aligned) {
        // The activity strip spans exactly the charts' plotting area: one time axis.
        aligned = true;
        const wrap = strip.parentElement as HTMLElement;
        const ratio = window.devicePixelRatio || 1;
        wrap.style.marginLeft = `${plot.bbox.left / ratio}px`;
        wrap.style.maxWidth = `${plot.bbox.width / ratio}px`;
      }
    });
  };
  const energy = m?.energy.days ?? [];
  chart(t("power"), energy.map((d) => dayStart(d.day) + 43200), [
    { label: "kWh", colour: "#f0b429", values: energy.map((d) => d.value), bars: true },
  ], "kWh");
  const heads = m?.headcount ?? [];
  chart(t("headcount"), heads.map((d) => dayStart(d.day) + 43200), [
    { label: t("headcount"), colour: "#58a6ff", values: heads.map((d) => d.value), bars: true },
  ], "👷");
  const cam = (m?.daily ?? []).filter((d) => d.kind === "CAMERA");
  const camMetric = cam.some((d) => d.metric === "active_fraction") ? "active_fraction" : cam[0]?.metric;
  const camDays = new Map<string, number[]>();
  for (const d of cam.filter((d) => d.metric === camMetric)) camDays.set(d.day, [...(camDays.get(d.day) ?? []), d.value]);
  const camKeys = [...camDays.keys()].sort();
  chart(`${t("camera")}${camMetric ? ` (${camMetric})` : ""}`, camKeys.map((d) => dayStart(d) + 43200), [
    { label: camMetric ?? "", colour: "#bc8cff", values: camKeys.map((d) => Math.max(...camDays.get(d)!)) },
  ], camMetric === "active_fraction" ? "0–1" : "");
  const obs = p.parcels.nodes.flatMap((x) => x.satellite?.observations ?? []).filter((o) => o.clear);
  const byDay = new Map<string, typeof obs>();
  for (const o of obs) byDay.set(o.day, [...(byDay.get(o.day) ?? []), o]);
  const satDays = [...byDay.keys()].sort();
  const mean = (d: string, k: "ndvi" | "ndbi" | "bsi") => {
    const v = byDay.get(d)!.map((o) => o[k]).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const states = [...new Set(p.parcels.nodes.map((x) => x.satellite?.state).filter((x): x is string => !!x))].map(tx).join(", ");
  chart(`${t("satellite")}${states ? ` · ${states}` : ""}`, satDays.map((d) => dayStart(d) + 43200), [
    { label: "NDVI", colour: "#3fb950", values: satDays.map((d) => mean(d, "ndvi")) },
    { label: "NDBI", colour: "#f78166", values: satDays.map((d) => mean(d, "ndbi")) },
    { label: "BSI", colour: "#d2a8ff", values: satDays.map((d) => mean(d, "bsi")) },
  ], "index", "auto");
}

interface Land {
  template: string;
  done: number;
  total: number;
  share: number;
  currentStage: string | null;
  overdueNodes: number;
  stages: { code: string; name: string; nameEn: string; status: string; done: number; total: number; share: number; dueOn: string; overdueNodes: number }[];
}

function drawLand(l: Land | null): HTMLElement {
  if (!l) return h("p", { class: "muted" }, t("noLand"));
  const colour: Record<string, string> = { DONE: "#2fb171", IN_PROGRESS: "#58a6ff", NOT_STARTED: "#3d444d" };
  return h(
    "div",
    null,
    h("p", null, `${tx(l.template)} · ${l.done}/${l.total} ${t("done")} (${pct(l.share)})`, l.overdueNodes ? h("span", { class: "warn" }, ` · ${l.overdueNodes} ${t("overdue")}`) : null),
    h("ol", { class: "stages" }, l.stages.map((st) =>
      h("li", { "data-testid": "land-stage", "data-status": st.status },
        h("span", { class: "stage-name" }, nm(st.name, st.nameEn)),
        h("span", { class: "bar" }, h("i", { style: { width: `${st.share * 100}%`, background: st.overdueNodes ? "#e5534b" : colour[st.status] } })),
        h("span", { class: "muted small" }, `${st.done}/${st.total} · ${st.dueOn}`)))),
  );
}

interface Schedule {
  asOf: string;
  lateTasks: number;
  tasks: { code: string; name: string; owner: string; status: string; plannedStart: string; plannedEnd: string; actualStart: string | null; actualEnd: string | null; finishDelayDays: number | null }[];
  investmentCurve: {
    totalPlanned: number;
    points: { month: string; plannedCumulative: number; actualCumulative: number | null; deviationPoints: number | null; warning: string | null }[];
    latest: null | { month: string; deviation: number | null; deviationPoints: number | null; warning: string | null };
  };
}

const TASK_COLOURS: Record<string, string> = { DONE: "#2fb171", IN_PROGRESS: "#58a6ff", LATE: "#e5534b", NOT_STARTED: "#6e7781" };

function drawGantt(el: HTMLElement, sch: Schedule | null): void {
  if (!sch || !sch.tasks.length) {
    clear(el, h("p", { class: "muted" }, t("noSchedule")));
    return;
  }
  const ms = (d: string) => Date.parse(d);
  const dates = sch.tasks.flatMap((x) => [x.plannedStart, x.plannedEnd, x.actualStart, x.actualEnd]).filter((d): d is string => !!d).map(ms);
  dates.push(ms(sch.asOf));
  const lo = Math.min(...dates), hi = Math.max(...dates);
  const LABEL = 190, W = 900, ROW = 30, TOP = 26;
  const X = (d: string) => LABEL + ((ms(d) - lo) / (hi - lo || 1)) * (W - LABEL - 10);
  const height = TOP + sch.tasks.length * ROW + 8;
  const svg = s("svg", { viewBox: `0 0 ${W} ${height}`, class: "gantt-svg", "data-testid": "gantt-svg" });
  // Month ticks.
  const start = new Date(lo);
  for (let d = new Date(start.getFullYear(), start.getMonth(), 1); d.getTime() <= hi; d.setMonth(d.getMonth() + 1)) {
    if (d.getTime() < lo) continue;
    const iso = d.toISOString().slice(0, 10);
    const x = X(iso);
    svg.append(s("line", { x1: x, x2: x, y1: TOP - 6, y2: height, class: "tick" }));
    if (d.getMonth() % 2 === 0) svg.append(s("text", { x: x + 2, y: 14, class: "tick-label" }, iso.slice(0, 7)));
  }
  sch.tasks.forEach((task, i) => {
    const y = TOP + i * ROW;
    svg.append(
      s("text", { x: 4, y: y + 19, class: "task-label" }, s("title", null, `${task.name} · ${task.owner}`), task.name.length > 13 ? task.name.slice(0, 12) + "…" : task.name),
      s("rect", { x: X(task.plannedStart), y: y + 4, width: Math.max(2, X(task.plannedEnd) - X(task.plannedStart)), height: 9, class: "planned", rx: 2 },
        s("title", null, `${t("plannedBar")} ${task.plannedStart} → ${task.plannedEnd}`)),
    );
    if (task.actualStart) {
      const end = task.actualEnd ?? sch.asOf;
      svg.append(s("rect", { x: X(task.actualStart), y: y + 15, width: Math.max(2, X(end) - X(task.actualStart)), height: 9, rx: 2, fill: TASK_COLOURS[task.status], "data-testid": "gantt-actual" },
        s("title", null, `${t("actualBar")} ${task.actualStart} → ${task.actualEnd ?? "…"}${task.finishDelayDays ? ` (+${task.finishDelayDays}d)` : ""}`)));
    }
  });
  const today = X(sch.asOf);
  svg.append(s("line", { x1: today, x2: today, y1: TOP - 8, y2: height, class: "today" }));
  clear(
    el,
    h("div", { class: "legend small" },
      h("span", { class: "legend-item" }, h("i", { class: "planned-swatch" }), t("plannedBar")),
      ...Object.entries(TASK_COLOURS).map(([k, c]) => h("span", { class: "legend-item" }, h("i", { style: { background: c } }), tx(k))),
      sch.lateTasks ? h("span", { class: "warn" }, t("lateTasks", { n: sch.lateTasks })) : null),
    svg,
  );
}

function drawCurve(el: HTMLElement, sch: Schedule | null): void {
  const pts = sch?.investmentCurve.points ?? [];
  if (!pts.length) {
    clear(el, h("p", { class: "muted" }, t("noSchedule")));
    return;
  }
  const latest = sch!.investmentCurve.latest;
  const box = h("div", { class: "chart" });
  clear(
    el,
    latest
      ? h("p", null, `${latest.month}: ${fmt(latest.deviation)} 万元 (${t("pointsN", { n: fmt(latest.deviationPoints, 1) })}) `,
          latest.warning ? h("span", { class: "light", style: { background: WARNING_COLOURS[latest.warning] } }) : null)
      : null,
    box,
  );
  const xs = pts.map((p) => Date.parse(p.month + "-01T00:00:00+08:00") / 1000);
  requestAnimationFrame(() =>
    timePanel(box, xs, [
      { label: t("plannedCum"), colour: "#8b949e", values: pts.map((p) => p.plannedCumulative), dash: [6, 4] },
      { label: t("actualCum"), colour: "#f0b429", values: pts.map((p) => p.actualCumulative) },
    ], { height: 200, unit: "万元", monthly: true }),
  );
}

interface Need {
  id: string;
  amount: number;
  termMonths: number;
  purpose: string;
  collateral: string;
  submittedOn: string;
  matches: { bankName: string; score: number; interest: { expressedAt: string | null; consent: string | null; respondedAt: string | null } }[];
}

function drawFinancing(needs: Need[]): HTMLElement {
  if (!needs.length) return h("p", { class: "muted" }, t("noFinancing"));
  return h("div", null, needs.map((n) =>
    h("div", { class: "need", "data-testid": "financing-need" },
      h("p", null, h("strong", null, `${fmt(n.amount)} 万元`), ` · ${n.termMonths} ${t("term").replace(/ ?\(.*\)/, "")} · ${tx(n.purpose)} · ${tx(n.collateral)} · ${n.submittedOn}`),
      h("table", { class: "mini" },
        h("thead", null, h("tr", null, h("th", null, t("matches")), h("th", null, t("score")), h("th", null, t("interest")), h("th", null, t("consent")))),
        h("tbody", null, n.matches.slice(0, 8).map((m) =>
          h("tr", null, h("td", null, m.bankName), h("td", { class: "num" }, m.score),
            h("td", null, m.interest.expressedAt ? "✓" : "—"),
            h("td", null, m.interest.consent ? badge(tx(m.interest.consent), m.interest.consent === "GRANTED" ? "#2fb171" : m.interest.consent === "DECLINED" ? "#e5534b" : "#e3b341") : "—"))))))));
}
