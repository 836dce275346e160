import { spawn } from 'node:child_process';
import { cpuMeter } from '../../bench/cpu';
import { gainOver } from '../../bench/full';

/** `sh` runs a node that keeps one core busy for `ms`; `; true` stops sh from exec-ing it, so node is sh's child. */
function burner(ms: number) {
  return spawn('sh', ['-c', `"${process.execPath}" -e "const t = Date.now(); while (Date.now() - t < ${ms});"; true`], {
    stdio: 'ignore',
  });
}

test("a busy grandchild's CPU is charged to its nearest named ancestor, not to the process above it", async () => {
  const child = burner(4_000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 300)); // node started
  const meter = cpuMeter({ burner: child.pid, jest: process.pid });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const shares = meter.stop();
  child.kill();
  await exited;
  const cores = (name: string) => shares.processes.find((p) => p.name === name)!.cores;
  // One core for 1.5 s on a machine shared with others: well above 0.2 unless starved.
  expect(cores('burner')).toBeGreaterThan(0.2);
  expect(cores('jest')).toBeLessThan(cores('burner'));
  expect(shares.machineBusyCores).toBeGreaterThanOrEqual(cores('burner') - 0.05);
  expect(shares.seconds).toBeGreaterThan(1.4);
});

test('the saturation rule: gain over the best step before, in percent', () => {
  expect(gainOver(null, 10)).toBeNull();
  expect(gainOver(10, 10.4)).toBe(4);
  expect(gainOver(10, 12)).toBe(20);
  expect(gainOver(10, 8)).toBe(-20);
});
