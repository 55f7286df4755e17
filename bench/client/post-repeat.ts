/**
 * Posting only, many times on one device, for comparing two builds (not part of `npm run bench`):
 *
 *   node --import tsx bench/client/post-repeat.ts [messages=100000] [rounds=4] [posts=40] [reopen]
 *
 * Prints each round's p50/p99 and the quantiles over every sample. With `reopen`, every round
 * opens the conversation afresh first, as `npm run bench` does once per run.
 */
import { ClientBench, postScenario, quantile } from './scenarios.ts';

const [n = '100000', r = '4', p = '40', reopen] = process.argv.slice(2);
const bench = new ClientBench();
try {
	const all: number[] = [];
	for (let i = 0; i < Number(r); i++) {
		const res = await postScenario(bench, {
			messages: Number(n),
			posts: Number(p),
			reopen: i === 0 || reopen === 'reopen'
		});
		all.push(...res.samplesMs);
		console.log(
			`round ${i}: p50 ${res.p50Ms} p99 ${res.p99Ms} max ${res.maxMs} load ${res.loadavg}`
		);
	}
	const q = (x: number) => quantile(all, x).toFixed(1);
	console.log(`all ${all.length}: p50 ${q(0.5)} p90 ${q(0.9)} p95 ${q(0.95)} p99 ${q(0.99)}`);
	console.log(JSON.stringify(all));
} finally {
	await bench.close();
}
