/**
 * Reading a Chromium performance trace (what DevTools' Performance panel records): the page's
 * main thread and the kind of work each event is. Shared by `long-tasks.ts` and
 * `bench/search/trace-queries.ts`.
 */
export interface TraceEvent {
	name: string;
	ph: string;
	ts: number;
	dur?: number;
	pid: number;
	tid: number;
	args?: { name?: string; data?: { functionName?: string; url?: string; type?: string } };
	tdur?: number;
}

const KINDS: Array<[kind: string, names: RegExp]> = [
	['gc', /^(MinorGC|MajorGC|V8\.GC|BlinkGC|ThreadState|CppGC)/],
	['style', /^(UpdateLayoutTree|RecalculateStyles|ParseAuthorStyleSheet|InvalidateLayout)/],
	['layout', /^(Layout|UpdateLayout|LayoutShift|IntersectionObserverController)/],
	['paint', /^(Paint|PrePaint|Layerize|UpdateLayer|CompositeLayers|Commit|RasterTask)/],
	['parse', /^(ParseHTML|V8\.Compile|v8\.compile|V8\.ParseFunction|v8\.parseOnBackground)/],
	[
		'script',
		/^(FunctionCall|EvaluateScript|v8\.|V8\.|TimerFire|EventDispatch|FireAnimationFrame|RunMicrotasks|v8\.run|ResizeObserver|FireIdleCallback)/
	]
];

/** The kind of work a trace event's name stands for: script, style, layout, paint, gc, parse or other. */
export const kindOf = (name: string): string =>
	KINDS.find(([, re]) => re.test(name))?.[0] ?? 'other';

/** The page's main thread's complete events, in order: the CrRendererMain with the most task time. */
export function mainThread(events: TraceEvent[]): TraceEvent[] {
	const mains = new Set(
		events
			.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
			.map((e) => `${e.pid}:${e.tid}`)
	);
	const busy = new Map<string, number>();
	for (const e of events)
		if (e.name === 'RunTask' && e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`))
			busy.set(`${e.pid}:${e.tid}`, (busy.get(`${e.pid}:${e.tid}`) ?? 0) + (e.dur ?? 0));
	const main = [...busy].sort((a, b) => b[1] - a[1])[0]?.[0];
	return events
		.filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === main)
		.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
}
