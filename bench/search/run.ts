/**
 * Search latency at scale, in Chromium: `node --import tsx bench/search/run.ts [messages]`
 * (default 100,000). Bundles bench/search/browser.ts (the real Dexie index and query code),
 * fills an IndexedDB with messages of 6–17 words drawn Zipf-like from 5,000 words over 20
 * conversations, then times queries by kind (full words, prefixes of 2–4 letters, two words,
 * a word within one conversation) and prints p50/p95/max per kind as JSON.
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium } from '@playwright/test';

const n = Number(process.argv[2] ?? 100_000);
const bundle = await build({
	entryPoints: ['bench/search/browser.ts'],
	bundle: true,
	format: 'esm',
	write: false,
	alias: { $lib: './src/lib' }
});
const code = bundle.outputFiles[0]!.text;
const browser = await chromium.launch({
	...(existsSync('/usr/bin/chromium') ? { executablePath: '/usr/bin/chromium' } : {}),
	args: ['--no-sandbox', '--disable-gpu']
});
try {
	const page = await browser.newPage();
	// A real origin (IndexedDB needs one), served from memory.
	await page.route('http://kith.bench/**', (route) =>
		route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bench</title>' })
	);
	await page.goto('http://kith.bench/');
	await page.addScriptTag({ content: code, type: 'module' });
	await page.waitForFunction(() => 'kithBench' in window);
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
} finally {
	await browser.close();
}
