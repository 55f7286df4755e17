import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Storage } from '../../sync-server/storage';
import { removeDir, tempDataDir, until } from './helpers/relay';

describe('WAL checkpoints', () => {
	it('are made by the checkpointer thread, never inside a commit, and lose nothing', async () => {
		const dir = tempDataDir();
		try {
			const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
			// SQLite's automatic checkpoint (inside the commit that crosses 1,000 pages) is off.
			expect(storage.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
			const data = new Uint8Array(300).fill(7);
			const wal = () => statSync(join(dir, 'kith.sqlite-wal')).size;
			let first = 0;
			// Five bursts of 200 commits: each asks for a checkpoint, done while the loop is free.
			for (let burst = 1; burst <= 5; burst++) {
				for (let i = 0; i < 200; i++) await storage.append([{ doc: 'conv:1', data }]);
				await until(() => storage.checkpoints >= burst, 5000, `checkpoint ${burst}`);
				if (burst === 1) first = wal();
			}
			// The WAL is reused after each checkpoint rather than growing with every commit.
			expect(wal()).toBeLessThanOrEqual(first * 1.5);
			storage.close();
			const again = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
			expect(again.load('conv:1').logCount).toBe(1000);
			again.close();
		} finally {
			removeDir(dir);
		}
	});

	it('closes a checkpointer that is still starting without taking the process down', async () => {
		// Terminating the thread while it opened its connection crashed the process (once in the
		// full suite). Each storage here closes at once, its directory then removed.
		for (let i = 0; i < 30; i++) {
			const dir = tempDataDir();
			const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
			storage.close();
			removeDir(dir);
		}
		// Still here, and the storage after them works.
		const dir = tempDataDir();
		try {
			const storage = new Storage(dir, { synchronous: 'FULL', maxPages: 0 });
			await storage.append([{ doc: 'conv:1', data: new Uint8Array(10) }]);
			expect(storage.load('conv:1').logCount).toBe(1);
			storage.close();
		} finally {
			removeDir(dir);
		}
	});
});
