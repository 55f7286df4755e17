/**
 * The client bench's search scenario (bench/client/scenarios.ts, scenario 4) run several times
 * on one seeded device, for comparing builds back to back without seeding a device per run:
 *
 *   node --import tsx bench/search/client.ts [messages=100000] [--rounds 3] [--profile] [--trace]
 *
 * Each round is the scenario's 30 queries (half `m<i>` markers, half two common words), each
 * put into the box labelled "Search messages" with one input event after the box was emptied,
 * timed by the bench's probe (input → the "Search results" region shows new links, painted).
 * Prints p50/p95/max per round and over all rounds, per kind, with the part after the results
 * reached the DOM (`seen → painted`, the frame). `--profile` writes a CPU profile of the queries
 * alone (not the open) to /tmp/kith-search-queries.cpuprofile and prints its summary (build
 * unminified first for names: `./node_modules/.bin/vite build --minify false`); `--trace` a
 * Chromium trace to /tmp/kith-search-queries.trace.json (bench/search/trace-queries.ts reads
 * it, with this script's output as `--result`).
 */
import { writeFileSync } from 'node:fs';
import { openConversation, probe, settle, waitLive } from '../client/browser.ts';
import { summarize, type Profile } from '../client/cpu-profile.ts';
import { ClientBench, quantile, searchQueries } from '../client/scenarios.ts';

const args = process.argv.slice(2);
const messages = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 3;
const profile = args.includes('--profile');
const trace = args.includes('--trace');
const RESULTS = 'section[aria-label="Search results"]';

const round1 = (x: number) => Math.round(x * 10) / 10;
const queries = searchQueries(30, messages);

const bench = new ClientBench();
try {
	const env = await bench.env();
	const { device, seeded } = await bench.device(messages);
	const { page } = device;
	await openConversation(page, seeded.convId, seeded.newestId);
	await waitLive(page);
	await settle(page);
	const field = page.getByRole('searchbox', { name: 'Search messages' });
	const measure = async (q: string) => {
		await field.fill('');
		await page.waitForFunction((sel) => !document.querySelector(`${sel} a`), RESULTS, {
			timeout: 10_000
		});
		await new Promise((r) => setTimeout(r, 200));
		await probe(page, 'expectResults', RESULTS);
		await field.fill(q);
		// Awaited in the page, as the bench's scenario does (no polling from here).
		const ms = await probe<number>(page, 'elapsed', 'resultsPaintedAt', 'inputAt', 30_000);
		const frame = await probe<number>(page, 'elapsed', 'resultsPaintedAt', 'resultsSeenAt', 1_000);
		return { ms, frame };
	};
	const first = await measure('ships tomorrow');
	if (profile) {
		await device.cdp.send('Profiler.enable');
		await device.cdp.send('Profiler.setSamplingInterval', { interval: 200 });
		await device.cdp.send('Profiler.start');
	}
	if (trace)
		await env.browser.startTracing(page, {
			categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel']
		});
	const all: Array<{ query: string; ms: number; frame: number }> = [];
	const perRound: string[] = [];
	for (let r = 0; r < rounds; r++) {
		const these: number[] = [];
		for (const q of queries) {
			const m = await measure(q);
			all.push({ query: q, ...m });
			these.push(m.ms);
		}
		perRound.push(
			`round ${r + 1}: p50 ${round1(quantile(these, 0.5))}, p95 ${round1(quantile(these, 0.95))}, max ${round1(Math.max(...these))} ms`
		);
	}
	await field.fill('');
	if (profile) {
		const { profile: p } = (await device.cdp.send('Profiler.stop')) as { profile: Profile };
		writeFileSync('/tmp/kith-search-queries.cpuprofile', JSON.stringify(p));
		console.log(summarize(p, 40));
	}
	if (trace) {
		const buf = await env.browser.stopTracing();
		writeFileSync('/tmp/kith-search-queries.trace.json', buf);
	}
	const kind = (q: string) => (/^m\d/.test(q) ? 'm<i>' : 'two words');
	const stats = (xs: Array<{ ms: number; frame: number }>) => ({
		p50: round1(
			quantile(
				xs.map((x) => x.ms),
				0.5
			)
		),
		p95: round1(
			quantile(
				xs.map((x) => x.ms),
				0.95
			)
		),
		max: round1(Math.max(...xs.map((x) => x.ms))),
		frameP50: round1(
			quantile(
				xs.map((x) => x.frame),
				0.5
			)
		)
	});
	for (const line of perRound) console.log(line);
	console.log(
		JSON.stringify({
			messages,
			rounds,
			firstQueryMs: round1(first.ms),
			all: stats(all),
			'm<i>': stats(all.filter((x) => kind(x.query) === 'm<i>')),
			'two words': stats(all.filter((x) => kind(x.query) === 'two words')),
			// The first round only, as the scenario and bench/search/trace-queries.ts see it.
			samples: all.slice(0, queries.length).map((x) => ({ query: x.query, ms: round1(x.ms) }))
		})
	);
} finally {
	await bench.close();
}
