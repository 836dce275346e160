/*
 * `npm run check -- <saleId> [<saleId> …]`: checks every invariant of the contract for live or
 * finished sales against Postgres, Temporal and the payment providers' ledgers, prints each
 * violation and exits 1 if there is any. Reads DATABASE_URL, the TEMPORAL_* variables, PSP_URL and
 * PSP_SECONDARY_URL (development defaults and payload key as for `npm run dev`).
 */
import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { temporalConnectionPlan } from '../clients/temporal-connection';
import { databaseEnv, parseEnv, temporalEnv } from '../config/common';
import { developmentSecretsEnv } from '../config/development-secrets';
import { createPool } from '../db/pool';
import { checkSaleInvariants } from '../invariants/check-sale-invariants';
import { createHttpGateway } from '../payments/http-gateway';

const checkEnv = databaseEnv.merge(temporalEnv).extend({
  PSP_URL: z.string().url().default('http://127.0.0.1:4000'),
  PSP_SECONDARY_URL: z.string().url().optional(),
});

async function main(): Promise<void> {
  const saleIds = process.argv.slice(2);
  if (saleIds.length === 0) {
    console.error('usage: npm run check -- <saleId> [<saleId> …]');
    process.exit(2);
  }
  const config = parseEnv(checkEnv, {
    ...process.env,
    TEMPORAL_PAYLOAD_KEYS: developmentSecretsEnv(process.env).TEMPORAL_PAYLOAD_KEYS,
  });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    max: 2,
    applicationName: 'flash-sale-check',
    statementTimeoutMs: 30_000,
  });
  const temporal = temporalConnectionPlan(config);
  const connection = await Connection.connect(temporal.connection);
  const gateways = [config.PSP_URL, config.PSP_SECONDARY_URL]
    .filter((url): url is string => !!url)
    .map((baseUrl) => createHttpGateway({ baseUrl, timeoutMs: 10_000 }));
  let failed = false;
  try {
    for (const saleId of saleIds) {
      process.stderr.write(`checking sale ${saleId}…\n`);
      const report = await checkSaleInvariants(
        {
          pool,
          temporal: new Client({ connection, namespace: temporal.namespace, dataConverter: temporal.dataConverter }),
          gateways,
        },
        saleId,
      );
      const { counts, reservations, provider, workflows } = report;
      console.log(
        `sale ${saleId} (${report.releasePolicy}): units ${counts.units} = available ${counts.available} + held ${counts.held} + sold ${counts.sold} + withdrawn ${counts.withdrawn}`,
      );
      console.log(`  reservations open ${reservations.open}, paid ${reservations.paid}, released ${reservations.released}`);
      console.log(`  provider ${JSON.stringify(provider)}; workflows ${JSON.stringify(workflows)}`);
      for (const v of report.violations) console.log(`  VIOLATION invariant ${v.invariant}: ${v.detail}`);
      console.log(report.violations.length === 0 ? '  all invariants hold' : `  ${report.violations.length} violation(s)`);
      failed ||= report.violations.length > 0;
    }
  } finally {
    await connection.close();
    await pool.end();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
