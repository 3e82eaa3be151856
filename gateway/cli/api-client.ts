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

export class ApiClient {
  constructor(readonly baseUrl: string = defaultApiUrl) {
    // --api is checked by its parser; MOTE_API arrives unchecked.
    if (!isHttpUrl(baseUrl)) throw new UsageError("BAD_API_URL", `"${baseUrl}" is not an http(s) URL: give the gateway API's address with --api or MOTE_API, e.g. http://127.0.0.1:8080`);
  }

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (e) {
      throw new ApiClientError("API_UNREACHABLE", `cannot reach the gateway API at ${this.baseUrl} (${(e as Error).message}); is the gateway running? Set --api or MOTE_API`);
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiClientError("API_BAD_RESPONSE", `${method} ${url.pathname} answered ${res.status} with a body that is not JSON; is ${this.baseUrl} a Moteledger gateway?`, res.status);
    }
    if (!res.ok) {
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
