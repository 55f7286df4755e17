/**
 * The bench's scenarios, each a function that starts the relay under test, drives the load
 * process (bench/load/worker.ts) and returns one well-formed result. bench/run.ts runs them
 * for every relay and run; tests/relay/bench-smoke.test.ts runs them on a tiny input.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type DeviceKeyPair } from '../src/lib/sync/identity.ts';
import { getSessionToken } from '../src/lib/sync/relay-auth.ts';
import { newId } from '../src/lib/model/index.ts';
import type { Command, Identity, LatencySummary } from './load/worker.ts';
import { cpuSeconds, memory, rssSampler } from './proc.ts';
import { startRelay, type Relay, type RelayKind } from './relays.ts';
import { pause, phase } from './trace.ts';

/** The load process: one command at a time, with progress marks. */
export class LoadProcess {
	readonly proc: ChildProcess;
	#next = 1;
	readonly #pending = new Map<
		number,
		{ resolve: (v: unknown) => void; reject: (e: Error) => void; onMark?: (m: string) => void }
	>();

	constructor() {
		this.proc = fork('bench/load/worker.ts', [], {
			execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
			stdio: ['ignore', 'inherit', 'inherit', 'ipc']
		});
		this.proc.on(
			'message',
			(msg: { id: number; result?: unknown; error?: string; mark?: string }) => {
				const p = this.#pending.get(msg.id);
				if (!p) return;
				if (msg.mark) return p.onMark?.(msg.mark);
				this.#pending.delete(msg.id);
				if (msg.error) p.reject(new Error(`load process: ${msg.error}`));
				else p.resolve(msg.result);
			}
		);
		this.proc.on('exit', (code) => {
			for (const p of this.#pending.values()) p.reject(new Error(`load process exited (${code})`));
			this.#pending.clear();
		});
	}

	call<T>(cmd: Command, args: unknown, onMark?: (m: string) => void, timeoutMs = 600_000) {
		return phase(`load ${cmd}`, () => this.#call<T>(cmd, args, onMark, timeoutMs));
	}

	#call<T>(
		cmd: Command,
		args: unknown,
		onMark: ((m: string) => void) | undefined,
		timeoutMs: number
	) {
		const id = this.#next++;
		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new Error(`${cmd}: no answer within ${timeoutMs} ms`));
			}, timeoutMs);
			this.#pending.set(id, {
				resolve: (v) => {
					clearTimeout(timer);
					resolve(v as T);
				},
				reject: (e) => {
					clearTimeout(timer);
					reject(e);
				},
				...(onMark ? { onMark } : {})
			});
			this.proc.send({ id, cmd, args });
		});
	}

	stop(): void {
		if (this.proc.connected) this.proc.disconnect();
		setTimeout(() => this.proc.kill(), 2000).unref();
	}
}

/** What every scenario needs: the load process and a pool of device keys (made once). */
export interface Ctx {
	load: LoadProcess;
	keys: DeviceKeyPair[];
	/** A fixed channel for the cold-join scenario, so the load process builds it once. */
	bigConv: string;
	/** A fixed channel for the durability scenario, so the load process stores it once per mode. */
	storeConv: string;
	/** Relays started ahead by `prestart`, not used yet, by `warmKey`. */
	warm: Map<string, Relay[]>;
}

export function createCtx(keyCount = 210): Ctx {
	return {
		load: new LoadProcess(),
		keys: Array.from({ length: keyCount }, () => generateKeyPair()),
		bigConv: newId(),
		storeConv: newId(),
		warm: new Map()
	};
}

type StartOptions = Parameters<typeof startRelay>[1];
const warmKey = (kind: RelayKind, options: StartOptions = {}): string =>
	`${kind} ${JSON.stringify(options.env ?? {})}`;

/**
 * Starts the relays of the next measurements all at once, then waits until none of them uses
 * CPU: set-up, with nothing measured meanwhile. Each measurement then takes its own fresh,
 * unused relay (`withRelay`) instead of starting one; an idle relay waiting for its turn uses no
 * CPU. On 2 cores this halves the time spent starting relays (Kith through tsx takes 1–3 s,
 * 17 times in a quick run). A relay that fails to start here is started again, and its error
 * reported, by its measurement.
 */
export async function prestart(ctx: Ctx, kinds: RelayKind[], options: StartOptions = {}) {
	await phase('start relays together', async () => {
		const started = await Promise.allSettled(kinds.map((k) => startRelay(k, options)));
		const relays = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
		for (const relay of relays) {
			const key = warmKey(relay.kind, options);
			ctx.warm.set(key, [...(ctx.warm.get(key) ?? []), relay]);
		}
		await untilIdle(relays.map((r) => r.pid));
	});
}

/** Stops the relays that `prestart` started and no measurement took. */
export async function stopWarm(ctx: Ctx): Promise<void> {
	const left = [...ctx.warm.values()].flat();
	ctx.warm.clear();
	await Promise.all(left.map((r) => r.stop()));
}

/** Waits until none of the processes used CPU for `quietMs` (at most `maxMs`). */
async function untilIdle(pids: number[], quietMs = 300, maxMs = 5000): Promise<void> {
	const started = performance.now();
	const read = (): number =>
		pids.reduce((a, pid) => {
			try {
				return a + cpuSeconds(pid);
			} catch {
				return a;
			}
		}, 0);
	let last = read();
	let quietSince = performance.now();
	while (performance.now() - started < maxMs) {
		await new Promise((r) => setTimeout(r, 100));
		const now = read();
		if (now !== last) {
			last = now;
			quietSince = performance.now();
		} else if (performance.now() - quietSince >= quietMs) return;
	}
}

/** Tokens from the challenge flow for Kith (src/lib/sync/relay-auth.ts); any string for peers. */
function identities(relay: Relay, keys: DeviceKeyPair[]): Promise<Identity[]> {
	return phase('tokens', () => challengeTokens(relay, keys));
}

async function challengeTokens(relay: Relay, keys: DeviceKeyPair[]): Promise<Identity[]> {
	if (!relay.kind.startsWith('kith')) return keys.map((k) => ({ user: k.userId, token: 'bench' }));
	const out: Identity[] = [];
	for (let i = 0; i < keys.length; i += 20) {
		const batch = await Promise.all(
			keys.slice(i, i + 20).map((k) => getSessionToken(relay.http, k, { ttlSeconds: 3600 }))
		);
		for (const t of batch) out.push({ user: t.userId, token: t.token });
	}
	return out;
}

/** Quantiles of a Prometheus histogram from /metrics, interpolated within buckets (ms). */
export function histogramQuantiles(text: string, name: string) {
	const buckets: Array<[number, number]> = [];
	let count = 0;
	let sum = 0;
	for (const line of text.split('\n')) {
		const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)`).exec(line);
		if (b) buckets.push([b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2])]);
		else if (line.startsWith(`${name}_count `)) count = Number(line.split(' ')[1]);
		else if (line.startsWith(`${name}_sum `)) sum = Number(line.split(' ')[1]);
	}
	const q = (p: number): number => {
		if (count === 0) return NaN;
		const rank = p * count;
		let prevLe = 0;
		let prevN = 0;
		for (const [le, n] of buckets) {
			if (n >= rank) {
				if (le === Infinity) return prevLe * 1000;
				const frac = n === prevN ? 1 : (rank - prevN) / (n - prevN);
				return Math.round((prevLe + (le - prevLe) * frac) * 1e6) / 1000;
			}
			prevLe = le;
			prevN = n;
		}
		return NaN;
	};
	return {
		batches: count,
		meanMs: count ? Math.round((sum / count) * 1e6) / 1000 : NaN,
		p50Ms: q(0.5),
		p99Ms: q(0.99)
	};
}

async function storageWrites(relay: Relay) {
	if (!relay.kind.startsWith('kith')) return null;
	const text = await (await fetch(`${relay.http}/metrics`)).text();
	return histogramQuantiles(text, 'kith_storage_write_seconds');
}

async function withRelay<T>(
	ctx: Ctx,
	kind: RelayKind,
	fn: (relay: Relay) => Promise<T>,
	options: StartOptions = {}
): Promise<T> {
	const relay =
		(options.dataDir ? undefined : ctx.warm.get(warmKey(kind, options))?.shift()) ??
		(await startRelay(kind, options));
	try {
		return await fn(relay);
	} finally {
		await relay.stop();
	}
}

const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

// ---------------------------------------------------------------------------------------------

export interface FanoutParams {
	clients: number;
	intervalMs: number;
	count: number;
}

export interface FanoutResult {
	relay: RelayKind;
	loadavg: number;
	clients: number;
	sent: number;
	lost: number;
	latencyMs: LatencySummary;
	/** Relay CPU seconds over the scenario. */
	cpuSeconds: number;
	rssMB: number;
	storageWrites: ReturnType<typeof histogramQuantiles> | null;
	/** For the echo server: round trips to one client, not a fan-out. */
	note?: string;
}

/** One channel, `clients` readers, one writer posting every `intervalMs`. */
export async function fanoutScenario(
	ctx: Ctx,
	kind: RelayKind,
	p: FanoutParams
): Promise<FanoutResult> {
	const loadavg = load1();
	return withRelay(ctx, kind, async (relay) => {
		const cpu0 = cpuSeconds(relay.pid);
		const rss = rssSampler(relay.pid);
		if (kind === 'echo') {
			const r = await ctx.load.call<{ roundTripMs: LatencySummary }>('echo', {
				target: relay.target,
				count: p.count,
				intervalMs: p.intervalMs,
				clients: 0,
				window: 1,
				perClient: 0
			});
			return {
				relay: kind,
				loadavg,
				clients: 1,
				sent: p.count,
				lost: 0,
				latencyMs: r.roundTripMs,
				cpuSeconds: cpuSeconds(relay.pid) - cpu0,
				rssMB: rss.stop(),
				storageWrites: null,
				note: 'round trip to the sender (an echo has no fan-out)'
			};
		}
		const ids = await identities(relay, ctx.keys.slice(0, p.clients + 1));
		const r = await ctx.load.call<{ lost: number; sent: number; latencyMs: LatencySummary }>(
			'fanout',
			{
				target: relay.target,
				conv: newId(),
				writer: ids[0],
				readers: ids.slice(1),
				members: ids.map((i) => i.user),
				intervalMs: p.intervalMs,
				count: p.count
			}
		);
		return {
			...r,
			relay: kind,
			loadavg,
			clients: p.clients,
			cpuSeconds: Math.round((cpuSeconds(relay.pid) - cpu0) * 100) / 100,
			rssMB: rss.stop(),
			storageWrites: await storageWrites(relay)
		};
	});
}

export interface ThroughputParams {
	writers: number;
	perWriter: number;
	window: number;
}

export interface ThroughputResult {
	relay: RelayKind;
	loadavg: number;
	writers: number;
	delivered: number;
	lost: number;
	updatesPerSecond: number;
	cpuPercent: number;
	rssMB: number;
	storageWrites: ReturnType<typeof histogramQuantiles> | null;
}

/** `writers` writers in one document, each with `window` updates in flight, one reader counting. */
export async function throughputScenario(
	ctx: Ctx,
	kind: RelayKind,
	p: ThroughputParams
): Promise<ThroughputResult> {
	const loadavg = load1();
	return withRelay(ctx, kind, async (relay) => {
		let cpu0 = cpuSeconds(relay.pid);
		let t0 = performance.now();
		let cpu = NaN;
		const rss = rssSampler(relay.pid);
		const mark = (m: string): void => {
			if (m === 'start') {
				cpu0 = cpuSeconds(relay.pid);
				t0 = performance.now();
			} else if (m === 'end') {
				cpu = (cpuSeconds(relay.pid) - cpu0) / ((performance.now() - t0) / 1000);
			}
		};
		if (kind === 'echo') {
			const r = await ctx.load.call<{ echoes: number; expected: number; echoesPerSecond: number }>(
				'echo',
				{
					target: relay.target,
					count: 0,
					intervalMs: 20,
					clients: p.writers,
					window: p.window,
					perClient: p.perWriter
				}
			);
			cpu = (cpuSeconds(relay.pid) - cpu0) / ((performance.now() - t0) / 1000);
			return {
				relay: kind,
				loadavg,
				writers: p.writers,
				delivered: r.echoes,
				lost: r.expected - r.echoes,
				updatesPerSecond: r.echoesPerSecond,
				cpuPercent: Math.round(cpu * 100),
				rssMB: rss.stop(),
				storageWrites: null
			};
		}
		const ids = await identities(relay, ctx.keys.slice(0, p.writers + 1));
		const r = await ctx.load.call<{ delivered: number; lost: number; updatesPerSecond: number }>(
			'throughput',
			{
				target: relay.target,
				conv: newId(),
				writers: ids.slice(0, p.writers),
				reader: ids[p.writers],
				members: ids.map((i) => i.user),
				perWriter: p.perWriter,
				window: p.window
			},
			mark
		);
		return {
			relay: kind,
			loadavg,
			writers: p.writers,
			delivered: r.delivered,
			lost: r.lost,
			updatesPerSecond: r.updatesPerSecond,
			cpuPercent: Math.round(cpu * 100),
			rssMB: rss.stop(),
			storageWrites: await storageWrites(relay)
		};
	});
}

export interface ColdJoinParams {
	messages: number;
	/** Devices that wrote the channel (client ids): many people post in a real channel. */
	devices: number;
	/**
	 * How long the channel then sits idle, its uploader still connected, before RSS is read
	 * again (0: not measured). Kith turns a document with no write for DOC_HOT_MS (10 s) into
	 * bytes (docs/ARCHITECTURE.md, "The relay's memory"): this is what holding an idle channel
	 * costs, as a relay does most of the time.
	 */
	idleHoldMs?: number;
	/**
	 * RSS is read a third time this long after the joins (longer than `idleHoldMs`; 0: not
	 * measured): the relay's memory once settled (freed memory goes back to the system over a
	 * few GCs, `sync-server/memory.ts`), not mid-release.
	 */
	settledHoldMs?: number;
}

export interface ColdJoinResult {
	relay: RelayKind;
	loadavg: number;
	messages: number;
	stateBytes: number;
	uploadMs: number;
	joinMs: number;
	joinBytes: number;
	reconnectBytes: number;
	reconnectMs: number;
	/** Relay RSS holding the channel (after the joins), and its peak. */
	rssMB: number;
	peakMB: number;
	idleRssMB: number;
	/** Relay RSS holding the channel after `idleHoldMs` without a write (null: not measured). */
	heldIdleRssMB: number | null;
	/** Relay RSS holding the channel after `settledHoldMs` without a write (null: not measured). */
	settledRssMB: number | null;
}

/** A channel of `messages` messages: a new device joins; a device that holds it reconnects. */
export async function coldJoinScenario(
	ctx: Ctx,
	kind: RelayKind,
	p: ColdJoinParams
): Promise<ColdJoinResult> {
	const loadavg = load1();
	return withRelay(ctx, kind, async (relay) => {
		await pause('settle: idle RSS', 300);
		const idleRssMB = memory(relay.pid).rssMB;
		const [owner, reader] = await identities(relay, ctx.keys.slice(0, 2));
		const base = {
			target: relay.target,
			conv: ctx.bigConv,
			members: [owner!.user, reader!.user],
			messages: p.messages,
			devices: p.devices
		};
		const s = await ctx.load.call<{ stateBytes: number; uploadMs: number }>('seed', {
			...base,
			owner
		});
		const j = await ctx.load.call<{ ms: number; bytes: number }>('join', {
			...base,
			owner,
			reader,
			mode: 'new'
		});
		const u = await ctx.load.call<{ ms: number; bytes: number }>('join', {
			...base,
			owner,
			reader: owner,
			mode: 'upToDate'
		});
		const mem = memory(relay.pid);
		let heldIdleRssMB: number | null = null;
		let settledRssMB: number | null = null;
		if (p.idleHoldMs) {
			await pause('settle: channel held idle', p.idleHoldMs);
			heldIdleRssMB = memory(relay.pid).rssMB;
			if (p.settledHoldMs && p.settledHoldMs > p.idleHoldMs) {
				await pause('settle: channel held idle, longer', p.settledHoldMs - p.idleHoldMs);
				settledRssMB = memory(relay.pid).rssMB;
			}
		}
		await ctx.load.call('closeSeeder', {});
		return {
			relay: kind,
			loadavg,
			messages: p.messages,
			stateBytes: s.stateBytes,
			uploadMs: s.uploadMs,
			joinMs: j.ms,
			joinBytes: j.bytes,
			reconnectBytes: u.bytes,
			reconnectMs: u.ms,
			rssMB: mem.rssMB,
			peakMB: mem.peakMB,
			idleRssMB,
			heldIdleRssMB,
			settledRssMB
		};
	});
}

export interface ManyDocsParams {
	docs: number;
	/** Kith's DOC_IDLE_MS for the run (how soon a closed document leaves memory). */
	idleMs: number;
	concurrency: number;
	/** How long after the idle time RSS is read again (3 s unless told). */
	settleMs?: number;
}

export interface ManyDocsResult {
	relay: RelayKind;
	loadavg: number;
	docs: number;
	failed: number;
	openMs: number;
	idleRssMB: number;
	openRssMB: number;
	closedRssMB: number;
	/** Kith: documents still in memory after the wait. */
	docsInMemory: number | null;
}

/** `docs` new conversations, one client each; RSS before, while open, and after they close. */
export async function manyDocsScenario(
	ctx: Ctx,
	kind: RelayKind,
	p: ManyDocsParams
): Promise<ManyDocsResult> {
	const loadavg = load1();
	return withRelay(
		ctx,
		kind,
		async (relay) => {
			const [owner] = await identities(relay, ctx.keys.slice(0, 1));
			await pause('settle: idle RSS', 500);
			const idleRssMB = memory(relay.pid).rssMB;
			const r = await ctx.load.call<{ failed: number; ms: number }>('openMany', {
				target: relay.target,
				owner,
				docs: p.docs,
				concurrency: p.concurrency
			});
			await pause('settle: open RSS', 200);
			const openRssMB = memory(relay.pid).rssMB;
			await ctx.load.call('closeMany', {});
			await pause('settle: eviction', p.idleMs + (p.settleMs ?? 3000));
			const closedRssMB = memory(relay.pid).rssMB;
			let docsInMemory: number | null = null;
			if (kind.startsWith('kith')) {
				const text = await (await fetch(`${relay.http}/metrics`)).text();
				docsInMemory = Number(/^kith_docs_in_memory (\S+)/m.exec(text)?.[1] ?? NaN);
			}
			return {
				relay: kind,
				loadavg,
				docs: p.docs,
				failed: r.failed,
				openMs: r.ms,
				idleRssMB,
				openRssMB,
				closedRssMB,
				docsInMemory
			};
		},
		{ env: { DOC_IDLE_MS: String(p.idleMs) } }
	);
}

export interface DurabilityParams {
	messages: number;
	devices: number;
	mode: 'log' | 'snapshot';
}

export interface DurabilityResult {
	relay: 'kith';
	loadavg: number;
	mode: 'log' | 'snapshot';
	messages: number;
	rows: number;
	/** First join after a restart: the document is read from SQLite, then sent. */
	firstJoinMs: number;
	/** A second join: the document is in memory. */
	warmJoinMs: number;
	/** firstJoinMs − warmJoinMs: what reading from storage costs. */
	loadMs: number;
	rssMB: number;
}

/** Kith only: a channel in DATA_DIR as a log of updates or as one snapshot; the relay restarts. */
export async function durabilityScenario(ctx: Ctx, p: DurabilityParams): Promise<DurabilityResult> {
	const loadavg = load1();
	const dataDir = mkdtempSync(join(tmpdir(), 'kith-bench-store-'));
	try {
		const owner = ctx.keys[0]!;
		const conv = ctx.storeConv;
		const built = await ctx.load.call<{ rows: number }>('buildStore', {
			dataDir,
			conv,
			owner: owner.userId,
			messages: p.messages,
			devices: p.devices,
			mode: p.mode
		});
		return await withRelay(
			ctx,
			'kith',
			async (relay) => {
				const [id] = await identities(relay, [owner]);
				const base = {
					target: relay.target,
					conv,
					members: [id!.user],
					messages: p.messages,
					devices: p.devices
				};
				const first = await ctx.load.call<{ ms: number }>('join', {
					...base,
					owner: id,
					reader: id,
					mode: 'new'
				});
				const warm = await ctx.load.call<{ ms: number }>('join', {
					...base,
					owner: id,
					reader: id,
					mode: 'new'
				});
				return {
					relay: 'kith' as const,
					loadavg,
					mode: p.mode,
					messages: p.messages,
					rows: built.rows,
					firstJoinMs: first.ms,
					warmJoinMs: warm.ms,
					loadMs: Math.round((first.ms - warm.ms) * 10) / 10,
					rssMB: memory(relay.pid).rssMB
				};
			},
			{ dataDir, keepData: true, env: { DOC_IDLE_MS: '600000' } }
		);
	} finally {
		rmSync(dataDir, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------------------

export interface ClusterParams {
	/** Relay processes sharing one PostgreSQL database and Redis. */
	processes: number;
	fanout: FanoutParams;
	throughput: ThroughputParams;
}

export interface ClusterResult {
	relay: RelayKind;
	loadavg: number;
	processes: number;
	fanout: { clients: number; lost: number; latencyMs: LatencySummary };
	throughput: { writers: number; lost: number; updatesPerSecond: number };
	/** Peak RSS of each relay process over both parts (MB). */
	rssMB: number[];
	storageWrites: ReturnType<typeof histogramQuantiles> | null;
}

/**
 * Kith on PostgreSQL and Redis (README, "Running several relays") with 1, 2 or 3 relay
 * processes: the fan-out readers and the throughput writers spread round robin over them (the
 * writer of the fan-out on the first). A fresh database per measurement; Redis from
 * BENCH_REDIS_URL (default the local one) under a prefix of its own.
 */
export async function clusterScenario(ctx: Ctx, p: ClusterParams): Promise<ClusterResult> {
	const pg = (await import('pg')).default;
	const admin = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
	const name = `kith_bench_${Date.now().toString(36)}`;
	const run = async (sql: string): Promise<void> => {
		const c = new pg.Client({ connectionString: admin });
		await c.connect();
		try {
			await c.query(sql);
		} finally {
			await c.end();
		}
	};
	await phase('cluster: create database', () => run(`CREATE DATABASE ${name}`));
	const url = new URL(admin);
	url.pathname = `/${name}`;
	const env = {
		DATABASE_URL: url.toString(),
		REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
		REDIS_PREFIX: `${name}:`
	};
	const loadavg = load1();
	const relays: Relay[] = [];
	try {
		// The first process creates the schema; the others start together once it is there.
		relays.push(await startRelay('kith', { env }));
		const more = await Promise.allSettled(
			Array.from({ length: p.processes - 1 }, () => startRelay('kith', { env }))
		);
		for (const r of more) if (r.status === 'fulfilled') relays.push(r.value);
		for (const r of more) if (r.status === 'rejected') throw r.reason;
		const rss = relays.map((r) => rssSampler(r.pid));
		const targets = relays.map((r) => r.target);
		const fan = p.fanout;
		const tp = p.throughput;
		// One token per device key serves both parts (any process accepts it).
		const all = await identities(
			relays[0]!,
			ctx.keys.slice(0, Math.max(fan.clients, tp.writers) + 1)
		);
		const ids = all.slice(0, fan.clients + 1);
		const f = await ctx.load.call<{ lost: number; latencyMs: LatencySummary }>('fanout', {
			target: targets[0],
			targets,
			conv: newId(),
			writer: ids[0],
			readers: ids.slice(1),
			members: ids.map((i) => i.user),
			intervalMs: fan.intervalMs,
			count: fan.count
		});
		const wids = all.slice(0, tp.writers + 1);
		const t = await ctx.load.call<{ lost: number; updatesPerSecond: number }>('throughput', {
			target: targets[0],
			targets,
			conv: newId(),
			writers: wids.slice(0, tp.writers),
			reader: wids[tp.writers],
			members: wids.map((i) => i.user),
			perWriter: tp.perWriter,
			window: tp.window
		});
		return {
			relay: 'kith',
			loadavg,
			processes: p.processes,
			fanout: { clients: fan.clients, lost: f.lost, latencyMs: f.latencyMs },
			throughput: { writers: tp.writers, lost: t.lost, updatesPerSecond: t.updatesPerSecond },
			rssMB: rss.map((s) => s.stop()),
			storageWrites: await storageWrites(relays[0]!)
		};
	} finally {
		await Promise.all(relays.map((r) => r.stop()));
		await phase('cluster: drop database', () =>
			run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
		);
	}
}
