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
					include: ['tests/unit/**/*.test.ts']
				}
			}
		]
	}
});
