/**
 * The part of better-sqlite3's API that devices.ts uses (`exec`, `prepare(…).get/all/run`,
 * `transaction`), on PostgreSQL through the synchronous bridge, so that the device registry
 * works unchanged on either store. Statements are translated: `?` placeholders become `$1…`,
 * SQLite's two-argument `max(a, b)` becomes `GREATEST(a, b)`. PostgreSQL's tables for it are
 * made by the migrations (BIGINT for the millisecond times; devices.ts's own CREATE TABLE IF
 * NOT EXISTS then finds them and does nothing).
 */
import type Database from 'better-sqlite3';

type Call = <T>(method: string, ...args: unknown[]) => T;

export function toPostgresSql(sql: string): string {
	let n = 0;
	let text = sql.replace(/\?/g, () => `$${++n}`).replace(/\bmax\(/g, 'GREATEST(');
	// SQLite's INSERT OR IGNORE (a whole statement ending in its VALUES list).
	const ignore = /^\s*INSERT OR IGNORE INTO\s+([\s\S]*?)\s*$/i.exec(text);
	if (ignore) text = `INSERT INTO ${ignore[1]} ON CONFLICT DO NOTHING`;
	return text;
}

export function sqliteLikeDatabase(call: Call): Database.Database {
	const db = {
		exec(sql: string) {
			call('sqlExec', sql);
			return db;
		},
		prepare(sql: string) {
			const text = toPostgresSql(sql);
			return {
				get: (...params: unknown[]) => call<unknown>('sqlRows', text, params, 1),
				all: (...params: unknown[]) => call<unknown[]>('sqlRows', text, params, 0),
				run: (...params: unknown[]) => ({ changes: call<number>('sqlRun', text, params) })
			};
		},
		transaction<A extends unknown[], R>(fn: (...args: A) => R) {
			return (...args: A): R => {
				call('sqlBegin');
				let result: R;
				try {
					result = fn(...args);
				} catch (err) {
					call('sqlRollback');
					throw err;
				}
				call('sqlCommit');
				return result;
			};
		}
	};
	return db as unknown as Database.Database;
}
