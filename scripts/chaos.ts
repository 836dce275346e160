/*
 * `npm run chaos [-- --kills 24 --seconds 150 --seed 7 --scenario full|classic]`: a live sale on a
 * throwaway stack while the worker, the API, the Temporal dev server and Postgres are killed with
 * SIGKILL at random moments and started again; then every reservation is let end and the seven
 * invariants are checked against Postgres, Temporal and the providers' ledgers. The `full`
 * scenario (default) adds a waiting room, a waitlist, a primary gateway that fails half way and
 * slow SMTP (chaos/README.md). Progress on stderr, a summary on stdout; exits 1 on any violation,
 * a duplicate e-mail no worker kill mid-send explains, or when the stack did not come back.
 */
import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { payloadDataConverter } from '../clients/temporal-connection';
import { checkSaleInvariants, type InvariantReport, type Violation } from '../invariants/check-sale-invariants';
import { createHttpGateway } from '../payments/http-gateway';
import { admissionCensus, waitlistCensus } from '../chaos/admission-census';
import { failGateway, gatewayUse, PRIMARY_FAILURE } from '../chaos/gateways';
import { chaosHttp } from '../chaos/http';
import { mailCensus, waitForMailToDrain } from '../chaos/mail-census';
import { startSlowSmtp, type SlowSmtp } from '../chaos/slow-smtp';
import { runKiller } from '../chaos/killer';
import { parseChaosOptions } from '../chaos/options';
import { seededRandom } from '../chaos/random';
import { reservationsByStatus, waitUntilSettled } from '../chaos/settle';
import { runCrowd } from '../chaos/shoppers';
import { workflowCensus } from '../chaos/workflow-census';
import { CHAOS_SECRETS, startChaosStack, withTimeout, type ChaosStack } from '../chaos/stack';
import { summaryLines, type RunSummary } from '../chaos/summary';

const MID_RUN_INVARIANTS = new Set<Violation['invariant']>([1, 2, 3, 7, 'queue']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const options = parseChaosOptions(process.argv.slice(2), process.env);
  const startedAt = Date.now();
  const say = (message: string) =>
    process.stderr.write(`[chaos +${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
  const random = seededRandom(options.seed);
  const summary: RunSummary = {
    options,
    seconds: 0,
    kills: [],
    unexpected: [],
    midRun: { checks: 0, failedReads: 0, violations: [] },
  };
  // Every phase below is bounded; this is the backstop if one of those bounds is wrong. On a
  // waitlist sale the settle can last a hold per waiting shopper (offers running out in turn).
  const waitlistDrainSeconds = options.releasePolicy === 'waitlist' ? options.shoppers * options.holdSeconds : 0;
  const backstopSeconds = options.seconds + options.kills * 90 + options.settleSeconds + waitlistDrainSeconds + 300;
  const backstopMs = backstopSeconds * 1000;
  const backstop = setTimeout(() => {
    say(`the run took longer than ${backstopMs / 1000} s; giving up`);
    process.exit(1);
  }, backstopMs);

  say(
    `seed ${options.seed}: ${options.kills} kills of ${options.targets.join(', ')}, ${options.shoppers} shoppers over ${options.seconds} s, ${options.units} units`,
  );
  let stack: ChaosStack;
  let smtp: SlowSmtp | undefined;
  try {
    // The sink has its own random stream: mail timing must not shift the kills and the crowd.
    if (options.slowSmtp) smtp = await startSlowSmtp({ delayMs: options.smtpDelayMs, random: seededRandom(options.seed + 2) });
    stack = await startChaosStack({
      seed: options.seed,
      say,
      secondaryGateway: options.secondaryGateway,
      ...(smtp && { smtpUrl: smtp.url }),
    });
  } catch (error) {
    await smtp?.stop();
    summary.failure = `the stack did not start: ${String(error)}`;
    process.stdout.write(summaryLines(summary).join('\n') + '\n');
    return 1;
  }
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 2, connectionTimeoutMillis: 5_000 });
  // Connections die with each Postgres kill, idle (pool 'error') or checked out (client 'error').
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const psp = createHttpGateway({ baseUrl: stack.pspUrl, timeoutMs: 10_000 });
  const gateways = [
    psp,
    ...(stack.pspSecondaryUrl ? [createHttpGateway({ baseUrl: stack.pspSecondaryUrl, timeoutMs: 10_000 })] : []),
  ];
  let primaryFailure: NodeJS.Timeout | undefined;
  const http = chaosHttp(stack.apiUrl);
  let connection: Connection | undefined;
  let ok = false;
  try {
    const sale = await http.call('POST', '/v1/sales', {
      token: CHAOS_SECRETS.ADMIN_TOKEN,
      body: {
        sku: 'XPHONE-15',
        name: 'XPhone 15 (chaos)',
        units: options.units,
        priceCents: 99_900,
        currency: 'EUR',
        holdSeconds: options.holdSeconds,
        ...(options.waitingRoom && { waitingRoom: { admitPerSecond: options.admitPerSecond, powDifficulty: 8 } }),
        releasePolicy: options.releasePolicy,
      },
    });
    if (sale?.status !== 201) throw new Error(`sale not created: ${JSON.stringify(sale)}`);
    const saleId = String(sale.body.id);
    summary.saleId = saleId;
    say(
      `sale ${saleId}: ${options.units} units, hold ${options.holdSeconds} s, ${options.releasePolicy}${options.waitingRoom ? `, waiting room admitting ${options.admitPerSecond}/s` : ''}; the crowd arrives`,
    );

    const loadStarted = Date.now();
    if (options.primaryFailsAt !== undefined) {
      const at = options.primaryFailsAt;
      primaryFailure = setTimeout(() => {
        failGateway(stack.pspUrl).then(
          () => {
            summary.primaryFailedAt = (Date.now() - startedAt) / 1000;
            say(`the primary gateway fails from now on: ${JSON.stringify(PRIMARY_FAILURE)}`);
          },
          (error: unknown) => (summary.failure = `the primary gateway could not be made to fail: ${String(error)}`),
        );
      }, at * 1000);
    }
    const crowd = runCrowd({
      saleId,
      shoppers: options.shoppers,
      arrivalSeconds: options.seconds,
      holdSeconds: options.holdSeconds,
      releasePolicy: options.releasePolicy,
      jwtSecret: CHAOS_SECRETS.JWT_SECRET,
      seed: options.seed,
      random,
      http,
      say,
      waitingRoom: options.waitingRoom,
      queueJumpers: options.queueJumpers,
      apiUrl: stack.apiUrl,
    });
    let crowdDone = false;
    void crowd.finally(() => (crowdDone = true)).catch(() => undefined);

    await sleep(2_000);
    const killer = await runKiller({
      stack,
      kills: options.kills,
      targets: options.targets,
      random,
      minGapMs: options.minGapMs,
      maxGapMs: options.maxGapMs,
      maxDownMs: options.maxDownMs,
      deadlineMs: options.kills * 90_000,
      startedAt,
      say,
      afterRestart: async () => {
        try {
          const report = await withTimeout(
            checkSaleInvariants({ pool, graceSeconds: 1e9 }, saleId),
            20_000,
            'the mid-run snapshot took over 20 s',
          );
          summary.midRun.checks++;
          const found = report.violations.filter((v) => MID_RUN_INVARIANTS.has(v.invariant));
          for (const v of found) say(`MID-RUN VIOLATION invariant ${v.invariant}: ${v.detail}`);
          summary.midRun.violations.push(...found);
        } catch (error) {
          summary.midRun.failedReads++;
          say(`mid-run snapshot failed: ${String(error)}`);
        }
      },
    }).catch((error: unknown) => {
      summary.failure = String(error);
      return undefined;
    });
    if (killer) {
      summary.kills = killer.records;
      summary.unexpected = killer.unexpected;
      say(`killer done: ${killer.records.length} kills; waiting for the crowd`);
      const crowdDeadline = loadStarted + (options.seconds + 120) * 1000;
      while (!crowdDone && Date.now() < crowdDeadline) {
        await killer.restartUnexpected();
        await sleep(500);
      }
    }
    summary.crowd = await withTimeout(crowd, 180_000, 'the crowd did not finish');
    summary.requests = http.stats;
    if (!killer) throw new Error(summary.failure ?? 'the killer failed');
    say(
      `load over: ${summary.crowd.claimed} claims; waiting for every reservation to end (giving up after ${options.settleSeconds} s in which none ends)`,
    );

    summary.settle = await waitUntilSettled(pool, gateways, saleId, options.settleSeconds * 1000, say);
    await killer.restartUnexpected();
    summary.unexpected = killer.unexpected;

    connection = await Connection.connect({ address: stack.temporalAddress });
    const temporal = new Client({ connection, dataConverter: payloadDataConverter(CHAOS_SECRETS.TEMPORAL_PAYLOAD_KEYS) });
    let report: InvariantReport;
    const recheckUntil = Date.now() + 30_000;
    // Refunds of late captures may still be on their way when the last reservation ends.
    for (;;) {
      report = await checkSaleInvariants({ pool, temporal, gateways }, saleId);
      if (report.violations.length === 0 || Date.now() > recheckUntil) break;
      say(`checker: ${report.violations.length} violations; checking again in 5 s`);
      await sleep(5_000);
    }
    summary.report = report;
    // Visibility lags a little behind closes; a workflow may still be refunding or notifying.
    const censusUntil = Date.now() + 30_000;
    do {
      summary.workflows = await workflowCensus(temporal, pool, saleId);
      if (summary.workflows.stillRunning.length + summary.workflows.withoutWorkflow.length === 0) break;
      await sleep(2_000);
    } while (Date.now() < censusUntil);
    summary.reservations = await reservationsByStatus(pool, saleId);
    summary.admission = await admissionCensus(pool, saleId);
    if (options.releasePolicy === 'waitlist') summary.waitlist = await waitlistCensus(pool, saleId);
    if (options.secondaryGateway) {
      const references = new Set(
        (await pool.query<{ id: string }>(`select id from reservations where sale_id = $1::uuid`, [saleId])).rows.map(
          (r) => r.id,
        ),
      );
      const ledgers = await Promise.all(gateways.map((gateway) => gateway.ledger()));
      summary.gateways = ledgers.map((ledger) => gatewayUse(ledger.gateway, ledger, references));
    }
    if (smtp) {
      await waitForMailToDrain(pool, smtp, saleId, 90_000, say);
      summary.mail = await mailCensus(pool, saleId, smtp.deliveries, summary.kills, startedAt, options.smtpDelayMs);
    }
    const failedAsPlanned = options.primaryFailsAt === undefined || summary.primaryFailedAt !== undefined;
    ok =
      failedAsPlanned &&
      (summary.mail?.unexplainedDuplicates ?? 0) === 0 &&
      report.violations.length === 0 &&
      summary.midRun.violations.length === 0 &&
      summary.unexpected.length === 0 &&
      summary.settle.settled;
    if (!summary.settle.settled) summary.failure = 'the system did not settle in time';
    else if (summary.unexpected.length > 0) summary.failure = 'a process did not survive a dependency restart';
    else if (summary.mail?.unexplainedDuplicates)
      summary.failure = `${summary.mail.unexplainedDuplicates} notices sent twice without a worker kill mid-send`;
  } catch (error) {
    summary.failure ??= error instanceof Error ? error.message : String(error);
    say(`recent logs:\n${stack.recentLogs().join('\n')}`);
  } finally {
    summary.seconds = (Date.now() - startedAt) / 1000;
    clearTimeout(backstop);
    clearTimeout(primaryFailure);
    await connection?.close().catch(() => undefined);
    await http.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    say('stopping the stack');
    await stack.stop();
    await smtp?.stop();
  }
  process.stdout.write(summaryLines(summary).join('\n') + '\n');
  if (ok && !options.keep) rmSync(stack.dir, { recursive: true, force: true });
  else say(`data and logs kept in ${stack.dir}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos run failed', error);
    process.exit(1);
  },
);
