/*
 * claims/s by concurrency for the claim strategies, log-scaled y, as an SVG drawn here and
 * rasterised with @resvg/resvg-js (a prebuilt native module from npm; works offline). Text
 * needs a system font (DejaVu on Debian); without one the lines still render, unlabelled.
 */
import { writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { CLAIM_STRATEGIES, type ClaimCase } from './claims';

const COLORS: Record<string, string> = {
  'stock-row': '#d95f02',
  'textbook-skip-locked': '#7570b3',
  'seed-stock-tx': '#e7298a',
  'seed-skip-locked-tx': '#66a61e',
  'ours-striped': '#1b9e77',
};
const W = 820;
const H = 500;
const PAD = { left: 80, right: 210, top: 50, bottom: 60 };

export function claimsChartSvg(cases: ClaimCase[], title: string): string {
  const concurrencies = [...new Set(cases.map((c) => c.concurrency))].sort((a, b) => a - b);
  const values = cases.map((c) => Math.max(1, c.claimsPerSecond));
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  const top = hi === lo ? hi + 1 : hi;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (concurrencies.length === 1 ? plotW / 2 : (i * plotW) / (concurrencies.length - 1));
  const y = (v: number) => PAD.top + plotH - ((Math.log10(Math.max(1, v)) - lo) / (top - lo)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - PAD.right / 2}" y="28" text-anchor="middle" font-size="16">${escape(title)}</text>`,
  ];
  for (let p = lo; p <= top; p++) {
    const gy = y(10 ** p);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${gy}" y2="${gy}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 8}" y="${gy + 4}" text-anchor="end">${(10 ** p).toLocaleString('en-US')}</text>`);
  }
  concurrencies.forEach((c, i) => {
    parts.push(`<text x="${x(i)}" y="${H - PAD.bottom + 20}" text-anchor="middle">${c}</text>`);
  });
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${H - 15}" text-anchor="middle">concurrent claimers</text>`,
    `<text x="20" y="${PAD.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 20 ${PAD.top + plotH / 2})">claims/s (log scale)</text>`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
  );
  CLAIM_STRATEGIES.forEach((strategy, s) => {
    const points = concurrencies
      .map((c, i) => ({ i, v: cases.find((k) => k.strategy === strategy && k.concurrency === c)?.claimsPerSecond }))
      .filter((p): p is { i: number; v: number } => p.v !== undefined);
    const color = COLORS[strategy]!;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.map((p) => `${x(p.i)},${y(p.v)}`).join(' ')}"/>`,
    );
    for (const p of points) {
      parts.push(`<circle cx="${x(p.i)}" cy="${y(p.v)}" r="4" fill="${color}"/>`);
      parts.push(
        `<text x="${x(p.i) + 6}" y="${y(p.v) - 7}" fill="${color}" font-size="11">${p.v.toLocaleString('en-US')}</text>`,
      );
    }
    const ly = PAD.top + 20 + s * 24;
    parts.push(
      `<line x1="${W - PAD.right + 15}" x2="${W - PAD.right + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${W - PAD.right + 46}" y="${ly + 4}">${strategy}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes the chart as PNG; falls back to SVG (returning its path) if rasterising fails. */
export function writeClaimsChart(cases: ClaimCase[], title: string, pngPath: string): string {
  return writeChartPng(claimsChartSvg(cases, title), pngPath);
}

/** Rasterises `svg` to `pngPath`; writes the SVG beside it instead (returning that path) if rasterising fails. */
export function writeChartPng(svg: string, pngPath: string): string {
  try {
    const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
      .render()
      .asPng();
    writeFileSync(pngPath, png);
    return pngPath;
  } catch {
    const svgPath = pngPath.replace(/\.png$/, '.svg');
    writeFileSync(svgPath, svg);
    return svgPath;
  }
}

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
