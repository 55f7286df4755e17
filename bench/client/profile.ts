/**
 * A CPU profile of one client scenario in the page (CDP Profiler), for finding what dominates:
 *
 *   node --import tsx bench/client/profile.ts coldOpen 100000
 *   node --import tsx bench/client/profile.ts post 100000
 *   node --import tsx bench/client/profile.ts scroll 10000   (KITH_SECONDS=n: seconds of scrolling, 10)
 *   node --import tsx bench/client/profile.ts catchUp 10000
 *   node --import tsx bench/client/profile.ts search 100000
 *
 * Writes /tmp/kith-<scenario>-<n>.cpuprofile (open it in Chromium's DevTools) and prints the
 * functions with the most self time and the most total time. For readable names build the app
 * unminified first (`./node_modules/.bin/vite build --minify false`; rebuild before measuring).
 */
import { writeFileSync } from 'node:fs';
import { summarize, type Profile } from './cpu-profile.ts';
import type { CDPSession } from '@playwright/test';
import {
	ClientBench,
	catchUpScenario,
	coldOpenScenario,
	postScenario,
	scrollScenario,
	searchScenario
} from './scenarios.ts';

const [scenario = 'coldOpen', n = '100000'] = process.argv.slice(2);
const messages = Number(n);
const bench = new ClientBench();
const start = async (cdp: CDPSession): Promise<void> => {
	await cdp.send('Profiler.enable');
	await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
	await cdp.send('Profiler.start');
};
const stop = async (cdp: CDPSession): Promise<Profile> => (await cdp.send('Profiler.stop')).profile;
try {
	let profile: Profile | null = null;
	let result: unknown;
	if (scenario === 'catchUp') {
		// Its own device: profiled from going online until caught up.
		result = await catchUpScenario(bench, {
			messages,
			history: 100,
			maxSeconds: 180,
			hooks: {
				beforeOnline: (d) => start(d.cdp),
				afterCaughtUp: async (d) => {
					profile = await stop(d.cdp);
				}
			}
		});
	} else {
		const { device } = await bench.device(messages);
		// One unprofiled pass first: the same state every profiled pass starts from.
		if (scenario === 'coldOpen') await coldOpenScenario(bench, { messages });
		if (scenario === 'post') await postScenario(bench, { messages, posts: 1 });
		// The scroll is profiled from its first wheel step (not the open before it).
		if (scenario !== 'scroll') await start(device.cdp);
		result =
			scenario === 'post'
				? await postScenario(bench, {
						messages,
						posts: Number(process.env.POSTS ?? 5),
						reopen: false
					})
				: scenario === 'scroll'
					? await scrollScenario(bench, {
							messages,
							stepPx: 800,
							maxSeconds: Number(process.env.KITH_SECONDS ?? 10),
							beforeScroll: () => start(device.cdp)
						})
					: scenario === 'search'
						? await searchScenario(bench, { messages, queries: 30 })
						: await coldOpenScenario(bench, { messages });
		profile = await stop(device.cdp);
	}
	const file = `/tmp/kith-${scenario}-${messages}.cpuprofile`;
	writeFileSync(file, JSON.stringify(profile));
	console.log(result);
	console.log(`${file}\n${summarize(profile!)}`);
} finally {
	await bench.close();
}
