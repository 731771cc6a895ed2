// Chain map explorer: a chain's segments by tier for a region, coloured by local coverage,
// chokepoints marked; a click on a segment lists its enterprises, projects and targets.

import { query } from "../api";
import { clear, fmt, h, s } from "../dom";
import { nm, t, type TextKey } from "../i18n";
import type { Cleanup } from "../main";
import { failure, loading, panel, projectLink } from "../ui";

interface Named {
  name: string;
  nameEn?: string | null;
}
interface RegionRow extends Named {
  code: string;
  children?: { nodes: RegionRow[] };
}
interface Figures {
  enterprises: number;
  leaders: number;
  output: number;
  employment: number;
  patents: number;
  projects: number;
  plannedInvestment: number;
  completedInvestment: number;
}
interface MapNode {
  tier: "UPSTREAM" | "MIDSTREAM" | "DOWNSTREAM";
  segment: Named & { segmentId: string; position: number };
  figures: Figures;
}
interface Chokepoint {
  segment: { segmentId: string };
  score: number;
  reasons: { rule: string; message: string }[];
}
interface ChainAnswer {
  industryChain: null | {
    chainId: string;
    map: { nodes: MapNode[]; edges: { fromSegmentId: string; toSegmentId: string }[]; totals: Figures };
    chokepoints: { chokepoints: Chokepoint[]; thresholds: { minEnterprises: number } };
  };
}

// Pages sized to what a province holds (up to 21 prefectures, a few dozen counties each), so
// the query stays inside the API's cost limit (lists multiply by their page size).
const INIT = `{
  industryChains(first: 50) { nodes { chainId name nameEn } }
  regions(where: {level: PROVINCE}, first: 3) { nodes { code name nameEn
    children(first: 25) { nodes { code name nameEn
      children(first: 40) { nodes { code name nameEn } } } } } } }`;

const MAP = `query ChainMap($chain: String!, $region: String!) {
  industryChain(key: $chain) { chainId
    map(region: $region) {
      nodes { tier segment { segmentId name nameEn position }
        figures { enterprises leaders output employment patents projects plannedInvestment completedInvestment } }
      edges { fromSegmentId toSegmentId }
      totals { enterprises leaders output employment patents projects plannedInvestment completedInvestment } }
    chokepoints(region: $region) {
      chokepoints { segment { segmentId } score reasons { rule message } }
      thresholds { minEnterprises } } } }`;

const SEGMENT = `query Segment($segment: String!, $region: String!) {
  segment(key: $segment) { segmentId name nameEn
    targets(region: $region, first: 10) { totalCount
      nodes { rank score reasons enterprise { uscc name region { name nameEn } } } } }
  enterprises(where: {segment: $segment, region: $region}, first: 8,
              sort: [{field: OUTPUT, direction: DESC}]) {
    totalCount nodes { uscc name output tags region { name nameEn } } }
  projects(where: {segment: $segment, region: $region}, first: 8,
           sort: [{field: TOTAL_INVESTMENT, direction: DESC}]) {
    totalCount nodes { code name stage totalInvestment } } }`;

interface SegmentAnswer {
  segment: null | (Named & {
    segmentId: string;
    targets: {
      totalCount: number;
      nodes: { rank: number; score: number; reasons: string[]; enterprise: Named & { uscc: string; region: Named | null } }[];
    };
  });
  enterprises: { totalCount: number; nodes: (Named & { uscc: string; output: number; tags: string[]; region: Named | null })[] };
  projects: { totalCount: number; nodes: (Named & { code: string; stage: string; totalInvestment: number })[] };
}

const TIERS = ["UPSTREAM", "MIDSTREAM", "DOWNSTREAM"] as const;
const TIER_LABEL: Record<string, TextKey> = { UPSTREAM: "upstream", MIDSTREAM: "midstream", DOWNSTREAM: "downstream" };
const COVERAGE = { gap: "#8e2b2b", weak: "#8a6414", good: "#1f6f4a" };

export function mountChains(root: HTMLElement, params: URLSearchParams): Cleanup {
  let alive = true;
  const controls = h("div", { class: "controls" });
  const graph = h("div", { class: "chain-graph", "data-testid": "chain-graph" }, loading());
  const side = h("aside", { class: "chain-side", "data-testid": "segment-panel" }, h("p", { class: "muted" }, t("clickSegment")));
  const totals = h("div", { class: "totals" });
  root.append(
    h("div", { class: "chains-layout" }, h("div", { class: "chain-main" }, controls, totals, graph), side),
  );

  let chain = params.get("chain") ?? "";
  let region = params.get("region") ?? "";
  let selected = params.get("segment") ?? "";

  const sync = (): void => {
    const q = new URLSearchParams({ chain, region });
    if (selected) q.set("segment", selected);
    history.replaceState(null, "", `#/chains?${q}`);
  };

  void (async () => {
    try {
      const init = await query<{
        industryChains: { nodes: (Named & { chainId: string })[] };
        regions: { nodes: RegionRow[] };
      }>(INIT);
      if (!alive) return;
      const chains = init.industryChains.nodes;
      const province = init.regions.nodes[0];
      chain = chain || chains.find((c) => c.chainId === "nev")?.chainId || chains[0]?.chainId || "";
      region = region || province?.code || "";
      const chainSelect = h(
        "select",
        { "data-testid": "chain-select", "aria-label": t("chain") },
        chains.map((c) => h("option", { value: c.chainId, selected: c.chainId === chain }, nm(c.name, c.nameEn))),
      );
      const regionSelect = h("select", { "data-testid": "region-select", "aria-label": t("region") });
      if (province) {
        regionSelect.append(h("option", { value: province.code, selected: province.code === region }, nm(province.name, province.nameEn)));
        for (const city of province.children?.nodes ?? []) {
          const group = h("optgroup", { label: nm(city.name, city.nameEn) });
          group.append(h("option", { value: city.code, selected: city.code === region }, nm(city.name, city.nameEn)));
          for (const county of city.children?.nodes ?? []) {
            group.append(
              h("option", { value: county.code, selected: county.code === region }, "\u00a0\u00a0" + nm(county.name, county.nameEn)),
            );
          }
          regionSelect.append(group);
        }
      }
      chainSelect.addEventListener("change", () => {
        chain = chainSelect.value;
        selected = "";
        void draw();
      });
      regionSelect.addEventListener("change", () => {
        region = regionSelect.value;
        void draw();
      });
      clear(
        controls,
        h("label", null, t("chain"), chainSelect),
        h("label", null, t("region"), regionSelect),
        h("div", { class: "legend" }, legend()),
      );
      await draw();
    } catch (exc) {
      if (alive) clear(graph, failure(exc));
    }
  })();

  let minEnterprises = 3;

  function legend(): HTMLElement[] {
    const item = (colour: string, label: string) => h("span", { class: "legend-item" }, h("i", { style: { background: colour } }), label);
    return [
      h("span", { class: "muted" }, t("coverage") + ":"),
      item(COVERAGE.gap, t("covGap")),
      item(COVERAGE.weak, t("covWeak", { n: minEnterprises })),
      item(COVERAGE.good, t("covGood", { n: minEnterprises })),
      h("span", { class: "legend-item" }, h("i", { class: "choke-swatch" }), t("chokepoint")),
    ];
  }

  async function draw(): Promise<void> {
    sync();
    clear(graph, loading());
    try {
      const data = await query<ChainAnswer>(MAP, { chain, region });
      if (!alive) return;
      const c = data.industryChain;
      if (!c) {
        clear(graph, h("div", { class: "failure" }, t("notFound")));
        return;
      }
      minEnterprises = c.chokepoints.thresholds.minEnterprises;
      const legendBox = controls.querySelector(".legend");
      if (legendBox) clear(legendBox, legend());
      const f = c.map.totals;
      clear(
        totals,
        stat(t("enterprises"), fmt(f.enterprises)),
        stat(t("leaders"), fmt(f.leaders)),
        stat(t("output"), fmt(f.output)),
        stat(t("employment"), fmt(f.employment)),
        stat(t("patents"), fmt(f.patents)),
        stat(t("projects"), fmt(f.projects)),
        stat(t("chokepoints"), fmt(c.chokepoints.chokepoints.length)),
      );
      clear(graph, svgGraph(c.map.nodes, c.map.edges, c.chokepoints.chokepoints));
      if (selected && c.map.nodes.some((n) => n.segment.segmentId === selected)) void showSegment(selected);
      else {
        selected = "";
        clear(side, h("p", { class: "muted" }, t("clickSegment")));
      }
    } catch (exc) {
      if (alive) clear(graph, failure(exc));
    }
  }

  function stat(label: string, value: string): HTMLElement {
    return h("div", { class: "stat" }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
  }

  function coverage(n: number): string {
    if (n === 0) return COVERAGE.gap;
    return n < minEnterprises ? COVERAGE.weak : COVERAGE.good;
  }

  function svgGraph(nodes: MapNode[], edges: { fromSegmentId: string; toSegmentId: string }[], chokes: Chokepoint[]): SVGSVGElement {
    const W = 250, H = 64, GAP = 16, COL = 390, TOP = 46, LEFT = 20;
    const choke = new Map(chokes.map((c) => [c.segment.segmentId, c]));
    const pos = new Map<string, { x: number; y: number }>();
    let rows = 0;
    TIERS.forEach((tier, col) => {
      const inTier = nodes.filter((n) => n.tier === tier).sort((a, b) => a.segment.position - b.segment.position);
      rows = Math.max(rows, inTier.length);
      inTier.forEach((n, i) => pos.set(n.segment.segmentId, { x: LEFT + col * COL, y: TOP + i * (H + GAP) }));
    });
    const width = LEFT * 2 + COL * 2 + W;
    const height = TOP + rows * (H + GAP) + 10;
    const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chain-svg", role: "img" });
    svg.append(
      s("defs", null,
        s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
          s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#7d8590" }))),
    );
    TIERS.forEach((tier, col) =>
      svg.append(s("text", { x: LEFT + col * COL + W / 2, y: 24, class: "tier-label", "text-anchor": "middle" }, t(TIER_LABEL[tier]!))),
    );
    const edgeLayer = s("g", { class: "edges" });
    svg.append(edgeLayer);
    for (const e of edges) {
      const a = pos.get(e.fromSegmentId);
      const b = pos.get(e.toSegmentId);
      if (!a || !b) continue;
      let d: string;
      if (Math.abs(a.x - b.x) < 1) {
        const x = a.x + W, y1 = a.y + H / 2, y2 = b.y + H / 2, bulge = 40 + Math.abs(y2 - y1) * 0.15;
        d = `M ${x} ${y1} C ${x + bulge} ${y1}, ${x + bulge} ${y2}, ${x + 2} ${y2}`;
      } else {
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 2, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
        d = `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
      }
      edgeLayer.append(s("path", { d, class: "edge", "data-from": e.fromSegmentId, "data-to": e.toSegmentId, "marker-end": "url(#arrow)" }));
    }
    for (const n of nodes) {
      const p = pos.get(n.segment.segmentId)!;
      const cp = choke.get(n.segment.segmentId);
      const id = n.segment.segmentId;
      const label = nm(n.segment.name, n.segment.nameEn);
      const g = s(
        "g",
        {
          class: `segment${cp ? " choke" : ""}${id === selected ? " selected" : ""}`,
          transform: `translate(${p.x},${p.y})`,
          tabindex: "0",
          role: "button",
          "data-testid": "segment",
          "data-segment-id": id,
          "data-chokepoint": cp ? "true" : "false",
          "aria-label": nm(n.segment.name, n.segment.nameEn),
        },
        s("title", null, `${nm(n.segment.name, n.segment.nameEn)}${cp ? `\n${t("chokepoint")}: ${cp.reasons.map((r) => r.message).join("; ")}` : ""}`),
        s("rect", { width: W, height: H, rx: 9, fill: coverage(n.figures.enterprises), class: "seg-box" }),
        s("text", { x: 12, y: 25, class: `seg-name${label.length > 22 ? " long" : ""}` }, clip(label, 30)),
        s("text", { x: 12, y: 47, class: "seg-figs" },
          `${t("enterprises")} ${n.figures.enterprises} · ${t("projects")} ${n.figures.projects} · ${t("leaders")} ${n.figures.leaders}`),
      );
      if (cp) {
        g.append(
          s("rect", { x: W - 58, y: -10, width: 66, height: 22, rx: 11, class: "choke-badge" }),
          s("text", { x: W - 25, y: 5, class: "choke-text", "text-anchor": "middle" }, `⚠ ${cp.score.toFixed(0)}`),
        );
      }
      const pick = () => {
        selected = id;
        svg.querySelectorAll(".segment.selected").forEach((el) => el.classList.remove("selected"));
        g.classList.add("selected");
        svg.querySelectorAll<SVGPathElement>(".edge").forEach((el) => {
          el.classList.toggle("lit", el.dataset.from === id || el.dataset.to === id);
        });
        sync();
        void showSegment(id);
      };
      g.addEventListener("click", pick);
      g.addEventListener("keydown", (e) => {
        if ((e as KeyboardEvent).key === "Enter" || (e as KeyboardEvent).key === " ") pick();
      });
      svg.append(g);
    }
    return svg;
  }

  let segmentRequest = 0;
  async function showSegment(id: string): Promise<void> {
    const mine = ++segmentRequest;
    clear(side, loading());
    try {
      const data = await query<SegmentAnswer>(SEGMENT, { segment: id, region });
      if (!alive || mine !== segmentRequest) return;
      const seg = data.segment;
      if (!seg) {
        clear(side, h("div", { class: "failure" }, t("notFound")));
        return;
      }
      const chokeEl = graph.querySelector(`[data-segment-id="${CSS.escape(id)}"]`);
      const isChoke = chokeEl?.getAttribute("data-chokepoint") === "true";
      const reasons = isChoke ? (chokeEl?.querySelector("title")?.textContent ?? "").split("\n").slice(1) : [];
      clear(
        side,
        h("h2", { "data-testid": "segment-title" }, nm(seg.name, seg.nameEn), isChoke ? h("span", { class: "choke-pill" }, t("chokepoint")) : null),
        reasons.length ? h("p", { class: "reasons" }, reasons.join(" ")) : null,
        panel(
          [t("targets"), h("span", { class: "count" }, t("ofTotal", { n: seg.targets.totalCount }))],
          { "data-testid": "targets" },
          seg.targets.nodes.length
            ? h(
                "ol",
                { class: "targets" },
                seg.targets.nodes.map((tg) =>
                  h(
                    "li",
                    { "data-testid": "target", "data-uscc": tg.enterprise.uscc },
                    h("div", { class: "row" },
                      h("span", { class: "rank" }, `#${tg.rank}`),
                      h("strong", null, tg.enterprise.name),
                      h("span", { class: "muted" }, tg.enterprise.region ? nm(tg.enterprise.region.name, tg.enterprise.region.nameEn) : ""),
                      h("span", { class: "score" }, tg.score.toFixed(1))),
                    h("div", { class: "muted small" }, tg.reasons.join(" · ")),
                  ),
                ),
              )
            : h("p", { class: "muted" }, t("noTargets")),
        ),
        panel(
          [t("localEnterprises"), h("span", { class: "count" }, t("ofTotal", { n: data.enterprises.totalCount }))],
          { "data-testid": "local-enterprises" },
          data.enterprises.nodes.length
            ? h("ul", { class: "plain" }, data.enterprises.nodes.map((e) =>
                h("li", null, h("span", null, e.name), h("span", { class: "muted" }, `${fmt(e.output)} 万元`))))
            : h("p", { class: "muted" }, t("none")),
        ),
        panel(
          [t("localProjects"), h("span", { class: "count" }, t("ofTotal", { n: data.projects.totalCount }))],
          { "data-testid": "local-projects" },
          data.projects.nodes.length
            ? h("ul", { class: "plain" }, data.projects.nodes.map((p) =>
                h("li", null, projectLink(p.code, p.name), h("span", { class: "muted" }, `${fmt(p.totalInvestment)} 万元`))))
            : h("p", { class: "muted" }, t("none")),
        ),
      );
    } catch (exc) {
      if (alive && mine === segmentRequest) clear(side, failure(exc));
    }
  }

  return () => {
    alive = false;
  };
}

function clip(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}
