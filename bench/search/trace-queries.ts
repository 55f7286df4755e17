/**
 * Where each search query's time goes, from the Chromium trace that
 * `node --import tsx bench/client/long-tasks.ts search 100000` writes:
 *
 *   node --import tsx bench/search/trace-queries.ts [/tmp/kith-search-100000.trace.json]
 *
 * The search scenario puts each query into the box with one input event, then empties it (one
 * more), so the queries' input events are every second `EventDispatch` of type `input` on the
 * page's main thread, from the first; a query's window runs from its input event to that plus its measured
 * latency (the scenario's `samples`, printed as the trace's first JSON line, or given as
 * `--samples a,b,c`). For each window: the main thread's self time by kind (script, style,
 * layout, paint, gc, other), the time it had nothing to do (waiting for IndexedDB, or for the
 * frame), and the tasks it ran. The slowest windows are printed in full, then the sums over
 * the two kinds of query.
 */
import { readFileSync } from 'node:fs';
import { kindOf, mainThread, type TraceEvent } from '../client/trace-events.ts';

const file = process.argv.find((a) => a.endsWith('.json')) ?? '/tmp/kith-search-100000.trace.json';
const samplesArg = process.argv.indexOf('--samples');
const resultsFile = process.argv.indexOf('--result');

const { traceEvents: events } = JSON.parse(readFileSync(file, 'utf8')) as {
	traceEvents: TraceEvent[];
};
const own = mainThread(events);
const inputs = own.filter((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'input');
// Every second input is a query's, from the first (the one after it empties the box).
const queryInputs = inputs.filter((_, i) => i % 2 === 0);

let samples: Array<{ query: string; ms: number }>;
if (samplesArg > 0)
	samples = process.argv[samplesArg + 1]!.split(',').map((ms, i) => ({ query: `#${i}`, ms: +ms }));
else {
	const text = readFileSync(process.argv[resultsFile + 1] ?? '/dev/stdin', 'utf8');
	const line = text.split('\n').find((l) => l.startsWith('{') && l.includes('"samples"'))!;
	const r = JSON.parse(line) as {
		firstQueryMs: number;
		samples: Array<{ query: string; ms: number }>;
	};
	samples = [{ query: '(first) ships tomorrow', ms: r.firstQueryMs }, ...r.samples];
}
if (queryInputs.length !== samples.length)
	console.warn(`${queryInputs.length} query inputs in the trace, ${samples.length} samples`);

interface Window {
	query: string;
	ms: number;
	kinds: Record<string, number>;
	idle: number;
	tasks: string[];
}

/** Self time by kind of the events inside [from, to] (clipped), and the idle time. */
function split(
	from: number,
	to: number
): { kinds: Record<string, number>; idle: number; tasks: string[] } {
	const inside = own.filter((e) => e.ts < to && e.ts + (e.dur ?? 0) > from);
	const self = new Map<string, number>();
	const stack: Array<{ e: TraceEvent; child: number }> = [];
	const clip = (e: TraceEvent) => Math.min(to, e.ts + (e.dur ?? 0)) - Math.max(from, e.ts);
	const close = (upTo: number) => {
		while (stack.length && stack.at(-1)!.e.ts + (stack.at(-1)!.e.dur ?? 0) <= upTo) {
			const { e, child } = stack.pop()!;
			const k = kindOf(e.name);
			if (e.name !== 'RunTask') self.set(k, (self.get(k) ?? 0) + clip(e) - child);
			else self.set('other', (self.get('other') ?? 0) + clip(e) - child);
			if (stack.length) stack.at(-1)!.child += clip(e);
		}
	};
	let top = 0;
	let cpu = 0;
	const tasks: string[] = [];
	for (const e of inside) {
		close(e.ts);
		if (!stack.length) {
			top += clip(e);
			// Thread time (on the CPU, not waiting for a core), the share of it inside the window.
			const tdur = (e as TraceEvent & { tdur?: number }).tdur;
			if (tdur !== undefined && e.dur) cpu += (tdur * clip(e)) / e.dur;
			if (e.name === 'RunTask' && clip(e) >= 1000) {
				const kids = inside
					.filter((k) => k !== e && k.ts >= e.ts && k.ts + (k.dur ?? 0) <= e.ts + (e.dur ?? 0))
					.filter((k) => (k.dur ?? 0) >= 1000 && k.name !== 'RunTask')
					.slice(0, 4)
					.map((k) => {
						const d = k.args?.data;
						const what = d?.type ?? d?.functionName ?? '';
						return `${k.name}${what ? `(${what})` : ''} ${(k.dur! / 1000).toFixed(1)}`;
					});
				tasks.push(
					`+${((e.ts - from) / 1000).toFixed(1)} ${(clip(e) / 1000).toFixed(1)} ms: ${kids.join(', ')}`
				);
			}
		}
		stack.push({ e, child: 0 });
	}
	close(Infinity);
	const kinds = Object.fromEntries(
		[...self].filter(([, v]) => v >= 100).map(([k, v]) => [k, Math.round(v / 100) / 10])
	);
	kinds.cpu = Math.round(cpu / 100) / 10;
	return { kinds, idle: Math.round((to - from - top) / 100) / 10, tasks };
}

const windows: Window[] = samples.map((s, i) => {
	const input = queryInputs[i];
	if (!input) return { query: s.query, ms: s.ms, kinds: {}, idle: 0, tasks: [] };
	return { query: s.query, ms: s.ms, ...split(input.ts, input.ts + s.ms * 1000) };
});

for (const w of windows)
	console.log(
		`${w.ms.toFixed(1).padStart(6)} ms  ${w.query.padEnd(24)} idle ${String(w.idle).padStart(5)}  ${JSON.stringify(w.kinds)}`
	);
console.log('\nslowest:');
for (const w of [...windows].sort((a, b) => b.ms - a.ms).slice(0, 5)) {
	console.log(`${w.ms} ms ${w.query}`);
	for (const t of w.tasks) console.log(`    ${t}`);
}
const sum = (ws: Window[]) => {
	const total: Record<string, number> = { idle: 0 };
	for (const w of ws) {
		total.idle! += w.idle;
		for (const [k, v] of Object.entries(w.kinds)) total[k] = (total[k] ?? 0) + v;
	}
	return Object.fromEntries(
		Object.entries(total).map(([k, v]) => [k, Math.round((v / ws.length) * 10) / 10])
	);
};
const rest = windows.slice(1);
console.log(
	'\nmean per query, m<i>:',
	JSON.stringify(sum(rest.filter((w) => /^m\d/.test(w.query))))
);
console.log(
	'mean per query, two words:',
	JSON.stringify(sum(rest.filter((w) => !/^m\d/.test(w.query))))
);
