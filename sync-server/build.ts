/** Builds the app when build/ is missing or older than its sources (for `npm start`). */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './log.ts';

function newest(path: string): number {
	if (!existsSync(path)) return 0;
	const stat = statSync(path);
	if (!stat.isDirectory()) return stat.mtimeMs;
	let max = stat.mtimeMs;
	for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
	return max;
}

export function ensureBuilt(buildDir: string, log: Logger): void {
	const index = join(buildDir, 'index.html');
	const built = existsSync(index) ? statSync(index).mtimeMs : 0;
	const sources = Math.max(
		...['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => newest(p))
	);
	if (built > sources) return;
	log.info({ reason: built ? 'stale' : 'missing' }, 'building the app (vite build)');
	const res = spawnSync('./node_modules/.bin/vite', ['build'], {
		stdio: ['ignore', 'inherit', 'inherit']
	});
	if (res.status !== 0) throw new Error(`vite build failed (exit ${res.status ?? res.signal}).`);
}
