// Children of `npm start` die with it, whatever killed it (SIGTERM, SIGHUP, kill -9): a child
// polls its parent pid and, once orphaned (reparented to init or a subreaper), stops itself.
// Plain JavaScript so that it can run as a preload (`node --import`) before tsx is registered.
//
//   node --import <this file's URL> child.js     with MOTE_PARENT_PID=<parent pid> in the env
//
// The child then gets a SIGTERM of its own: a gateway stops gracefully through its usual handler
// (one still starting simply exits), and it is made to exit after exitGraceMs whatever it does.
import { readFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

export const parentPollMs = 500;
export const exitGraceMs = 15_000;

/** Calls `onOrphan` once, when this process's parent is no longer `parentPid`. Returns a cancel. */
export function exitWithParent(parentPid, onOrphan, pollMs = parentPollMs, alsoGone = () => false) {
  const check = () => {
    if (process.ppid === parentPid && !alsoGone()) return;
    clearInterval(timer);
    onOrphan();
  };
  const timer = setInterval(check, pollMs);
  timer.unref();
  setImmediate(check); // the parent may be gone already
  return () => clearInterval(timer);
}

/**
 * The parent and, where /proc tells (Linux), the further ancestors in this process's group: under
 * `npm start` that is npm, its shell and tsx, and npm's shell may die on SIGTERM without passing
 * it on, leaving tsx (our parent) alive but orphaned. Stopping when any of them is gone covers it;
 * the interactive shell above npm is in another group, so `nohup npm start &` is not affected.
 */
export function groupAncestors() {
  const stat = (pid) => {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), pgrp: Number(f[2]), startTime: f[19] };
  };
  const out = [{ pid: process.ppid, startTime: undefined }];
  try {
    const pgrp = stat(process.pid).pgrp;
    out[0].startTime = stat(process.ppid).startTime;
    for (let pid = stat(process.ppid).ppid, hops = 0; pid > 1 && hops < 16; hops++) {
      const s = stat(pid);
      if (s.pgrp !== pgrp) break;
      out.push({ pid, startTime: s.startTime });
      pid = s.ppid;
    }
  } catch {
    // no /proc: the parent alone
  }
  return out;
}

/** Calls `onGone` once, when the parent or any of `ancestors` (groupAncestors()) is gone. */
export function exitWithAncestors(ancestors, onGone, pollMs = parentPollMs) {
  const parentPid = ancestors[0].pid;
  const gone = ({ pid, startTime }) => {
    if (startTime === undefined) {
      try {
        process.kill(pid, 0);
        return false;
      } catch (e) {
        return e.code !== "EPERM";
      }
    }
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      return s.slice(s.lastIndexOf(")") + 2).split(" ")[19] !== startTime || s.slice(s.lastIndexOf(")") + 2)[0] === "Z";
    } catch {
      return true;
    }
  };
  return exitWithParent(parentPid, onGone, pollMs, () => ancestors.slice(1).some(gone));
}

const parentPid = Number(process.env.MOTE_PARENT_PID);
if (isMainThread && Number.isInteger(parentPid) && parentPid > 0) {
  exitWithParent(parentPid, () => {
    console.error(`parent process ${parentPid} is gone: stopping`);
    setTimeout(() => process.exit(1), exitGraceMs).unref();
    process.kill(process.pid, "SIGTERM");
  });
}
