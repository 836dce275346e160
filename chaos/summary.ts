import type { InvariantReport, Violation } from '../invariants/check-sale-invariants';
import type { AdmissionCensus, WaitlistCensus } from './admission-census';
import type { GatewayUse } from './gateways';
import type { RequestStats } from './http';
import type { MailCensus } from './mail-census';
import type { KillRecord, UnexpectedDeath } from './killer';
import { TARGETS, type ResolvedChaosOptions } from './options';
import type { CrowdResult } from './shoppers';
import type { WorkflowCensus } from './workflow-census';

export interface RunSummary {
  options: ResolvedChaosOptions;
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
  /** Seconds after the start when the primary gateway was told to fail. */
  primaryFailedAt?: number;
  gateways?: GatewayUse[];
  admission?: AdmissionCensus;
  waitlist?: WaitlistCensus;
  mail?: MailCensus;
  failure?: string;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0;

/** The lines printed on stdout at the end; `violations: N` is what the chaos test looks for. */
export function summaryLines(s: RunSummary): string[] {
  const o = s.options;
  const lines = [
    `chaos run (${o.scenario}): seed ${o.seed}, ${o.kills} kills planned, ${o.shoppers} shoppers over ${o.seconds} s, ${o.units} units, hold ${o.holdSeconds} s, ${o.releasePolicy}${o.waitingRoom ? `, waiting room ${o.admitPerSecond}/s` : ''}; sale ${s.saleId ?? '-'}; ${Math.round(s.seconds)} s in all`,
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
  if (s.crowd) {
    lines.push(`shopper plans: ${fmt(s.crowd.plans)}`, `shopper outcomes: ${fmt(s.crowd.outcomes)}`);
    if (o.waitingRoom) {
      const c = s.crowd.roomClient;
      lines.push(
        `waiting-room client calls: ${c.calls}, retried ${c.retries} (on ${fmt(c.retriedOn) || '-'}), gave up ${c.gaveUp}`,
      );
    }
    if (s.crowd.jumpers > 0)
      lines.push(`queue jumpers: ${s.crowd.jumpers} skipped the queue, ${s.crowd.jumpersReserved} of them got a hold anyway`);
  }
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
  lines.push(...admissionLines(s), ...gatewayLines(s), ...mailLines(s));
  if (s.report) {
    const { counts, provider, workflows } = s.report;
    lines.push(
      `units: ${counts.units} = available ${counts.available} + held ${counts.held} + sold ${counts.sold} + withdrawn ${counts.withdrawn}`,
    );
    if (s.report.waitlist) {
      const byStatus = s.waitlist?.offersByStatus ?? {};
      lines.push(
        `waitlist: ${s.report.waitlist.offered} entries offered a unit (${s.crowd?.offered ?? 0} taken up by shoppers), ${s.report.waitlist.waiting} still waiting`,
        `waitlist offers made: ${s.waitlist?.offers ?? 0}; taken (paid) ${byStatus.paid ?? 0}, payment failed ${byStatus.payment_failed ?? 0}, cancelled ${byStatus.cancelled ?? 0}, let expire ${byStatus.expired ?? 0}`,
      );
    }
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
    lines.push(
      `invariant checker: ${s.report.violations.length === 0 ? 'all seven invariants and the queue checks hold' : `${s.report.violations.length} violations`}`,
    );
    lines.push(`violations: ${s.report.violations.length + s.midRun.violations.length}`);
  } else {
    lines.push('violations: not checked');
  }
  if (s.failure) lines.push(`FAILED: ${s.failure}`);
  return lines;
}

function admissionLines(s: RunSummary): string[] {
  const a = s.admission;
  if (!a) return [];
  const all = Object.values(a.reservations);
  const sum = (pick: (r: (typeof all)[number]) => number) => all.reduce((n, r) => n + pick(r), 0);
  const per = Object.entries(a.reservations)
    .map(
      ([origin, r]) => `${origin} ${r.inAdmission}/${r.total} (admission over ${r.admissionOver}, not admitted ${r.notAdmitted})`,
    )
    .join(', ');
  return [
    `waiting room: ${a.tickets} tickets, ${a.admitted} admitted`,
    `reservations by admitted shoppers: ${sum((r) => r.inAdmission)} of ${sum((r) => r.total)} made inside a running admission; by origin: ${per || '-'}`,
  ];
}

function gatewayLines(s: RunSummary): string[] {
  if (!s.gateways) return [];
  const failed =
    s.primaryFailedAt === undefined
      ? 'never told to fail'
      : `failing from ${s.primaryFailedAt.toFixed(1)} s (${s.options.primaryFailsAt} s into the sale) to the end`;
  return [
    `primary gateway ${failed}`,
    ...s.gateways.map(
      (g) =>
        `  gateway ${g.name}: charges ${fmt(g.chargesByStatus) || 'none'}; voided keys ${g.voidedKeys}; faults ${fmt(g.faults ?? {})}`,
    ),
  ];
}

function mailLines(s: RunSummary): string[] {
  const m = s.mail;
  if (!m) return [];
  const kinds = Object.entries(m.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => `${kind} ${k.notices} notices/${k.messages} messages`)
    .join(', ');
  const lines = [
    `e-mails delivered: ${m.delivered} for ${Object.values(m.byKind).reduce((n, k) => n + k.notices, 0)} notice ids; per kind: ${kinds || '-'}`,
    `notice rows by state: ${fmt(m.rowsByState) || '-'}; sent but never delivered ${m.sentNotDelivered.length}; delivered with an unknown key ${m.unknownKeys.length}`,
  ];
  for (const key of m.sentNotDelivered.slice(0, 10)) lines.push(`  LOST notice ${key}`);
  for (const d of m.duplicated.slice(0, 20))
    lines.push(
      `  DUPLICATE ${d.key}: copies at ${d.atSeconds.map((t) => `${t.toFixed(1)} s`).join(', ')}; worker kills while the first was sent: ${d.killsAtFirstCopy.join(', ') || 'none'}${d.sameMessageId ? '' : '; MESSAGE-IDS DIFFER'}`,
    );
  lines.push(
    `duplicated notices with no worker kill while their first copy was sent, or with two Message-IDs: ${m.unexplainedDuplicates}`,
  );
  lines.push(`duplicate e-mails: ${m.duplicates}`);
  return lines;
}

function fmt(record: Record<string, number>): string {
  return Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
}
