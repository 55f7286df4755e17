import { connect as tcpConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createConversation, postMessage, readMessages } from '../../src/lib/model';
import {
	closeCodeWithin,
	connect,
	metric,
	newDevice,
	rawSocket,
	removeDir,
	startRelay,
	synced,
	until,
	varBytes,
	type Device,
	type Relay
} from './helpers/relay';

const MiB = 1024 * 1024;
let relay: Relay;
let alice: Device;
let bob: Device;
let carol: Device;
let a: ReturnType<typeof connect>;
let b: ReturnType<typeof connect>;

/** The two well-behaved clients still sync both ways. */
async function stillSyncing(label: string): Promise<void> {
	const before = readMessages(b.doc).length;
	postMessage(a.doc, { content: `after ${label}`, created_by: alice.user });
	await until(() => readMessages(b.doc).length === before + 1, 2000, `sync after ${label}`);
	postMessage(b.doc, { content: `reply after ${label}`, created_by: bob.user });
	await until(() => readMessages(a.doc).length === before + 2, 2000, `reply after ${label}`);
	expect((await fetch(`${relay.http}/healthz`)).status).toBe(200);
}

/** A raw TCP socket that completed a WebSocket handshake on /sync/conv:4001. */
async function handshake(
	token: string
): Promise<{ socket: Socket; ended: Promise<void>; data: Buffer[] }> {
	const socket = tcpConnect(relay.port, '127.0.0.1');
	socket.on('error', () => {});
	const data: Buffer[] = [];
	// Ended when the relay closes the TCP connection or sends a close frame (opcode 8).
	let handshaken = false;
	const ended = new Promise<void>((resolve) => {
		socket.once('close', () => resolve());
		socket.on('data', (chunk: Buffer) => {
			if (handshaken && chunk.includes(0x88)) resolve();
		});
	});
	await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
	socket.write(
		`GET /sync/conv:4001?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
			`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`
	);
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('no handshake')), 3000);
		socket.on('data', (chunk: Buffer) => {
			data.push(chunk);
			if (Buffer.concat(data).includes('\r\n\r\n')) {
				clearTimeout(timer);
				resolve();
			}
		});
	});
	expect(Buffer.concat(data).toString()).toMatch(/^HTTP\/1.1 101/);
	handshaken = true;
	return { socket, ended, data };
}

/** A masked client frame; `header` overrides the first byte and `lengthBytes` the length field. */
function frame(firstByte: number, payload: Uint8Array, lengthOverride?: Buffer): Buffer {
	const mask = randomBytes(4);
	let len: Buffer;
	if (lengthOverride) len = lengthOverride;
	else if (payload.length < 126) len = Buffer.from([0x80 | payload.length]);
	else if (payload.length < 65536)
		len = Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 255]);
	else {
		len = Buffer.alloc(9);
		len[0] = 0x80 | 127;
		len.writeBigUInt64BE(BigInt(payload.length), 1);
	}
	const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
	return Buffer.concat([Buffer.from([firstByte]), len, mask, masked]);
}

beforeAll(async () => {
	relay = await startRelay({
		env: {
			MAX_FRAME_BYTES: String(1 * MiB),
			MAX_CONNS_PER_ADDRESS: '40',
			CONN_UPDATE_RATE: '50',
			CONN_UPDATE_BURST: '100',
			MAX_BUFFERED_BYTES: String(2 * MiB)
		}
	});
	[alice, bob, carol] = [await newDevice(relay), await newDevice(relay), await newDevice(relay)];
	a = connect(relay, 'conv:4001', alice.token);
	await synced(a.provider);
	createConversation(a.doc, {
		kind: 'group',
		name: 'abuse',
		id: '4001',
		created_by: alice.user,
		members: [alice.user, bob.user, carol.user]
	});
	b = connect(relay, 'conv:4001', bob.token);
	await synced(b.provider);
	await stillSyncing('setup');
});
afterAll(async () => {
	a.provider.destroy();
	b.provider.destroy();
	await relay.stop();
	removeDir(relay.dataDir);
});

describe('hostile input closes only the offender', () => {
	const badFrames: Array<[string, () => Buffer]> = [
		['reserved bits set', () => frame(0x80 | 0x40 | 0x2, new Uint8Array([0, 0, 0]))],
		['a reserved opcode', () => frame(0x80 | 0x3, new Uint8Array([1, 2, 3]))],
		['a fragmented ping', () => frame(0x09, new Uint8Array([1]))],
		['a ping over 125 bytes', () => frame(0x89, new Uint8Array(126))],
		[
			'a 2^40-byte length',
			() => frame(0x82, new Uint8Array(0), Buffer.from([0x80 | 127, 0, 0, 1, 0, 0, 0, 0, 0]))
		],
		['a bad close code', () => frame(0x88, new Uint8Array([0x03, 0xe7]))],
		['an unmasked frame', () => Buffer.from([0x82, 0x03, 0, 0, 0])],
		['a continuation with nothing to continue', () => frame(0x80, new Uint8Array([1, 2]))],
		['a text frame', () => frame(0x81, new TextEncoder().encode('hello'))],
		['an unknown message type', () => frame(0x82, new Uint8Array([99, 1, 2]))],
		['a truncated varint', () => frame(0x82, new Uint8Array([0x80]))],
		[
			'a sync message with a length beyond its bytes',
			() => frame(0x82, new Uint8Array([0, 2, 0xff, 0x7f, 1, 2]))
		],
		[
			'an update of garbage bytes',
			() => frame(0x82, new Uint8Array([0, 2, ...varBytes(randomBytes(64))]))
		],
		['an unknown sync message', () => frame(0x82, new Uint8Array([0, 7, 0]))],
		[
			'awareness that is not JSON',
			() =>
				frame(
					0x82,
					new Uint8Array([1, ...varBytes(new Uint8Array([1, 5, 1, 3, 0x7b, 0x7b, 0x7b]))])
				)
		],
		[
			'a state vector of garbage',
			() => frame(0x82, new Uint8Array([0, 0, ...varBytes(new Uint8Array([5, 0xff, 0xff]))]))
		]
	];
	for (const [label, make] of badFrames) {
		it(`closes a connection that sends ${label}`, async () => {
			const { socket, ended } = await handshake(carol.token);
			socket.write(make());
			await Promise.race([
				ended,
				new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), 4000))
			]);
			await stillSyncing(label);
		});
	}

	it('closes a connection that sends a frame over MAX_FRAME_BYTES with 1009', async () => {
		const raw = await rawSocket(`${relay.ws}/conv:4001?token=${carol.token}`);
		raw.ws.send(new Uint8Array(2 * MiB));
		expect(await closeCodeWithin(raw.closed, 4000)).toBe(1009);
		await stillSyncing('an oversized frame');
	});

	it('closes an update flood with 4429, keeps memory bounded and stores none of the excess', async () => {
		const rssBefore = await metric(relay, 'process_resident_memory_bytes');
		const raw = await rawSocket(`${relay.ws}/conv:4001?token=${carol.token}`);
		await until(() => raw.received.length > 0, 2000, 'step 1');
		const m = new Y.Doc();
		Y.applyUpdate(m, Y.encodeStateAsUpdate(a.doc));
		const updates: Uint8Array[] = [];
		m.on('update', (u: Uint8Array) => updates.push(u));
		for (let i = 0; i < 1000; i++)
			postMessage(m, { content: `flood ${i}`, created_by: carol.user });
		const started = Date.now();
		for (const u of updates) {
			if (raw.ws.readyState !== raw.ws.OPEN) break;
			raw.ws.send(new Uint8Array([0, 2, ...varBytes(u)]));
		}
		expect(await closeCodeWithin(raw.closed, 4000)).toBe(4429);
		const seconds = (Date.now() - started) / 1000;
		await stillSyncing('an update flood');
		const flooded = readMessages(a.doc).filter((x) => x.content.startsWith('flood')).length;
		// The burst (100) plus what the rate (50/s) refills until the close, nothing more: measured
		// from the clock, since a loaded machine takes longer to get there.
		expect(flooded).toBeLessThanOrEqual(100 + Math.ceil(50 * seconds));
		expect(flooded).toBeLessThan(1000);
		const rssAfter = await metric(relay, 'process_resident_memory_bytes');
		expect(rssAfter - rssBefore).toBeLessThan(100 * MiB);
	});

	it('refuses too many awareness client ids and an oversized state, and never applies another user’s presence', async () => {
		const entries = (n: number, state: string) => {
			const bytes: number[] = [n];
			for (let i = 0; i < n; i++)
				bytes.push(
					...[1000 + i].flatMap((id) => [(id & 127) | 128, id >> 7]),
					1,
					...varBytes(new TextEncoder().encode(state))
				);
			return new Uint8Array(bytes);
		};
		const cases: Array<[string, Uint8Array]> = [
			['ten client ids', entries(10, '{}')],
			['an 8 KiB state', entries(1, JSON.stringify({ blob: 'x'.repeat(8192) }))]
		];
		for (const [label, update] of cases) {
			const raw = await rawSocket(`${relay.ws}/conv:4001?token=${carol.token}`);
			raw.ws.send(new Uint8Array([1, ...varBytes(update)]));
			expect(await closeCodeWithin(raw.closed, 3000), label).toBe(4422);
			await stillSyncing(label);
		}
		// A state naming another user is dropped (a standard client echoes everyone's states
		// back, so it cannot be told from a spoof), as is one for a client id another owns.
		const spoofer = await rawSocket(`${relay.ws}/conv:4001?token=${carol.token}`);
		spoofer.ws.send(
			new Uint8Array([
				1,
				...varBytes(entries(1, JSON.stringify({ user: { id: alice.user, name: 'Alice' } })))
			])
		);
		// Holdings (src/lib/sync/holdings.ts) published under another person's name: dropped too.
		spoofer.ws.send(
			new Uint8Array([
				1,
				...varBytes(
					entries(1, JSON.stringify({ held: { user: alice.user, device: 'd', sv: 'AA==' } }))
				)
			])
		);
		a.awareness.setLocalStateField('user', { id: alice.user, name: 'Alice', color: '#3b82f6' });
		await until(() => b.awareness.getStates().has(a.doc.clientID), 2000, 'alice presence');
		const hijack = new Uint8Array([
			1,
			...varBytes(
				new Uint8Array([
					1,
					...varUint(a.doc.clientID),
					200,
					1,
					...varBytes(
						new TextEncoder().encode('{"user":{"id":"' + carol.user + '","name":"not alice"}}')
					)
				])
			)
		]);
		spoofer.ws.send(hijack);
		await new Promise((r) => setTimeout(r, 300));
		expect([...b.awareness.getStates().keys()].filter((id) => id >= 1000 && id < 1010)).toEqual([]);
		expect(
			(b.awareness.getStates().get(a.doc.clientID) as { user: { name: string } }).user.name
		).toBe('Alice');
		spoofer.ws.close();
		await stillSyncing('awareness spoofing');
	});

	it('drops a reader that does not read (4508) without holding its backlog in memory', async () => {
		const { socket } = await handshake(carol.token);
		socket.pause(); // reads nothing more: the kernel buffers fill, then the relay's
		const before = await metric(relay, 'kith_connections');
		const big = 'y'.repeat(15_000);
		for (let round = 0; round < 40; round++) {
			a.doc.transact(() => {
				for (let i = 0; i < 40; i++) postMessage(a.doc, { content: big, created_by: alice.user });
			});
			await new Promise((r) => setTimeout(r, 30));
			if ((await metric(relay, 'kith_connections')) < before) break;
		}
		expect(await metric(relay, 'kith_connections')).toBe(before - 1);
		const text = await (await fetch(`${relay.http}/metrics`)).text();
		expect(text).toMatch(/kith_closes_total\{code="4508"\} 1/);
		socket.destroy();
		await stillSyncing('a slow reader');
	});

	it('refuses connections beyond MAX_CONNS_PER_ADDRESS with 4430', async () => {
		const open: Awaited<ReturnType<typeof rawSocket>>[] = [];
		let refused: number | null = null;
		for (let i = 0; i < 45 && refused === null; i++) {
			const raw = await rawSocket(`${relay.ws}/workspace?token=${carol.token}`);
			open.push(raw);
			refused = await closeCodeWithin(raw.closed, 30);
		}
		expect(refused).toBe(4430);
		for (const r of open) r.ws.close();
		await stillSyncing('a connection flood');
	});
});

function varUint(n: number): number[] {
	const out: number[] = [];
	while (n > 127) {
		out.push((n & 127) | 128);
		n = Math.floor(n / 128);
	}
	out.push(n);
	return out;
}
