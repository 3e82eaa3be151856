// Rough edges of the HTTP API a new user hit (issue 14), over real sockets: every error leaves in
// the API's envelope `{"error":{"code","message"}}` (Node's parser refusals used to answer in
// fastify's), and the event stream limits streams per client (remote address) as well as in all,
// so one client holding idle streams does not take every dashboard offline.
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
const perClient = 3;
const global = 6;

beforeAll(async () => {
  net = await startTestNet({ boards: 0, listen: true, api: { sseClientsMax: global, sseClientsPerAddressMax: perClient, requestTimeoutMs: 1000 } });
});
afterAll(async () => {
  for (const s of streams) s.destroy();
  await net?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Raw bytes in, the whole answer out (the server closes the connection on these errors). */
function raw(bytes: string): Promise<Answer> {
  const url = new URL(net.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), url.hostname, () => s.write(bytes));
    let text = "";
    s.setEncoding("latin1");
    s.on("data", (d: string) => (text += d));
    s.on("error", () => {}); // the server may reset after answering
    s.on("close", () => {
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
      if (!m) return reject(new Error(`no HTTP answer to ${JSON.stringify(bytes.slice(0, 60))}: ${JSON.stringify(text)}`));
      resolve({ status: Number(m[1]), headers: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()])), body: rest.join("\r\n\r\n") });
    });
    setTimeout(() => s.destroy(), 10_000);
  });
}

async function viaFetch(path: string, init: RequestInit = {}): Promise<Answer> {
  const r = await fetch(`${net.url}${path}`, init);
  return { status: r.status, headers: Object.fromEntries(r.headers), body: await r.text() };
}

function expectEnvelope(a: Answer, status: number, code: string, what: string): void {
  expect(a.status, `${what}: ${a.body}`).toBe(status);
  expect(a.headers["content-type"], what).toMatch(/^application\/json/);
  const json = JSON.parse(a.body);
  expect(Object.keys(json), `${what}: ${a.body}`).toEqual(["error"]);
  expect(Object.keys(json.error).sort(), what).toEqual(["code", "message"]);
  expect(json.error.code, what).toBe(code);
  expect(json.error.message.length, what).toBeGreaterThan(10);
}

describe("every error in the API's envelope", () => {
  it("unknown route, malformed JSON, body too large, unsupported media type, malformed HTTP, headers too large, request timeout", async () => {
    const json = { "content-type": "application/json" };
    const cases: [string, () => Promise<Answer>, number, string][] = [
      ["unknown route", () => viaFetch("/v2/nothing"), 404, "NOT_FOUND"],
      ["malformed JSON body", () => viaFetch("/v1/txs", { method: "POST", headers: json, body: '{"tx": ' }), 400, "MALFORMED_JSON"],
      ["body too large", () => viaFetch("/v1/txs", { method: "POST", headers: json, body: JSON.stringify({ tx: "ab".repeat(64 << 10) }) }), 413, "BODY_TOO_LARGE"],
      ["unsupported media type", () => viaFetch("/v1/txs", { method: "POST", headers: { "content-type": "application/xml" }, body: "<tx/>" }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["malformed HTTP (Content-Length)", () => raw("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}"), 400, "BAD_HTTP"],
      ["malformed HTTP (request line)", () => raw("HELLO\r\n\r\n"), 400, "BAD_HTTP"],
      ["headers too large", () => raw(`GET /v1/head HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 << 10)}\r\n\r\n`), 431, "HEADERS_TOO_LARGE"],
      // Half a body, then silence: cut off after requestTimeoutMs (1 s here), checked every second.
      ["request timeout", () => raw("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"tx\":"), 408, "REQUEST_TIMEOUT"],
    ];
    const answers = await Promise.all(cases.map(([, send]) => send()));
    answers.forEach((a, i) => expectEnvelope(a, cases[i][2], cases[i][3], cases[i][0]));
  });
});

const streams: IncomingMessage[] = [];

/** Opens /v1/stream from a given loopback source address (127.0.0.0/8 is all local on Linux). */
function stream(from: string): Promise<Answer & { res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(`${net.url}/v1/stream?events=block`, { localAddress: from, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode === 200) {
        streams.push(res);
        return resolve({ status: 200, headers: res.headers as Record<string, string>, body: "", res });
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, body, res }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("GET /v1/stream limits", () => {
  it("a client holding its share of streams gets 429; other clients still connect, up to the global limit (503)", async () => {
    const hog = await Promise.all(Array.from({ length: perClient }, () => stream("127.0.0.1")));
    expect(hog.map((s) => s.status)).toEqual(Array(perClient).fill(200));
    const refused = await stream("127.0.0.1");
    expectEnvelope(refused, 429, "TOO_MANY_STREAMS", "one client over its share");
    expect(refused.headers["retry-after"]).toBe("5");
    expect(JSON.parse(refused.body).error.message).toContain(`${perClient} streams open already`);

    // Another dashboard (another address) is not offline because of it.
    const other = await stream("127.0.0.2");
    expect(other.status).toBe(200);
    // The global limit still holds: 3 + 1 + 2 = 6 streams, the 7th is refused whoever asks.
    expect((await Promise.all([stream("127.0.0.3"), stream("127.0.0.4")])).map((s) => s.status)).toEqual([200, 200]);
    expectEnvelope(await stream("127.0.0.5"), 503, "STREAMS_FULL", "over the global limit");

    // A closed stream gives its client's share back.
    hog[0].res.destroy();
    await net.waitFor(() => net.api.context.sse.streamsOf("127.0.0.1") === perClient - 1, 5000);
    expect((await stream("127.0.0.1")).status).toBe(200);
    expect(net.api.context.sse.size).toBe(global);
  });
});
