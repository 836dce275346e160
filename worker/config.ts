import { databaseEnv, logEnv, parseEnv, temporalEnv } from '../config/common';

const workerEnv = databaseEnv.merge(temporalEnv).merge(logEnv);

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(workerEnv, env);
}
