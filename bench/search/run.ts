/**
 * Search latency at scale, in Chromium: `node --import tsx bench/search/run.ts [messages]`
 * (default 100,000). Bundles bench/search/browser.ts (the real Dexie index and query code),
 * fills an IndexedDB with messages of 6–17 words drawn Zipf-like from 5,000 words over 20
 * conversations, then times queries by kind (full words, prefixes of 2–4 letters, two words,
 * a word within one conversation) and prints p50/p95/max per kind as JSON.
 *
 * `--client` times the client bench's own search queries (bench/client/scenarios.ts, scenario
 * 4) on its conversation (`messageText`), the index query alone, with the IndexedDB requests
 * each made and how many of them it waited for one after the other (`rounds`). The filled
 * database is kept in a browser profile under /tmp and reused by the next `--client` run of the
 * same size (filling 100,000 takes minutes); `--repeat N` runs the queries N times.
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium } from '@playwright/test';
import { messageText } from '../client/seed.ts';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 100_000);
const client = process.argv.includes('--client');
const repeatAt = process.argv.indexOf('--repeat');
const repeat = repeatAt > 0 ? Number(process.argv[repeatAt + 1]) : 1;
const bundle = await build({
	entryPoints: ['bench/search/browser.ts'],
	bundle: true,
	format: 'esm',
	write: false,
	alias: { $lib: './src/lib' }
});
const code = bundle.outputFiles[0]!.text;
const launch = {
	...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
	args: ['--no-sandbox', '--disable-gpu']
};
const browser = client
	? await chromium.launchPersistentContext(`/tmp/kith-search-bench-${n}`, launch)
	: await chromium.launch(launch);
try {
	const page = await browser.newPage();
	// A real origin (IndexedDB needs one), served from memory.
	await page.route('http://kith.bench/**', (route) =>
		route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' })
	);
	await page.goto('http://kith.bench/');
	await page.addScriptTag({ content: code, type: 'module' });
	await page.waitForFunction(() => 'kithBench' in window);
	if (client) console.log(JSON.stringify(await clientQueries(page), null, 2));
	else await zipfQueries(page);
} finally {
	await browser.close();
}

/** Zipf-like messages over 20 conversations, queries of every kind. */
async function zipfQueries(page: import('@playwright/test').Page) {
	const filled = await page.evaluate((n) => window.kithBench.fill(n, 42), n);
	const vocab = filled.vocabulary;
	const kinds: Record<string, Array<{ q: string; in?: string[] }>> = {
		'common word': vocab.slice(0, 40).map((q) => ({ q })),
		'rare word': vocab.slice(-40).map((q) => ({ q })),
		'prefix, 2 letters': vocab.slice(100, 140).map((w) => ({ q: w.slice(0, 2) })),
		'prefix, 3 letters': vocab.slice(200, 240).map((w) => ({ q: w.slice(0, 3) })),
		'prefix, 1 letter': vocab.slice(300, 310).map((w) => ({ q: w.slice(0, 1) })),
		'two words': vocab.slice(400, 440).map((w, i) => ({ q: `${w} ${vocab[i]!.slice(0, 3)}` })),
		'word in one conversation': vocab.slice(0, 40).map((q) => ({ q, in: ['7003'] }))
	};
	const report: Record<string, unknown> = { messages: n, fill_ms: Math.round(filled.ms) };
	for (const [kind, queries] of Object.entries(kinds)) {
		const times: number[] = [];
		let found = 0;
		for (const { q, in: within } of queries) {
			const r = await page.evaluate(([q, within]) => window.kithBench.query(q, within), [
				q,
				within
			] as const);
			times.push(r.ms);
			found += r.found;
		}
		times.sort((a, b) => a - b);
		const at = (p: number) =>
			Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 10) / 10;
		report[kind] = {
			p50: at(0.5),
			p95: at(0.95),
			max: at(1),
			mean_results: found / queries.length
		};
	}
	console.log(JSON.stringify(report, null, 2));
}

/** The client bench's queries (scenario 4), as it makes them. */
async function clientQueries(page: import('@playwright/test').Page) {
	const filled = await page.evaluate((n) => window.kithBench.fillClient(n), n);
	const queries = Array.from({ length: 30 }, (_, i) =>
		i % 2 === 0
			? `m${1 + ((i * 7919 + 4999) % (n - 1))}`
			: messageText(i * 37 + 5)
					.replace(/[*`]/g, '')
					.split(' ')
					.slice(1, 3)
					.join(' ')
	);
	await page.evaluate(() => window.kithBench.query('ships tomorrow'));
	const byKind: Record<
		string,
		Array<{ q: string; ms: number; requests: number; rounds: number }>
	> = { 'm<i>': [], 'two words': [] };
	for (let r = 0; r < repeat; r++)
		for (const q of queries) {
			const res = await page.evaluate((q) => window.kithBench.query(q), q);
			byKind[/^m\d/.test(q) ? 'm<i>' : 'two words']!.push({ q, ...res });
		}
	const report: Record<string, unknown> = {
		messages: n,
		fill_ms: Math.round(filled.ms),
		reused: filled.reused
	};
	for (const [kind, runs] of Object.entries(byKind)) {
		const times = runs.map((x) => x.ms).sort((a, b) => a - b);
		const at = (p: number) =>
			Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 10) / 10;
		const mean = (f: (x: (typeof runs)[number]) => number) =>
			Math.round((runs.reduce((s, x) => s + f(x), 0) / runs.length) * 10) / 10;
		report[kind] = {
			p50: at(0.5),
			p95: at(0.95),
			max: at(1),
			requests: mean((x) => x.requests),
			rounds: mean((x) => x.rounds),
			slowest: [...runs]
				.sort((a, b) => b.ms - a.ms)
				.slice(0, 4)
				.map((x) => `${x.q}: ${x.ms.toFixed(1)} ms, ${x.requests} requests in ${x.rounds} rounds`)
		};
	}
	report.perQuery = Object.fromEntries(
		Object.values(byKind)
			.flat()
			.slice(0, 30)
			.map((x) => [x.q, `${x.requests}/${x.rounds}`])
	);
	return report;
}
