// Runner processes (runner-child.ts), each holding one read-only connection, taking one statement
// at a time. A statement past its time limit is stopped by killing its process (SIGKILL) and a new
// runner takes its place; a full queue refuses new statements rather than growing.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SqlError, type SqlErrorCode } from "./errors.ts";
import type { RunAnswer, RunRequest } from "./run-statement.ts";

interface Job {
  id: number;
  req: RunRequest;
  resolve: (a: RunAnswer) => void;
  reject: (e: Error) => void;
}

interface Runner {
  child: ChildProcess;
  ready: Promise<void>;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

type Reply = { id: number; answer: RunAnswer } | { id: number; error: { code: SqlErrorCode; message: string } };

/** The runner module beside this one, and how Node must load it (tsx's loader for sources). */
function runnerEntry(): { file: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith(".ts");
  const file = fileURLToPath(new URL(`./runner-child.${ts ? "ts" : "js"}`, import.meta.url));
  if (!ts) return { file, execArgv: [] };
  const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { file, execArgv: ["--import", loader] };
}

/** Whether the child (and its IPC channel) keep this process's event loop alive. */
function hold(child: ChildProcess, on: boolean): void {
  const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
  if (on) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}

export interface PoolOptions {
  runners: number;
  queueMax: number;
  timeMs: number;
  memoryBytesMax: number;
}

export class RunnerPool {
  private readonly runners: Runner[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Statements stopped by the time limit (their runner killed). */
  killed = 0;

  constructor(
    private readonly dbPath: string,
    private readonly o: PoolOptions,
  ) {}

  private spawn(): Runner {
    const { file, execArgv } = runnerEntry();
    // The shell sets the memory limit (RLIMIT_DATA, KiB) and becomes Node; the IPC channel's fd survives the exec.
    const limitKiB = Math.ceil(this.o.memoryBytesMax / 1024);
    const child = spawn("/bin/sh", ["-c", `ulimit -d ${limitKiB} && exec "$0" "$@"`, process.execPath, ...execArgv, file, this.dbPath], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    // An idle runner never keeps the gateway alive on its own; a busy one does (hold()).
    hold(child, false);
    const runner: Runner = { child, job: undefined, timer: undefined, ready: undefined as unknown as Promise<void> };
    runner.ready = new Promise<void>((resolve, reject) => {
      child.once("message", (m: { ready?: boolean }) => (m?.ready ? resolve() : reject(new Error("runner did not start"))));
      child.once("exit", (code) => reject(new SqlError("SQL_RUNNER", `the SQL runner exited (${code}) before it was ready`)));
    });
    runner.ready.catch(() => {});
    child.on("message", (m: Reply | { ready: true }) => {
      if (!("id" in m) || runner.job?.id !== m.id) return;
      const job = runner.job;
      this.finish(runner);
      if ("answer" in m) job.resolve(m.answer);
      else job.reject(new SqlError(m.error.code, m.error.message));
    });
    child.on("exit", () => {
      const i = this.runners.indexOf(runner);
      if (i >= 0) this.runners.splice(i, 1);
      const job = runner.job;
      if (runner.timer) clearTimeout(runner.timer);
      runner.job = undefined;
      job?.reject(new SqlError("SQL_RUNNER", "the SQL runner process died while running the statement"));
      this.pump();
    });
    this.runners.push(runner);
    return runner;
  }

  private finish(runner: Runner): void {
    hold(runner.child, false);
    if (runner.timer) clearTimeout(runner.timer);
    runner.timer = undefined;
    runner.job = undefined;
    this.pump();
  }

  /** Runs a statement the guard admitted; rejects with SqlError (SQL_TIMEOUT when killed). */
  run(req: RunRequest): Promise<RunAnswer> {
    if (this.closed) return Promise.reject(new SqlError("SQL_RUNNER", "the SQL engine is closed"));
    if (this.queue.length >= this.o.queueMax) return Promise.reject(new SqlError("SQL_BUSY", `${this.queue.length} statements wait for a runner; try again shortly`));
    return new Promise<RunAnswer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      let runner = this.runners.find((r) => r.job === undefined);
      if (!runner && this.runners.length < this.o.runners) runner = this.spawn();
      if (!runner) return;
      const job = this.queue.shift()!;
      this.start(runner, job);
    }
  }

  private start(runner: Runner, job: Job): void {
    runner.job = job;
    hold(runner.child, true);
    runner.ready.then(
      () => {
        if (runner.job !== job) return;
        // The clock starts when the runner has the statement, not while it waited in the queue.
        runner.timer = setTimeout(() => {
          this.killed++;
          runner.job = undefined;
          this.runners.splice(this.runners.indexOf(runner), 1);
          runner.child.kill("SIGKILL");
          job.reject(new SqlError("SQL_TIMEOUT", `the statement ran past ${this.o.timeMs} ms and was stopped (its runner process killed): narrow it with WHERE on device, seq, height or time, or add LIMIT`));
        }, this.o.timeMs);
        runner.child.send({ id: job.id, ...job.req });
      },
      (e: Error) => {
        runner.job = undefined;
        job.reject(e);
      },
    );
  }

  /** Starts the runners ahead of the first statement. */
  async warm(): Promise<void> {
    while (this.runners.length < this.o.runners) this.spawn();
    await Promise.all(this.runners.map((r) => r.ready));
  }

  close(): void {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new SqlError("SQL_RUNNER", "the SQL engine is closed"));
    for (const r of this.runners.splice(0)) r.child.kill("SIGKILL");
  }
}
