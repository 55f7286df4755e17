import { spawnSync } from 'node:child_process';
import { expect, type Page } from '@playwright/test';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { fromBase64Url, userIdFromPublicKey } from '../../src/lib/model';

const RELAY = `http://127.0.0.1:${process.env.E2E_PORT ?? 4173}`;

/** A token for a bot, from the operator's CLI on the relay's data folder (playwright.config.ts). */
export function botToken(user: string): string {
	const res = spawnSync(
		process.execPath,
		['--import', 'tsx', 'sync-server/cli.ts', 'token', user],
		{
			env: { ...process.env, DATA_DIR: process.env.KITH_E2E_DATA_DIR },
			encoding: 'utf8'
		}
	);
	if (res.status !== 0) throw new Error(res.stderr);
	return res.stdout.trim().split('\n').at(-1)!;
}

/** The user id of the person in a page (their device key is in localStorage). */
export async function userIdOf(page: Page): Promise<string> {
	const stored = await page.evaluate(() => localStorage.getItem('kith:device-key'));
	const { public_key } = JSON.parse(stored!) as { public_key: string };
	return userIdFromPublicKey(fromBase64Url(public_key)!);
}

/** Syncs a document with the relay as a standard y-websocket client, until the relay has it. */
export async function syncAsBot(name: string, token: string, doc: Y.Doc): Promise<void> {
	const provider = new WebsocketProvider(`${RELAY.replace('http', 'ws')}/sync`, name, doc, {
		params: { token },
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true
	});
	await new Promise<void>((resolve) => provider.once('sync', () => resolve()));
	// The relay stores before it forwards; wait until our own bytes have left the socket.
	await expect.poll(() => provider.ws?.bufferedAmount ?? 1, { timeout: 15_000 }).toBe(0);
	await new Promise((r) => setTimeout(r, 500));
	provider.destroy();
}
