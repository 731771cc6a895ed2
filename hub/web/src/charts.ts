// Time charts on uPlot: aligned panels sharing one time axis and one cursor.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { t } from "./i18n";

export interface Line {
  label: string;
  colour: string;
  values: (number | null)[];
  bars?: boolean;
  dash?: number[];
}

const AXIS = { stroke: "#9da7b3", grid: { stroke: "rgba(255,255,255,0.07)" }, ticks: { stroke: "rgba(255,255,255,0.15)" } };

/** One panel: x in unix seconds, y lines on one scale. */
export function timePanel(
  el: HTMLElement,
  xs: number[],
  lines: Line[],
  opts: { height: number; unit: string; range?: "auto"; sync?: string; xRange?: [number, number]; monthly?: boolean },
): uPlot {
  const width = Math.max(320, el.clientWidth || 600);
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined;
  const plot = new uPlot(
    {
      width,
      height: opts.height,
      cursor: opts.sync ? { sync: { key: opts.sync } } : {},
      legend: { show: true, live: true },
      scales: {
        x: { time: true, ...(opts.xRange ? { range: () => opts.xRange! } : {}) },
        // Amounts start at 0; indices (which go negative) get their own span, padded.
        y: opts.range === "auto"
          ? { range: (_u, min, max) => [Math.min(0, min) - 0.05, max + 0.05] }
          : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...AXIS, values: opts.monthly ? "{YYYY}-{MM}" : undefined },
        { ...AXIS, label: opts.unit, size: 64, labelSize: 18 },
      ],
      series: [
        { label: t("time") },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.colour,
          fill: l.bars ? l.colour + "99" : undefined,
          width: 2,
          dash: l.dash,
          paths: l.bars ? bars : undefined,
          points: { show: !l.bars, size: 5 },
          spanGaps: false,
        })),
      ],
    },
    [xs, ...lines.map((l) => l.values)] as uPlot.AlignedData,
    el,
  );
  const resize = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: opts.height });
  });
  resize.observe(el);
  return plot;
}

export function dayStart(iso: string): number {
  return Date.parse(iso + "T00:00:00+08:00") / 1000;
}
