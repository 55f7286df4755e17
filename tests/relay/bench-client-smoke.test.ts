/**
 * The client scenarios of the bench (bench/client/, `npm run bench -- --only client`) on a
 * tiny input, in Debian's Chromium against the built app served by a real relay: every
 * scenario runs and returns a well-formed result, and the client table renders. No figure is
 * asserted: timings belong to the bench, never to a test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
	ClientBench,
	SkipScenario,
	catchUpScenario,
	coldOpenScenario,
	postScenario,
	scrollScenario,
	searchScenario
} from '../../bench/client/scenarios';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
	clientTable,
	rewriteDoc,
	tables,
	type BenchRun,
	type Measurement
} from '../../bench/report';

const bench = new ClientBench();
const measurements: Measurement[] = [];
afterAll(() => bench.close(), 30_000);

const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
const record = (scenario: string, result: object): void => {
	measurements.push({
		scenario,
		variant: 'tiny',
		relay: 'kith',
		run: 1,
		result: { ...result }
	});
};

describe('bench client scenarios (tiny input)', () => {
	it('cold open: the newest of 300 messages painted after a reload, offline', async () => {
		// The first use builds the app if stale, starts the relay and Chromium, seeds a device.
		const r = await coldOpenScenario(bench, { messages: 300 });
		expect(r.messages).toBe(300);
		expect(r.paintMs).toBeGreaterThanOrEqual(r.inDomMs);
		expect([r.paintMs, r.heapAfterPaintMB, r.heapAfterGcMB].every(finite)).toBe(true);
		record('coldOpen', r);
	}, 120_000);

	it('scrolling and posting in the same conversation', async () => {
		const s = await scrollScenario(bench, { messages: 300, stepPx: 2000, maxSeconds: 1.5 });
		expect(s.scrolledPx).toBeGreaterThan(0);
		expect(s.frames).toBeGreaterThan(0);
		record('scroll', s);
		const p = await postScenario(bench, { messages: 300, posts: 2 });
		expect(p.posts).toBe(2);
		expect(finite(p.p50Ms) && p.p50Ms > 0).toBe(true);
		record('post', p);
	});

	it('search: measured, or skipped with a reason when the build has no search box', async () => {
		try {
			const r = await searchScenario(bench, { messages: 300, queries: 2 });
			expect(r.queries).toBe(2);
			expect(finite(r.p95Ms)).toBe(true);
		} catch (err) {
			expect(err).toBeInstanceOf(SkipScenario);
		}
	});

	it('catch-up: messages sent through the relay while offline arrive, paint and are indexed', async () => {
		const r = await catchUpScenario(bench, { messages: 40, history: 5, maxSeconds: 30 });
		expect(r.messages).toBe(40);
		expect([r.newestPaintedMs, r.responsiveMs, r.indexedMs].every(finite)).toBe(true);
		record('catchUp', r);
	}, 60_000);

	it('renders the client table with the goals, and the report writes it into its block', () => {
		const run: BenchRun = {
			startedAt: 'now',
			quick: true,
			runs: 1,
			loadavgAtStart: [0, 0, 0],
			machine: { cores: 2, cpuModel: 'x', memoryGB: 1, node: 'v20', chromium: 'none', os: 'Linux' },
			env: {},
			measurements,
			seconds: 1
		};
		const t = clientTable(run);
		expect(t).toContain('| Cold open, tiny | newest message painted, from navigation start (ms) |');
		expect(t).toContain('< 1 s (100,000 messages)');
		expect(t).toContain('Catch-up, tiny');
		expect(t).toContain('2 cores');
		// Each figure with a goal: the figure, the goal, and figure ÷ goal.
		const post = measurements.find((m) => m.scenario === 'post')!.result;
		const ratio = ((post.p99Ms as number) / 50).toFixed(2);
		expect(t).toMatch(
			new RegExp(
				`\\| Posting, tiny \\| keypress to painted p99 \\(ms\\) \\| [\\d.,]+ \\| < 50 ms \\| ${ratio}× \\|`
			)
		);
		const dir = mkdtempSync(join(tmpdir(), 'kith-bench-doc-'));
		try {
			const doc = join(dir, 'BENCHMARKS.md');
			writeFileSync(
				doc,
				'prose\n\n<!-- bench:client -->\n\nstale table\n\n<!-- /bench:client -->\n\nmore prose\n'
			);
			rewriteDoc(doc, tables(run));
			const text = readFileSync(doc, 'utf8');
			expect(text).toContain(`<!-- bench:client -->\n\n${t}\n\n<!-- /bench:client -->`);
			expect(text).not.toContain('stale table');
			expect(text.startsWith('prose') && text.endsWith('more prose\n')).toBe(true);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
