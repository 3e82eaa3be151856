// Binaryen (shipped with AssemblyScript), loaded on demand. Its package is a 13 MB ES module with
// a top-level await: under plain Node it loads in about a second, but through tsx's loader it
// takes tens of seconds of CPU, which a top-level await here would impose on every process that
// imports the chain, contracts or not. So `contractVmReady()` starts the load (once) and resolves
// when it is done; entry points that apply blocks with contracts await it at start. Until then,
// anything that must check or instrument a module starts the load and throws ContractVmNotReady,
// which stops block execution on this node (the block is neither built nor validated here: the
// node waits and retries, it never decides differently).
import type binaryenTypes from "binaryen";
import { ContractVmNotReady } from "./errors.ts";

/**
 * The expression and function wrappers binaryen.js has at run time but its typings lack
 * (Loop/If body setters, Function.setBody).
 */
interface Wrappers {
  Loop: { getBody(e: number): number; setBody(e: number, body: number): void };
  If: { getCondition(e: number): number; getIfTrue(e: number): number; setIfTrue(e: number, x: number): void; getIfFalse(e: number): number; setIfFalse(e: number, x: number): void };
  Function: { getBody(f: number): number; setBody(f: number, body: number): void };
}

export type Binaryen = typeof binaryenTypes & Wrappers;
export type BinaryenModule = InstanceType<typeof binaryenTypes.Module>;

let loaded: Binaryen | undefined;

let loading: Promise<void> | undefined;

/** Starts loading Binaryen (once); resolves when the contract VM can check and instrument modules. */
export function contractVmReady(): Promise<void> {
  loading ??= import("binaryen").then((m) => {
    loaded = m.default as Binaryen;
  });
  return loading;
}

/** Binaryen, or ContractVmNotReady (having started the load) while it is not loaded. */
export function binaryen(): Binaryen {
  if (!loaded) {
    void contractVmReady();
    throw new ContractVmNotReady();
  }
  return loaded;
}
