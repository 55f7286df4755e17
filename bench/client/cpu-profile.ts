/** Sums a V8 CPU profile (CDP Profiler) by function: where the time went. */

/** The parts of a CDP `Profiler.Profile` read here. */
export interface Profile {
	nodes: Array<{
		id: number;
		callFrame: { functionName: string; url: string; lineNumber: number };
		children?: number[];
	}>;
	samples?: number[];
	timeDeltas?: number[];
}

/** Self and total time per function (total counted once per stack, so recursion is not doubled). */
export function summarize(
	profile: Profile,
	top = 25,
	filter: (key: string) => boolean = () => true
): string {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const parent = new Map<number, number>();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const self = new Map<number, number>();
	const deltas = profile.timeDeltas ?? [];
	profile.samples?.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000));
	const key = (id: number): string => {
		const f = byId.get(id)!.callFrame;
		const file = f.url.split('/').pop() ?? '';
		return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
	};
	const selfBy = new Map<string, number>();
	const totalBy = new Map<string, number>();
	for (const [id, ms] of self) {
		selfBy.set(key(id), (selfBy.get(key(id)) ?? 0) + ms);
		const seen = new Set<string>();
		for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
			const k = key(n);
			if (seen.has(k)) continue;
			seen.add(k);
			totalBy.set(k, (totalBy.get(k) ?? 0) + ms);
		}
	}
	const list = (m: Map<string, number>): string =>
		[...m]
			.filter(([k]) => filter(k))
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(([k, ms]) => `  ${ms.toFixed(0).padStart(7)} ms  ${k}`)
			.join('\n');
	const all = [...self.values()].reduce((a, b) => a + b, 0);
	return `sampled ${all.toFixed(0)} ms\nself time:\n${list(selfBy)}\ntotal time:\n${list(totalBy)}`;
}
