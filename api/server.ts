import { runApi } from './run-api';

runApi(process.env).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
