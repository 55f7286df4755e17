import { sveltekit } from '@sveltejs/kit/vite';
// vitest/config, not vite: svelte-check rejects the `test` key otherwise (TOOLCHAIN.md).
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		projects: [
			{
				extends: true,
				test: {
					name: 'unit',
					environment: 'node',
					include: ['tests/unit/**/*.test.ts'],
					exclude: ['tests/unit/**/*.svelte.test.ts']
				}
			},
			{
				extends: true,
				// Rune classes: Svelte's client runtime (the server build never runs effects).
				resolve: { conditions: ['browser'] },
				test: {
					name: 'runes',
					environment: './tests/unit/client-environment.ts',
					include: ['tests/unit/**/*.svelte.test.ts']
				}
			},
			{
				extends: true,
				test: {
					// Against a real relay process on a free loopback port (tests/relay/helpers).
					name: 'relay',
					environment: 'node',
					include: ['tests/relay/**/*.test.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000,
					// Relay processes and SQLite files are heavy on a 2-core machine: one file at a time.
					fileParallelism: false
				}
			},
			{
				extends: true,
				test: {
					// Several relay processes, PostgreSQL, Redis and nginx on loopback (tests/cluster):
					// skipped, saying why, where those cannot be had.
					name: 'cluster',
					environment: 'node',
					include: ['tests/cluster/**/*.test.ts'],
					testTimeout: 120_000,
					hookTimeout: 120_000,
					fileParallelism: false
				}
			}
		]
	}
});
