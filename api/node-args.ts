/**
 * Node options every API process starts with, wherever it runs: the Dockerfile's CMD,
 * docker-compose.yml's API command, `npm run start:api`, the development stack (scripts/dev.ts) and
 * the bench's stack (bench/stack.ts); test/unit/compose-stack.test.ts checks the first three.
 *
 * V8's young generation grows to two semi-spaces of 16 MB each by default, about 30 MB of
 * resident memory the API holds from its start; 4 MB each keeps it at 8 MB. After each full
 * collection V8 lets the old space grow to up to 4× what survived before the next; at the sale's
 * peak that is ~190 MB of old space for a live set of ~52 MB, most of it garbage. 50 % growth
 * collects it sooner: 36 full collections instead of 9 in the quick sale bench, 0.4 s of GC time
 * (docs/PERFORMANCE.md, "What stands in the way": the figures and their CPU).
 */
export const API_NODE_ARGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=50'];
