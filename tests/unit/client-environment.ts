import type { Environment } from 'vitest/environments';

/**
 * Node globals, but modules transformed as for the browser: Svelte compiles rune classes in
 * client mode (the server build drops `$effect`), and packages resolve their browser entry.
 * Needs no DOM: rune classes never touch it.
 */
export default {
	name: 'client-node',
	viteEnvironment: 'client',
	setup() {
		return { teardown() {} };
	}
} satisfies Environment;
