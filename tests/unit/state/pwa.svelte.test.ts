import { describe, expect, it, vi } from 'vitest';
import {
	AppUpdate,
	SKIP_WAITING,
	requestPersistentStorage,
	type ContainerLike,
	type RegistrationLike,
	type WorkerLike
} from '../../../src/lib/components/pwa.svelte';

class FakeWorker extends EventTarget implements WorkerLike {
	state = 'installing';
	readonly messages: unknown[] = [];
	postMessage(message: unknown): void {
		this.messages.push(message);
	}
	become(state: string): void {
		this.state = state;
		this.dispatchEvent(new Event('statechange'));
	}
}

class FakeRegistration extends EventTarget implements RegistrationLike {
	waiting: FakeWorker | null = null;
	installing: FakeWorker | null = null;
	updates = 0;
	async update(): Promise<void> {
		this.updates++;
	}
	/** A new version arrives: updatefound, then it installs and waits. */
	arrive(): FakeWorker {
		const worker = new FakeWorker();
		this.installing = worker;
		this.dispatchEvent(new Event('updatefound'));
		worker.become('installed');
		this.installing = null;
		this.waiting = worker;
		return worker;
	}
}

class FakeContainer extends EventTarget implements ContainerLike {
	readonly registration = new FakeRegistration();
	readonly ready = Promise.resolve(this.registration);
	constructor(public controller: unknown) {
		super();
	}
	takeOver(): void {
		this.controller = {};
		this.dispatchEvent(new Event('controllerchange'));
	}
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('the update prompt', () => {
	it('offers a version that installs while the page runs, and reloads only once it took over', async () => {
		const container = new FakeContainer({});
		const reload = vi.fn();
		const update = new AppUpdate(container, reload);
		const stop = update.watch();
		await settle();
		expect(update.ready).toBe(false);

		const worker = container.registration.arrive();
		expect(update.ready).toBe(true);
		expect(reload).not.toHaveBeenCalled();

		update.apply();
		expect(worker.messages).toEqual([SKIP_WAITING]);
		// The page does not reload before the new version controls it: nothing is cut short.
		expect(reload).not.toHaveBeenCalled();
		container.takeOver();
		expect(reload).toHaveBeenCalledTimes(1);
		stop();
	});

	it('offers a version that was already waiting when the page opened', async () => {
		const container = new FakeContainer({});
		const waiting = new FakeWorker();
		waiting.state = 'installed';
		container.registration.waiting = waiting;
		const update = new AppUpdate(container, vi.fn());
		update.watch();
		await settle();
		expect(update.ready).toBe(true);
		update.apply();
		expect(waiting.messages).toEqual([SKIP_WAITING]);
	});

	it('offers nothing on the first install, and never reloads on a takeover nobody asked for', async () => {
		const container = new FakeContainer(null);
		const reload = vi.fn();
		const update = new AppUpdate(container, reload);
		update.watch();
		await settle();
		container.registration.arrive();
		expect(update.ready).toBe(false);
		// The first worker claims the page (clients.claim): no reload in the middle of onboarding.
		container.takeOver();
		expect(reload).not.toHaveBeenCalled();
		update.apply();
		expect(reload).not.toHaveBeenCalled();
	});

	it('stops listening once stopped, and checks for a new version on demand', async () => {
		const container = new FakeContainer({});
		const update = new AppUpdate(container, vi.fn());
		const stop = update.watch();
		await settle();
		await update.check();
		expect(container.registration.updates).toBe(1);
		stop();
		container.registration.arrive();
		expect(update.ready).toBe(false);
	});
});

describe('persistent storage', () => {
	function flags() {
		const map = new Map<string, string>();
		return {
			getItem: (k: string) => map.get(k) ?? null,
			setItem: (k: string, v: string) => void map.set(k, v)
		};
	}

	it('is asked for once per device', async () => {
		const storage = { persisted: vi.fn(async () => false), persist: vi.fn(async () => true) };
		const device = flags();
		expect(await requestPersistentStorage(storage, device)).toBe(true);
		expect(await requestPersistentStorage(storage, device)).toBeNull();
		expect(storage.persist).toHaveBeenCalledTimes(1);
	});

	it('is not asked for when storage is already persistent, or when the browser has no storage manager', async () => {
		const storage = { persisted: vi.fn(async () => true), persist: vi.fn(async () => true) };
		expect(await requestPersistentStorage(storage, flags())).toBe(true);
		expect(storage.persist).not.toHaveBeenCalled();
		expect(await requestPersistentStorage(undefined, flags())).toBeNull();
	});

	it('stays quiet when the browser fails to answer', async () => {
		const storage = {
			persisted: async () => false,
			persist: async (): Promise<boolean> => {
				throw new Error('no');
			}
		};
		expect(await requestPersistentStorage(storage, flags())).toBeNull();
	});
});
