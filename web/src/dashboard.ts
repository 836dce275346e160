/*
 * The operators' live sale dashboard (/admin/sales/:saleId). Reads the admin stream
 * GET /v1/admin/sales/:saleId/events with fetch (EventSource cannot send the admin token), keeps
 * the readings of the last 10 minutes and draws them as inline SVG. The admin token is asked for
 * once and kept in sessionStorage (gone when the tab closes).
 */
import type { AdminSaleSnapshot, SalePoint } from '../../domain/sale-feed';
import { openEventStream } from './event-stream';
import { $, say } from './view';

const TOKEN_KEY = 'flash-sale.admin-token';
const KEEP_MS = 10 * 60_000;
const SERIES_COLOURS: Record<string, string> = { available: '#0b5cad', held: '#c77700', sold: '#1e7a3c' };
const OUTCOME_COLOURS = ['#0b5cad', '#b3261e', '#c77700', '#1e7a3c', '#6c3483', '#5d6d7e'];
const SVG = 'http://www.w3.org/2000/svg';

const saleId = decodeURIComponent(location.pathname.split('/').filter(Boolean).at(-1) ?? '');
let points: SalePoint[] = [];
let stream: { stop(): void } | undefined;

function fillTiles(list: HTMLElement, values: Record<string, number>, empty: string): void {
  list.replaceChildren();
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) {
    const row = document.createElement('div');
    row.append(Object.assign(document.createElement('dt'), { textContent: empty }));
    row.append(Object.assign(document.createElement('dd'), { textContent: '0' }));
    list.append(row);
    return;
  }
  for (const [name, value] of entries) {
    const row = document.createElement('div');
    row.append(Object.assign(document.createElement('dt'), { textContent: name }));
    row.append(Object.assign(document.createElement('dd'), { textContent: String(value) }));
    list.append(row);
  }
}

/** Draws one polyline per series over the kept readings, scaled to the chart's view box. */
function drawChart(svg: SVGSVGElement, series: Record<string, number[]>, colours: (name: string, i: number) => string): void {
  const [, , width, height] = svg.getAttribute('viewBox')!.split(' ').map(Number) as [number, number, number, number];
  for (const old of [...svg.querySelectorAll('polyline, line')]) old.remove();
  const max = Math.max(1, ...Object.values(series).flat());
  const base = document.createElementNS(SVG, 'line');
  for (const [k, v] of Object.entries({ x1: 0, y1: height - 1, x2: width, y2: height - 1, stroke: '#d5dbe1' }))
    base.setAttribute(k, String(v));
  svg.append(base);
  Object.entries(series).forEach(([name, values], i) => {
    if (values.length === 0) return;
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute(
      'points',
      values.map((v, x) => `${(x * step).toFixed(1)},${(height - 4 - (v / max) * (height - 8)).toFixed(1)}`).join(' '),
    );
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', colours(name, i));
    line.setAttribute('stroke-width', '2');
    line.dataset.series = name;
    svg.append(line);
  });
}

function render(snapshot: AdminSaleSnapshot): void {
  $('#sale-name').textContent = `${snapshot.sale.name} (${snapshot.sale.sku})`;
  $('#sale-status').textContent =
    `${snapshot.status.replace('_', ' ')} · ${snapshot.sale.units} units · ${new Date(snapshot.at).toLocaleTimeString()}`;
  for (const name of ['available', 'held', 'sold']) $(`#units-${name}`).textContent = String(snapshot.units[name] ?? 0);
  const others = Object.entries(snapshot.units).filter(([name]) => !(name in SERIES_COLOURS));
  $('#units-other').textContent = others.map(([name, n]) => `${name}: ${n}`).join(' · ');
  $('#expiring').textContent = String(snapshot.expiringNextMinute);
  $('#starts-refused').textContent = String(snapshot.startsRefused);
  $('#start-refusal').textContent = snapshot.lastStartRefusal ? `Latest start given up: ${snapshot.lastStartRefusal}` : '';
  $('#reservations-rate').textContent = String(snapshot.reservationsPerSecond);
  fillTiles($('#claims'), snapshot.claimsPerSecond, 'no claims');
  fillTiles($('#payments'), snapshot.payments, 'no payments');

  $('#queue-none').hidden = snapshot.queue !== null;
  $('#queue').hidden = snapshot.queue === null;
  if (snapshot.queue) {
    $('#queue-length').textContent = String(snapshot.queue.length);
    $('#queue-rate').textContent = String(snapshot.queue.admittedPerSecond);
  }

  const verdict = $('#invariants');
  const violations = $('#violations');
  violations.replaceChildren();
  if (!snapshot.invariants) {
    verdict.textContent = 'Not checked yet.';
    verdict.className = '';
  } else {
    const when = new Date(snapshot.invariants.checkedAt).toLocaleTimeString();
    verdict.textContent = snapshot.invariants.ok
      ? `All invariants hold (checked ${when}).`
      : `${snapshot.invariants.violations.length} violation(s) found (checked ${when}).`;
    verdict.className = snapshot.invariants.ok ? 'verdict-ok' : 'verdict-bad';
    for (const v of snapshot.invariants.violations)
      violations.append(Object.assign(document.createElement('li'), { textContent: `Invariant ${v.invariant}: ${v.detail}` }));
  }

  const links = $('#temporal-links');
  $('#temporal-none').hidden = snapshot.temporalUi !== null;
  if (snapshot.temporalUi && links.childElementCount === 0) {
    const add = (text: string, href: string) => {
      const a = Object.assign(document.createElement('a'), { href, textContent: text, target: '_blank', rel: 'noopener' });
      const item = document.createElement('li');
      item.append(a);
      links.append(item);
    };
    add('All reservations of this sale', snapshot.temporalUi.all);
    for (const [status, href] of Object.entries(snapshot.temporalUi.byStatus))
      add(`Reservations ${status.replace('_', ' ')}`, href);
  }

  const units: Record<string, number[]> = { available: [], held: [], sold: [] };
  for (const p of points) for (const name of Object.keys(units)) units[name]!.push(p.units[name] ?? 0);
  drawChart($<HTMLElement>('#units-chart') as unknown as SVGSVGElement, units, (name) => SERIES_COLOURS[name]!);
  const outcomes = [...new Set(points.flatMap((p) => Object.keys(p.claimsPerSecond)))].sort();
  const claims = Object.fromEntries(outcomes.map((o) => [o, points.map((p) => p.claimsPerSecond[o] ?? 0)]));
  drawChart(
    $<HTMLElement>('#claims-chart') as unknown as SVGSVGElement,
    claims,
    (_n, i) => OUTCOME_COLOURS[i % OUTCOME_COLOURS.length]!,
  );
}

function keep(point: SalePoint): void {
  points.push(point);
  const oldest = point.at - KEEP_MS;
  points = points.filter((p) => p.at >= oldest);
}

function connect(token: string): void {
  stream?.stop();
  $('#token-card').hidden = true;
  stream = openEventStream({
    url: `/v1/admin/sales/${encodeURIComponent(saleId)}/events`,
    token,
    onEvent(event) {
      if (event.event === 'history') {
        points = [];
        for (const point of JSON.parse(event.data) as SalePoint[]) keep(point);
      } else if (event.event === 'snapshot') {
        const snapshot = JSON.parse(event.data) as AdminSaleSnapshot;
        if (points.at(-1)?.at !== snapshot.at) keep(snapshot);
        $('#board').hidden = false;
        say(undefined);
        render(snapshot);
      }
    },
    onError(status) {
      if (status === 401 || status === 403) {
        sessionStorage.removeItem(TOKEN_KEY);
        say('The admin token was refused.');
        $('#token-card').hidden = false;
        return 'stop';
      }
      if (status === 404) {
        say('No such sale.');
        return 'stop';
      }
      say('The connection to the API dropped; reconnecting…');
    },
  });
}

function start(): void {
  $<HTMLFormElement>('#token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $<HTMLInputElement>('#admin-token').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    connect(token);
  });
  $('#forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stream?.stop();
    $('#board').hidden = true;
    $('#token-card').hidden = false;
  });
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) connect(token);
  else $('#token-card').hidden = false;
}

start();
