/** Layout state shared by the shell and the screens: the sidebar drawer on narrow screens. */
export class LayoutState {
	drawerOpen = $state(false);
}

export const layout = new LayoutState();
