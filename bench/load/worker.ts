/**
 * The load process: started by the harness (bench/harness.ts) with child_process.fork, so that
 * the clients never share an event loop with the harness or a relay. It takes one command at a
 * time over IPC and answers with its result. Every wait is bounded.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import * as Y from 'yjs';
import { newId } from '../../src/lib/model/index.ts';
import { Storage } from '../../sync-server/storage.ts';
import { EMPTY_SV, LeanClient, now, scanMarkers, type Target } from './client.ts';
import { Author } from './workload.ts';

export interface Identity {
	user: string;
	token: string;
}

export interface LatencySummary {
	n: number;
	p50: number;
	p99: number;
	max: number;
	mean: number;
}

export function summarize(values: number[]): LatencySummary {
	if (values.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
	const s = Float64Array.from(values).sort();
	const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
	const round = (x: number): number => Math.round(x * 1000) / 1000;
	return {
		n: s.length,
		p50: round(q(0.5)),
		p99: round(q(0.99)),
		max: round(s[s.length - 1]!),
		mean: round(s.reduce((a, b) => a + b, 0) / s.length)
	};
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, at most `limit` at once. */
async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
	let next = 0;
	const run = async (): Promise<void> => {
		while (next < items.length) {
			const i = next++;
			await fn(items[i]!, i);
		}
	};
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

function docName(conv: string): string {
	return `conv:${conv}`;
}

/** Connects an author's client: it uploads what the relay lacks and waits until that is applied. */
async function connectAuthor(target: Target, author: Author, token: string, ms = 20_000) {
	const client = new LeanClient({
		target,
		docName: docName(author.convId),
		token,
		stateVector: Y.encodeStateVectorFromUpdate(author.creation),
		answer: (sv) => Y.diffUpdate(author.creation, sv)
	});
	await client.untilSynced(ms);
	// A round trip: the relay handles a socket's frames in order, so our upload is in.
	client.sendStep1(Y.encodeStateVectorFromUpdate(author.creation));
	await client.nextStep2(ms);
	return client;
}

/** Client `i` of a scenario spread over several relays (the cluster scenario) connects here. */
const pick = (targets: readonly Target[], i: number): Target => targets[i % targets.length]!;

async function connectReaders(
	target: Target | readonly Target[],
	conv: string,
	tokens: string[],
	onUpdate: (reader: number, frame: Buffer) => void
): Promise<LeanClient[]> {
	const clients: LeanClient[] = [];
	await pool(tokens, 50, async (token, i) => {
		const c = new LeanClient({
			target: Array.isArray(target) ? pick(target, i) : (target as Target),
			docName: docName(conv),
			token,
			onUpdate: (frame) => onUpdate(i, frame)
		});
		clients[i] = c;
		await c.untilSynced(30_000);
	});
	return clients;
}

export interface FanoutArgs {
	target: Target;
	/** Relays to spread the readers over (the writer stays on `target`). */
	targets?: Target[];
	conv: string;
	writer: Identity;
	readers: Identity[];
	members: string[];
	intervalMs: number;
	count: number;
}

export async function fanout(a: FanoutArgs) {
	const author = new Author(a.conv, a.writer.user, a.members);
	const updates = Array.from({ length: a.count }, (_, i) => author.post(i)!);
	const writer = await connectAuthor(a.target, author, a.writer.token);
	const sentAt = new Float64Array(a.count);
	const seen = a.readers.map(() => new Uint8Array(a.count));
	const latencies: number[] = [];
	let received = 0;
	let duplicates = 0;
	// Spread: reader i on relay (i + 1) mod n, so the first reader is on another relay than the writer.
	const spread = a.targets ? [...a.targets.slice(1), a.targets[0]!] : a.target;
	const readers = await connectReaders(
		spread,
		a.conv,
		a.readers.map((r) => r.token),
		(r, frame) => {
			const t = now();
			scanMarkers(frame, (w, seq) => {
				if (w !== 0 || seq >= a.count || sentAt[seq] === 0) return;
				if (seen[r]![seq]) {
					duplicates++;
					return;
				}
				seen[r]![seq] = 1;
				received++;
				latencies.push(t - sentAt[seq]!);
			});
		}
	);
	const expected = a.count * readers.length;
	const t0 = now() + 50;
	for (let seq = 0; seq < a.count; seq++) {
		const wait = t0 + seq * a.intervalMs - now();
		if (wait > 0) await sleep(wait);
		sentAt[seq] = now();
		writer.sendUpdate(updates[seq]!);
	}
	const end = now() + 10_000;
	while (received < expected && now() < end) await sleep(20);
	const closedEarly = readers.filter((c) => c.closed).length + (writer.closed ? 1 : 0);
	await Promise.all([writer, ...readers].map((c) => c.close()));
	return {
		clients: readers.length,
		sent: a.count,
		expected,
		received,
		lost: expected - received,
		duplicates,
		closedEarly,
		latencyMs: summarize(latencies)
	};
}

export interface ThroughputArgs {
	target: Target;
	/** Relays to spread the writers over; the reader takes the next one. */
	targets?: Target[];
	conv: string;
	writers: Identity[];
	reader: Identity;
	members: string[];
	perWriter: number;
	window: number;
}

export async function throughput(a: ThroughputArgs, mark: (what: string) => void) {
	const first = new Author(a.conv, a.writers[0]!.user, a.members, 0);
	const authors = a.writers.map((w, i) =>
		i === 0 ? first : new Author(a.conv, w.user, a.members, i, 1, first.creation)
	);
	const updates = authors.map((au) => Array.from({ length: a.perWriter }, (_, i) => au.post(i)!));
	const writers: LeanClient[] = [];
	const writerTarget = (i: number): Target => (a.targets ? pick(a.targets, i) : a.target);
	writers.push(await connectAuthor(writerTarget(0), first, a.writers[0]!.token));
	await pool(authors.slice(1), 20, async (au, i) => {
		writers[i + 1] = await connectAuthor(writerTarget(i + 1), au, a.writers[i + 1]!.token);
	});
	const sent = new Int32Array(authors.length);
	const got = new Int32Array(authors.length);
	let delivered = 0;
	const pump = (w: number): void => {
		while (sent[w]! < a.perWriter && sent[w]! - got[w]! < a.window) {
			writers[w]!.sendUpdate(updates[w]![sent[w]!]!);
			sent[w]!++;
		}
	};
	const readerTarget = a.targets ? pick(a.targets, authors.length) : a.target;
	const [reader] = await connectReaders(readerTarget, a.conv, [a.reader.token], (_r, frame) => {
		scanMarkers(frame, (w, seq) => {
			if (w >= authors.length || seq >= a.perWriter) return;
			got[w]!++;
			delivered++;
			pump(w);
		});
	});
	const total = a.perWriter * authors.length;
	mark('start');
	const t0 = now();
	for (let w = 0; w < authors.length; w++) pump(w);
	const end = t0 + 120_000;
	while (delivered < total && now() < end && !reader!.closed) await sleep(5);
	const seconds = (now() - t0) / 1000;
	mark('end');
	const closedEarly = [...writers, reader!].filter((c) => c.closed).length;
	await Promise.all([...writers, reader!].map((c) => c.close()));
	return {
		writers: authors.length,
		delivered,
		expected: total,
		lost: total - delivered,
		closedEarly,
		seconds: Math.round(seconds * 1000) / 1000,
		updatesPerSecond: Math.round(delivered / seconds)
	};
}

/** Seed documents, kept between commands (building 100,000 messages takes seconds). */
const seeds = new Map<string, { author: Author; state: Uint8Array; sv: Uint8Array }>();

function seedDoc(conv: string, user: string, members: string[], messages: number, devices: number) {
	const key = `${conv}/${user}/${members.join()}/${messages}/${devices}`;
	let s = seeds.get(key);
	if (!s) {
		const author = new Author(conv, user, members, 0, devices);
		for (let i = 0; i < messages; i++) author.post(i, false);
		const state = Y.encodeStateAsUpdate(author.doc);
		s = { author, state, sv: Y.encodeStateVector(author.doc) };
		seeds.clear();
		seeds.set(key, s);
	}
	return s;
}

let seeder: LeanClient | null = null;

export interface SeedArgs {
	target: Target;
	conv: string;
	owner: Identity;
	/** Everyone who will open the channel (the owner first). */
	members: string[];
	messages: number;
	devices: number;
}

/** Uploads a channel of `messages` messages (as a device that wrote it offline), stays connected. */
export async function seed(a: SeedArgs) {
	const built = now();
	const s = seedDoc(a.conv, a.owner.user, a.members, a.messages, a.devices);
	const buildMs = now() - built;
	const t0 = now();
	seeder = new LeanClient({
		target: a.target,
		docName: docName(a.conv),
		token: a.owner.token,
		stateVector: s.sv,
		answer: (sv) => Y.encodeStateAsUpdate(s.author.doc, sv)
	});
	await seeder.untilSynced(60_000);
	seeder.sendStep1(s.sv);
	if (!(await seeder.nextStep2(180_000))) throw new Error('seed upload not acknowledged');
	return {
		stateBytes: s.state.byteLength,
		buildMs: Math.round(buildMs),
		uploadMs: Math.round(now() - t0)
	};
}

export interface JoinArgs {
	target: Target;
	conv: string;
	owner: Identity;
	members: string[];
	messages: number;
	devices: number;
	reader: Identity;
	/** new: an empty device; upToDate: a device that holds the whole channel. */
	mode: 'new' | 'upToDate';
}

export async function join(a: JoinArgs) {
	const s =
		a.mode === 'upToDate' ? seedDoc(a.conv, a.owner.user, a.members, a.messages, a.devices) : null;
	const t0 = now();
	const c = new LeanClient({
		target: a.target,
		docName: docName(a.conv),
		token: a.reader.token,
		stateVector: s ? s.sv : EMPTY_SV,
		...(s ? { answer: (sv: Uint8Array) => Y.encodeStateAsUpdate(s.author.doc, sv) } : {})
	});
	await c.untilSynced(180_000);
	const ms = c.syncedAt - t0;
	const bytesAtSync = c.bytesReceived;
	await sleep(300);
	const bytes = c.bytesReceived;
	await c.close();
	return { ms: Math.round(ms * 10) / 10, bytesAtSync, bytes };
}

export async function closeSeeder() {
	await seeder?.close();
	seeder = null;
	return { ok: true };
}

const many: LeanClient[] = [];

export interface ManyArgs {
	target: Target;
	owner: Identity;
	docs: number;
	concurrency: number;
}

/** Opens `docs` new conversations (created by the owner, one message each), one client each. */
export async function openMany(a: ManyArgs) {
	const authors = Array.from({ length: a.docs }, () => {
		const au = new Author(newId(), a.owner.user, [a.owner.user]);
		au.post(0, false);
		return { au, state: Y.encodeStateAsUpdate(au.doc) };
	});
	const t0 = now();
	let failed = 0;
	await pool(authors, a.concurrency, async ({ au, state }) => {
		const c = new LeanClient({
			target: a.target,
			docName: docName(au.convId),
			token: a.owner.token,
			stateVector: Y.encodeStateVectorFromUpdate(state),
			answer: (sv) => Y.diffUpdate(state, sv)
		});
		many.push(c);
		try {
			await c.untilSynced(30_000);
		} catch {
			failed++;
		}
	});
	const ms = now() - t0;
	return { docs: a.docs, failed, ms: Math.round(ms) };
}

export async function closeMany() {
	const n = many.length;
	await pool(many.splice(0), 100, (c) => c.close());
	return { closed: n };
}

export interface EchoArgs {
	target: Target;
	count: number;
	intervalMs: number;
	/** For throughput: clients pumping at once, each with `window` frames in flight. */
	clients: number;
	window: number;
	perClient: number;
}

/** Round trips of bench-sized frames to a raw echo server: paced latency, then echoes/s. */
export async function echo(a: EchoArgs) {
	const author = new Author(newId(), 'bench', ['bench']);
	const frame = Buffer.from(author.post(0)!);
	const { WebSocket } = await import('ws');
	const open = async (): Promise<InstanceType<typeof WebSocket>> => {
		const ws = new WebSocket(`${a.target.base}/echo`, { perMessageDeflate: false });
		ws.on('error', () => {});
		await new Promise<void>((resolve, reject) => {
			ws.once('open', () => resolve());
			ws.once('close', () => reject(new Error('echo closed')));
		});
		return ws;
	};
	// Paced: one frame every intervalMs, time to its echo.
	const ws = await open();
	const rtts: number[] = [];
	let sentAt = 0;
	ws.on('message', () => rtts.push(now() - sentAt));
	const t0 = now() + 50;
	for (let i = 0; i < a.count; i++) {
		const wait = t0 + i * a.intervalMs - now();
		if (wait > 0) await sleep(wait);
		sentAt = now();
		ws.send(frame);
	}
	await sleep(100);
	ws.close();
	// Saturated: `clients` sockets, each keeping `window` frames in flight.
	const sockets = await Promise.all(Array.from({ length: a.clients }, open));
	let echoed = 0;
	const total = a.clients * a.perClient;
	const start = now();
	await Promise.all(
		sockets.map(
			(s) =>
				new Promise<void>((resolve) => {
					let sent = 0;
					let got = 0;
					const timer = setTimeout(resolve, 60_000);
					const pump = (): void => {
						while (sent < a.perClient && sent - got < a.window) {
							s.send(frame);
							sent++;
						}
					};
					s.on('message', () => {
						got++;
						echoed++;
						if (got >= a.perClient) {
							clearTimeout(timer);
							resolve();
						} else pump();
					});
					pump();
				})
		)
	);
	const seconds = (now() - start) / 1000;
	for (const s of sockets) s.close();
	return {
		frameBytes: frame.byteLength,
		roundTripMs: summarize(rtts),
		echoes: echoed,
		expected: total,
		echoesPerSecond: Math.round(echoed / seconds)
	};
}

export interface StoreArgs {
	dataDir: string;
	conv: string;
	owner: string;
	messages: number;
	devices: number;
	mode: 'log' | 'snapshot';
}

/**
 * Stores built by `buildStore`, kept for the next run of the same channel: each run copies the
 * files into its fresh DATA_DIR (the same bytes), instead of writing 100,000 messages again.
 */
const stores = new Map<string, { dir: string; rows: number; stateBytes: number }>();
process.on('exit', () => {
	for (const s of stores.values()) rmSync(s.dir, { recursive: true, force: true });
});

/** Writes a channel into a relay's DATA_DIR as the relay stores it: a log of updates, or a snapshot. */
export function buildStore(a: StoreArgs) {
	const key = `${a.conv}/${a.owner}/${a.messages}/${a.devices}/${a.mode}`;
	let made = stores.get(key);
	if (!made) {
		const dir = mkdtempSync(joinPath(tmpdir(), 'kith-bench-stored-'));
		made = { dir, ...writeStore({ ...a, dataDir: dir }) };
		stores.set(key, made);
	}
	cpSync(made.dir, a.dataDir, { recursive: true });
	return { rows: made.rows, stateBytes: made.stateBytes };
}

function writeStore(a: StoreArgs) {
	const author = new Author(a.conv, a.owner, [a.owner], 0, a.devices);
	const name = docName(a.conv);
	const storage = new Storage(a.dataDir, { synchronous: 'NORMAL', maxPages: 0, writer: false });
	try {
		const [first] = storage.appendNow([{ doc: name, data: author.creation }]);
		let rows = 1;
		if (a.mode === 'log') {
			for (let i = 0; i < a.messages; i += 5000) {
				const batch: Array<{ doc: string; data: Uint8Array }> = [];
				for (let k = i; k < Math.min(a.messages, i + 5000); k++)
					batch.push({ doc: name, data: author.post(k)! });
				storage.appendNow(batch);
				rows += batch.length;
			}
		} else {
			for (let i = 0; i < a.messages; i++) author.post(i, false);
			storage.compactNow(name, Y.encodeStateAsUpdate(author.doc), first!);
			rows = 0;
		}
		return { rows, stateBytes: Y.encodeStateAsUpdate(author.doc).byteLength };
	} finally {
		storage.close();
	}
}

const commands = {
	fanout,
	throughput,
	seed,
	join,
	closeSeeder,
	openMany,
	closeMany,
	echo,
	buildStore
};
export type Command = keyof typeof commands;

if (process.send) {
	process.on('message', (msg: { id: number; cmd: Command; args: unknown }) => {
		const mark = (what: string): void => void process.send!({ id: msg.id, mark: what });
		const fn = commands[msg.cmd] as (args: unknown, mark: (w: string) => void) => unknown;
		Promise.resolve()
			.then(() => fn(msg.args, mark))
			.then(
				(result) => process.send!({ id: msg.id, result }),
				(err: Error) => process.send!({ id: msg.id, error: err.stack ?? String(err) })
			);
	});
	process.on('disconnect', () => process.exit(0));
}
