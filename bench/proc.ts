/** CPU time and memory of a process, from /proc/<pid> (Linux). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 0;
function clockTicks(): number {
	if (!ticksPerSecond) {
		try {
			ticksPerSecond =
				Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
		} catch {
			ticksPerSecond = 100;
		}
	}
	return ticksPerSecond;
}

/** User + system CPU seconds used so far. */
export function cpuSeconds(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	// Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** Resident memory now and its peak, in MiB. */
export function memory(pid: number): { rssMB: number; peakMB: number } {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (key: string): number =>
		Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
	const round = (x: number): number => Math.round(x / 102.4) / 10;
	return { rssMB: round(kb('VmRSS')), peakMB: round(kb('VmHWM')) };
}

/** Samples RSS every `everyMs` until stopped; returns the highest seen. */
export function rssSampler(pid: number, everyMs = 100) {
	let max = 0;
	const sample = (): void => {
		try {
			max = Math.max(max, memory(pid).rssMB);
		} catch {
			// the process is gone
		}
	};
	sample();
	const timer = setInterval(sample, everyMs);
	return {
		stop(): number {
			clearInterval(timer);
			sample();
			return max;
		}
	};
}
