/**
 * An immutable list whose appends are O(1): a list shares its storage with the list it grew
 * from, as a Go slice does. Each list sees only the first `length` items of the storage, and only
 * the newest list of a storage (the one that sees all of it) appends in place; any other append
 * copies first, so no list ever sees its items change.
 *
 * A conversation's messages, and the rows drawn from them, are lists of 100,000 items that a post
 * grows by one: as arrays, every post copied each of them (a new array is how a change is seen),
 * ~3 ms and 0.8 MB of old-generation garbage per copy, and the collections that garbage caused
 * were the slowest posts (docs/BENCHMARKS.md). A persistent vector (Immutable.js) would make
 * every read a tree walk, and the virtualizer reads all 100,000 keys on a full layout; appending
 * is the only change that needs to be cheap.
 *
 * @example
 * const a = AppendList.of([1, 2]);
 * const b = a.append([3]); // a still has 2 items: [1, 2]; b shares them and has [1, 2, 3]
 * b.sharedPrefix(a); // 2, in O(1)
 */
export class AppendList<T> implements Iterable<T> {
	/** Shared with the lists grown from the same storage; never changed below any list's length. */
	readonly #items: T[];
	readonly length: number;

	private constructor(items: T[], length: number) {
		this.#items = items;
		this.length = length;
	}

	/** A list over `items`, which it takes over: the caller must not change the array after. */
	static of<T>(items: T[]): AppendList<T> {
		return new AppendList(items, items.length);
	}

	static empty<T>(): AppendList<T> {
		return new AppendList<T>([], 0);
	}

	/** The item at `index` (0 ≤ index < length), or undefined. */
	get(index: number): T | undefined {
		return index >= 0 && index < this.length ? this.#items[index] : undefined;
	}

	/** As Array.prototype.at: a negative index counts from the end. */
	at(index: number): T | undefined {
		return this.get(index < 0 ? this.length + index : index);
	}

	/** This list with `more` after it; the same list when `more` is empty. */
	append(more: readonly T[]): AppendList<T> {
		if (more.length === 0) return this;
		const items =
			this.length === this.#items.length ? this.#items : this.#items.slice(0, this.length);
		for (const item of more) items.push(item);
		return new AppendList(items, items.length);
	}

	/** The first `count` items (shares the storage: O(1)). */
	truncate(count: number): AppendList<T> {
		return count >= this.length ? this : new AppendList(this.#items, Math.max(0, count));
	}

	/**
	 * How many leading items this list shares with `other` (the same values, by ===): O(1) when
	 * one grew from the other, else a walk up to the first difference.
	 */
	sharedPrefix(other: AppendList<T>): number {
		const n = Math.min(this.length, other.length);
		if (this.#items === other.#items) return n;
		let i = 0;
		while (i < n && this.#items[i] === other.#items[i]) i++;
		return i;
	}

	/** A copy as a plain array (O(n)). */
	toArray(): T[] {
		return this.#items.slice(0, this.length);
	}

	findIndex(pred: (item: T, index: number) => boolean): number {
		for (let i = 0; i < this.length; i++) if (pred(this.#items[i]!, i)) return i;
		return -1;
	}

	find(pred: (item: T, index: number) => boolean): T | undefined {
		const i = this.findIndex(pred);
		return i < 0 ? undefined : this.#items[i];
	}

	findLast(pred: (item: T, index: number) => boolean): T | undefined {
		for (let i = this.length - 1; i >= 0; i--) if (pred(this.#items[i]!, i)) return this.#items[i];
		return undefined;
	}

	some(pred: (item: T, index: number) => boolean): boolean {
		return this.findIndex(pred) >= 0;
	}

	map<U>(fn: (item: T, index: number) => U): U[] {
		const out: U[] = [];
		for (let i = 0; i < this.length; i++) out.push(fn(this.#items[i]!, i));
		return out;
	}

	*[Symbol.iterator](): Iterator<T> {
		for (let i = 0; i < this.length; i++) yield this.#items[i]!;
	}
}
