/**
 * Bundles the relay (sync-server/main.ts, and the cluster mode's PostgreSQL worker) into
 * `.relay/` as plain JavaScript, for `npm start` (its `prestart`): `node .relay/main.mjs` runs
 * without tsx's loader, whose own thread and isolate cost ~24 MB of the idle relay's ~108 MB
 * and a second of start-up (docs/ARCHITECTURE.md, "Running the relay").
 *
 * Dependencies stay external (`packages: 'external'`: node_modules is there at run time; the
 * native better-sqlite3 could not be bundled anyway), so the bundle holds Kith's own modules
 * only. Skips the build when `.relay/meta.json` lists no input newer than the bundle, so a
 * repeated start costs only node's own start-up (user time ~0.1 s; a build: ~1 s). Plain .mjs:
 * it runs before anything could compile it.
 *
 * @example
 *   node scripts/build-relay.mjs          # build when stale
 *   node scripts/build-relay.mjs --force  # build anyway
 */
import {
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, '.relay');
const meta = join(outdir, 'meta.json');

/** The inputs of the last build (esbuild's metafile), or null when a build is needed. */
function fresh() {
	if (!existsSync(meta)) return false;
	const built = statSync(meta).mtimeMs;
	let inputs;
	try {
		inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs);
	} catch {
		return false;
	}
	// This script and the tsconfig files change the output without being inputs.
	const extra = ['scripts/build-relay.mjs', 'tsconfig.node.json', 'sync-server/tsconfig.json'];
	for (const input of [...inputs, ...extra]) {
		const path = join(root, input);
		// A deleted input (a renamed module) means the bundle is stale too.
		if (!existsSync(path) || statSync(path).mtimeMs > built) return false;
	}
	return true;
}

if (!process.argv.includes('--force') && fresh()) process.exit(0);

const started = performance.now();
const { build } = await import('esbuild');
const result = await build({
	absWorkingDir: root,
	entryPoints: {
		main: 'sync-server/main.ts',
		// Cluster mode's worker thread (sync-bridge.ts): pg-store.ts finds it beside itself.
		'pg-worker': 'sync-server/cluster/pg-worker.ts'
	},
	outdir,
	outExtension: { '.js': '.mjs' },
	bundle: true,
	packages: 'external',
	platform: 'node',
	format: 'esm',
	target: 'node20.19',
	// Keeps `await import('./cluster/…')` lazy: pg, ioredis and the worker load only with
	// DATABASE_URL, as they do under tsx.
	splitting: true,
	chunkNames: 'chunk-[hash]',
	sourcemap: 'linked',
	tsconfig: 'tsconfig.node.json',
	metafile: true,
	logLevel: 'warning',
	legalComments: 'none',
	write: false
});
// Each file replaced by a rename, never rewritten in place: another process (a test, the bench,
// a second `npm start`) may build or start from `.relay/` at the same moment.
mkdirSync(outdir, { recursive: true });
for (const file of result.outputFiles) {
	const tmp = `${file.path}.${process.pid}.tmp`;
	writeFileSync(tmp, file.contents);
	renameSync(tmp, file.path);
}
// Chunks of earlier builds (their names are content hashes) would pile up.
const outputs = new Set(Object.keys(result.metafile.outputs).map((p) => resolve(root, p)));
for (const name of readdirSync(outdir)) {
	const path = join(outdir, name);
	if (!outputs.has(path) && path !== meta && !name.endsWith('.tmp')) rmSync(path, { force: true });
}
// Written last: its mtime is the bundle's (fresh() above).
writeFileSync(`${meta}.${process.pid}.tmp`, JSON.stringify(result.metafile));
renameSync(`${meta}.${process.pid}.tmp`, meta);
const ms = Math.round(performance.now() - started);
console.log(
	`build-relay: .relay/main.mjs from ${Object.keys(result.metafile.inputs).length} modules in ${ms} ms`
);
