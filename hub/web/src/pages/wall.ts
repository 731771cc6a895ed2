// Monitoring wall: the province headline (projects, this year's planned and completed
// investment, MPI, open supervision cases by severity), projects on a map coloured by
// stage-aware activity, the live feed, the alert list with its filters (region, type, severity,
// stage), counts and acknowledge/clear, and the MPI table with its drill-down. No key box: keys
// are entered on the settings page. Sized for a 1920x1080 wall screen;
// on a laptop the same panels shrink, below 1100 px they stack.

import { ApiError, query, request, subscribe, type Subscription } from "../api";
import { clear, fmt, h, pct, s, type Child } from "../dom";
import { nm, t, tx, type TextKey } from "../i18n";
import type { Cleanup } from "../main";
import {
  ACTIVITY_COLOURS,
  SEVERITY_COLOURS,
  WARNING_COLOURS,
  badge,
  clock,
  failure,
  loading,
  panel,
  projectLink,
  time,
} from "../ui";

export function mountWall(root: HTMLElement): Cleanup {
  const stops: (() => void)[] = [];
  const mapBox = h("div", { class: "map-box", "data-testid": "wall-map" }, loading());
  const feedBox = h("div", { class: "feed-box" });
  const alertBox = h("div", { class: "alert-box" }, loading());
  const mpiBox = h("div", { class: "mpi-box" }, loading());
  const mapLegend = h("div", { class: "legend" });
  const feedState = h("span", { class: "feed-state", "data-testid": "feed-state", "data-state": "connecting" }, t("connecting"));
  const feedRate = h("span", { class: "muted" });
  const alertCount = h("span", { class: "count", "data-testid": "alert-count" });
  const mpiPeriod = h("span", { class: "count" });
  const headBox = h("div", { class: "headline", "data-testid": "headline" }, loading());
  root.append(
    h(
      "div",
      { class: "wall" },
      h("section", { class: "panel wall-head", "data-testid": "headline-panel" }, headBox),
      panel([t("projectMap"), mapLegend], { class: "panel wall-map", "data-testid": "map-panel" }, mapBox),
      panel([t("liveFeed"), feedState, feedRate], { class: "panel wall-feed", "data-testid": "live-feed" }, feedBox),
      panel([t("mpi"), mpiPeriod], { class: "panel wall-mpi", "data-testid": "mpi" }, mpiBox),
      panel([t("alerts"), alertCount], { class: "panel wall-alerts", "data-testid": "alerts" }, alertBox),
    ),
  );
  let alive = true;
  stops.push(() => (alive = false));
  void drawMap(mapBox, mapLegend, () => alive, stops);
  stops.push(liveFeed(feedBox, feedState, feedRate));
  stops.push(alertList(alertBox, alertCount, () => alive));
  // One MPI answer for the table and the headline (the board is computed per request).
  const board = query<MpiAnswer>(MPI);
  board.catch(() => undefined); // each user reports the failure in its own panel
  void mpiTable(mpiBox, mpiPeriod, () => alive, board);
  void headline(headBox, () => alive, board);
  return () => stops.forEach((f) => f());
}

// --- map -------------------------------------------------------------------------------------

interface MapProject {
  code: string;
  name: string;
  region: { code: string; parent: { code: string } | null } | null;
  parcels: { nodes: { lon: number | null; lat: number | null }[] };
}
interface Activity {
  projectCode: string;
  status: string;
  stage: string;
  idleDays: number;
}

/** The dot's status, stage-aware: a quiet site that is not under construction (completed,
 * suspended, not started) is quiet by its own report, not a stopped site (no red 停工 dot). */
function mapStatus(a: Activity | undefined): string {
  if (!a) return "NO_DATA";
  if (a.stage !== "CONSTRUCTION" && (a.status === "IDLE" || a.status === "LOW")) return "QUIET";
  return a.status;
}

const PROJECTS = `query MapProjects($after: String) {
  projects(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { code name region { code parent { code } } parcels(first: 5) { nodes { lon lat } } } } }`;
const CITIES = `{ regions(where: {level: CITY}, first: 100) { nodes { code name nameEn lon lat } } }`;
const ACTIVITIES = `query MapActivities($after: String) {
  projectActivitiesConnection(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { projectCode status stage idleDays } } }`;

type Paged<T> = { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: T[] };

// Every node of a connection, a page at a time (null when the page left while loading).
async function everyNode<T>(q: string, field: string, alive: () => boolean, from: string | null = null): Promise<T[] | null> {
  const found: T[] = [];
  let after: string | null = from;
  for (;;) {
    const page: Record<string, Paged<T>> = await query(q, { after });
    if (!alive()) return null;
    found.push(...page[field]!.nodes);
    if (!page[field]!.pageInfo.hasNextPage) return found;
    after = page[field]!.pageInfo.endCursor;
  }
}

async function drawMap(box: HTMLElement, legendBox: HTMLElement, alive: () => boolean, stops: (() => void)[]): Promise<void> {
  try {
    const [cities, activities, projects] = await Promise.all([
      query<{ regions: { nodes: { code: string; name: string; nameEn: string | null; lon: number | null; lat: number | null }[] } }>(CITIES),
      everyNode<Activity>(ACTIVITIES, "projectActivitiesConnection", alive),
      everyNode<MapProject>(PROJECTS, "projects", alive),
    ]);
    if (!activities || !projects) return;
    const status = new Map(activities.map((a) => [a.projectCode, a]));
    const points = projects
      .map((p) => {
        const located = p.parcels.nodes.filter((x) => x.lon !== null && x.lat !== null);
        if (!located.length) return null;
        const lon = located.reduce((a, x) => a + x.lon!, 0) / located.length;
        const lat = located.reduce((a, x) => a + x.lat!, 0) / located.length;
        const city = p.region?.parent?.code ?? p.region?.code ?? "";
        return { p, lon, lat, city, a: status.get(p.code) };
      })
      .filter((x): x is NonNullable<typeof x> => x !== null);
    if (!points.length) {
      clear(box, h("p", { class: "muted" }, t("noSeries")));
      return;
    }
    // Equirectangular, x scaled by cos(mean latitude): a province looks as on a map.
    const lons = points.map((x) => x.lon), lats = points.map((x) => x.lat);
    const minLon = Math.min(...lons), maxLon = Math.max(...lons), minLat = Math.min(...lats), maxLat = Math.max(...lats);
    const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
    const W = 1000, pad = 40;
    const scale = (W - 2 * pad) / ((maxLon - minLon) * k || 1);
    const H = Math.round((maxLat - minLat) * scale + 2 * pad);
    const X = (lon: number) => pad + (lon - minLon) * k * scale;
    const Y = (lat: number) => pad + (maxLat - lat) * scale;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "map-svg", preserveAspectRatio: "xMidYMid meet" });
    // Each city's outline: the convex hull of its projects' parcels (no tiles, the API's own geometry).
    const byCity = new Map<string, [number, number][]>();
    for (const x of points) {
      const list = byCity.get(x.city) ?? [];
      list.push([X(x.lon), Y(x.lat)]);
      byCity.set(x.city, list);
    }
    const outlines = s("g", { class: "outlines" });
    for (const [, pts] of byCity) {
      const hull = convexHull(pts);
      if (hull.length >= 3) outlines.append(s("polygon", { points: inflate(hull, 12).map((q) => q.join(",")).join(" "), class: "city-outline" }));
    }
    svg.append(outlines);
    const dots = s("g", { class: "dots" });
    const counts: Record<string, number> = { ACTIVE: 0, LOW: 0, IDLE: 0, QUIET: 0, NO_DATA: 0 };
    const order = { NO_DATA: 0, QUIET: 1, ACTIVE: 2, LOW: 3, IDLE: 4 } as Record<string, number>;
    points.sort((a, b) => (order[mapStatus(a.a)] ?? 0) - (order[mapStatus(b.a)] ?? 0));
    for (const x of points) {
      const st = mapStatus(x.a);
      counts[st] = (counts[st] ?? 0) + 1;
      const link = s(
        "a",
        { href: `#/project/${encodeURIComponent(x.p.code)}`, "data-testid": "map-point", "data-status": st, "data-project": x.p.code },
        s("circle", { cx: X(x.lon).toFixed(1), cy: Y(x.lat).toFixed(1), r: st === "IDLE" ? 7.5 : 5.5, fill: ACTIVITY_COLOURS[st], class: `dot dot-${st}` }),
        s("title", null, `${x.p.name}\n${x.p.code}\n${t(st as "ACTIVE")}${x.a?.idleDays ? ` · ${x.a.idleDays}d` : ""}`),
      );
      dots.append(link);
    }
    svg.append(dots);
    const labels = s("g", { class: "city-labels" });
    for (const c of cities.regions.nodes) {
      if (c.lon === null || c.lat === null) continue;
      labels.append(s("text", { x: X(c.lon), y: Y(c.lat), "text-anchor": "middle", class: "city-label" }, nm(c.name, c.nameEn)));
    }
    svg.append(labels);
    clear(box, svg);
    clear(
      legendBox,
      ["ACTIVE", "LOW", "IDLE", "QUIET", "NO_DATA"].map((st) =>
        h("span", { class: "legend-item", "data-testid": `legend-${st}` }, h("i", { style: { background: ACTIVITY_COLOURS[st] } }), `${t(st as "ACTIVE")} ${counts[st] ?? 0}`),
      ),
    );
    // Refresh colours every minute: statuses change as evidence comes in.
    const timer = window.setInterval(async () => {
      try {
        const fresh = await query<{ projectActivities: Activity[] }>(ACTIVITIES);
        const next = new Map(fresh.projectActivities.map((a) => [a.projectCode, a]));
        svg.querySelectorAll<SVGAElement>("[data-testid=map-point]").forEach((el) => {
          const st = mapStatus(next.get(el.dataset.project ?? ""));
          el.dataset.status = st;
          el.querySelector("circle")?.setAttribute("fill", ACTIVITY_COLOURS[st]!);
        });
      } catch {
        /* the next round tries again; the map keeps its last colours */
      }
    }, 60_000);
    stops.push(() => window.clearInterval(timer));
  } catch (exc) {
    if (alive()) clear(box, failure(exc));
  }
}

function convexHull(points: [number, number][]): [number, number][] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: number[], a: number[], b: number[]) => (a[0]! - o[0]!) * (b[1]! - o[1]!) - (a[1]! - o[1]!) * (b[0]! - o[0]!);
  const lower: [number, number][] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: [number, number][] = [];
  for (const q of [...p].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

function inflate(hull: [number, number][], by: number): [number, number][] {
  const cx = hull.reduce((a, q) => a + q[0], 0) / hull.length;
  const cy = hull.reduce((a, q) => a + q[1], 0) / hull.length;
  return hull.map(([x, y]) => {
    const d = Math.hypot(x - cx, y - cy) || 1;
    return [x + ((x - cx) / d) * by, y + ((y - cy) / d) * by];
  });
}

// --- live feed -------------------------------------------------------------------------------

interface FeedEvent {
  __typename: "FeedReading" | "FeedRollup";
  kind: string;
  sensorId: string | null;
  projectCode: string | null;
  metric: string;
  value: number;
  unit?: string;
  at?: string;
  day?: string;
  samples?: number;
}

const FEED = `subscription Feed($kinds: [SensorKind!]) { monitoringFeed(kinds: $kinds) {
  __typename
  ... on FeedReading { kind sensorId projectCode metric at value unit }
  ... on FeedRollup { kind sensorId projectCode metric day value samples } } }`;
const KIND_LABEL: Record<string, TextKey> = { POWER: "kindPower", LABOR: "kindLabor", CAMERA: "kindCamera", SATELLITE: "kindSatellite" };
const kindTag = (kind: string) => h("span", { class: "kind" }, KIND_LABEL[kind] ? t(KIND_LABEL[kind]!) : kind);
const FEED_ROWS = 60;

function liveFeed(box: HTMLElement, state: HTMLElement, rate: HTMLElement): () => void {
  const filter = h("input", { type: "search", class: "feed-filter", placeholder: t("feedFilter"), "data-testid": "feed-filter" });
  // The feeds asked of the hub (filtered there): satellite passes come in bulk (a pass per
  // parcel, and the demo's history at start), so the wall starts with the site feeds.
  const kinds = new Set(["POWER", "LABOR", "CAMERA"]);
  let rollups = false;
  const toggles = ["POWER", "LABOR", "CAMERA", "SATELLITE"].map((k) => {
    const b = h("button", { class: `toggle kind-${k.toLowerCase()}${kinds.has(k) ? " on" : ""}`, type: "button", title: tx(k), "data-testid": `feed-kind-${k}` }, kindTag(k));
    b.addEventListener("click", () => {
      if (kinds.has(k)) kinds.delete(k);
      else kinds.add(k);
      b.classList.toggle("on", kinds.has(k));
      connect();
    });
    return b;
  });
  const rollupToggle = h("button", { class: "toggle", type: "button", title: t("rollups") }, `Σ ${t("rollups")}`);
  rollupToggle.addEventListener("click", () => {
    rollups = !rollups;
    rollupToggle.classList.toggle("on", rollups);
  });
  const list = h("ol", { class: "feed", "data-testid": "feed-list" });
  box.append(h("div", { class: "feed-tools" }, filter, ...toggles, rollupToggle), list);
  let pending: FeedEvent[] = [];
  let scheduled = false;
  const arrivals: number[] = [];
  const flush = () => {
    scheduled = false;
    const text = filter.value.trim().toLowerCase();
    const shown = pending.filter(
      (e) => (rollups || e.__typename === "FeedReading") && (!text || (e.sensorId ?? "").toLowerCase().includes(text) || (e.projectCode ?? "").toLowerCase().includes(text)),
    );
    pending = [];
    for (const e of shown.slice(-FEED_ROWS)) list.prepend(feedRow(e));
    while (list.children.length > FEED_ROWS) list.lastElementChild?.remove();
  };
  let sub: Subscription | null = null;
  const connect = () => {
    sub?.close();
    state.dataset.state = "connecting";
    state.textContent = t("connecting");
    sub = subscribe<{ monitoringFeed: FeedEvent }>(
      FEED,
      { kinds: [...kinds] },
      (data) => {
        arrivals.push(Date.now());
        pending.push(data.monitoringFeed);
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(flush);
        }
      },
      (st, detail) => {
        state.dataset.state = st;
        state.textContent = st === "live" ? t("live") : `${t("feedError")}${detail ? `: ${detail}` : ""}`;
      },
    );
  };
  connect();
  const timer = window.setInterval(() => {
    const cut = Date.now() - 60_000;
    while (arrivals.length && arrivals[0]! < cut) arrivals.shift();
    rate.textContent = `${arrivals.length} ${t("perMinute")}`;
  }, 1000);
  return () => {
    sub?.close();
    window.clearInterval(timer);
  };
}

function feedRow(e: FeedEvent): HTMLElement {
  const when = e.__typename === "FeedReading" ? clock(e.at ?? "") : e.day ?? "";
  return h(
    "li",
    {
      class: `feed-row kind-${e.kind.toLowerCase()}${e.__typename === "FeedRollup" ? " rollup" : ""}`,
      "data-testid": "feed-row",
      "data-sensor": e.sensorId ?? "",
      "data-value": String(e.value),
    },
    h("span", { class: "when" }, when),
    kindTag(e.kind),
    h("span", { class: "sensor" }, e.sensorId ?? ""),
    e.projectCode ? projectLink(e.projectCode, e.projectCode.slice(-6)) : h("span"),
    h("span", { class: "metric" }, e.metric + (e.__typename === "FeedRollup" ? " Σ" : "")),
    h("span", { class: "value" }, `${fmt(e.value, 2)} ${e.unit ?? ""}`),
  );
}

// --- alerts ----------------------------------------------------------------------------------

interface Alert {
  alertId: string;
  type: string;
  severity: string;
  status: string;
  message: string;
  projectCode: string | null;
  raisedAt: string;
  updatedAt: string;
  acknowledgedBy: string | null;
}
const ALERT_FIELDS = "alertId type severity status message projectCode raisedAt updatedAt acknowledgedBy";
const ALERT_FEED = `subscription Alerts { alertFeed { change alert { ${ALERT_FIELDS} } } }`;
// The list and its counts under one filter (the same variables for both).
const ALERTS = `query Alerts($f: AlertWhere!) {
  alerts(where: $f, first: 40) { totalCount
    nodes { alertId type severity status message projectCode raisedAt updatedAt acknowledgedBy } }
  alertCounts(where: $f) { total bySeverity { key count } byType { key count } byRegion { key count } } }`;
const REGIONS = `query Regions($after: String) { regions(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { code name nameEn level parent { code } } } }`;

const ALERT_TYPES = ["PROJECT_IDLE", "VERIFICATION_MISMATCH", "SATELLITE_CHANGE", "LAND_NODE_OVERDUE", "FEED_STALE", "CAMERA_HEALTH"];
const SEVERITIES = ["CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE"];
const STAGES = ["CONSTRUCTION", "PLANNING", "PREPARATION", "SUSPENDED", "COMPLETED"];

interface Keyed {
  key: string;
  count: number;
}
interface RegionInfo {
  code: string;
  name: string;
  nameEn: string | null;
  level: string;
  parent: { code: string } | null;
}

/** Every region by code (a province has about a hundred: two pages). */
async function regionIndex(): Promise<Map<string, RegionInfo>> {
  const found = new Map<string, RegionInfo>();
  let after: string | null = null;
  for (;;) {
    const page: { regions: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: RegionInfo[] } } =
      await query(REGIONS, { after });
    page.regions.nodes.forEach((r) => found.set(r.code, r));
    if (!page.regions.pageInfo.hasNextPage) return found;
    after = page.regions.pageInfo.endCursor;
  }
}

/** The city a region is in (itself when it is one); null above city level. */
function cityOf(code: string, regions: Map<string, RegionInfo>): string | null {
  for (let r = regions.get(code); r; r = r.parent ? regions.get(r.parent.code) : undefined) {
    if (r.level === "CITY") return r.code;
  }
  return null;
}

function alertList(box: HTMLElement, count: HTMLElement, alive: () => boolean): () => void {
  const note = h("div", { class: "note", "data-testid": "alert-note" });
  const list = h("ol", { class: "alerts", "data-testid": "alert-list" });
  const counts = h("div", { class: "alert-counts", "data-testid": "alert-counts" });
  const pick = (name: string, all: TextKey, options: [string, string][]) =>
    h("select", { "data-testid": `alert-filter-${name}`, "aria-label": t(all) },
      h("option", { value: "" }, t(all)),
      options.map(([value, label]) => h("option", { value }, label)));
  const region = pick("region", "allRegions", []);
  const type = pick("type", "allTypes", ALERT_TYPES.map((k) => [k, tx(k)]));
  const severity = pick("severity", "allSeverities", SEVERITIES.map((k) => [k, tx(k)]));
  const stage = pick("stage", "allStages", STAGES.map((k) => [k, tx(k)]));
  const selects = [region, type, severity, stage];
  const filtered = () => selects.some((el) => el.value !== "");
  const filter = (): Record<string, unknown> => ({
    active: true,
    region: region.value || null,
    types: type.value ? [type.value] : null,
    severities: severity.value ? [severity.value] : null,
    stages: stage.value ? [stage.value] : null,
  });
  let regions = new Map<string, RegionInfo>();
  const regionName = (code: string) => {
    const r = regions.get(code);
    return r ? nm(r.name, r.nameEn) : code;
  };
  let total = 0;
  const setCount = () => (count.textContent = t("activeAlerts", { n: total }));
  const put = (a: Alert, top: boolean) => {
    const old = list.querySelector(`[data-alert-id="${CSS.escape(a.alertId)}"]`);
    const row = alertRow(a);
    if (old) old.replaceWith(row);
    else if (top) list.prepend(row);
    else list.append(row);
  };
  const act = async (a: Alert, mutation: "acknowledgeAlert" | "clearAlert") => {
    note.textContent = "";
    try {
      const answer = await request<Record<string, Alert>>(
        `mutation ($id: String!) { ${mutation}(alertId: $id) { ${ALERT_FIELDS} } }`,
        { id: a.alertId },
      );
      const err = answer.errors[0];
      if (err) throw new ApiError(err.message, err.extensions?.code ?? "INTERNAL");
      const updated = answer.data![mutation]!;
      put(updated, false);
    } catch (exc) {
      const code = exc instanceof ApiError ? exc.code : "";
      clear(
        note,
        code === "FORBIDDEN" || code === "UNAUTHENTICATED"
          ? h("span", { class: "warn" }, t("ackNeedsKey"), " ", h("a", { href: "#/settings", "data-testid": "goto-settings" }, t("gotoSettings")))
          : failure(exc),
      );
    }
  };
  function alertRow(a: Alert): HTMLElement {
    const active = a.status.startsWith("ACTIVE");
    const unacked = a.status.endsWith("UNACK");
    return h(
      "li",
      { class: `alert-row sev-${a.severity.toLowerCase()} st-${a.status.toLowerCase()}`, "data-testid": "alert-row", "data-alert-id": a.alertId, "data-status": a.status, "data-type": a.type, "data-severity": a.severity },
      h("div", { class: "alert-head" },
        badge(tx(a.severity), SEVERITY_COLOURS[a.severity] ?? "#888"),
        h("span", { class: "alert-type" }, tx(a.type)),
        h("span", { class: "alert-status", "data-testid": "alert-status" }, tx(a.status)),
        h("span", { class: "muted small" }, time(a.raisedAt))),
      h("div", { class: "alert-msg" }, a.message),
      h("div", { class: "alert-foot" },
        a.projectCode ? projectLink(a.projectCode) : null,
        h("span", { class: "spacer" }),
        unacked ? h("button", { type: "button", "data-testid": "alert-ack", onclick: () => act(a, "acknowledgeAlert") }, t("acknowledge")) : null,
        active ? h("button", { type: "button", class: "ghost", "data-testid": "alert-clear", onclick: () => act(a, "clearAlert") }, t("clear")) : null),
    );
  }
  /** A count that sets its filter when clicked. */
  const chip = (select: HTMLSelectElement, key: string, label: string, n: number, colour?: string): HTMLElement =>
    h(
      "button",
      {
        type: "button",
        class: `chip${select.value === key ? " on" : ""}`,
        "data-testid": "alert-count-chip",
        "data-key": key,
        style: colour ? { "--c": colour } : undefined,
        onclick: () => {
          select.value = select.value === key ? "" : key;
          void load();
        },
      },
      `${label} ${n}`,
    );
  const drawCounts = (c: { bySeverity: Keyed[]; byType: Keyed[]; byRegion: Keyed[] }) => {
    // Own regions are mostly counties: the wall counts them by city.
    const byCity = new Map<string, number>();
    for (const r of c.byRegion) {
      const city = cityOf(r.key, regions) ?? r.key;
      byCity.set(city, (byCity.get(city) ?? 0) + r.count);
    }
    const cities = [...byCity].sort((a, b) => b[1] - a[1]);
    const row = (label: TextKey, chips: Child[]) =>
      chips.length ? h("div", { class: "chip-row" }, h("span", { class: "muted small" }, t(label)), chips) : null;
    clear(
      counts,
      row("severity", c.bySeverity.map((k) => chip(severity, k.key, tx(k.key), k.count, SEVERITY_COLOURS[k.key]))),
      row("alertType", c.byType.map((k) => chip(type, k.key, tx(k.key), k.count))),
      row("region", cities.map(([code, n]) => chip(region, code, code === "none" ? t("none") : regionName(code), n))),
    );
  };
  let generation = 0;
  async function load(): Promise<void> {
    const mine = ++generation;
    try {
      const data = await query<{
        alerts: { totalCount: number; nodes: Alert[] };
        alertCounts: { total: number; bySeverity: Keyed[]; byType: Keyed[]; byRegion: Keyed[] };
      }>(ALERTS, { f: filter() });
      if (!alive() || mine !== generation) return;
      total = data.alerts.totalCount;
      setCount();
      list.replaceChildren();
      data.alerts.nodes.forEach((a) => put(a, false));
      if (!data.alerts.nodes.length) list.append(h("li", { class: "muted", "data-testid": "alert-none" }, t("noAlerts")));
      drawCounts(data.alertCounts);
      // What the list shows now, for a reader (or a test) to know the reload is done.
      Object.assign(list.dataset, { region: region.value, type: type.value, severity: severity.value, stage: stage.value });
      if (box.firstChild !== tools) clear(box, tools, counts, note, list);
    } catch (exc) {
      if (alive() && mine === generation) clear(box, failure(exc));
    }
  }
  selects.forEach((el) => el.addEventListener("change", () => void load()));
  const tools = h("div", { class: "alert-tools" }, selects);
  void (async () => {
    try {
      regions = await regionIndex();
    } catch {
      /* without names the counts show region codes */
    }
    if (!alive()) return;
    for (const r of [...regions.values()].filter((x) => x.level === "CITY")) {
      region.append(h("option", { value: r.code }, nm(r.name, r.nameEn)));
    }
    await load();
  })();
  // Live changes: a row already shown is updated in place; with no filter a new alert goes on
  // top. Counts (and, under a filter, the list) are asked again at most every 5 s.
  let reload: number | undefined;
  const later = () => {
    if (reload === undefined) reload = window.setTimeout(() => ((reload = undefined), void load()), 5_000);
  };
  const sub = subscribe<{ alertFeed: { change: string; alert: Alert } }>(
    ALERT_FEED,
    {},
    ({ alertFeed }) => {
      const shown = list.querySelector(`[data-alert-id="${CSS.escape(alertFeed.alert.alertId)}"]`);
      if (shown) put(alertFeed.alert, false);
      else if (!filtered() && alertFeed.change === "RAISED") {
        list.querySelector("[data-testid=alert-none]")?.remove();
        put(alertFeed.alert, true);
        total += 1;
        setCount();
      }
      while (list.children.length > 80) list.lastElementChild?.remove();
      later();
    },
    () => undefined,
  );
  return () => {
    sub.close();
    window.clearTimeout(reload);
  };
}

// --- province headline -----------------------------------------------------------------------

const HEADLINE = `query Headline($year: Period!) {
  projects(first: 1) { totalCount }
  cityScoreboard(period: $year) { cities { completion { projectCount plannedInvestment completedInvestment } } }
  supervisionCasesConnection(where: {statuses: [OPEN, REPLIED]}, first: 100) {
    pageInfo { hasNextPage endCursor } nodes { alertSeverity overdue } } }`;
// The open cases past the headline's first page.
const CASES = `query Cases($after: String) {
  supervisionCasesConnection(where: {statuses: [OPEN, REPLIED]}, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { alertSeverity overdue } } }`;
type Case = { alertSeverity: string; overdue: boolean };

interface HeadlineData {
  projects: { totalCount: number } | null;
  cityScoreboard: { cities: { completion: { projectCount: number; plannedInvestment: number; completedInvestment: number } }[] } | null;
  supervisionCasesConnection: Paged<Case> | null;
}

/** One headline figure: its label, its value, and a line under it. */
function figure(id: string, label: string, value: Child, under: Child = null): HTMLElement {
  return h("div", { class: "figure", "data-testid": `headline-${id}` }, h("span", { class: "label" }, label), h("strong", { class: "value" }, value), h("span", { class: "under" }, under));
}

/** 万元 as 亿元 on the big screen. */
const yi = (wan: number) => fmt(wan / 10_000, 1);

async function headline(box: HTMLElement, alive: () => boolean, mpi: Promise<MpiAnswer>): Promise<void> {
  try {
    const board = await mpi;
    const year = board.mpi.end.slice(0, 4);
    // Parts a role may not read (supervision cases) come back as errors beside the rest.
    const answer = await request<HeadlineData>(HEADLINE, { year });
    if (!alive()) return;
    const d = answer.data!;
    const rates = d.cityScoreboard?.cities.map((c) => c.completion) ?? [];
    const planned = rates.reduce((a, r) => a + r.plannedInvestment, 0);
    const completed = rates.reduce((a, r) => a + r.completedInvestment, 0);
    const listed = rates.reduce((a, r) => a + r.projectCount, 0);
    const first = d.supervisionCasesConnection;
    let cases: Case[] | null = first ? [...first.nodes] : null;
    if (first?.pageInfo.hasNextPage) {
      const rest = await everyNode<Case>(CASES, "supervisionCasesConnection", alive, first.pageInfo.endCursor);
      if (!rest) return;
      cases = [...first.nodes, ...rest];
    }
    const bySeverity = new Map<string, number>();
    cases?.forEach((c) => bySeverity.set(c.alertSeverity, (bySeverity.get(c.alertSeverity) ?? 0) + 1));
    const overdue = cases?.filter((c) => c.overdue).length ?? 0;
    clear(
      box,
      board.mpi.province.map((p) =>
        figure(
          "mpi",
          `${p.name} ${t("mpiShort")}`,
          [h("span", { class: "light", style: { background: p.warning ? WARNING_COLOURS[p.warning] : "#6e7781" } }), fmt(p.mpi, 1)],
          `${t("asOf")} ${board.mpi.end}`,
        ),
      ),
      figure("projects", t("projects"), fmt(d.projects?.totalCount ?? null), t("listedThisYear", { n: listed })),
      figure("planned", t("plannedYear", { y: year }), d.cityScoreboard ? yi(planned) : "—", t("yiYuan")),
      figure("completed", t("completedYear", { y: year }), d.cityScoreboard ? yi(completed) : "—", planned ? `${t("yiYuan")} · ${pct(completed / planned, 1)}` : t("yiYuan")),
      figure(
        "cases",
        t("openCases"),
        cases ? fmt(cases.length) : "—",
        cases
          ? [
              SEVERITIES.filter((k) => bySeverity.has(k)).map((k) =>
                badge(`${tx(k)} ${bySeverity.get(k)}`, SEVERITY_COLOURS[k] ?? "#888", { "data-testid": "headline-case-severity", "data-key": k }),
              ),
              overdue ? h("span", { class: "warn" }, t("overdueN", { n: overdue })) : null,
            ]
          : t("forbidden"),
      ),
    );
  } catch (exc) {
    if (alive()) clear(box, failure(exc));
  }
}

// --- MPI -------------------------------------------------------------------------------------

interface Rate {
  rate: number | null;
  basis: number;
  counted: number;
}
interface RegionMpi {
  code: string;
  name: string;
  mpi: number | null;
  warning: string | null;
  rank: number | null;
  resumption: Rate;
  start: Rate;
  completion: Rate;
  verification: Rate;
}
const RATE_FIELDS = "rate basis counted";
const MPI = `{ mpi { period end regions(regionLevel: CITY) { code: regionCode name mpi warning rank
  resumption { ${RATE_FIELDS} } start { ${RATE_FIELDS} } completion { ${RATE_FIELDS} } verification { ${RATE_FIELDS} } }
  province: regions(regionLevel: PROVINCE) { code: regionCode name mpi warning } } }`;
interface MpiAnswer {
  mpi: { period: string; end: string; regions: RegionMpi[]; province: { code: string; name: string; mpi: number | null; warning: string | null }[] };
}
const DRILL = `query Drill($code: String!) { mpi { regions(regionLevel: COUNTY, within: $code) { code: regionCode name mpi warning rank
    resumption { ${RATE_FIELDS} } start { ${RATE_FIELDS} } completion { ${RATE_FIELDS} } verification { ${RATE_FIELDS} } }
  region(code: $code) { code: regionCode name
    resumption { projects(counted: false) { projectCode reason } }
    start { projects(counted: false) { projectCode reason } }
    verification { projects(counted: false) { projectCode reason } } } } }`;
const RATES = ["resumption", "start", "completion", "verification"] as const;

async function mpiTable(box: HTMLElement, periodEl: HTMLElement, alive: () => boolean, board: Promise<MpiAnswer>): Promise<void> {
  try {
    const data = await board;
    if (!alive()) return;
    periodEl.textContent = `${t("period")} ${data.mpi.period} · ${t("asOf")} ${data.mpi.end}`;
    const drill = h("div", { class: "drill", "data-testid": "mpi-drill" });
    const table = h(
      "table",
      { class: "mpi-table" },
      h("thead", null, h("tr", null, h("th", null, t("rank")), h("th", null, t("region")), h("th", null, t("mpiShort")),
        ...RATES.map((r) => h("th", null, t(r))))),
      h("tbody", null, data.mpi.regions.map((r) => mpiRow(r, () => showDrill(r)))),
    );
    clear(box, table, drill);
    async function showDrill(r: RegionMpi): Promise<void> {
      table.querySelectorAll("tr.open").forEach((el) => el.classList.remove("open"));
      table.querySelector(`tr[data-region="${r.code}"]`)?.classList.add("open");
      clear(drill, loading());
      try {
        const d = await query<{
          mpi: { regions: RegionMpi[]; region: null | Record<string, { projects: { projectCode: string; reason: string }[] }> };
        }>(DRILL, { code: r.code });
        const missing = (["resumption", "start", "verification"] as const).flatMap((k) =>
          (d.mpi.region?.[k]?.projects ?? []).map((p) => ({ k, ...p })),
        );
        clear(
          drill,
          h("div", { class: "drill-head" }, h("strong", null, r.name), h("button", { class: "ghost", type: "button", onclick: () => clear(drill) }, t("close"))),
          h("table", { class: "mpi-table sub" },
            h("tbody", null, d.mpi.regions.map((c) => mpiRow(c, undefined)))),
          missing.length
            ? h("div", null, h("h3", null, t("drillDown")),
                h("ul", { class: "plain drill-list" }, missing.slice(0, 30).map((m) =>
                  h("li", null, h("span", { class: "tag" }, t(m.k)), projectLink(m.projectCode), h("span", { class: "muted small" }, m.reason)))))
            : null,
        );
      } catch (exc) {
        clear(drill, failure(exc));
      }
    }
  } catch (exc) {
    if (alive()) clear(box, failure(exc));
  }
}

function mpiRow(r: RegionMpi, onClick: (() => void) | undefined): HTMLElement {
  const colour = r.warning ? WARNING_COLOURS[r.warning] : "#6e7781";
  return h(
    "tr",
    { "data-testid": "mpi-row", "data-region": r.code, "data-warning": r.warning ?? "", class: onClick ? "clickable" : "", onclick: onClick },
    h("td", { class: "num" }, r.rank ?? "—"),
    h("td", null, r.name),
    h("td", { class: "num" }, h("span", { class: "light", style: { background: colour }, title: r.warning ? t(r.warning as "GREEN") : "" }), fmt(r.mpi, 1)),
    ...RATES.map((k) => h("td", { class: "num" }, pct(r[k].rate))),
  );
}
