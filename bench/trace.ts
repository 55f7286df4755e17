/**
 * Where a bench run's wall time goes: every phase that is set-up or waiting rather than
 * measurement (a relay starting, tokens, seeding, settling) is timed here, summed by name, and
 * `npm run bench` prints the sums at the end (`--trace` prints each phase as it ends). This is
 * how the quick run was brought under two minutes; keep new set-up inside `phase()` so the next
 * slow step shows up.
 */

const totals = new Map<string, { n: number; ms: number }>();
let verbose = false;

export function traceEachPhase(on: boolean): void {
	verbose = on;
}

/** Runs `fn`, adding its wall time to the phase `name`. */
export async function phase<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
	const t0 = performance.now();
	try {
		return await fn();
	} finally {
		const ms = performance.now() - t0;
		const t = totals.get(name) ?? { n: 0, ms: 0 };
		t.n++;
		t.ms += ms;
		totals.set(name, t);
		if (verbose) console.log(`  · ${name}: ${Math.round(ms)} ms`);
	}
}

/** A fixed wait, counted as a phase of its own. */
export function pause(name: string, ms: number): Promise<void> {
	return phase(name, () => new Promise<void>((r) => setTimeout(r, ms)));
}

/** The phases' sums, largest first: `name ×n: s`. */
export function phaseSummary(): string[] {
	return [...totals.entries()]
		.sort((a, b) => b[1].ms - a[1].ms)
		.map(([name, t]) => `${name} ×${t.n}: ${(t.ms / 1000).toFixed(1)} s`);
}
