import { Client } from 'pg';
import { runCommand } from '../stack/run-command';
import { sqlToolBinary } from './binaries';
import { TEMPORAL_DATABASE, VISIBILITY_DATABASE, type ClusterPostgres } from './config';

/*
 * Temporal's two databases on the project's Postgres, set up with Temporal's own schema tool:
 * create the database, lay down the versioning tables (`setup-schema -v 0.0`), then apply every
 * versioned step (`update-schema`). The tool carries the schema files of its own version
 * (`--schema-name postgresql/v12/…`, the same files as schema/postgresql/v12/*\/versioned in the
 * server module), so nothing is read from the Go module cache at run time. Idempotent: an
 * existing database only gets the steps it is missing.
 */
const SCHEMAS: Array<{ database: string; schemaName: string }> = [
  { database: TEMPORAL_DATABASE, schemaName: 'postgresql/v12/temporal' },
  { database: VISIBILITY_DATABASE, schemaName: 'postgresql/v12/visibility' },
];

function sqlTool(pg: ClusterPostgres, database: string, args: string[], onLog: (line: string) => void): Promise<void> {
  return runCommand(sqlToolBinary(), args, {
    // The password goes through the environment, not the command line.
    env: {
      ...process.env,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SQL_DATABASE: database,
    },
    what: `temporal sql tool ${args.join(' ')} on ${database}`,
    onLog,
  });
}

async function withDatabase<T>(pg: ClusterPostgres, database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function setUpClusterSchemas(pg: ClusterPostgres, onLog: (line: string) => void = () => undefined): Promise<void> {
  for (const { database, schemaName } of SCHEMAS) {
    const exists = await withDatabase(pg, 'postgres', async (client) => {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1::text', [database]);
      return !!rowCount;
    });
    if (!exists) await sqlTool(pg, database, ['create-database', '--defaultdb', 'postgres'], onLog);
    const versioned = await withDatabase(pg, database, async (client) => {
      const { rows } = await client.query<{ found: boolean }>("select to_regclass('schema_version') is not null as found");
      return rows[0]?.found === true;
    });
    if (!versioned) await sqlTool(pg, database, ['setup-schema', '-v', '0.0'], onLog);
    await sqlTool(pg, database, ['update-schema', '--schema-name', schemaName], onLog);
  }
}
