import { createSubscriber } from 'svelte/reactivity';

/**
 * The current time, ticking every `interval` ms only while something reactive reads it (so
 * relative times like "5 min ago" stay true without a timer per message).
 */
export class Clock {
	readonly #subscribe: () => void;
	#now = Date.now();

	constructor(interval = 30_000) {
		this.#subscribe = createSubscriber((update) => {
			const timer = setInterval(() => {
				this.#now = Date.now();
				update();
			}, interval);
			return () => clearInterval(timer);
		});
	}

	get now(): number {
		this.#subscribe();
		return this.#now;
	}
}

export const clock = new Clock();
