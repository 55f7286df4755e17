/**
 * What scrolling through history costs the page's main thread, over several runs, for telling
 * two builds apart when the long tasks alone (a few per run, or none) are too rare to:
 *
 *   node --import tsx bench/client/scroll-cost.ts [runs] [messages] [seconds]
 *
 * Each run is the bench's scroll scenario (`scrollScenario`, 800 px per wheel step) on the same
 * device; around it, Chromium's own counters (CDP Performance.getMetrics: task, script, layout
 * and style time, no tracing overhead) and, per frame, the rows the list mounted. Prints each
 * run and the medians: main-thread ms per frame and per mounting frame, long tasks, late frames.
 */
import { ClientBench, quantile, scrollScenario } from './scenarios.ts';

const [r = '3', n = '10000', secs = '60'] = process.argv.slice(2);
const runs = Number(r);
const messages = Number(n);

// A string, not a function: tsx would add its `__name` helper, which the page does not have.
const COUNT_ROWS = `(() => {
	window.__rows = [];
	window.__loaf = [];
	new PerformanceObserver((list) => {
		for (const e of list.getEntries())
			if (e.duration > 50)
				window.__loaf.push({
					start: Math.round(e.startTime),
					duration: Math.round(e.duration),
					blocking: Math.round(e.blockingDuration),
					render: Math.round(e.startTime + e.duration - e.renderStart),
					styleLayout: Math.round(e.startTime + e.duration - e.styleAndLayoutStart),
					scripts: e.scripts.map((s) => ({
						invoker: s.invoker,
						fn: s.sourceFunctionName,
						url: s.sourceURL.split('/').pop() + ':' + s.sourceCharPosition,
						ms: Math.round(s.duration),
						forced: Math.round(s.forcedStyleAndLayoutDuration),
						pause: Math.round(s.pauseDuration)
					}))
				});
	}).observe({ type: 'long-animation-frame' });
	let added = 0;
	new MutationObserver((records) => {
		for (const r of records)
			for (const n of r.addedNodes) if (n.classList && n.classList.contains('row')) added++;
	}).observe(document.querySelector('[role="log"]'), { childList: true, subtree: true });
	const frame = () => {
		window.__rows.push(added);
		added = 0;
		if (!window.__rowsStop) requestAnimationFrame(frame);
	};
	requestAnimationFrame(frame);
})()`;

const METRICS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'];

const bench = new ClientBench();
try {
	const { device } = await bench.device(messages);
	const { page, cdp } = device;
	if (process.env.KITH_CONSOLE)
		page.on('console', (m) => {
			if (m.text().includes(process.env.KITH_CONSOLE!))
				console.log(`${Date.now()} page: ${m.text().slice(0, 3000)}`);
		});
	const metrics = async () => {
		const { metrics } = (await cdp.send('Performance.getMetrics')) as {
			metrics: Array<{ name: string; value: number }>;
		};
		return Object.fromEntries(
			metrics.filter((m) => METRICS.includes(m.name)).map((m) => [m.name, m.value])
		);
	};
	const rows: Array<Record<string, number>> = [];
	for (let i = 0; i < runs; i++) {
		let before: Record<string, number> = {};
		const result = await scrollScenario(bench, {
			messages,
			stepPx: 800,
			maxSeconds: Number(secs),
			beforeScroll: async () => {
				await page.evaluate(COUNT_ROWS);
				before = await metrics();
			}
		});
		const after = await metrics();
		const mounts = (await page.evaluate('window.__rowsStop = true, window.__rows')) as number[];
		const ms = (k: string) => ((after[k] ?? 0) - (before[k] ?? 0)) * 1000;
		const mounting = mounts.filter((a) => a > 0).length;
		const row = {
			frames: result.frames,
			mountingFrames: mounting,
			rowsPerMount:
				Math.round((mounts.reduce((a, b) => a + b, 0) / Math.max(1, mounting)) * 10) / 10,
			taskMsPerFrame: Math.round((ms('TaskDuration') / result.frames) * 100) / 100,
			scriptMs: Math.round(ms('ScriptDuration')),
			layoutMs: Math.round(ms('LayoutDuration')),
			styleMs: Math.round(ms('RecalcStyleDuration')),
			taskMs: Math.round(ms('TaskDuration')),
			longTasks: result.longTasks,
			longestTaskMs: result.longestTaskMs,
			lateFrames: result.lateFrames,
			loadavg: result.loadavg
		};
		rows.push(row);
		console.log(JSON.stringify(row));
		if (process.env.KITH_LOAF)
			for (const f of (await page.evaluate('window.__loaf')) as object[])
				console.log('  ', JSON.stringify(f));
	}
	const median = Object.fromEntries(
		Object.keys(rows[0]!).map((k) => [
			k,
			quantile(
				rows.map((x) => x[k]!),
				0.5
			)
		])
	);
	console.log('median', JSON.stringify(median));
} finally {
	await bench.close();
}
