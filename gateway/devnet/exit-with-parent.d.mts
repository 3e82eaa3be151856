// Types of exit-with-parent.mjs (plain JavaScript: it runs as a preload before tsx).
export declare const parentPollMs: number;
export declare const exitGraceMs: number;
export declare function exitWithParent(parentPid: number, onOrphan: () => void, pollMs?: number, alsoGone?: () => boolean): () => void;
export interface Ancestor {
  pid: number;
  startTime: string | undefined;
}
export declare function groupAncestors(): Ancestor[];
export declare function exitWithAncestors(ancestors: Ancestor[], onGone: () => void, pollMs?: number): () => void;
