/**
 * `npm run bench` — every scenario of issue 8, the relay's against the peers, in one run:
 *
 *   npm run bench                  the full run (3 runs of each figure; on 2 cores ~20 min for
 *                                  the relay scenarios, ~10 min for the client ones)
 *   npm run bench -- --quick       a small version (1 run, fewer clients and messages, < 2 min);
 *                                  JSON only, the tables are left alone (`--doc` to write them)
 *   npm run bench -- --runs 5 --only fanout,coldJoin --relays kith,ywss
 *   npm run bench -- --only fanout --clients 200   the fan-out at these channel sizes only
 *
 *   npm run bench -- --only client          the client (Chromium) scenarios only (or `relay`)
 *   npm run bench -- --skip cluster         all but these (cluster needs PostgreSQL and Redis)
 *   npm run bench -- --trace                print every set-up phase as it ends
 *   npm run bench -- --only scroll,search --messages 10000 --no-doc
 *                                           the client scenarios on one size (seeded once)
 *   npm run bench -- --doc-from bench/results/<file>.json
 *                                           the tables again from that run, nothing measured
 *
 * Writes bench/results/<timestamp>.json and rewrites the tables in docs/BENCHMARKS.md (a
 * partial run keeps the other scenarios' figures from earlier results, saying so). Ends
 * with the time per scenario and where the set-up time went (bench/trace.ts).
 * Relay scenarios run first (against the peers), then the client scenarios (Kith alone, in
 * Debian's Chromium against the built app: bench/client/).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, type } from 'node:os';
import {
	clusterScenario,
	coldJoinScenario,
	createCtx,
	durabilityScenario,
	fanoutScenario,
	manyDocsScenario,
	prestart,
	stopWarm,
	throughputScenario,
	type Ctx
} from './harness.ts';
import {
	ClientBench,
	SkipScenario,
	catchUpScenario,
	coldOpenScenario,
	postScenario,
	scrollScenario,
	searchScenario
} from './client/scenarios.ts';
import { KITH_BENCH_ENV, KITH_PROCESS_ENV, RELAY_LABELS, type RelayKind } from './relays.ts';
import { phaseSummary, traceEachPhase } from './trace.ts';
import {
	CLIENT_SCENARIOS,
	carryOver,
	rewriteDoc,
	tables,
	type BenchRun,
	type Measurement
} from './report.ts';

function arg(name: string): string | undefined {
	const i = process.argv.indexOf(`--${name}`);
	if (i >= 0) return process.argv[i + 1];
	return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
}
const quick = process.argv.includes('--quick');
const runs = Number(arg('runs') ?? (quick ? 1 : 3));
const RELAY_SCENARIOS = ['fanout', 'throughput', 'coldJoin', 'manyDocs', 'durability', 'cluster'];
const scenarioList = (list: string | undefined): string[] | undefined =>
	list
		?.split(',')
		.flatMap((s) => (s === 'client' ? CLIENT_SCENARIOS : s === 'relay' ? RELAY_SCENARIOS : [s]));
const only = scenarioList(arg('only'));
const skip = scenarioList(arg('skip')) ?? [];
const relayFilter = arg('relays')?.split(',') as RelayKind[] | undefined;
const clientsFilter = arg('clients')?.split(',').map(Number);
// A quick run (one run, small sizes) is a check, not figures for docs/BENCHMARKS.md, whose
// tables hold the median and spread of at least 3 runs: it writes its JSON only unless --doc.
const noDoc = process.argv.includes('--no-doc') || (quick && !process.argv.includes('--doc'));
traceEachPhase(process.argv.includes('--trace'));

// Quick: every scenario, small. Its time went mostly into starting relays (~30 starts), the
// fan-out's posting (3 s × 11), fixed waits and seeding the client's device (the app indexes
// every message on the first open): see the prose of docs/BENCHMARKS.md, "How it measures".
const PLAN = quick
	? {
			fanout: { clients: [2, 50], intervalMs: 20, count: 75 },
			throughput: { writers: 20, perWriter: 50, window: 8 },
			coldJoin: { messages: 5_000, devices: 16 },
			manyDocs: { docs: 200, idleMs: 500, concurrency: 50, settleMs: 1000 },
			durability: { messages: 5_000, devices: 16 },
			client: {
				coldOpen: [5_000],
				scroll: { messages: 5_000, stepPx: 800, maxSeconds: 3 },
				post: { messages: 5_000, posts: 6 },
				search: { messages: 5_000, queries: 6 },
				catchUp: { messages: 1_000, history: 100, maxSeconds: 60 }
			},
			cluster: {
				processes: [1, 2],
				fanout: { clients: 30, intervalMs: 20, count: 75 },
				throughput: { writers: 12, perWriter: 50, window: 8 }
			}
		}
	: {
			fanout: { clients: clientsFilter ?? [2, 50, 200], intervalMs: 20, count: 500 },
			throughput: { writers: 20, perWriter: 1500, window: 8 },
			coldJoin: { messages: 100_000, devices: 16, idleHoldMs: 12_000, settledHoldMs: 30_000 },
			manyDocs: { docs: 1000, idleMs: 1000, concurrency: 100, settleMs: 14_000 },
			durability: { messages: 100_000, devices: 16 },
			client: {
				coldOpen: [10_000, 100_000],
				scroll: { messages: 10_000, stepPx: 800, maxSeconds: 60 },
				post: { messages: 100_000, posts: 30 },
				search: { messages: 100_000, queries: 30 },
				catchUp: { messages: 10_000, history: 100, maxSeconds: 180 }
			},
			cluster: {
				processes: [1, 2, 3],
				fanout: { clients: 60, intervalMs: 20, count: 500 },
				throughput: { writers: 21, perWriter: 1000, window: 8 }
			}
		};

const ALL: RelayKind[] = ['kith', 'kith-normal', 'ywss', 'hocuspocus', 'forwarder', 'echo'];
const relaysFor = (list: RelayKind[]): RelayKind[] =>
	list.filter((r) => !relayFilter || relayFilter.includes(r));

interface Scenario {
	name: string;
	variants: Array<{
		label: string;
		relays: RelayKind[];
		/** Start the variant's relays together before each run of it (harness.ts, `prestart`). */
		prestart?: boolean;
		measure: (ctx: Ctx, relay: RelayKind) => Promise<Record<string, unknown>>;
		show: (r: Record<string, unknown>) => string;
	}>;
}

const lat = (r: Record<string, unknown>): string => {
	const l = r.latencyMs as { p50: number; p99: number; max: number };
	return `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, lost ${String(r.lost)}`;
};

const relayScenarios: Scenario[] = [
	{
		name: 'fanout',
		variants: PLAN.fanout.clients.map((clients, i) => ({
			label: `${clients} clients`,
			// The echo has no fan-out: its paced round trip once, beside the smallest channel.
			relays: relaysFor(i === 0 ? ALL : ALL.filter((r) => r !== 'echo')),
			prestart: true,
			measure: (ctx, relay) =>
				fanoutScenario(ctx, relay, {
					clients,
					intervalMs: PLAN.fanout.intervalMs,
					count: PLAN.fanout.count
				}) as unknown as Promise<Record<string, unknown>>,
			show: lat
		}))
	},
	{
		name: 'throughput',
		variants: [
			{
				label: `${PLAN.throughput.writers} writers`,
				relays: relaysFor(ALL),
				prestart: true,
				measure: (ctx, relay) =>
					throughputScenario(ctx, relay, PLAN.throughput) as unknown as Promise<
						Record<string, unknown>
					>,
				show: (r) =>
					`${String(r.updatesPerSecond)} updates/s, CPU ${String(r.cpuPercent)}%, RSS ${String(r.rssMB)} MB, lost ${String(r.lost)}`
			}
		]
	},
	{
		name: 'coldJoin',
		variants: [
			{
				label: `${PLAN.coldJoin.messages.toLocaleString('en-US')} messages`,
				relays: relaysFor(['kith', 'ywss', 'hocuspocus']),
				measure: (ctx, relay) =>
					coldJoinScenario(ctx, relay, PLAN.coldJoin) as unknown as Promise<
						Record<string, unknown>
					>,
				show: (r) =>
					`join ${String(r.joinMs)} ms / ${String(r.joinBytes)} B, reconnect ${String(r.reconnectBytes)} B, RSS ${String(r.rssMB)} MB${r.heldIdleRssMB === null ? '' : `, ${String(r.heldIdleRssMB)} MB idle`}`
			}
		]
	},
	{
		name: 'manyDocs',
		variants: [
			{
				label: `${PLAN.manyDocs.docs} conversations`,
				relays: relaysFor(['kith', 'ywss', 'hocuspocus']),
				measure: (ctx, relay) =>
					manyDocsScenario(ctx, relay, PLAN.manyDocs) as unknown as Promise<
						Record<string, unknown>
					>,
				show: (r) =>
					`${String(r.openMs)} ms, RSS ${String(r.idleRssMB)} → ${String(r.openRssMB)} → ${String(r.closedRssMB)} MB, failed ${String(r.failed)}`
			}
		]
	},
	{
		name: 'durability',
		variants: (['log', 'snapshot'] as const).map((mode) => ({
			label: `${PLAN.durability.messages.toLocaleString('en-US')} messages, ${mode}`,
			relays: relaysFor(['kith']),
			measure: (ctx) =>
				durabilityScenario(ctx, { ...PLAN.durability, mode }) as unknown as Promise<
					Record<string, unknown>
				>,
			show: (r) =>
				`first join ${String(r.firstJoinMs)} ms, warm ${String(r.warmJoinMs)} ms, load ≈ ${String(r.loadMs)} ms`
		}))
	}
];

relayScenarios.push({
	// Several relay processes on PostgreSQL and Redis (README, "Running several relays"); the
	// single-process SQLite figures are the fanout and throughput tables above.
	name: 'cluster',
	variants: PLAN.cluster.processes.map((processes) => ({
		label: `${processes} process${processes > 1 ? 'es' : ''}`,
		relays: relaysFor(['kith']),
		measure: (ctx) =>
			clusterScenario(ctx, {
				processes,
				fanout: PLAN.cluster.fanout,
				throughput: PLAN.cluster.throughput
			}) as unknown as Promise<Record<string, unknown>>,
		show: (r) => {
			const f = r.fanout as {
				clients: number;
				lost: number;
				latencyMs: { p50: number; p99: number };
			};
			const t = r.throughput as { updatesPerSecond: number; lost: number };
			return `fan-out to ${f.clients}: p50 ${f.latencyMs.p50} ms, p99 ${f.latencyMs.p99} ms, lost ${f.lost}; ${t.updatesPerSecond} updates/s, lost ${t.lost}; RSS ${(r.rssMB as number[]).join(' / ')} MB`;
		}
	}))
});

// Client scenarios (Chromium, Playwright, the built app): Kith alone, no peers (no other chat
// client runs here); one browser, relay and set of devices for the whole run (bench/client/).
const client = new ClientBench();
const msgs = (n: number): string => `${n.toLocaleString('en-US')} messages`;
const kithOnly = (
	label: string,
	measure: () => Promise<object>,
	show: (r: Record<string, unknown>) => string
): Scenario['variants'][number] => ({
	label,
	relays: relaysFor(['kith']),
	measure: () => measure() as Promise<Record<string, unknown>>,
	show
});
// `--messages N`: every client scenario on a conversation of N messages (one device, seeded
// once, for all of them): quick back-to-back comparisons of two builds.
const clientMessages = arg('messages') === undefined ? null : Number(arg('messages'));
const C = clientMessages === null ? PLAN.client : withMessages(PLAN.client, clientMessages);
function withMessages<T extends Record<string, unknown>>(plan: T, messages: number): T {
	return Object.fromEntries(
		Object.entries(plan).map(([k, v]) => [
			k,
			Array.isArray(v) ? [messages] : { ...(v as object), messages }
		])
	) as T;
}
const clientScenarios: Scenario[] = [
	{
		name: 'coldOpen',
		variants: C.coldOpen.map((messages) =>
			kithOnly(
				msgs(messages),
				() => coldOpenScenario(client, { messages }),
				(r) =>
					`newest painted ${String(r.paintMs)} ms (goal 1000), JS heap ${String(r.heapAfterPaintMB)} MB (${String(r.heapAfterGcMB)} after GC)`
			)
		)
	},
	{
		name: 'scroll',
		variants: [
			kithOnly(
				msgs(C.scroll.messages),
				() => scrollScenario(client, C.scroll),
				(r) =>
					`${String(r.longTasks)} long tasks (longest ${String(r.longestTaskMs)} ms; goal none), ${String(r.lateFrames)} late of ${String(r.frames)} frames, ${String(r.scrolledPx)} px in ${String(r.seconds)} s${r.reachedTop ? ', top reached' : ''}`
			)
		]
	},
	{
		name: 'post',
		variants: [
			kithOnly(
				msgs(C.post.messages),
				() => postScenario(client, C.post),
				(r) =>
					`keypress to painted p50 ${String(r.p50Ms)} ms, p99 ${String(r.p99Ms)} ms (goal 50) over ${String(r.posts)} posts`
			)
		]
	},
	{
		name: 'search',
		variants: [
			kithOnly(
				msgs(C.search.messages),
				() => searchScenario(client, C.search),
				(r) =>
					`input to results painted p50 ${String(r.p50Ms)} ms, p95 ${String(r.p95Ms)} ms (goal 50) over ${String(r.queries)} queries`
			)
		]
	},
	{
		name: 'catchUp',
		variants: [
			kithOnly(
				`${C.catchUp.messages.toLocaleString('en-US')} new messages`,
				() => catchUpScenario(client, C.catchUp),
				(r) =>
					`newest painted ${String(r.newestPaintedMs)} ms, responsive ${String(r.responsiveMs)} ms, all indexed ${String(r.indexedMs)} ms after online`
			)
		]
	}
];

function machine(): BenchRun['machine'] {
	let chromium = 'Chromium: not found';
	try {
		chromium = execFileSync('chromium', ['--version'], {
			encoding: 'utf8',
			timeout: 10_000,
			// Debian's wrapper script prints a shell warning on stderr.
			stdio: ['ignore', 'pipe', 'ignore']
		})
			.split('\n')
			.find((l) => l.includes('Chromium'))!
			.trim();
	} catch {
		// no Chromium on this machine
	}
	return {
		cores: cpus().length,
		cpuModel: cpus()[0]?.model ?? 'unknown',
		memoryGB: Math.round(totalmem() / 1e9),
		node: process.version,
		chromium,
		os: type()
	};
}

async function main(): Promise<void> {
	const started = Date.now();
	const run: BenchRun = {
		startedAt: new Date().toISOString(),
		quick,
		runs,
		doc: !noDoc,
		loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
		machine: machine(),
		env: { ...KITH_BENCH_ENV, ...KITH_PROCESS_ENV },
		measurements: [],
		seconds: 0
	};
	console.log(
		`bench: ${quick ? 'quick, ' : ''}${runs} run(s); ${run.machine.cores} cores, Node ${run.machine.node}; load ${run.loadavgAtStart.join(' ')}`
	);
	const ctx = createCtx();
	const scenarioSeconds: string[] = [];
	try {
		for (const scenario of [...relayScenarios, ...clientScenarios]) {
			if ((only && !only.includes(scenario.name)) || skip.includes(scenario.name)) continue;
			const scenarioStarted = Date.now();
			variants: for (const variant of scenario.variants) {
				for (let i = 1; i <= runs; i++) {
					if (variant.prestart) await prestart(ctx, variant.relays);
					for (const relay of variant.relays) {
						const t = Date.now();
						const m: Measurement = {
							scenario: scenario.name,
							variant: variant.label,
							relay,
							run: i,
							result: {}
						};
						try {
							m.result = await variant.measure(ctx, relay);
							console.log(
								`[${scenario.name} ${variant.label}] run ${i}/${runs} ${RELAY_LABELS[relay]}: ${variant.show(m.result)} (load ${String(m.result.loadavg)}, ${((Date.now() - t) / 1000).toFixed(1)} s)`
							);
						} catch (err) {
							if (err instanceof SkipScenario) {
								console.log(`[${scenario.name} ${variant.label}] skipped: ${err.message}`);
								await stopWarm(ctx);
								continue variants;
							}
							m.result = { error: (err as Error).message.slice(0, 500) };
							console.log(
								`[${scenario.name} ${variant.label}] run ${i}/${runs} ${RELAY_LABELS[relay]}: FAILED ${(err as Error).message.split('\n')[0]}`
							);
						}
						m.seconds = Math.round((Date.now() - t) / 100) / 10;
						run.measurements.push(m);
					}
					await stopWarm(ctx);
				}
			}
			scenarioSeconds.push(
				`${scenario.name} ${Math.round((Date.now() - scenarioStarted) / 1000)} s`
			);
		}
	} finally {
		await stopWarm(ctx);
		ctx.load.stop();
		await client.close();
	}
	run.seconds = (Date.now() - started) / 1000;
	mkdirSync('bench/results', { recursive: true });
	const file = `bench/results/${run.startedAt.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`;
	writeFileSync(file, JSON.stringify(run, null, '\t') + '\n');
	if (!noDoc) writeTables(run, file);
	console.log(`bench: time per scenario: ${scenarioSeconds.join(', ')}`);
	console.log(`bench: set-up and waits (summed; includes the load's measured commands):`);
	for (const line of phaseSummary()) console.log(`  ${line}`);
	console.log(
		`bench: total ${Math.round(run.seconds)} s; results in ${file}${noDoc ? '' : '; tables in docs/BENCHMARKS.md'}`
	);
}

/** Rewrites docs/BENCHMARKS.md's tables from `run` (stored in `file`) and the runs before it. */
function writeTables(run: BenchRun, file: string): void {
	const carried = carryOver(run, earlierRuns(file), [...RELAY_SCENARIOS, ...CLIENT_SCENARIOS]);
	for (const c of carried)
		console.log(`bench: ${c.scenario} not measured in this run: its figures stay from ${c.file}`);
	rewriteDoc('docs/BENCHMARKS.md', tables(run, carried));
	// The tables as `npm run check:format` wants them (aligned columns).
	try {
		execFileSync('./node_modules/.bin/prettier', ['--write', 'docs/BENCHMARKS.md'], {
			stdio: 'ignore'
		});
	} catch {
		console.log('bench: prettier did not run on docs/BENCHMARKS.md');
	}
}

/** The results files before `current`, newest first (names sort by time); unreadable ones left out. */
function earlierRuns(current: string): { file: string; run: BenchRun }[] {
	return readdirSync('bench/results')
		.filter((f) => f.endsWith('.json'))
		.map((f) => `bench/results/${f}`)
		.filter((f) => f !== current)
		.sort()
		.reverse()
		.flatMap((file) => {
			try {
				return [{ file, run: JSON.parse(readFileSync(file, 'utf8')) as BenchRun }];
			} catch {
				return [];
			}
		});
}

// --doc-from <results file>: the tables again from a run already made, nothing measured.
const docFrom = arg('doc-from');
if (docFrom) {
	writeTables(JSON.parse(readFileSync(docFrom, 'utf8')) as BenchRun, docFrom);
	console.log(`bench: tables in docs/BENCHMARKS.md from ${docFrom}`);
} else await main();
