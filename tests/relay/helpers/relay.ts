/**
 * Starts the REAL relay process on a free loopback port with a temporary DATA_DIR, and tears
 * it down. No mocked sockets (STYLE.md). Through tsx (sync-server/main.ts, no build step), or
 * as `npm start` runs it, the bundle `.relay/main.mjs` (`bundle: true`, or KITH_TEST_BUNDLE=1
 * for every relay of a run, e.g. the cluster tests).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { buildRelay, startCommand } from '../../../scripts/start-command';
import { generateKeyPair, type DeviceKeyPair } from '../../../src/lib/sync/identity';
import { getSessionToken } from '../../../src/lib/sync/relay-auth';
import { createConversation, postMessage } from '../../../src/lib/model';

// `node --import tsx`, not the tsx binary: tsx runs the script in a child process, so killing
// the binary (kill -9 in the durability tests) would leave the real relay running, orphaned.
const NODE_TSX = [process.execPath, '--import', 'tsx'] as const;

export interface Relay {
	port: number;
	http: string;
	ws: string;
	dataDir: string;
	proc: ChildProcess;
	logs: string[];
	/** SIGTERM and wait for exit; returns the exit code. */
	stop(): Promise<number | null>;
	/** kill -9 and wait. */
	kill(): Promise<void>;
}

export function tempDataDir(): string {
	return mkdtempSync(join(tmpdir(), 'kith-relay-'));
}

/** `npm start`'s command after its build: node's arguments and the script's environment. */
const START = startCommand();

export async function startRelay(
	options: { dataDir?: string; env?: Record<string, string>; bundle?: boolean } = {}
): Promise<Relay> {
	const dataDir = options.dataDir ?? tempDataDir();
	const bundle = options.bundle ?? process.env.KITH_TEST_BUNDLE === '1';
	if (bundle) buildRelay();
	const args = bundle ? START.args : [...NODE_TSX.slice(1), 'sync-server/main.ts'];
	const proc = spawn(process.execPath, args, {
		env: {
			...process.env,
			...(bundle ? START.env : {}),
			PORT: '0',
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			SERVE_APP: '0',
			LOG_LEVEL: 'info',
			// Tests measure correctness, not fsync latency.
			SQLITE_SYNCHRONOUS: 'NORMAL',
			...options.env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	const logs: string[] = [];
	let buffer = '';
	const exited = new Promise<number | null>((resolve) =>
		proc.once('exit', (code) => resolve(code))
	);
	const port = await new Promise<number>((resolve, reject) => {
		const timer = setTimeout(() => {
			// Never left running: nothing would stop it after the test.
			proc.kill('SIGKILL');
			reject(new Error(`relay did not start:\n${logs.join('\n')}`));
		}, 20_000);
		proc.stdout!.on('data', (chunk: Buffer) => {
			buffer += chunk.toString();
			let nl;
			while ((nl = buffer.indexOf('\n')) >= 0) {
				const line = buffer.slice(0, nl);
				buffer = buffer.slice(nl + 1);
				logs.push(line);
				if (logs.length > 2000) logs.shift();
				if (line.includes('"msg":"listening"')) {
					clearTimeout(timer);
					resolve((JSON.parse(line) as { port: number }).port);
				}
			}
		});
		proc.stderr!.on('data', (chunk: Buffer) => {
			const text = chunk.toString();
			logs.push(text);
			// Printed whatever LOG_LEVEL is.
			const ready = /Kith relay ready: open http:\/\/[^\s]+:(\d+)/.exec(text);
			if (ready) {
				clearTimeout(timer);
				resolve(Number(ready[1]));
			}
		});
		void exited.then((code) => {
			clearTimeout(timer);
			reject(new Error(`relay exited (${code}) before listening:\n${logs.join('\n')}`));
		});
	});
	return {
		port,
		http: `http://127.0.0.1:${port}`,
		ws: `ws://127.0.0.1:${port}/sync`,
		dataDir,
		proc,
		logs,
		async stop() {
			if (proc.exitCode !== null) return proc.exitCode;
			proc.kill('SIGTERM');
			return exited;
		},
		async kill() {
			if (proc.exitCode !== null || proc.signalCode !== null) return;
			proc.kill('SIGKILL');
			await exited;
		}
	};
}

/**
 * Per-test teardown for relay tests: `relayAt` starts a relay on a data folder and kills it
 * after the test; `defer` adds any other undo. Call once per file; it registers `afterEach`.
 */
export function withCleanup() {
	const cleanup: Array<() => Promise<unknown> | void> = [];
	afterEach(async () => {
		for (const f of cleanup.splice(0).reverse()) await f();
	});
	return {
		defer(f: () => Promise<unknown> | void): void {
			cleanup.push(f);
		},
		async relayAt(dataDir: string, env: Record<string, string> = {}): Promise<Relay> {
			const r = await startRelay({ dataDir, env });
			cleanup.push(() => r.kill());
			return r;
		}
	};
}

export function removeDir(dir: string): void {
	rmSync(dir, { recursive: true, force: true });
}

/** A token from the operator CLI (`npm run token`), its last line of output. */
export function cliToken(dataDir: string, userId: string, ttl?: number): string {
	const args = ['sync-server/cli.ts', 'token', userId, ...(ttl ? ['--ttl', String(ttl)] : [])];
	const res = spawnSync(NODE_TSX[0], [...NODE_TSX.slice(1), ...args], {
		env: { ...process.env, DATA_DIR: dataDir },
		encoding: 'utf8'
	});
	if (res.status !== 0) throw new Error(res.stderr);
	return res.stdout.trim().split('\n').at(-1)!;
}

export interface Device {
	key: DeviceKeyPair;
	user: string;
	token: string;
}

/** A new device that authenticates with a signed challenge (src/lib/sync/relay-auth.ts). */
export async function newDevice(
	relay: Relay,
	options: { ttlSeconds?: number; invite?: string } = {}
): Promise<Device> {
	const key = generateKeyPair();
	const { token, userId } = await getSessionToken(relay.http, key, options);
	return { key, user: userId, token };
}

/** A standard y-websocket 3 client, as a bot or browser would make it. */
export function connect(relay: Relay, docName: string, token: string, doc = new Y.Doc()) {
	const provider = new WebsocketProvider(relay.ws, docName, doc, {
		params: { token },
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true,
		maxBackoffTime: 300
	});
	return { doc, provider, awareness: provider.awareness };
}

/** Polls until `check` returns true, at most `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

export function synced(provider: WebsocketProvider, ms = 5000): Promise<void> {
	return until(() => provider.synced, ms, 'sync');
}

/** A raw WebSocket that records everything it receives and how it closed. */
export async function rawSocket(url: string) {
	const ws = new WebSocket(url);
	ws.binaryType = 'nodebuffer';
	const received: Buffer[] = [];
	let closeCode: number | null = null;
	ws.on('message', (data) => received.push(data as Buffer));
	ws.on('error', () => {});
	const closed = new Promise<number>((resolve) =>
		ws.on('close', (code) => {
			closeCode = code;
			resolve(code);
		})
	);
	await new Promise<void>((resolve) => {
		ws.once('open', () => resolve());
		ws.once('close', () => resolve());
	});
	return {
		ws,
		received,
		closed,
		get closeCode() {
			return closeCode;
		}
	};
}

/** Resolves with the close code, or null if still open after `ms`. */
export function closeCodeWithin(closed: Promise<number>, ms: number): Promise<number | null> {
	return Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
}

/** A lib0 varUint8Array: length prefix, then the bytes. */
export function varBytes(bytes: Uint8Array): number[] {
	const out: number[] = [];
	let n = bytes.length;
	while (n > 127) {
		out.push((n & 127) | 128);
		n >>>= 7;
	}
	out.push(n);
	return [...out, ...bytes];
}

/** The value of a metric from GET /metrics. */
export async function metric(relay: Relay, name: string): Promise<number> {
	const text = await (await fetch(`${relay.http}/metrics`)).text();
	const line = text.split('\n').find((l) => l.startsWith(`${name} `));
	return line ? Number(line.split(' ')[1]) : NaN;
}

/** Resolves with the close code if the relay closes the provider's socket. */
export function closes(p: ReturnType<typeof connect>['provider']): Promise<number> {
	return new Promise((resolve) => p.on('connection-close', (e) => resolve(e?.code ?? 0)));
}

/**
 * Posts 3 KB messages from `a` (a connected device's provider and doc) every 5 ms until the relay
 * closes it (at most 200), then stops it reconnecting: the close code (4507 when the disk fills).
 */
export async function postUntilClosed(
	a: { provider: WebsocketProvider; doc: Y.Doc },
	user: string
): Promise<number> {
	const codes: number[] = [];
	a.provider.on('connection-close', (ev) => {
		if (ev) codes.push(ev.code);
	});
	for (let i = 0; i < 200 && codes.length === 0; i++) {
		postMessage(a.doc, { content: `${i} `.padEnd(3000, 'x'), created_by: user });
		await new Promise((r) => setTimeout(r, 5));
	}
	await until(() => codes.length > 0, 5000, 'a close');
	a.provider.shouldConnect = false;
	a.provider.disconnect();
	return codes[0]!;
}

/** Once `a` (the owner's connection to `conv:<id>`) has synced, creates group `g<id>` in it. */
export async function createGroupIn<C extends { provider: WebsocketProvider; doc: Y.Doc }>(
	a: C,
	owner: { user: string },
	id: string,
	members: readonly string[] = []
): Promise<C> {
	await synced(a.provider);
	createConversation(a.doc, {
		kind: 'group',
		name: `g${id}`,
		id,
		created_by: owner.user,
		members: [owner.user, ...members]
	});
	return a;
}
