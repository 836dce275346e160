import type { InvariantReport, Violation } from '../invariants/check-sale-invariants';
import type { RequestStats } from './http';
import type { KillRecord, UnexpectedDeath } from './killer';
import { TARGETS, type ChaosOptions } from './options';
import type { CrowdResult } from './shoppers';
import type { WorkflowCensus } from './workflow-census';

export interface RunSummary {
  options: ChaosOptions;
  saleId?: string;
  seconds: number;
  kills: KillRecord[];
  unexpected: UnexpectedDeath[];
  crowd?: CrowdResult;
  requests?: RequestStats;
  midRun: { checks: number; failedReads: number; violations: Violation[] };
  settle?: { settled: boolean; ms: number };
  reservations?: Record<string, number>;
  report?: InvariantReport;
  workflows?: WorkflowCensus;
  failure?: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0;

/** The lines printed on stdout at the end; `violations: N` is what the chaos test looks for. */
export function summaryLines(s: RunSummary): string[] {
  const o = s.options;
  const lines = [
    `chaos run: seed ${o.seed}, ${o.kills} kills planned, ${o.shoppers} shoppers over ${o.seconds} s, ${o.units} units, hold ${o.holdSeconds} s, ${o.releasePolicy}; sale ${s.saleId ?? '-'}; ${Math.round(s.seconds)} s in all`,
  ];
  const per = TARGETS.map((target) => {
    const mine = s.kills.filter((k) => k.target === target).map((k) => k.restartMs);
    return `${target} ${mine.length}` + (mine.length ? ` (restart median ${median(mine)} ms, max ${Math.max(...mine)} ms)` : '');
  });
  lines.push(`kills: ${s.kills.length} — ${per.join(', ')}`);
  lines.push(
    `unexpected exits: ${s.unexpected.length}` +
      s.unexpected
        .map((u) => `\n  ${u.target} at ${u.atSeconds.toFixed(1)} s: ${u.detail} (back after ${u.restartMs} ms)`)
        .join(''),
  );
  if (s.crowd) lines.push(`shopper plans: ${fmt(s.crowd.plans)}`, `shopper outcomes: ${fmt(s.crowd.outcomes)}`);
  if (s.requests) {
    const r = s.requests;
    lines.push(
      `requests: ${r.requests}, retried ${r.retries}, no answer ${r.transportErrors}, gave up ${r.gaveUp}; by status ${fmt(r.byStatus)}`,
    );
  }
  lines.push(
    `mid-run snapshots (invariants 1, 2, 3, 7 and the queue checks after each restart): ${s.midRun.checks} checked, ${s.midRun.failedReads} unreadable, ${s.midRun.violations.length} violations`,
  );
  for (const v of s.midRun.violations.slice(0, 20)) lines.push(`  MID-RUN VIOLATION invariant ${v.invariant}: ${v.detail}`);
  if (s.settle) lines.push(`settled: ${s.settle.settled ? 'yes' : 'NO'} after ${(s.settle.ms / 1000).toFixed(1)} s`);
  if (s.reservations) lines.push(`reservations by status: ${fmt(s.reservations)}`);
  if (s.report) {
    const { counts, provider, workflows } = s.report;
    lines.push(
      `units: ${counts.units} = available ${counts.available} + held ${counts.held} + sold ${counts.sold} + withdrawn ${counts.withdrawn}`,
    );
    if (s.report.waitlist)
      lines.push(
        `waitlist: ${s.report.waitlist.offered} entries offered a unit (${s.crowd?.offered ?? 0} taken up by shoppers), ${s.report.waitlist.waiting} still waiting`,
      );
    if (typeof provider === 'object') lines.push(`captures: ${provider.captures}, refunds: ${provider.refunds}`);
    if (typeof workflows === 'object') lines.push(`open reservations whose workflow was checked: ${workflows.checked}`);
    if (s.workflows) {
      const w = s.workflows;
      lines.push(
        `workflows: ${fmt(w.byStatus)}; reservations without a workflow ${w.withoutWorkflow.length}, final ones whose workflow still runs ${w.stillRunning.length}`,
      );
      for (const id of w.withoutWorkflow.slice(0, 10)) lines.push(`  NOTE reservation ${id} never had a workflow`);
      for (const id of w.stillRunning.slice(0, 10)) lines.push(`  NOTE reservation ${id} is final but its workflow runs`);
    }
    for (const v of s.report.violations) lines.push(`  VIOLATION invariant ${v.invariant}: ${v.detail}`);
    lines.push(`violations: ${s.report.violations.length + s.midRun.violations.length}`);
  } else {
    lines.push('violations: not checked');
  }
  if (s.failure) lines.push(`FAILED: ${s.failure}`);
  return lines;
}

function fmt(record: Record<string, number>): string {
  return Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
}
