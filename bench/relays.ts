/**
 * Starts each relay under test as its own process on a free loopback port, and stops it.
 * Kith runs as `npm start` runs it: the bundle `.relay/main.mjs` (built when stale by
 * scripts/build-relay.mjs) with node's flags and environment from package.json
 * (scripts/start-command.ts), minus npm's wrapper process, so that the pid measured is the
 * relay's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildRelay, startCommand } from '../scripts/start-command.ts';
import type { Target } from './load/client.ts';
import { phase } from './trace.ts';

export type RelayKind = 'kith' | 'kith-normal' | 'ywss' | 'hocuspocus' | 'forwarder' | 'echo';

export const RELAY_LABELS: Record<RelayKind, string> = {
	kith: 'Kith',
	'kith-normal': 'Kith, SQLITE_SYNCHRONOUS=NORMAL',
	ywss: '@y/websocket-server 0.1.1',
	hocuspocus: '@hocuspocus/server 3.4 + SQLite',
	forwarder: 'do-nothing forwarder',
	echo: 'raw ws echo'
};

export interface Relay {
	kind: RelayKind;
	target: Target;
	/** http://127.0.0.1:<port> */
	http: string;
	pid: number;
	dataDir: string | null;
	proc: ChildProcess;
	logs: string[];
	stop(): Promise<void>;
}

/**
 * Kith's limits that a load test would trip (README, "Running the relay"): raised for the
 * bench, and said so in docs/BENCHMARKS.md. Durability stays the default (SQLITE_SYNCHRONOUS=FULL).
 */
export const KITH_BENCH_ENV: Record<string, string> = {
	CONN_UPDATE_RATE: '1000000',
	CONN_UPDATE_BURST: '1000000',
	USER_UPDATE_RATE: '1000000',
	USER_UPDATE_BURST: '1000000',
	MAX_CONNS_PER_ADDRESS: '100000',
	MAX_FRAME_BYTES: String(256 * 1024 * 1024),
	MAX_DOC_BYTES: String(512 * 1024 * 1024),
	MAX_BUFFERED_BYTES: String(256 * 1024 * 1024)
};

/** `npm start`'s relay command: the bundle, node's flags and environment (package.json). */
const START = startCommand();

/**
 * The process environment `npm start` sets: glibc's allocator with a fixed mmap threshold
 * (`MALLOC_MMAP_THRESHOLD_`), so that freed buffers of 128 KiB and more go back to the system
 * (docs/ARCHITECTURE.md, "The relay's memory"). Only the environment can set it: glibc reads it
 * before Node starts.
 */
export const KITH_PROCESS_ENV: Record<string, string> = START.env;

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const addr = s.address();
			const port = typeof addr === 'object' && addr ? addr.port : 0;
			s.close(() => resolve(port));
		});
	});
}

/**
 * A peer of bench/peers/ as plain JavaScript (its types stripped by TypeScript, cached in
 * node_modules/.cache/kith-bench/ until the source changes), run by `node` alone: tsx's loader
 * added 0.5–2 s to every start of these small servers, as much as some measurements, and
 * nothing to their work once started.
 */
function peerScript(kind: RelayKind): string {
	const src = `bench/peers/${kind}.ts`;
	const out = join('node_modules/.cache/kith-bench', `${kind}.mjs`);
	if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
		const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
		const js = ts.transpileModule(readFileSync(src, 'utf8'), {
			compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
			fileName: src
		}).outputText;
		mkdirSync(dirname(out), { recursive: true });
		writeFileSync(out, js);
	}
	return out;
}

export interface StartOptions {
	/** Reuse a Kith DATA_DIR (restart); a fresh temp dir otherwise. */
	dataDir?: string;
	env?: Record<string, string>;
	/** Keep the DATA_DIR when stopped (the caller removes it). */
	keepData?: boolean;
}

/** Relay processes not stopped yet: killed if the bench exits first (a crash, an error). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
	for (const proc of running) proc.kill('SIGKILL');
});

export function startRelay(kind: RelayKind, options: StartOptions = {}): Promise<Relay> {
	return phase(`start ${kind}`, () => spawnRelay(kind, options));
}

async function spawnRelay(kind: RelayKind, options: StartOptions): Promise<Relay> {
	const node = process.execPath;
	let dataDir: string | null = null;
	let args: string[];
	let env: Record<string, string | undefined> = { ...process.env };
	let ready: RegExp;
	const prof = process.env.BENCH_CPU_PROF;
	if (kind === 'kith' || kind === 'kith-normal') {
		dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kith-bench-'));
		// BENCH_CPU_PROF=<dir>: the relay writes a V8 CPU profile there when it stops.
		buildRelay();
		args = [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...START.args];
		env = {
			...env,
			PORT: '0',
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			SERVE_APP: '0',
			LOG_LEVEL: 'warn',
			...KITH_BENCH_ENV,
			...KITH_PROCESS_ENV,
			// FULL (fsync on every commit: survives power loss) is the default and what `kith` runs.
			...(kind === 'kith-normal' ? { SQLITE_SYNCHRONOUS: 'NORMAL' } : {})
		};
		ready = /Kith relay ready: open http:\/\/[^\s]+:(\d+)/;
	} else if (kind === 'ywss') {
		// Its own server (src/server.js; the package ships no bin), which needs a port up front.
		const port = await freePort();
		args = ['node_modules/@y/websocket-server/src/server.js'];
		env = { ...env, HOST: '127.0.0.1', PORT: String(port) };
		ready = /running at '[^']+' on port (\d+)/;
	} else {
		if (kind === 'hocuspocus') {
			dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'hocus-bench-'));
			env = { ...env, HOCUS_DB: join(dataDir, 'hocuspocus.sqlite') };
		}
		args = [peerScript(kind)];
		env = { ...env, PORT: '0' };
		ready = /listening (\d+)/;
	}
	env = { ...env, ...options.env };
	// BENCH_CPU_PROF profiles the peers too (to compare like with like); they stop on SIGTERM
	// without exiting normally, which would write no profile.
	if (prof && !kind.startsWith('kith')) {
		args = [
			'--cpu-prof',
			`--cpu-prof-dir=${prof}`,
			'--import',
			'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))',
			...args
		];
	}
	const proc = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
	const logs: string[] = [];
	running.add(proc);
	const exited = new Promise<void>((resolve) =>
		proc.once('exit', () => {
			running.delete(proc);
			resolve();
		})
	);
	const port = await new Promise<number>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`${kind} did not start:\n${logs.join('')}`)),
			30_000
		);
		const onData = (chunk: Buffer): void => {
			const text = chunk.toString();
			logs.push(text);
			if (logs.length > 200) logs.shift();
			const m = ready.exec(text);
			if (m) {
				clearTimeout(timer);
				resolve(Number(m[1]));
			}
		};
		proc.stdout!.on('data', onData);
		proc.stderr!.on('data', onData);
		void exited.then(() => {
			clearTimeout(timer);
			reject(new Error(`${kind} exited before listening:\n${logs.join('')}`));
		});
	});
	const proto = kind.startsWith('kith')
		? 'kith'
		: kind === 'hocuspocus'
			? 'hocus'
			: kind === 'echo'
				? 'raw'
				: 'y';
	return {
		kind,
		target: { proto, base: `ws://127.0.0.1:${port}` },
		http: `http://127.0.0.1:${port}`,
		pid: proc.pid!,
		dataDir,
		proc,
		logs,
		stop: () =>
			phase(`stop ${kind}`, async () => {
				if (proc.exitCode === null && proc.signalCode === null) {
					proc.kill('SIGTERM');
					const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
					await exited;
					clearTimeout(timer);
				}
				if (dataDir && !options.keepData) rmSync(dataDir, { recursive: true, force: true });
			})
	};
}
