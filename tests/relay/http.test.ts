import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, newDevice, removeDir, startRelay, synced, type Relay } from './helpers/relay';

let relay: Relay;
let build: string;
beforeAll(async () => {
	// A stand-in for build/, newer than the sources, so the relay serves it without building.
	build = mkdtempSync(join(tmpdir(), 'kith-build-'));
	writeFileSync(join(build, 'index.html'), '<!doctype html><title>Kith</title>');
	mkdirSync(join(build, '_app'));
	writeFileSync(join(build, '_app', 'app.js'), 'console.log(1)');
	relay = await startRelay({ env: { SERVE_APP: '1', BUILD_DIR: build } });
});
afterAll(async () => {
	await relay.stop();
	removeDir(relay.dataDir);
	removeDir(build);
});

describe('the one process', () => {
	it('serves the app, answering deep links with index.html and 200', async () => {
		const root = await fetch(`${relay.http}/`);
		expect(root.status).toBe(200);
		expect(await root.text()).toContain('<title>Kith</title>');
		const deep = await fetch(`${relay.http}/c/12345/thread/678`);
		expect(deep.status).toBe(200);
		expect(deep.headers.get('content-type')).toMatch(/text\/html/);
		const js = await fetch(`${relay.http}/_app/app.js`);
		expect(js.headers.get('content-type')).toMatch(/javascript/);
		const escape = await fetch(`${relay.http}/..%2f..%2fetc%2fpasswd`);
		expect(await escape.text()).toContain('<title>Kith</title>');
		expect(relay.logs.join('\n')).toMatch(/Kith relay ready: open http:\/\/127\.0\.0\.1:\d+/);
	});

	it('answers /healthz and exposes Prometheus metrics for connections, documents, traffic, storage and the event loop', async () => {
		expect(await (await fetch(`${relay.http}/healthz`)).json()).toEqual({ ok: true });
		const me = await newDevice(relay);
		const c = connect(relay, 'workspace', me.token);
		await synced(c.provider);
		c.doc.getMap('users').set(me.user, {
			id: me.user,
			display_name: 'Me',
			color: '#000000',
			public_key: '',
			created_at: '2026-01-01T00:00:00.000Z',
			updated_at: '2026-01-01T00:00:00.000Z'
		});
		await new Promise((r) => setTimeout(r, 100));
		const res = await fetch(`${relay.http}/metrics`);
		expect(res.headers.get('content-type')).toMatch(/text\/plain/);
		const text = await res.text();
		for (const name of [
			'kith_connections 1',
			'kith_docs_in_memory 1',
			'kith_updates_in_total 1',
			'kith_bytes_in_total',
			'kith_bytes_out_total',
			'kith_storage_write_seconds_bucket',
			'kith_compactions_total',
			'nodejs_eventloop_lag_seconds'
		]) {
			expect(text).toContain(name);
		}
		c.provider.destroy();
	});
});
