import {
	createDeviceLink,
	listDevices,
	revokeDevice,
	type DeviceInfo,
	type DeviceLink
} from '$lib/sync/device-link';
import { holdsIdentityKey } from '$lib/sync/identity';
import type { RelaySession } from '$lib/sync/relay';

/** How often the list is fetched again while a link is shown (to see the new device arrive). */
const POLL_MS = 2_000;

/**
 * The person's devices as the Settings page shows them: the list from the relay, the one-time
 * link on show, and revoking. One per signed-in app (App.svelte); the Devices section calls
 * `refresh()` when shown and `stop()` when it goes.
 *
 * @example
 * const devices = new DeviceManager(relay, { appUrl: location.origin });
 * await devices.refresh();
 */
export class DeviceManager {
	readonly #relay: RelaySession;
	readonly #appUrl: string;
	#timer: ReturnType<typeof setInterval> | null = null;
	#list = $state.raw<DeviceInfo[] | null>(null);
	#link = $state.raw<DeviceLink | null>(null);
	/** The device that signed in through the link on show (it then leaves the screen). */
	#arrived = $state.raw<DeviceInfo | null>(null);
	#expired = $state(false);

	/** Whether this device holds the identity key (only it can link and sign out others). */
	readonly canLink: boolean;

	constructor(relay: RelaySession, options: { appUrl: string }) {
		this.#relay = relay;
		this.#appUrl = options.appUrl;
		this.canLink = holdsIdentityKey(relay.keyPair);
	}

	/** The devices in use, null until first fetched. */
	get devices(): readonly DeviceInfo[] | null {
		return this.#list;
	}

	get link(): DeviceLink | null {
		return this.#link;
	}

	get arrived(): DeviceInfo | null {
		return this.#arrived;
	}

	/** The last link expired unused. */
	get expired(): boolean {
		return this.#expired;
	}

	/** Fetches the list again; when the link's device has signed in, the link is done. */
	async refresh(): Promise<void> {
		const list = await listDevices(this.#relay.url, await this.#relay.token());
		this.#list = list;
		const link = this.#link;
		const arrived = link && list.find((d) => d.id === link.deviceId);
		if (arrived) {
			this.#arrived = arrived;
			this.cancelLink();
		}
	}

	/** Makes a new one-time link (replacing one on show) and watches for its device. */
	async createLink(
		handOver: { displayName?: string | undefined; conversations?: Iterable<string> } = {}
	): Promise<DeviceLink> {
		const link = await createDeviceLink({
			relay: this.#relay.url,
			token: await this.#relay.token(),
			identity: this.#relay.keyPair,
			appUrl: this.#appUrl,
			...(handOver.displayName ? { displayName: handOver.displayName } : {}),
			...(handOver.conversations ? { conversations: handOver.conversations } : {})
		});
		this.#link = link;
		this.#arrived = null;
		this.#expired = false;
		this.#poll();
		return link;
	}

	/** Stops showing the link (it still expires on the relay by itself). */
	cancelLink(): void {
		this.#link = null;
		this.stop();
	}

	/** Signs a device out; the list is fetched again. */
	async revoke(deviceId: string): Promise<void> {
		await revokeDevice(this.#relay.url, await this.#relay.token(), deviceId);
		await this.refresh();
	}

	#poll(): void {
		this.stop();
		this.#timer = setInterval(() => {
			const link = this.#link;
			if (!link || link.expiresAt <= Date.now()) {
				this.#expired = link !== null;
				this.cancelLink();
				return;
			}
			// A failed poll is retried on the next tick; the person sees the link meanwhile.
			this.refresh().catch(() => {});
		}, POLL_MS);
	}

	/** Stops watching (the section was left). */
	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
	}
}
