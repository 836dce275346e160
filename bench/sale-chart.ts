/*
 * The sale phase's timeline (bench/sale.ts) as three panels over the seconds since the start:
 * units available / held / sold, shoppers in the queue, admissions/s and answers/s. Drawn as SVG
 * and rasterised like the claims chart (bench/chart.ts).
 */
import { escape, writeChartPng } from './chart';

export interface SaleSample {
  /** Seconds since the sale's start (negative before it). */
  t: number;
  available: number;
  held: number;
  sold: number;
  /** Shoppers holding a ticket, not admitted and without a final answer (the bench's own count). */
  queued: number;
  admissionsPerSecond: number;
  answersPerSecond: number;
}

const W = 900;
const PANEL_H = 170;
const PAD = { left: 80, right: 170, top: 50, gap: 40, bottom: 50 };
const PANELS: Array<{ title: string; series: Array<{ key: keyof SaleSample; color: string; label: string }> }> = [
  {
    title: 'units',
    series: [
      { key: 'available', color: '#1b9e77', label: 'available' },
      { key: 'held', color: '#d95f02', label: 'held' },
      { key: 'sold', color: '#7570b3', label: 'sold' },
    ],
  },
  { title: 'shoppers', series: [{ key: 'queued', color: '#e7298a', label: 'in the queue' }] },
  {
    title: 'per second',
    series: [
      { key: 'admissionsPerSecond', color: '#66a61e', label: 'admissions/s' },
      { key: 'answersPerSecond', color: '#e6ab02', label: 'final answers/s' },
    ],
  },
];

export function saleChartSvg(samples: SaleSample[], title: string): string {
  const H = PAD.top + PANELS.length * (PANEL_H + PAD.gap) + PAD.bottom - PAD.gap;
  const plotW = W - PAD.left - PAD.right;
  const t0 = Math.min(...samples.map((s) => s.t));
  const t1 = Math.max(t0 + 1, ...samples.map((s) => s.t));
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left + plotW / 2}" y="28" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  PANELS.forEach((panel, p) => {
    const top = PAD.top + p * (PANEL_H + PAD.gap);
    const max = Math.max(1, ...samples.flatMap((s) => panel.series.map((series) => Number(s[series.key]))));
    const y = (v: number) => top + PANEL_H - (v / max) * PANEL_H;
    parts.push(`<rect x="${PAD.left}" y="${top}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    for (const fraction of [0, 0.5, 1]) {
      const v = max * fraction;
      parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      parts.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`);
    }
    parts.push(
      `<text x="18" y="${top + PANEL_H / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + PANEL_H / 2})">${panel.title}</text>`,
    );
    panel.series.forEach((series, s) => {
      const points = samples.map((sample) => `${x(sample.t).toFixed(1)},${y(Number(sample[series.key])).toFixed(1)}`);
      parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${points.join(' ')}"/>`);
      const ly = top + 16 + s * 20;
      parts.push(
        `<line x1="${W - PAD.right + 12}" x2="${W - PAD.right + 34}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="3"/>`,
        `<text x="${W - PAD.right + 40}" y="${ly + 4}">${series.label}</text>`,
      );
    });
  });
  const axisY = H - PAD.bottom + 10;
  const step = Math.max(1, Math.ceil((t1 - t0) / 10 / 5) * 5);
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step)
    parts.push(`<text x="${x(t)}" y="${axisY + 8}" text-anchor="middle">${t}</text>`);
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${H - 12}" text-anchor="middle">seconds since the sale's start</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export function writeSaleChart(samples: SaleSample[], title: string, pngPath: string): string {
  return writeChartPng(saleChartSvg(samples, title), pngPath);
}
