/**
 * The bench's report when a run measures only some scenarios (`npm run bench -- --only post`):
 * the client table keeps the other scenarios' figures from the newest earlier full run that
 * measured them, and says so; the machine block names the relay tables it did not rewrite.
 */
import { describe, expect, it } from 'vitest';
import {
	carryOver,
	clientTable,
	tables,
	type BenchRun,
	type Measurement
} from '../../bench/report';

const machine = { cores: 2, cpuModel: 'x', memoryGB: 1, node: 'v20', chromium: 'c', os: 'Linux' };

function run(startedAt: string, quick: boolean, ms: [string, Record<string, unknown>][]): BenchRun {
	const measurements: Measurement[] = ms.map(([scenario, result], i) => ({
		scenario,
		variant: 'v',
		relay: 'kith',
		run: i + 1,
		result: { loadavg: 1, ...result }
	}));
	return {
		startedAt,
		quick,
		runs: 3,
		loadavgAtStart: [1, 1, 1],
		machine,
		env: {},
		measurements,
		seconds: 1
	};
}

describe('bench report: a partial run', () => {
	const older = run('2026-01-01T00:00:00Z', false, [
		['coldOpen', { paintMs: 1111 }],
		['search', { p95Ms: 77 }],
		['fanout', { error: 'boom' }]
	]);
	const newerQuick = run('2026-01-02T00:00:00Z', true, [['coldOpen', { paintMs: 5 }]]);
	const failed = run('2026-01-03T00:00:00Z', false, [['search', { error: 'relay died' }]]);
	// Trials that wrote no tables: two runs, or --no-doc.
	const trial = { ...run('2026-01-03T01:00:00Z', false, [['coldOpen', { paintMs: 6 }]]), runs: 2 };
	const noDoc = { ...run('2026-01-03T02:00:00Z', false, [['search', { p95Ms: 9 }]]), doc: false };
	const now = run('2026-01-04T00:00:00Z', false, [['post', { p50Ms: 12, p99Ms: 34 }]]);
	const earlier = [
		{ file: 'bench/results/e.json', run: noDoc },
		{ file: 'bench/results/d.json', run: trial },
		{ file: 'bench/results/c.json', run: failed },
		{ file: 'bench/results/b-quick.json', run: newerQuick },
		{ file: 'bench/results/a.json', run: older }
	];

	it('carries each missing scenario from the newest full run that measured it', () => {
		const carried = carryOver(now, earlier, ['coldOpen', 'post', 'search', 'catchUp', 'fanout']);
		// Quick runs, trials and failed measurements do not stand for a scenario; post was measured now;
		// nothing ever measured catch-up, and fan-out only failed.
		expect(carried.map((c) => [c.scenario, c.file])).toEqual([
			['coldOpen', 'bench/results/a.json'],
			['search', 'bench/results/a.json']
		]);
	});

	it('keeps the carried rows in the client table and says where they are from', () => {
		const carried = carryOver(now, earlier, ['coldOpen', 'post', 'search', 'catchUp']);
		const t = clientTable(now, carried);
		expect(t).toMatch(/\| Posting, v \| keypress to painted p99 \(ms\) \| 34\.0 \|/);
		expect(t).toMatch(
			/\| Cold open, v \| newest message painted, from navigation start \(ms\) \| 1,111 \|/
		);
		expect(t).toMatch(/\| Search, v \| input to results painted p95 \(ms\) \| 77\.0 \|/);
		expect(t).toContain(
			'Not measured in this run: Cold open and Search, from run 2026-01-01T00:00:00Z (bench/results/a.json'
		);
		expect(t.startsWith('Run 2026-01-04T00:00:00Z')).toBe(true);
	});

	it('names the relay tables a relay run did not rewrite', () => {
		const relayNow = run('2026-01-05T00:00:00Z', false, [['throughput', { updatesPerSec: 10 }]]);
		const relayOld = run('2026-01-01T00:00:00Z', false, [['fanout', { p99Ms: 3 }]]);
		const carried = carryOver(
			relayNow,
			[{ file: 'bench/results/r.json', run: relayOld }],
			['fanout', 'throughput']
		);
		const t = tables(relayNow, carried);
		expect(t.machine).toContain(
			'Not measured in this run: the fanout table, from run 2026-01-01T00:00:00Z'
		);
		expect(t.fanout).toBeUndefined();
		expect(t.client).toBeUndefined();
	});
});
