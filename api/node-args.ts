/**
 * Node options every API process starts with, wherever it runs: the Dockerfile's CMD,
 * docker-compose.yml's API command, `npm run start:api`, the development stack (scripts/dev.ts) and
 * the bench's stack (bench/stack.ts); test/unit/compose-stack.test.ts checks the first three.
 *
 * V8's young generation grows to two semi-spaces of 16 MB each by default, about 30 MB of
 * resident memory the API holds from its start; 4 MB each keeps it near 8 MB, for scavenges four
 * times as often (docs/PERFORMANCE.md, "What stands in the way": the memory figures and their CPU).
 */
export const API_NODE_ARGS: readonly string[] = ['--max-semi-space-size=4'];
