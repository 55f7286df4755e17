import { Limits } from '$lib/model';
import type { Files, StagedFile } from './files.svelte';

/**
 * The files waiting under one composer for Send: picked, dropped or pasted. Each is checked
 * against the relay's size limit and stored on the device as it arrives; a refused one is
 * reported (and never staged).
 *
 * @example const staged = new StagedFiles(files, handleError); await staged.add(input.files);
 */
export class StagedFiles {
	items = $state.raw<StagedFile[]>([]);
	/** Files being hashed and stored right now. */
	preparing = $state(0);
	readonly #files: Files;
	readonly #onError: (error: unknown, what: string) => void;

	constructor(files: Files, onError: (error: unknown, what: string) => void) {
		this.#files = files;
		this.#onError = onError;
	}

	async add(list: Iterable<File>): Promise<void> {
		for (const file of list) {
			if (this.items.length + this.preparing >= Limits.attachmentsPerMessage) {
				this.#onError(
					new Error(`A message carries at most ${Limits.attachmentsPerMessage} files.`),
					`Attaching "${file.name}"`
				);
				return;
			}
			this.preparing++;
			try {
				const staged = await this.#files.stage(file);
				this.items = [...this.items, staged];
			} catch (e) {
				this.#onError(e, `Attaching "${file.name || 'a pasted file'}"`);
			} finally {
				this.preparing--;
			}
		}
	}

	remove(key: string): void {
		const gone = this.items.find((i) => i.key === key);
		if (gone?.preview) URL.revokeObjectURL(gone.preview);
		this.items = this.items.filter((i) => i.key !== key);
	}

	/** Empties the tray once its files are sent (their previews were only for the tray). */
	take(): StagedFile[] {
		const all = this.items;
		this.items = [];
		for (const item of all) if (item.preview) URL.revokeObjectURL(item.preview);
		return all;
	}
}
