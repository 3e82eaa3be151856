// The CLI's only way to a chain: a gateway's HTTP API (gateway/api). Never a database.
// Every failure becomes an ApiClientError whose message says what to do next.
import { MoteError } from "../../shared/errors.ts";
import { isHttpUrl } from "./args.ts";
import { UsageError } from "./errors.ts";

export class ApiClientError extends MoteError {
  constructor(
    code: string,
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
  }
}

export const defaultApiUrl = process.env.MOTE_API ?? "http://127.0.0.1:8080";
const requestTimeoutMs = 10_000;
/** A gateway's largest page (200 readings or devices) is well under this; anything larger is not our API. */
const responseBytesMax = 32 * 1024 * 1024;

export class ApiClient {
  constructor(readonly baseUrl: string = defaultApiUrl) {
    // --api is checked by its parser; MOTE_API arrives unchecked.
    if (!isHttpUrl(baseUrl)) throw new UsageError("BAD_API_URL", `"${baseUrl}" is not an http(s) URL: give the gateway API's address with --api or MOTE_API, e.g. http://127.0.0.1:8080`);
  }

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    let res: HttpResponse;
    try {
      res = await exchange(url, method, body === undefined ? undefined : JSON.stringify(body));
    } catch (e) {
      if (e instanceof ApiClientError) throw e;
      throw new ApiClientError("API_UNREACHABLE", `cannot reach the gateway API at ${this.baseUrl} (${(e as Error).message}); is the gateway running? Set --api or MOTE_API`);
    }
    const text = res.text;
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiClientError("API_BAD_RESPONSE", `${method} ${url.pathname} answered ${res.status} with a body that is not JSON; is ${this.baseUrl} a Moteledger gateway?`, res.status);
    }
    if (res.status < 200 || res.status > 299) {
      const err = json?.error;
      throw new ApiClientError(err?.code ?? `HTTP_${res.status}`, `${method} ${url.pathname}: ${err?.message ?? res.statusText}`, res.status);
    }
    return json as T;
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T = any>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }
}

interface HttpResponse {
  status: number;
  statusText: string;
  text: string;
}

/**
 * One request over node:http(s) rather than fetch: fetch loads undici and compiles its WebAssembly
 * HTTP parser in every process that calls it, which cost `mote status` about 0.3 s of its start on
 * this machine (npm run bench:cli).
 */
async function exchange(url: URL, method: "GET" | "POST", body: string | undefined): Promise<HttpResponse> {
  const { request } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
  const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, signal: AbortSignal.timeout(requestTimeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > responseBytesMax) req.destroy(new ApiClientError("API_BAD_RESPONSE", `${method} ${url.pathname} answered more than ${responseBytesMax} bytes; is ${url.origin} a Moteledger gateway?`));
        else chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
