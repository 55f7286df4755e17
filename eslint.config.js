import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

/**
 * The layers of docs/ARCHITECTURE.md, enforced: each layer may import only the ones above it.
 * `model` is also imported by the relay (Node), so it must stay free of the browser and UI.
 */
const layer = (name, forbidden) => ({
	files: [`src/lib/${name}/**/*.ts`, `src/lib/${name}/**/*.svelte`],
	rules: {
		'no-restricted-imports': [
			'error',
			{
				patterns: forbidden.map(([group, message]) => ({ group, message }))
			}
		]
	}
});
const ui = [
	['svelte', 'svelte/*', '$app/*', '*.svelte'],
	'no Svelte or SvelteKit below src/lib/state'
];
const dexie = [
	['dexie', 'dexie/*', 'fake-indexeddb', 'fake-indexeddb/*'],
	'no IndexedDB in the model'
];
const providers = [
	['y-indexeddb', 'y-websocket', 'y-webrtc', 'ws', '@y/*'],
	'no providers in the model: the relay imports it'
];
const up = (names) => [
	names.flatMap((n) => [`$lib/${n}`, `$lib/${n}/*`, `**/${n}/*`, `../${n}`, `../../${n}`]),
	`a lower layer may not import ${names.join(', ')}`
];

export default ts.config(
	{
		ignores: [
			'build/',
			'.relay/',
			'.svelte-kit/',
			'node_modules/',
			'data/',
			'bench/results/',
			'test-results/',
			'playwright-report/'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{
		languageOptions: { globals: { ...globals.browser, ...globals.node } },
		rules: {
			'no-undef': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }
			]
		}
	},
	{
		files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	{
		files: ['src/**/*.ts', 'sync-server/**/*.ts'],
		languageOptions: { parserOptions: { projectService: true } },
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': 'error'
		}
	},
	layer('model', [ui, dexie, providers, up(['db', 'sync', 'state', 'components'])]),
	layer('db', [
		ui,
		[['y-websocket', 'ws'], 'no network in db'],
		up(['sync', 'state', 'components'])
	]),
	layer('sync', [ui, up(['state', 'components'])]),
	layer('state', [up(['components'])]),
	{
		files: ['sync-server/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: [
								'$lib/db*',
								'$lib/sync*',
								'$lib/state*',
								'$lib/components*',
								'**/src/lib/db/*',
								'**/src/lib/sync/*',
								'**/src/lib/state/*',
								'**/src/lib/components/*',
								'svelte',
								'svelte/*',
								'$app/*',
								'dexie'
							],
							message: 'the relay may import only src/lib/model'
						}
					]
				}
			]
		}
	}
);
