import type { Attachment } from 'svelte/attachments';

function filesOf(data: DataTransfer | null): File[] {
	return data ? [...data.files] : [];
}

/**
 * Files dropped onto, or pasted into, an element (the conversation): `{@attach fileDrop(add)}`.
 * While files are dragged over it, the element has `data-dragging` (for a highlight). Text
 * pastes and drags are left alone.
 */
export function fileDrop(onfiles: (files: File[]) => void): Attachment<HTMLElement> {
	return (node) => {
		let depth = 0;
		const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
		const over = (e: DragEvent) => {
			if (!hasFiles(e)) return;
			e.preventDefault();
			if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
		};
		const enter = (e: DragEvent) => {
			if (!hasFiles(e)) return;
			depth++;
			node.dataset.dragging = '';
		};
		const leave = (e: DragEvent) => {
			if (!hasFiles(e)) return;
			depth = Math.max(0, depth - 1);
			if (depth === 0) delete node.dataset.dragging;
		};
		const drop = (e: DragEvent) => {
			depth = 0;
			delete node.dataset.dragging;
			const files = filesOf(e.dataTransfer);
			if (files.length === 0) return;
			e.preventDefault();
			onfiles(files);
		};
		const paste = (e: ClipboardEvent) => {
			const files = filesOf(e.clipboardData);
			if (files.length === 0) return;
			e.preventDefault();
			onfiles(files);
		};
		node.addEventListener('dragenter', enter);
		node.addEventListener('dragover', over);
		node.addEventListener('dragleave', leave);
		node.addEventListener('drop', drop);
		node.addEventListener('paste', paste);
		return () => {
			node.removeEventListener('dragenter', enter);
			node.removeEventListener('dragover', over);
			node.removeEventListener('dragleave', leave);
			node.removeEventListener('drop', drop);
			node.removeEventListener('paste', paste);
		};
	};
}
