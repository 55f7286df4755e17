/**
 * The relay as `npm start` runs it: built by scripts/build-relay.mjs into `.relay/` and started
 * with package.json's command and environment. Every other relay test runs the TypeScript
 * through tsx; this one fails when bundling breaks what tsx does not (a module found relative
 * to `import.meta.url`, a worker's entry, a dependency that must stay external).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	connect,
	newDevice,
	removeDir,
	startRelay,
	synced,
	until,
	type Relay
} from './helpers/relay';

let relay: Relay;
let build: string;
beforeAll(async () => {
	// A stand-in for build/, newer than the sources, so the relay serves it without building.
	build = mkdtempSync(join(tmpdir(), 'kith-build-'));
	writeFileSync(join(build, 'index.html'), '<!doctype html><title>Kith</title>');
	mkdirSync(join(build, '_app'));
	relay = await startRelay({ bundle: true, env: { SERVE_APP: '1', BUILD_DIR: build } });
}, 60_000);
afterAll(async () => {
	await relay.stop();
	removeDir(relay.dataDir);
	removeDir(build);
});

describe('the bundled relay (npm start)', () => {
	it('answers /healthz, serves the app and syncs a document between two devices', async () => {
		expect(relay.proc.spawnargs.join(' ')).toMatch(/\.relay\/main\.mjs/);
		expect(await (await fetch(`${relay.http}/healthz`)).json()).toEqual({ ok: true });
		expect(await (await fetch(`${relay.http}/`)).text()).toContain('<title>Kith</title>');

		const me = await newDevice(relay);
		const a = connect(relay, 'workspace', me.token);
		const b = connect(relay, 'workspace', me.token, new Y.Doc());
		await Promise.all([synced(a.provider), synced(b.provider)]);
		const user = {
			id: me.user,
			display_name: 'Bundled',
			color: '#000000',
			public_key: '',
			created_at: '2026-01-01T00:00:00.000Z',
			updated_at: '2026-01-01T00:00:00.000Z'
		};
		a.doc.getMap('users').set(me.user, user);
		await until(() => b.doc.getMap('users').has(me.user), 5000, 'the update on the other device');
		a.provider.destroy();
		b.provider.destroy();
	});
});
