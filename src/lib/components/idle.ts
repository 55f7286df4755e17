import {
	cancelIdle,
	requestIdle as requestIdleWith,
	type IdleDeadline
} from '$lib/state/idle-callback';

/**
 * Work done in the browser's idle time, a slice at a time, so that it never makes a long task
 * of its own: each slice stops when the idle period (or {@link SLICE_MS}) runs out and the rest
 * waits for the next one. Replacing the queue drops what was not done yet.
 *
 * @example
 * const idle = new IdleQueue();
 * idle.replace(indexes, (i) => warm(i));
 * idle.cancel(); // on destroy
 */
export class IdleQueue {
	#items: readonly number[] = [];
	#at = 0;
	#work: (item: number) => void = () => {};
	#handle: number | null = null;

	/** Drops what is queued and queues `items`, each to be handed to `work` once. */
	replace(items: readonly number[], work: (item: number) => void): void {
		this.#items = items;
		this.#at = 0;
		this.#work = work;
		this.#schedule();
	}

	cancel(): void {
		if (this.#handle !== null) cancelIdle(this.#handle);
		this.#handle = null;
		this.#items = [];
	}

	#schedule(): void {
		if (this.#handle !== null || this.#at >= this.#items.length) return;
		this.#handle = requestIdle((deadline) => {
			this.#handle = null;
			const end = performance.now() + SLICE_MS;
			while (
				this.#at < this.#items.length &&
				deadline.timeRemaining() > 0 &&
				performance.now() < end
			)
				this.#work(this.#items[this.#at++]!);
			this.#schedule();
		});
	}
}

/** At most this long per slice: a frame's worth of spare time, well under a long task. */
export const SLICE_MS = 8;

// Safari has no requestIdleCallback: a timeout with a fixed budget stands in.
const requestIdle = (fn: (deadline: IdleDeadline) => void): number =>
	requestIdleWith(fn, { fallbackDelay: 50, fallbackBudget: SLICE_MS });
