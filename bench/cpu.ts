/*
 * CPU used by each process of the bench's stack during a measurement, from /proc: utime + stime
 * of a process and of every descendant alive (Postgres's backends, the Temporal server's
 * children), plus their cutime + cstime (children that exited and were waited for). Each
 * pid belongs to its nearest ancestor that is a named root, so the bench (the parent of them all)
 * counts only itself and its untracked children. Linux only; at 100 clock ticks per second.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime */
  own: number;
  /** cutime + cstime: waited-for children that have exited */
  reaped: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    return {
      ppid: Number(fields[1]),
      own: Number(fields[11]) + Number(fields[12]),
      reaped: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return null; // gone between readdir and read
  }
}

function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) table.set(Number(entry), stat);
  }
  return table;
}

/** Busy and total ticks of the whole machine (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Ticks per named group: each pid is charged to its nearest ancestor (or itself) among the roots. */
function groupTicks(roots: Map<number, string>): Map<string, number> {
  const table = processTable();
  const ticks = new Map<string, number>([...roots.values()].map((name) => [name, 0]));
  for (const [pid, stat] of table) {
    let at: number | undefined = pid;
    for (let hops = 0; at !== undefined && at > 1 && hops < 64; hops++) {
      const name = roots.get(at);
      if (name !== undefined) {
        ticks.set(name, ticks.get(name)! + stat.own + stat.reaped);
        break;
      }
      at = table.get(at)?.ppid;
    }
  }
  return ticks;
}

export interface CpuShare {
  name: string;
  /** CPU seconds used per wall-clock second: 1 = one core busy all the time. */
  cores: number;
}

export interface CpuShares {
  seconds: number;
  cpus: number;
  /** Our processes, in the order they were named. */
  processes: CpuShare[];
  /** The whole machine's busy cores (from /proc/stat), ours and everyone else's. */
  machineBusyCores: number;
  /** machineBusyCores minus ours: other users of a shared machine (never below 0). */
  otherCores: number;
}

/**
 * Starts measuring the named processes (`undefined` pids are left out); `stop()` returns what each
 * used since the start.
 */
export function cpuMeter(processes: Record<string, number | undefined>): { stop(): CpuShares } {
  const roots = new Map<number, string>();
  for (const [name, pid] of Object.entries(processes)) if (pid) roots.set(pid, name);
  const startedAt = performance.now();
  const before = groupTicks(roots);
  const machineBefore = machineTicks();
  return {
    stop() {
      const after = groupTicks(roots);
      const machineAfter = machineTicks();
      const seconds = (performance.now() - startedAt) / 1000;
      const cpus = os.cpus().length;
      const round = (v: number) => Math.round(v * 100) / 100;
      const shares = [...roots.values()].map((name) => ({
        name,
        cores: round(Math.max(0, after.get(name)! - before.get(name)!) / TICKS_PER_SECOND / seconds),
      }));
      const totalTicks = machineAfter.total - machineBefore.total;
      const machineBusyCores = totalTicks > 0 ? round(((machineAfter.busy - machineBefore.busy) / totalTicks) * cpus) : 0;
      const ours = shares.reduce((sum, s) => sum + s.cores, 0);
      return {
        seconds: round(seconds),
        cpus,
        processes: shares,
        machineBusyCores,
        otherCores: round(Math.max(0, machineBusyCores - ours)),
      };
    },
  };
}
