/*
 * The generated config of the real Temporal server (scripts/temporal-cluster/config.ts): every
 * service bound to 127.0.0.1 on its own ports, both stores on the given Postgres, the chosen shard
 * count, and rate limits above the server's defaults. Whether the server accepts it is shown by
 * the suite under TEMPORAL_SERVER=cluster (`npm run test:cluster`).
 */
import {
  clusterConfigYaml,
  clusterPostgresFromUrl,
  clusterShards,
  devClusterPorts,
  DYNAMIC_CONFIG_YAML,
} from '../../scripts/temporal-cluster/config';
import { temporalServerKind } from '../../scripts/stack/temporal-cluster';
import { parse as parseYaml } from 'yaml';

interface Rpc {
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
  bindOnIP: string;
}
interface ServerConfig {
  persistence: {
    numHistoryShards: number;
    defaultStore: string;
    visibilityStore: string;
    datastores: Record<string, { sql: { pluginName: string; databaseName: string; connectAddr: string; password: string } }>;
  };
  services: Record<string, { rpc: Rpc }>;
  global: { metrics: { prometheus: { listenAddress: string } } };
  dynamicConfigClient: { filepath: string };
}

const postgres = { host: '127.0.0.1', port: 5544, user: 'postgres', password: 'p:w"d' };
const config = parseYaml(
  clusterConfigYaml({ dir: '/tmp/cluster', postgres, ports: devClusterPorts(), shards: 8, logLevel: 'warn' }),
) as ServerConfig;

describe('the real Temporal server config', () => {
  it('runs the four services bound to 127.0.0.1 only, each on ports of its own', () => {
    expect(Object.keys(config.services).sort()).toEqual(['frontend', 'history', 'matching', 'worker']);
    const rpcs = Object.values(config.services).map((service) => service.rpc);
    for (const rpc of rpcs) expect(rpc.bindOnIP).toBe('127.0.0.1');
    const ports = rpcs.flatMap((rpc) => [rpc.grpcPort, rpc.membershipPort, rpc.httpPort ?? []].flat());
    expect(new Set(ports).size).toBe(ports.length);
    expect(config.services.frontend!.rpc.grpcPort).toBe(7233);
    expect(Object.values(devClusterPorts(17233)).sort()).toEqual(
      Object.values(devClusterPorts())
        .map((port) => port + 10_000)
        .sort(),
    );
    expect(config.global.metrics.prometheus.listenAddress).toBe('127.0.0.1:7280');
  });

  it('keeps both stores in the given Postgres with the chosen shard count', () => {
    const { persistence } = config;
    expect(persistence.numHistoryShards).toBe(8);
    const stores = [persistence.datastores[persistence.defaultStore]!, persistence.datastores[persistence.visibilityStore]!];
    expect(stores.map((store) => store.sql.databaseName)).toEqual(['temporal', 'temporal_visibility']);
    for (const store of stores) {
      expect(store.sql.pluginName).toBe('postgres12');
      expect(store.sql.connectAddr).toBe('127.0.0.1:5544');
      expect(store.sql.password).toBe('p:w"d'); // quoted, not broken by the characters in it
    }
    expect(config.dynamicConfigClient.filepath).toBe('/tmp/cluster/dynamic-config.yaml');
  });

  it('raises the rate limits above the v1.32.1 defaults', () => {
    const dynamic = parseYaml(DYNAMIC_CONFIG_YAML) as Record<string, Array<{ value: number }>>;
    const defaults: Record<string, number> = {
      'frontend.rps': 2400,
      'frontend.namespaceRPS': 2400,
      'frontend.namespaceRPS.visibility': 10,
      'frontend.namespaceCount': 1200,
      'history.rps': 3000,
      'matching.rps': 1200,
    };
    for (const [key, value] of Object.entries(defaults)) expect(dynamic[key]?.[0]?.value).toBeGreaterThan(value);
  });
});

describe('the TEMPORAL_SERVER switch', () => {
  it('defaults to the dev server and refuses anything but dev or cluster', () => {
    expect(temporalServerKind({})).toBe('dev');
    expect(temporalServerKind({ TEMPORAL_SERVER: 'cluster' })).toBe('cluster');
    expect(() => temporalServerKind({ TEMPORAL_SERVER: 'real' })).toThrow(/dev" or "cluster/);
  });

  it('reads Temporal’s Postgres connection from DATABASE_URL and the shard count from the environment', () => {
    expect(clusterPostgresFromUrl('postgres://app%40x:s%2Fcret@db.local:6543/flash_sale')).toEqual({
      host: 'db.local',
      port: 6543,
      user: 'app@x',
      password: 's/cret',
    });
    expect(clusterShards({})).toBe(8);
    expect(clusterShards({ TEMPORAL_CLUSTER_SHARDS: '16' })).toBe(16);
    expect(() => clusterShards({ TEMPORAL_CLUSTER_SHARDS: '0' })).toThrow(/positive integer/);
  });
});
