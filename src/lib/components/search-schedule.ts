/**
 * When the search box searches: an input while no search is running at once (a pasted query,
 * a first keystroke, each keystroke of slow typing), and inputs that come while one runs
 * coalesced into one search of the latest text, started as soon as the running one answers,
 * or after `maxWaitMs` if it is slow (a broad one-letter prefix can walk the index for a while).
 * So the results of the last keystroke come one search after it, not after a fixed quiet time:
 * a 120 ms debounce before every search made issue 8's goal (results < 50 ms from input, p95)
 * unreachable, and a 120 ms wait after the last keystroke of a burst was the same wait for
 * everyone who types. While searches are slow, one more starts every `maxWaitMs` at most;
 * results of an older search never replace a newer one's: `MessageSearch` keeps only its
 * latest run's.
 *
 * @example
 * const schedule = new SearchSchedule((text) => search.run(text), 60);
 * input.oninput = () => schedule.input(input.value);
 */
export class SearchSchedule {
	readonly #run: (text: string) => Promise<unknown> | void;
	readonly #maxWaitMs: number;
	/** The running search (its number), or null. */
	#running: number | null = null;
	#started = 0;
	#timer: ReturnType<typeof setTimeout> | null = null;
	/** Text that came in while a search ran, not searched yet. */
	#pending: string | null = null;

	constructor(run: (text: string) => Promise<unknown> | void, maxWaitMs: number) {
		this.#run = run;
		this.#maxWaitMs = maxWaitMs;
	}

	/** The text changed. */
	input(text: string): void {
		if (this.#running === null) {
			this.#start(text);
			return;
		}
		this.#pending = text;
		this.#timer ??= setTimeout(() => this.#flush(), this.#maxWaitMs);
	}

	/** Searches `text` at once (Enter), dropping what was waiting. */
	now(text: string): void {
		this.cancel();
		this.#start(text);
	}

	/** Drops what was waiting (the box was cleared, or is going away). */
	cancel(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
		this.#pending = null;
	}

	#start(text: string): void {
		const id = ++this.#started;
		this.#running = id;
		const done = () => {
			if (this.#running !== id) return;
			this.#running = null;
			this.#flush();
		};
		// A search that throws has reported it (MessageSearch's handleError); what waits still runs.
		Promise.resolve(this.#run(text)).then(done, done);
	}

	#flush(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
		const text = this.#pending;
		this.#pending = null;
		if (text !== null) this.#start(text);
	}
}
