// Option and argument parsers for commander: each turns text into a checked value or refuses it
// with what was wrong and what to give instead (commander prints it, main.ts exits 2).
import { InvalidArgumentError } from "commander";

/** A whole number in [min, max]: `--count 3`, `--sensor 2`. */
export function integerArg(min: number, max: number, what: string): (s: string) => number {
  return (s) => {
    const n = /^-?\d+$/.test(s.trim()) ? Number(s) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`"${s}" is not ${what}: give a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** A positive number of seconds up to maxS: `--interval 0.5`. */
export function secondsArg(maxS: number): (s: string) => number {
  return (s) => {
    const n = /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : Number.NaN;
    if (!(n > 0 && n <= maxS)) throw new InvalidArgumentError(`"${s}" is not a number of seconds: give a positive number up to ${maxS}, e.g. 5 or 0.5.`);
    return n;
  };
}

export interface HostPort {
  host: string;
  port: number;
}

/** `127.0.0.1:5683`, `gw.local:5683` or `[::1]:5683` (RFC 3986 §3.2.2 brackets for IPv6). */
export function parseHostPort(s: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65_535) return undefined;
  return { host: m[1] ?? m[2], port };
}

export function hostPortArg(what: string, example: string): (s: string) => HostPort {
  return (s) => {
    const hp = parseHostPort(s);
    if (!hp) throw new InvalidArgumentError(`"${s}" is not host:port: give ${what} with its port, e.g. ${example}.`);
    return hp;
  };
}

/** An http(s) URL; returned as given (the API client resolves paths against it). */
export function httpUrlArg(what: string, example: string): (s: string) => string {
  return (s) => {
    if (!isHttpUrl(s)) throw new InvalidArgumentError(`"${s}" is not an http(s) URL: give ${what}, e.g. ${example}.`);
    return s;
  };
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}
