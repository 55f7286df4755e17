/**
 * `npm start`'s relay command, read from package.json, so that the tests, the browser tests'
 * server and the bench run the relay exactly as it ships: the bundle `.relay/main.mjs` with
 * node's flags and the environment the script sets (`MALLOC_MMAP_THRESHOLD_`). The build
 * itself is `prestart` (scripts/build-relay.mjs).
 *
 * @example
 *   const { env, args } = startCommand();
 *   buildRelay();
 *   spawn(process.execPath, args, { env: { ...process.env, ...env } });
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface StartCommand {
	/** `VAR=value` prefixes of the script. */
	env: Record<string, string>;
	/** node's arguments: its flags, then the script. */
	args: string[];
}

export function startCommand(packageJson = 'package.json'): StartCommand {
	const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: { start: string } };
	const words = pkg.scripts.start.trim().split(/\s+/);
	const env: Record<string, string> = {};
	let word: string | undefined;
	while ((word = words.shift()) !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(word)) {
		const eq = word.indexOf('=');
		env[word.slice(0, eq)] = word.slice(eq + 1);
	}
	if (word !== 'node' || words.some((w) => /['"$`\\|&;<>]/.test(w))) {
		throw new Error(
			`package.json's start script is not "[VAR=value …] node <args>": ${pkg.scripts.start}`
		);
	}
	return { env, args: words };
}

let relayBuilt = false;

/** `npm start`'s `prestart`: builds `.relay/` when stale (scripts/build-relay.mjs); once per process. */
export function buildRelay(): void {
	if (relayBuilt) return;
	const res = spawnSync(process.execPath, ['scripts/build-relay.mjs'], { encoding: 'utf8' });
	if (res.status !== 0) throw new Error(`scripts/build-relay.mjs failed:\n${res.stderr}`);
	relayBuilt = true;
}
