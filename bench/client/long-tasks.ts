/**
 * Long tasks of one client scenario by kind, from a Chromium performance trace (what DevTools'
 * Performance panel records), for telling style/layout from script from paint:
 *
 *   node --import tsx bench/client/long-tasks.ts scroll 10000 [seconds]
 *   node --import tsx bench/client/long-tasks.ts search 100000
 *   node --import tsx bench/client/long-tasks.ts coldOpen 100000   (the tasks before the paint)
 *   node --import tsx bench/client/long-tasks.ts post 100000       (each post, keydown to paint)
 *
 * Every task of the page's main thread over 50 ms is split into self time per kind (script,
 * style, layout, paint, gc, parse, other); a task's kind is the one with the most. Prints the
 * scenario's own result, then the count of long tasks per kind and each long task's split.
 * Writes the trace to /tmp/kith-<scenario>-<n>.trace.json (open it in DevTools).
 */
import { writeFileSync } from 'node:fs';
import { openConversation } from './browser.ts';
import { summarize } from './cpu-profile.ts';
import { kindOf, mainThread, type TraceEvent } from './trace-events.ts';
import {
	ClientBench,
	coldOpenScenario,
	postScenario,
	scrollScenario,
	searchScenario
} from './scenarios.ts';

const [scenario = 'scroll', n = '10000', secs = '60'] = process.argv.slice(2);
const messages = Number(n);

export function longTasksByKind(events: TraceEvent[], thresholdMs = 50) {
	return splitTasks(mainThread(events), (e) => (e.dur ?? 0) >= thresholdMs * 1000);
}

/** Each task picked from the main thread's events, split into self time per kind. */
function splitTasks(own: TraceEvent[], pick: (task: TraceEvent) => boolean, minSelf = 500) {
	const tasks = own.filter((e) => e.name === 'RunTask' && pick(e));
	return tasks.map((task) => {
		const end = task.ts + task.dur!;
		const inside = own.filter((e) => e !== task && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= end);
		// Self time: each event's duration less its direct children's (events nest in a stack).
		const self = new Map<string, number>();
		const stack: Array<{ e: TraceEvent; child: number }> = [];
		const close = (upTo: number) => {
			while (stack.length && stack.at(-1)!.e.ts + (stack.at(-1)!.e.dur ?? 0) <= upTo) {
				const { e, child } = stack.pop()!;
				const k = kindOf(e.name);
				self.set(k, (self.get(k) ?? 0) + (e.dur ?? 0) - child);
				if (stack.length) stack.at(-1)!.child += e.dur ?? 0;
			}
		};
		let top = 0;
		for (const e of inside) {
			close(e.ts);
			if (!stack.length) top += e.dur ?? 0;
			stack.push({ e, child: 0 });
		}
		close(Infinity);
		self.set('other', (self.get('other') ?? 0) + task.dur! - top);
		const ms = Object.fromEntries(
			[...self].filter(([, v]) => v >= minSelf).map(([k, v]) => [k, Math.round(v / 100) / 10])
		);
		const kind = [...self].sort((a, b) => b[1] - a[1])[0]![0];
		// The task's biggest script entries (what DevTools shows under it), to tell which code.
		const entries = inside
			.filter(
				(e) =>
					/^(FunctionCall|EvaluateScript|TimerFire|EventDispatch|FireAnimationFrame|RunMicrotasks|v8\.callFunction)$/.test(
						e.name
					) && (e.dur ?? 0) >= minSelf * 10
			)
			.slice(0, 6)
			.map((e) => {
				const d = e.args?.data;
				const where = d
					? `${d.functionName ?? d.type ?? ''} ${(d.url ?? '').split('/').pop()}`.trim()
					: '';
				return `${e.name}${where ? `(${where})` : ''} ${Math.round((e.dur ?? 0) / 100) / 10}`;
			});
		const cpuMs = Math.round((task.tdur ?? 0) / 100) / 10;
		return { ms: Math.round(task.dur! / 100) / 10, cpuMs, at: task.ts, kind, split: ms, entries };
	});
}

const bench = new ClientBench();
try {
	const env = await bench.env();
	const { device } = await bench.device(messages);
	const categories = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel'];
	const start = () => env.browser.startTracing(device.page, { categories });
	let result: object;
	if (scenario === 'search') {
		await start();
		result = await searchScenario(bench, { messages, queries: 30 });
	} else if (scenario === 'post') {
		// One untraced pass first (the open, the first post's warm-up), as profile.ts does.
		await postScenario(bench, { messages, posts: 1 });
		await start();
		// A CPU profile beside the trace, for the functions' names (build unminified to read them);
		// KITH_NO_PROFILE=1 leaves it out, as it slows the page and grows its heap.
		const profiled = !process.env.KITH_NO_PROFILE;
		if (profiled) {
			await device.cdp.send('Profiler.enable');
			await device.cdp.send('Profiler.setSamplingInterval', { interval: 250 });
			await device.cdp.send('Profiler.start');
		}
		result = await postScenario(bench, {
			messages,
			posts: Number(process.env.KITH_POSTS ?? 30),
			// KITH_REOPEN=1: the traced pass opens the conversation first, as the bench does.
			reopen: !!process.env.KITH_REOPEN
		});
		if (profiled) {
			const { profile } = await device.cdp.send('Profiler.stop');
			writeFileSync(`/tmp/kith-${scenario}-${messages}.cpuprofile`, JSON.stringify(profile));
		}
	} else if (scenario === 'coldOpen') {
		// One untraced pass first: the same state every traced pass starts from. The traced
		// pass ends at the paint (with a CPU profile beside it for the functions' names).
		await coldOpenScenario(bench, { messages });
		const { seeded } = await bench.device(messages);
		await start();
		await device.cdp.send('Profiler.enable');
		await device.cdp.send('Profiler.setSamplingInterval', { interval: 500 });
		await device.cdp.send('Profiler.start');
		const paintMs = await openConversation(device.page, seeded.convId, seeded.newestId);
		const { profile } = await device.cdp.send('Profiler.stop');
		writeFileSync(`/tmp/kith-${scenario}-${messages}.cpuprofile`, JSON.stringify(profile));
		console.log(summarize(profile, 40));
		result = { paintMs };
	} else {
		result = await scrollScenario(bench, {
			messages,
			stepPx: 800,
			maxSeconds: Number(secs),
			beforeScroll: start
		});
	}
	const buf = await env.browser.stopTracing();
	const file = `/tmp/kith-${scenario}-${messages}.trace.json`;
	writeFileSync(file, buf);
	const { traceEvents } = JSON.parse(buf.toString()) as { traceEvents: TraceEvent[] };
	if (scenario === 'post') printPosts(traceEvents, (result as { samplesMs: number[] }).samplesMs);
	const tasks = longTasksByKind(traceEvents);
	const count: Record<string, number> = {};
	for (const t of tasks) count[t.kind] = (count[t.kind] ?? 0) + 1;
	console.log(JSON.stringify(result));
	console.log(`${file}\nlong tasks (trace): ${tasks.length}`, count);
	const t0 = tasks[0]?.at ?? 0;
	for (const t of tasks) {
		console.log(
			`  +${Math.round((t.at - t0) / 1000)} ms: ${t.ms} ms ${t.kind} ${JSON.stringify(t.split)}`
		);
		for (const line of t.entries) console.log(`      ${line}`);
	}
} finally {
	await bench.close();
}

/**
 * Each post's main-thread tasks from Enter's keydown until its latency (the probe's keydown →
 * painted) has passed, split by kind: what a slow post spent its time on.
 */
function printPosts(events: TraceEvent[], samplesMs: number[]): void {
	const own = mainThread(events);
	const keydowns = own.filter(
		(e) => e.name === 'EventDispatch' && e.args?.data?.type === 'keydown'
	);
	console.log(`posts: ${samplesMs.length}, keydowns in the trace: ${keydowns.length}`);
	keydowns.slice(-samplesMs.length).forEach((k, i) => {
		const latency = samplesMs[i]!;
		const task = own.find(
			(e) => e.name === 'RunTask' && e.ts <= k.ts && e.ts + (e.dur ?? 0) >= k.ts
		);
		const from = task?.ts ?? k.ts;
		const to = k.ts + latency * 1000;
		const tasks = splitTasks(own, (t) => t.ts >= from && t.ts < to && (t.dur ?? 0) >= 1000, 200);
		console.log(`post ${i}: ${latency} ms`);
		for (const t of tasks) {
			console.log(
				`  +${Math.round((t.at - k.ts) / 100) / 10} ms: ${t.ms} ms (cpu ${t.cpuMs}) ${t.kind} ${JSON.stringify(t.split)}`
			);
			for (const line of t.entries) console.log(`      ${line}`);
		}
	});
}
