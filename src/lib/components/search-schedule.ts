/**
 * When the search box searches: the first input after a quiet spell at once (the leading edge:
 * a pasted query or a first keystroke costs no wait), then inputs that follow each other within
 * `quietMs` coalesced into one search of the latest text once they pause (the trailing edge), so
 * fast typing does not queue a query per keystroke. A 120 ms debounce before every search made
 * issue 8's goal (results < 50 ms from input, p95) unreachable. Results of an older search
 * never replace a newer one's: `MessageSearch` keeps only its latest run's.
 *
 * @example
 * const schedule = new SearchSchedule((text) => void search.run(text), 120);
 * input.oninput = () => schedule.input(input.value);
 */
export class SearchSchedule {
	readonly #run: (text: string) => void;
	readonly #quietMs: number;
	#timer: ReturnType<typeof setTimeout> | null = null;
	/** Text that came in after the last search, not searched yet. */
	#pending: string | null = null;

	constructor(run: (text: string) => void, quietMs: number) {
		this.#run = run;
		this.#quietMs = quietMs;
	}

	/** The text changed. */
	input(text: string): void {
		if (this.#timer === null) this.#run(text);
		else {
			clearTimeout(this.#timer);
			this.#pending = text;
		}
		this.#timer = setTimeout(() => {
			this.#timer = null;
			const pending = this.#pending;
			this.#pending = null;
			if (pending !== null) this.#run(pending);
		}, this.#quietMs);
	}

	/** Searches `text` at once (Enter), dropping what was waiting. */
	now(text: string): void {
		this.cancel();
		this.#run(text);
	}

	/** Drops what was waiting (the box was cleared, or is going away). */
	cancel(): void {
		if (this.#timer !== null) clearTimeout(this.#timer);
		this.#timer = null;
		this.#pending = null;
	}
}
