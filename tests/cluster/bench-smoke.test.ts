/**
 * The bench's cluster scenario (`npm run bench -- --only cluster`) on a tiny input: clients
 * spread over two relay processes lose nothing, every process is measured, the report renders.
 * No figure is asserted: timings belong to the bench.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { clusterScenario, createCtx } from '../../bench/harness';
import { tables } from '../../bench/report';
import { clusterUnavailable } from './helpers';

const unavailable = await clusterUnavailable();
if (unavailable) console.warn(`SKIPPED cluster bench smoke test: ${unavailable}`);

(unavailable ? describe.skip : describe)('bench: several relay processes (tiny input)', () => {
	const ctx = createCtx(4);
	afterAll(() => ctx.load.stop());

	it('spreads clients over two processes and loses nothing', async () => {
		const r = await clusterScenario(ctx, {
			processes: 2,
			fanout: { clients: 3, intervalMs: 5, count: 10 },
			throughput: { writers: 2, perWriter: 10, window: 2 }
		});
		expect(r.fanout.lost).toBe(0);
		expect(r.throughput.lost).toBe(0);
		expect(r.rssMB).toHaveLength(2);
		expect(r.rssMB.every((x) => x > 0)).toBe(true);
		const t = tables({
			startedAt: new Date().toISOString(),
			quick: true,
			runs: 1,
			loadavgAtStart: [0, 0, 0],
			machine: { cores: 2, cpuModel: 'x', memoryGB: 1, node: 'v20', chromium: '', os: 'Linux' },
			env: {},
			measurements: [
				{ scenario: 'cluster', variant: '2 processes', relay: 'kith', run: 1, result: { ...r } }
			],
			seconds: 1
		});
		expect(t.cluster).toContain('2 processes: fan-out p50 (ms)');
		expect(t.cluster).toContain('2 processes: RSS peak per process (MB)');
	});
});
