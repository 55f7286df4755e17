/**
 * Hands memory back to the system once documents have left memory and the relay is quiet.
 *
 * Measured (1,000 conversations opened and closed, all evicted; docs/BENCHMARKS.md, "Changes
 * (relay memory)"): after a full GC the live heap is 2.4 MB above idle, all of it compiled
 * code: no document, map, metric label, awareness state or claim is retained. Yet RSS stayed
 * ~31 MB up for good: V8 had grown the young generation to its maximum (16.8 → 33.6 MB) and
 * kept the old space's garbage (heap used 38 MB, live 15 MB), because no major GC runs once
 * allocation stops, so nothing shrinks either. A full GC when the relay has been quiet for a
 * moment after an eviction lets V8 shrink both.
 *
 * `gc` is not exposed without `--expose-gc`, and the relay starts as plain
 * `node --import tsx sync-server/main.ts`: the flag is set at run time and the function taken
 * from a new context (what jest's leak detector does). Without it (another runtime) nothing
 * runs: memory is then only returned when V8 decides.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './log.ts';

type Gc = () => void;

function exposeGc(): Gc | null {
	const existing = (globalThis as { gc?: Gc }).gc;
	if (typeof existing === 'function') return existing;
	try {
		setFlagsFromString('--expose-gc');
		const gc = runInNewContext('gc') as unknown;
		return typeof gc === 'function' ? (gc as Gc) : null;
	} catch {
		return null;
	}
}

/**
 * Runs full GCs after documents leave memory, once nothing has been loaded, evicted or
 * committed for `quietMs`; never more often than every `minGapMs`, and never while traffic
 * goes on (each busy moment pushes it back), so it costs nothing on the write path.
 *
 * @example
 * const memory = new MemoryRelease(log, metrics.memoryReleases);
 * memory.freed(); // a document was evicted
 * memory.busy(); // a commit: wait for quiet again
 */
/** Full GCs per release (see `#run`). */
const PASSES = 5;

export class MemoryRelease {
	readonly #gc = exposeGc();
	#timer: NodeJS.Timeout | null = null;
	#last = 0;
	#pass = 0;
	constructor(
		readonly log: Logger,
		/** Counts the full GCs run (kith_memory_releases_total). */
		readonly counter: { inc(): void },
		readonly quietMs = 500,
		readonly minGapMs = 30_000
	) {}

	/** Memory was freed (a document evicted): release it once the relay is quiet. */
	freed(): void {
		if (!this.#gc) return;
		if (this.#timer) {
			this.#timer.refresh();
			return;
		}
		const wait = Math.max(this.quietMs, this.#last + this.minGapMs - Date.now());
		this.#timer = setTimeout(() => this.#run(), wait);
		this.#timer.unref();
	}

	/** Something happened that allocates (a commit, a load): a waiting release waits longer. */
	busy(): void {
		this.#timer?.refresh();
	}

	#run(): void {
		this.#timer = null;
		this.#last = Date.now();
		const before = process.memoryUsage();
		this.#gc!();
		this.counter.inc();
		const after = process.memoryUsage();
		this.log.debug(
			{
				rssMB: Math.round(after.rss / 1e6),
				freedMB: Math.round((before.rss - after.rss) / 1e6),
				heapUsedMB: Math.round(after.heapUsed / 1e6),
				ms: Date.now() - this.#last
			},
			'memory released'
		);
		// A full GC shrinks old space to what is live, but the young generation keeps its grown
		// size until V8 has measured a low allocation rate over a few GCs: a few more passes, a
		// quiet second apart, let it shrink (each one pushed back by traffic, like the first).
		if (++this.#pass < PASSES) {
			this.#timer = setTimeout(() => this.#run(), 3000);
			this.#timer.unref();
		} else this.#pass = 0;
	}

	stop(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}
}
