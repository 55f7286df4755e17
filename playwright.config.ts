import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, devices } from '@playwright/test';
import { startCommand } from './scripts/start-command.ts';

// Debian's Chromium where it exists (these machines cannot download Playwright's browser);
// Playwright's own browser elsewhere.
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const executablePath = existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
const PORT = Number(process.env.E2E_PORT ?? 4173);
const START = startCommand();
// One relay data folder per run, so every run starts from an empty workspace.
const DATA_DIR = (process.env.KITH_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'kith-e2e-')));
// Workers inherit it: tests that act as the operator (a bot's token) use the same folder.

export default defineConfig({
	testDir: 'tests/e2e',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 30_000,
	expect: { timeout: 5_000 },
	reporter: process.env.CI ? 'line' : 'list',
	use: {
		baseURL: `http://127.0.0.1:${PORT}`,
		trace: 'retain-on-failure',
		...devices['Desktop Chrome'],
		launchOptions: {
			...(executablePath ? { executablePath } : {}),
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				// A fake microphone (a beep), granted without a prompt: voice messages (files.spec.ts).
				'--use-fake-device-for-media-stream',
				'--use-fake-ui-for-media-stream'
			]
		}
	},
	webServer: {
		// The real relay serving the built app, as `npm start` runs it (its bundle, node's flags
		// and environment, read from package.json: scripts/start-command.ts), on a fresh data
		// folder. `node` itself, not npm or npx: killing a wrapper would leave the real server
		// running (TOOLCHAIN.md).
		command: `./node_modules/.bin/vite build && node scripts/build-relay.mjs && node ${START.args.join(' ')}`,
		env: {
			...START.env,
			PORT: String(PORT),
			HOST: '127.0.0.1',
			DATA_DIR: DATA_DIR,
			LOG_LEVEL: 'warn',
			// Browser tests measure behaviour, not fsync latency.
			SQLITE_SYNCHRONOUS: 'NORMAL',
			// Small enough for a test to send a larger file and see it refused (files.spec.ts).
			MAX_UPLOAD_BYTES: String(5 * 1024 * 1024)
		},
		url: `http://127.0.0.1:${PORT}/healthz`,
		reuseExistingServer: false,
		timeout: 120_000,
		stdout: 'ignore',
		stderr: 'pipe'
	}
});
