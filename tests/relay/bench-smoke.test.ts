/**
 * The bench (bench/, `npm run bench`) on a tiny input: every scenario runs and returns a
 * well-formed result, and the report renders. No figure is asserted: timings belong to the
 * bench, never to a test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
	coldJoinScenario,
	createCtx,
	durabilityScenario,
	fanoutScenario,
	manyDocsScenario,
	prestart,
	stopWarm,
	throughputScenario
} from '../../bench/harness';
import type { RelayKind } from '../../bench/relays';
import { tables, type Measurement } from '../../bench/report';

const ctx = createCtx(4);
const measurements: Measurement[] = [];
afterAll(async () => {
	await stopWarm(ctx);
	ctx.load.stop();
});

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

describe('bench harness (tiny input)', () => {
	it('fan-out on Kith: every message reaches every client', async () => {
		const r = await fanoutScenario(ctx, 'kith', { clients: 2, intervalMs: 5, count: 10 });
		expect(r).toMatchObject({ relay: 'kith', clients: 2, sent: 10, lost: 0 });
		expect(r.latencyMs.n).toBe(20);
		expect([r.latencyMs.p50, r.latencyMs.p99, r.latencyMs.max].every(finite)).toBe(true);
		expect(r.storageWrites?.batches).toBeGreaterThan(0);
		measurements.push({
			scenario: 'fanout',
			variant: '2 clients',
			relay: 'kith',
			run: 1,
			result: { ...r }
		});
	});

	it('throughput through the forwarder: everything delivered', async () => {
		const r = await throughputScenario(ctx, 'forwarder', { writers: 2, perWriter: 10, window: 2 });
		expect(r).toMatchObject({ relay: 'forwarder', writers: 2, delivered: 20, lost: 0 });
		expect(finite(r.updatesPerSecond) && finite(r.cpuPercent) && finite(r.rssMB)).toBe(true);
		measurements.push({
			scenario: 'throughput',
			variant: '2 writers',
			relay: 'forwarder',
			run: 1,
			result: { ...r }
		});
	});

	it('cold join on @y/websocket-server: the whole channel, then a few bytes', async () => {
		const r = await coldJoinScenario(ctx, 'ywss', { messages: 50, devices: 2 });
		expect(r.joinBytes).toBeGreaterThanOrEqual(r.stateBytes);
		expect(r.reconnectBytes).toBeLessThan(r.stateBytes);
		expect(finite(r.joinMs) && finite(r.rssMB)).toBe(true);
	});

	it('many documents on Kith: all open, then evicted', async () => {
		const r = await manyDocsScenario(ctx, 'kith', {
			docs: 3,
			idleMs: 100,
			concurrency: 3,
			settleMs: 500
		});
		expect(r).toMatchObject({ docs: 3, failed: 0, docsInMemory: 0 });
		expect([r.openMs, r.idleRssMB, r.openRssMB, r.closedRssMB].every(finite)).toBe(true);
	});

	it('durability: a stored channel loads after a restart, and again from the kept store', async () => {
		for (let run = 1; run <= 2; run++) {
			const r = await durabilityScenario(ctx, { messages: 20, devices: 2, mode: 'log' });
			expect(r).toMatchObject({ mode: 'log', messages: 20, rows: 21 });
			expect(finite(r.firstJoinMs) && finite(r.warmJoinMs)).toBe(true);
		}
	}, 90_000);

	it('peers started together ahead of their measurements each serve one measurement', async () => {
		const kinds: RelayKind[] = ['hocuspocus', 'echo', 'kith-normal'];
		await prestart(ctx, kinds);
		const warm = (): string[] => [...ctx.warm.values()].flat().map((r) => r.kind);
		expect(warm().sort()).toEqual([...kinds].sort());
		for (const kind of kinds) {
			const r = await fanoutScenario(ctx, kind, { clients: 2, intervalMs: 5, count: 10 });
			expect(r).toMatchObject({ relay: kind, sent: 10, lost: 0 });
			expect(r.latencyMs.n).toBe(kind === 'echo' ? 10 : 20);
		}
		expect(warm()).toEqual([]);
	}, 90_000);

	it('renders the tables', () => {
		const t = tables({
			startedAt: 'now',
			quick: true,
			runs: 1,
			loadavgAtStart: [0, 0, 0],
			machine: { cores: 2, cpuModel: 'x', memoryGB: 1, node: 'v20', chromium: 'none', os: 'Linux' },
			env: {},
			measurements,
			seconds: 1
		});
		expect(t.fanout).toContain('| 2 clients: p99 (ms) |');
		expect(t.throughput).toContain('updates/s');
		expect(t.machine).toContain('2 cores');
	});
});
