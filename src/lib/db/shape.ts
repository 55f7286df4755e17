/**
 * A tiny schema kit for what the index reads back from IndexedDB: each persisted shape is
 * declared once (in `rows.ts`) and its TypeScript type is inferred from it. IndexedDB hands back
 * whatever an older version of the app, another tab or a browser extension left there, so rows
 * are checked on the way out, not trusted.
 */

/** A persisted row did not have the shape its table promises. */
export class CorruptRowError extends Error {
	override readonly name = 'CorruptRowError';
	constructor(
		readonly table: string,
		readonly path: string,
		detail: string
	) {
		super(`A row of ${table} is corrupt at ${path || 'the top level'}: ${detail}.`);
	}
}

/** A checker of one persisted shape; `parse` returns a fresh value holding only known fields. */
export interface Shape<T> {
	readonly describe: string;
	parse(value: unknown, table: string, path?: string): T;
}

/** The type a shape accepts. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

function shape<T>(describe: string, ok: (v: unknown) => boolean): Shape<T> {
	return {
		describe,
		parse(value, table, path = '') {
			if (!ok(value)) throw new CorruptRowError(table, path, `expected ${describe}`);
			return value as T;
		}
	};
}

export const string = shape<string>('a string', (v) => typeof v === 'string');
export const boolean = shape<boolean>('a boolean', (v) => typeof v === 'boolean');
export const number = shape<number>('a finite number', (v) => Number.isFinite(v));
export const bytes = shape<Uint8Array>('bytes', (v) => v instanceof Uint8Array);
export const blob = shape<Blob>('a Blob', (v) => typeof Blob !== 'undefined' && v instanceof Blob);
export const unknown = shape<unknown>('anything', () => true);

export function literal<const L extends readonly string[]>(...values: L): Shape<L[number]> {
	return shape(`one of ${values.join(', ')}`, (v) => values.includes(v as string));
}

export function nullable<T>(inner: Shape<T>): Shape<T | null> {
	return {
		describe: `${inner.describe} or null`,
		parse: (v, table, path = '') => (v === null ? null : inner.parse(v, table, path))
	};
}

export function array<T>(item: Shape<T>): Shape<T[]> {
	return {
		describe: `a list of ${item.describe}`,
		parse(v, table, path = '') {
			if (!Array.isArray(v)) throw new CorruptRowError(table, path, 'expected a list');
			return v.map((x, i) => item.parse(x, table, `${path}[${i}]`));
		}
	};
}

/** A plain object used as a dictionary (`reactions`: emoji → user ids). */
export function record<T>(value: Shape<T>): Shape<Record<string, T>> {
	return {
		describe: `a dictionary of ${value.describe}`,
		parse(v, table, path = '') {
			if (typeof v !== 'object' || v === null || Array.isArray(v))
				throw new CorruptRowError(table, path, 'expected a dictionary');
			const out: Record<string, T> = {};
			for (const [k, x] of Object.entries(v)) out[k] = value.parse(x, table, `${path}.${k}`);
			return out;
		}
	};
}

export function object<P extends Record<string, Shape<unknown>>>(
	props: P
): Shape<{ [K in keyof P]: Infer<P[K]> }> {
	return {
		describe: 'an object',
		parse(v, table, path = '') {
			if (typeof v !== 'object' || v === null || Array.isArray(v))
				throw new CorruptRowError(table, path, 'expected an object');
			const src = v as Record<string, unknown>;
			const out: Record<string, unknown> = {};
			for (const [k, s] of Object.entries(props)) {
				if (!(k in src)) throw new CorruptRowError(table, `${path}.${k}`, 'missing');
				out[k] = s.parse(src[k], table, `${path}.${k}`);
			}
			return out as { [K in keyof P]: Infer<P[K]> };
		}
	};
}
