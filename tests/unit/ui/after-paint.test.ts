import { afterEach, describe, expect, it, vi } from 'vitest';

/** requestAnimationFrame and requestIdleCallback stood in for, each run by hand. */
function frames() {
	const pending = { frame: new Map<number, () => void>(), idle: new Map<number, () => void>() };
	let next = 1;
	const timeouts: number[] = [];
	vi.stubGlobal('requestAnimationFrame', (fn: () => void) => {
		pending.frame.set(next, fn);
		return next++;
	});
	vi.stubGlobal('cancelAnimationFrame', (h: number) => pending.frame.delete(h));
	vi.stubGlobal('requestIdleCallback', (fn: () => void, o: { timeout: number }) => {
		pending.idle.set(next, fn);
		timeouts.push(o.timeout);
		return next++;
	});
	vi.stubGlobal('cancelIdleCallback', (h: number) => pending.idle.delete(h));
	const run = (kind: 'frame' | 'idle') => {
		for (const [h, fn] of [...pending[kind]]) {
			pending[kind].delete(h);
			fn();
		}
	};
	return { pending, timeouts, frame: () => run('frame'), idle: () => run('idle') };
}

describe('afterPaint', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	it('runs once the next frame is done and the page is idle, not before', async () => {
		const page = frames();
		const { afterPaint } = await import('../../../src/lib/components/after-paint');
		const fn = vi.fn();
		afterPaint(fn, 100);
		page.idle(); // an idle period left over from before the frame: too early
		expect(fn).not.toHaveBeenCalled();
		page.frame();
		expect(fn).not.toHaveBeenCalled();
		page.idle();
		expect(fn).toHaveBeenCalledOnce();
		expect(page.timeouts).toEqual([100]);
	});

	it('never runs once cancelled, before or after the frame', async () => {
		const page = frames();
		const { afterPaint } = await import('../../../src/lib/components/after-paint');
		const before = vi.fn();
		afterPaint(before)();
		const after = vi.fn();
		const cancel = afterPaint(after);
		page.frame();
		cancel();
		page.idle();
		expect(before).not.toHaveBeenCalled();
		expect(after).not.toHaveBeenCalled();
		expect(page.pending.frame.size + page.pending.idle.size).toBe(0);
	});
});
