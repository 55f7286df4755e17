/**
 * Turns a bench run's results into the tables of docs/BENCHMARKS.md: for each figure the
 * median over the runs and its spread (min–max), per relay, and Kith's ratio to the best peer
 * and to the do-nothing forwarder, all from the same run. Only the text between the
 * `<!-- bench:… -->` markers is rewritten; the reading around it is written by people.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { RELAY_LABELS, type RelayKind } from './relays.ts';

export interface Measurement {
	scenario: string;
	/** e.g. "200 clients" */
	variant: string;
	relay: RelayKind;
	run: number;
	result: Record<string, unknown>;
	/** Wall time of the measurement, set-up included (s). */
	seconds?: number;
}

export interface Machine {
	cores: number;
	cpuModel: string;
	memoryGB: number;
	node: string;
	chromium: string;
	os: string;
}

export interface BenchRun {
	startedAt: string;
	quick: boolean;
	runs: number;
	/** Whether the run rewrote docs/BENCHMARKS.md (absent in runs before 2026-11-26 07:50). */
	doc?: boolean;
	loadavgAtStart: number[];
	machine: Machine;
	env: Record<string, string>;
	measurements: Measurement[];
	seconds: number;
}

interface Metric {
	scenario: string;
	label: string;
	unit: string;
	better: 'lower' | 'higher';
	get: (r: Record<string, unknown>) => number | undefined;
}

const num = (v: unknown): number | undefined =>
	typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const path =
	(...keys: string[]) =>
	(r: Record<string, unknown>): number | undefined => {
		let v: unknown = r;
		for (const k of keys) v = (v as Record<string, unknown> | null)?.[k];
		return num(v);
	};

export const METRICS: Metric[] = [
	...(
		[
			['fan-out p50', 'ms', 'lower', path('fanout', 'latencyMs', 'p50')],
			['fan-out p99', 'ms', 'lower', path('fanout', 'latencyMs', 'p99')],
			['fan-out lost', 'updates', 'lower', path('fanout', 'lost')],
			['updates/s delivered', '/s', 'higher', path('throughput', 'updatesPerSecond')],
			['throughput lost', 'updates', 'lower', path('throughput', 'lost')],
			[
				'RSS peak per process',
				'MB',
				'lower',
				(r: Record<string, unknown>) => {
					const l = Array.isArray(r.rssMB) ? (r.rssMB as number[]) : [];
					return l.length ? Math.max(...l) : undefined;
				}
			],
			['storage commit p50', 'ms', 'lower', path('storageWrites', 'p50Ms')]
		] as const
	).map(([label, unit, better, get]) => ({ scenario: 'cluster', label, unit, better, get })),
	{ scenario: 'fanout', label: 'p50', unit: 'ms', better: 'lower', get: path('latencyMs', 'p50') },
	{ scenario: 'fanout', label: 'p99', unit: 'ms', better: 'lower', get: path('latencyMs', 'p99') },
	{ scenario: 'fanout', label: 'max', unit: 'ms', better: 'lower', get: path('latencyMs', 'max') },
	{ scenario: 'fanout', label: 'lost', unit: 'updates', better: 'lower', get: path('lost') },
	{ scenario: 'fanout', label: 'relay CPU', unit: 's', better: 'lower', get: path('cpuSeconds') },
	{
		scenario: 'fanout',
		label: 'storage commit p50',
		unit: 'ms',
		better: 'lower',
		get: path('storageWrites', 'p50Ms')
	},
	{
		scenario: 'fanout',
		label: 'storage commit p99',
		unit: 'ms',
		better: 'lower',
		get: path('storageWrites', 'p99Ms')
	},
	{
		scenario: 'throughput',
		label: 'updates/s delivered',
		unit: '/s',
		better: 'higher',
		get: path('updatesPerSecond')
	},
	{
		scenario: 'throughput',
		label: 'relay CPU',
		unit: '%',
		better: 'lower',
		get: path('cpuPercent')
	},
	{
		scenario: 'throughput',
		label: 'relay RSS peak',
		unit: 'MB',
		better: 'lower',
		get: path('rssMB')
	},
	{ scenario: 'throughput', label: 'lost', unit: 'updates', better: 'lower', get: path('lost') },
	{
		scenario: 'throughput',
		label: 'storage commit p50',
		unit: 'ms',
		better: 'lower',
		get: path('storageWrites', 'p50Ms')
	},
	{
		scenario: 'throughput',
		label: 'storage commit p99',
		unit: 'ms',
		better: 'lower',
		get: path('storageWrites', 'p99Ms')
	},
	{
		scenario: 'throughput',
		label: 'updates per commit',
		unit: '',
		better: 'higher',
		get: (r) => {
			const b = path('storageWrites', 'batches')(r);
			const d = num(r.delivered);
			return b && d ? Math.round(d / b) : undefined;
		}
	},
	{
		scenario: 'coldJoin',
		label: 'new device: time to synced',
		unit: 'ms',
		better: 'lower',
		get: path('joinMs')
	},
	{
		scenario: 'coldJoin',
		label: 'new device: bytes received',
		unit: 'MB',
		better: 'lower',
		get: (r) => {
			const b = num(r.joinBytes);
			return b === undefined ? undefined : Math.round(b / 1e4) / 100;
		}
	},
	{
		scenario: 'coldJoin',
		label: 'up-to-date reconnect: bytes',
		unit: 'B',
		better: 'lower',
		get: path('reconnectBytes')
	},
	{
		scenario: 'coldJoin',
		label: 'relay RSS holding the channel',
		unit: 'MB',
		better: 'lower',
		get: path('rssMB')
	},
	{
		scenario: 'coldJoin',
		label: 'relay RSS holding the channel, 12 s without a write',
		unit: 'MB',
		better: 'lower',
		get: path('heldIdleRssMB')
	},
	{
		scenario: 'coldJoin',
		label: 'relay RSS holding the channel, 30 s without a write',
		unit: 'MB',
		better: 'lower',
		get: path('settledRssMB')
	},
	{
		scenario: 'coldJoin',
		label: 'relay RSS peak',
		unit: 'MB',
		better: 'lower',
		get: path('peakMB')
	},
	{
		scenario: 'coldJoin',
		label: 'seed upload (setup)',
		unit: 'ms',
		better: 'lower',
		get: path('uploadMs')
	},
	{
		scenario: 'manyDocs',
		label: 'open and sync all',
		unit: 'ms',
		better: 'lower',
		get: path('openMs')
	},
	{ scenario: 'manyDocs', label: 'RSS idle', unit: 'MB', better: 'lower', get: path('idleRssMB') },
	{
		scenario: 'manyDocs',
		label: 'RSS all open',
		unit: 'MB',
		better: 'lower',
		get: path('openRssMB')
	},
	{
		scenario: 'manyDocs',
		label: 'RSS after all closed',
		unit: 'MB',
		better: 'lower',
		get: path('closedRssMB')
	},
	{
		scenario: 'manyDocs',
		label: 'RSS after closed − idle',
		unit: 'MB',
		better: 'lower',
		get: (r) => {
			const a = num(r.closedRssMB);
			const b = num(r.idleRssMB);
			return a !== undefined && b !== undefined ? Math.round((a - b) * 10) / 10 : undefined;
		}
	},
	{ scenario: 'manyDocs', label: 'failed', unit: '', better: 'lower', get: path('failed') },
	{
		scenario: 'durability',
		label: 'first join after restart',
		unit: 'ms',
		better: 'lower',
		get: path('firstJoinMs')
	},
	{
		scenario: 'durability',
		label: 'second join (in memory)',
		unit: 'ms',
		better: 'lower',
		get: path('warmJoinMs')
	},
	{
		scenario: 'durability',
		label: 'load from storage (difference)',
		unit: 'ms',
		better: 'lower',
		get: path('loadMs')
	},
	{ scenario: 'durability', label: 'relay RSS', unit: 'MB', better: 'lower', get: path('rssMB') }
];

const PEERS: RelayKind[] = ['ywss', 'hocuspocus'];
const COLUMNS: RelayKind[] = ['kith', 'kith-normal', 'ywss', 'hocuspocus', 'forwarder', 'echo'];

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const m = Math.floor(s.length / 2);
	return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(x: number): string {
	if (!Number.isFinite(x)) return '–';
	const a = Math.abs(x);
	if (a >= 1000) return Math.round(x).toLocaleString('en-US');
	if (a >= 100) return x.toFixed(0);
	if (a >= 10) return x.toFixed(1);
	return x.toFixed(2).replace(/\.?0+$/, '') || '0';
}

export interface Cell {
	median: number;
	min: number;
	max: number;
	n: number;
}

export function aggregate(ms: Measurement[], scenario: string, variant: string, m: Metric) {
	const cells = new Map<RelayKind, Cell>();
	for (const relay of COLUMNS) {
		const values = ms
			.filter((x) => x.scenario === scenario && x.variant === variant && x.relay === relay)
			.map((x) => m.get(x.result))
			.filter((v): v is number => v !== undefined);
		if (values.length)
			cells.set(relay, {
				median: median(values),
				min: Math.min(...values),
				max: Math.max(...values),
				n: values.length
			});
	}
	return cells;
}

function cellText(c: Cell | undefined): string {
	if (!c) return '';
	return c.n > 1 && c.min !== c.max
		? `${fmt(c.median)} (${fmt(c.min)}–${fmt(c.max)})`
		: fmt(c.median);
}

function ratio(kith: Cell | undefined, other: Cell | undefined): string {
	if (!kith || !other || other.median === 0) return '';
	return `${(kith.median / other.median).toFixed(2)}×`;
}

/**
 * The client scenarios (Chromium, the built app): Kith alone (no other chat client runs here),
 * each figure beside its RAIL goal from issue 8 and as a ratio to it.
 */
interface ClientMetric {
	scenario: string;
	label: string;
	unit: string;
	get: (r: Record<string, unknown>) => number | undefined;
	/** Issue 8's goal for this figure, where it sets one. */
	goal?: number;
	goalText?: string;
}

export const CLIENT_SCENARIOS = ['coldOpen', 'scroll', 'post', 'search', 'catchUp'];

export const CLIENT_METRICS: ClientMetric[] = [
	{
		scenario: 'coldOpen',
		label: 'newest message painted, from navigation start',
		unit: 'ms',
		get: path('paintMs'),
		goal: 1000,
		goalText: '< 1 s (100,000 messages)'
	},
	{ scenario: 'coldOpen', label: 'newest message in the DOM', unit: 'ms', get: path('inDomMs') },
	{
		scenario: 'coldOpen',
		label: 'long tasks before paint',
		unit: '',
		get: path('longTasks')
	},
	{
		scenario: 'coldOpen',
		label: 'longest task before paint',
		unit: 'ms',
		get: path('longestTaskMs')
	},
	{ scenario: 'coldOpen', label: 'JS heap after paint', unit: 'MB', get: path('heapAfterPaintMB') },
	{ scenario: 'coldOpen', label: 'JS heap after a GC', unit: 'MB', get: path('heapAfterGcMB') },
	{
		scenario: 'scroll',
		label: 'long tasks over 50 ms',
		unit: '',
		get: path('longTasks'),
		goal: 0,
		goalText: 'none'
	},
	{
		scenario: 'scroll',
		label: 'longest task',
		unit: 'ms',
		get: path('longestTaskMs'),
		goal: 50,
		goalText: '≤ 50 ms'
	},
	{ scenario: 'scroll', label: 'total blocking time', unit: 'ms', get: path('blockingMs') },
	{ scenario: 'scroll', label: 'frames', unit: '', get: path('frames') },
	{ scenario: 'scroll', label: 'late frames (> 1.5 frame)', unit: '', get: path('lateFrames') },
	{ scenario: 'scroll', label: 'dropped frames', unit: '', get: path('droppedFrames') },
	{ scenario: 'scroll', label: 'longest frame', unit: 'ms', get: path('longestFrameMs') },
	{ scenario: 'scroll', label: 'scrolled', unit: 'px', get: path('scrolledPx') },
	{ scenario: 'scroll', label: 'time scrolling', unit: 's', get: path('seconds') },
	{
		scenario: 'scroll',
		label: 'reached the oldest message',
		unit: '1 = yes',
		get: (r) => (typeof r.reachedTop === 'boolean' ? Number(r.reachedTop) : undefined)
	},
	{
		scenario: 'post',
		label: 'keypress to painted p50',
		unit: 'ms',
		get: path('p50Ms'),
		goal: 50,
		goalText: '< 50 ms'
	},
	{
		scenario: 'post',
		label: 'keypress to painted p99',
		unit: 'ms',
		get: path('p99Ms'),
		goal: 50,
		goalText: '< 50 ms'
	},
	{ scenario: 'post', label: 'keypress to painted max', unit: 'ms', get: path('maxMs') },
	{ scenario: 'post', label: 'longest task while posting', unit: 'ms', get: path('longestTaskMs') },
	{ scenario: 'search', label: 'input to results painted p50', unit: 'ms', get: path('p50Ms') },
	{
		scenario: 'search',
		label: 'input to results painted p95',
		unit: 'ms',
		get: path('p95Ms'),
		goal: 50,
		goalText: '< 50 ms'
	},
	{ scenario: 'search', label: 'input to results painted max', unit: 'ms', get: path('maxMs') },
	{
		scenario: 'search',
		label: 'first search after opening (not in the above)',
		unit: 'ms',
		get: path('firstQueryMs')
	},
	{
		scenario: 'catchUp',
		label: 'newest message painted, from online',
		unit: 'ms',
		get: path('newestPaintedMs')
	},
	{
		scenario: 'catchUp',
		label: 'responsive (last long task ends), from online',
		unit: 'ms',
		get: path('responsiveMs')
	},
	{ scenario: 'catchUp', label: 'all indexed, from online', unit: 'ms', get: path('indexedMs') },
	{ scenario: 'catchUp', label: 'long tasks over 50 ms', unit: '', get: path('longTasks') },
	{ scenario: 'catchUp', label: 'longest task', unit: 'ms', get: path('longestTaskMs') },
	{ scenario: 'catchUp', label: 'total blocking time', unit: 'ms', get: path('blockingMs') }
];

const CLIENT_TITLES: Record<string, string> = {
	coldOpen: 'Cold open',
	scroll: 'Scrolling up',
	post: 'Posting',
	search: 'Search',
	catchUp: 'Catch-up'
};

/** A scenario this run did not measure, with the earlier run whose figures stand for it. */
export interface Carried {
	scenario: string;
	/** The results file it came from (`bench/results/…`). */
	file: string;
	run: BenchRun;
}

/**
 * For each scenario of `scenarios` that `run` did not measure, the newest earlier full run (not
 * `--quick`) that measured it without failing: so that a partial run (`--only post`) rewrites
 * the client table with its own figures and keeps the others', each said to be from its run.
 * `earlier` is newest first.
 */
export function carryOver(
	run: BenchRun,
	earlier: { file: string; run: BenchRun }[],
	scenarios: readonly string[]
): Carried[] {
	const measured = new Set(run.measurements.map((m) => m.scenario));
	const out: Carried[] = [];
	for (const scenario of scenarios) {
		if (measured.has(scenario)) continue;
		// Only a run whose figures the tables could hold: at least 3 runs, not --no-doc (a trial
		// with other settings, or one relay only, must not stand for the others).
		const found = earlier.find(
			(e) =>
				!e.run.quick &&
				e.run.runs >= 3 &&
				e.run.doc !== false &&
				e.run.startedAt !== run.startedAt &&
				e.run.measurements.some(
					(m) => m.scenario === scenario && typeof m.result.error !== 'string'
				)
		);
		if (found) out.push({ scenario, file: found.file, run: found.run });
	}
	return out;
}

/** "Cold open, search and catch-up" */
function listText(items: string[]): string {
	return items.length < 2
		? (items[0] ?? '')
		: `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}

/** Lines saying which scenarios' figures are from which earlier run. */
function carriedLines(carried: Carried[], title: (scenario: string) => string): string[] {
	const byFile = new Map<string, Carried[]>();
	for (const c of carried) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
	return [...byFile.values()].map((cs) => {
		const r = cs[0]!.run;
		const l = loads(r.measurements.filter((m) => cs.some((c) => c.scenario === m.scenario)));
		const names = cs.map((c) => title(c.scenario));
		return (
			`Not measured in this run: ${listText(names)}, from run ${r.startedAt} (${cs[0]!.file}, ` +
			`${r.runs} run(s) per figure, load ${fmt(Math.min(...l))}–${fmt(Math.max(...l))}).`
		);
	});
}

/**
 * One table of every client figure: Kith's median (min–max), the goal, figure ÷ goal. The
 * scenarios in `carried` (not measured in `run`) keep their earlier run's figures.
 */
export function clientTable(run: BenchRun, carried: Carried[] = []): string {
	const own = run.measurements;
	run = {
		...run,
		measurements: [
			...own,
			...carried.flatMap((c) => c.run.measurements.filter((m) => m.scenario === c.scenario))
		]
	};
	const rows = [
		'| scenario | figure | Kith | issue 8 goal (RAIL) | Kith ÷ goal |',
		'|---|---|---:|---|---:|'
	];
	for (const scenario of CLIENT_SCENARIOS) {
		const ms = run.measurements.filter((m) => m.scenario === scenario);
		for (const variant of [...new Set(ms.map((m) => m.variant))]) {
			for (const metric of CLIENT_METRICS.filter((x) => x.scenario === scenario)) {
				const values = ms
					.filter((m) => m.variant === variant)
					.map((m) => metric.get(m.result))
					.filter((v): v is number => v !== undefined);
				if (!values.length) continue;
				const cell: Cell = {
					median: median(values),
					min: Math.min(...values),
					max: Math.max(...values),
					n: values.length
				};
				const unit = metric.unit ? ` (${metric.unit})` : '';
				const ratio =
					metric.goal === undefined
						? ''
						: metric.goal === 0
							? cell.median === 0
								? 'met'
								: 'missed'
							: `${(cell.median / metric.goal).toFixed(2)}×`;
				rows.push(
					`| ${CLIENT_TITLES[scenario]}, ${variant} | ${metric.label}${unit} | ${cellText(cell)} | ${metric.goalText ?? ''} | ${ratio} |`
				);
			}
		}
	}
	const failed = run.measurements.filter(
		(m) => CLIENT_SCENARIOS.includes(m.scenario) && typeof m.result.error === 'string'
	);
	for (const f of failed)
		rows.push(
			`| ${CLIENT_TITLES[f.scenario]}, ${f.variant} | run ${f.run} failed: ${String(f.result.error).split('\n')[0]!.replace(/\|/g, '/')} | | | |`
		);
	const ms = own.filter((m) => CLIENT_SCENARIOS.includes(m.scenario));
	return [
		...runLines(run, ms),
		...carriedLines(carried, (s) => CLIENT_TITLES[s] ?? s),
		'Cells: median (min–max) over the runs; Kith alone (no other chat client runs here).',
		'',
		...rows
	].join('\n');
}

/**
 * The blocks of docs/BENCHMARKS.md this run rewrites. `carried`: the scenarios it did not
 * measure, with their earlier run ({@link carryOver}); the client table keeps their rows and the
 * machine block says which relay tables are from which run.
 */
export function tables(run: BenchRun, carried: Carried[] = []): Record<string, string> {
	const out: Record<string, string> = {};
	const scenarios = [...new Set(run.measurements.map((m) => m.scenario))].filter(
		(s) => !CLIENT_SCENARIOS.includes(s)
	);
	if (run.measurements.some((m) => CLIENT_SCENARIOS.includes(m.scenario)))
		out.client = clientTable(
			run,
			carried.filter((c) => CLIENT_SCENARIOS.includes(c.scenario))
		);
	for (const scenario of scenarios) {
		const ms = run.measurements.filter((m) => m.scenario === scenario);
		const variants = [...new Set(ms.map((m) => m.variant))];
		const relays = COLUMNS.filter((r) => ms.some((m) => m.relay === r));
		const head = [
			'| figure | ' +
				relays.map((r) => RELAY_LABELS[r]).join(' | ') +
				' | Kith ÷ best peer | Kith ÷ forwarder |',
			'|---|' + relays.map(() => '---:|').join('') + '---:|---:|'
		];
		const rows: string[] = [];
		for (const variant of variants) {
			for (const m of METRICS.filter((x) => x.scenario === scenario)) {
				const cells = aggregate(ms, scenario, variant, m);
				if (cells.size === 0) continue;
				const peers = PEERS.map((p) => cells.get(p)).filter((c): c is Cell => !!c);
				const best = peers.length
					? peers.reduce((a, b) =>
							(m.better === 'lower' ? b.median < a.median : b.median > a.median) ? b : a
						)
					: undefined;
				const unit = m.unit ? ` (${m.unit})` : '';
				rows.push(
					`| ${variant}: ${m.label}${unit} | ` +
						relays.map((r) => cellText(cells.get(r))).join(' | ') +
						` | ${ratio(cells.get('kith'), best)} | ${ratio(cells.get('kith'), cells.get('forwarder'))} |`
				);
			}
		}
		out[scenario] = [...head, ...rows].join('\n');
	}
	// The machine block describes the relay tables: a client-only run leaves it alone (the
	// client table carries its own run line).
	if (scenarios.length)
		out.machine = [
			...runLines(
				run,
				run.measurements.filter((x) => !CLIENT_SCENARIOS.includes(x.scenario))
			),
			...carriedLines(
				carried.filter((c) => !CLIENT_SCENARIOS.includes(c.scenario)),
				(s) => `the ${s} table`
			),
			'Cells: median (min–max) over the runs. Ratios: Kith’s median over the best peer’s (the better of',
			'@y/websocket-server and Hocuspocus) and over the forwarder’s, from the same run.'
		].join('\n');
	return out;
}

/** When, on what, and how busy the machine was. */
function runLines(run: BenchRun, ms: Measurement[]): string[] {
	const m = run.machine;
	const l = loads(ms);
	return [
		`Run ${run.startedAt}${run.quick ? ' (`--quick`)' : ''}: ${run.runs} run(s) per figure, ${Math.round(run.seconds)} s.`,
		`Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGB} GB, ${m.os}, Node ${m.node}, ${m.chromium}.`,
		`Load average at start: ${run.loadavgAtStart.map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min; other work shares this machine). ` +
			`Per measurement (1 min): ${fmt(Math.min(...l))}–${fmt(Math.max(...l))}.`
	];
}

function loads(ms: Measurement[]): number[] {
	const l = ms.map((m) => num(m.result.loadavg)).filter((x): x is number => x !== undefined);
	return l.length ? l : [NaN];
}

/** Replaces the text between `<!-- bench:<key> -->` and `<!-- /bench:<key> -->` for each table. */
export function rewriteDoc(file: string, parts: Record<string, string>): void {
	let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
	for (const [key, body] of Object.entries(parts)) {
		const open = `<!-- bench:${key} -->`;
		const close = `<!-- /bench:${key} -->`;
		const block = `${open}\n\n${body}\n\n${close}`;
		const a = text.indexOf(open);
		const b = text.indexOf(close);
		if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + close.length);
		else text += `\n## ${key}\n\n${block}\n`;
	}
	writeFileSync(file, text);
}
