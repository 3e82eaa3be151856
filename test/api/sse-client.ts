// A minimal text/event-stream reader for tests (WHATWG HTML §9.2.6 field parsing), over a real
// HTTP connection, so the stream is tested as a browser's EventSource would receive it.
import { request, type IncomingMessage } from "node:http";

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  private buffer = "";
  private ended = false;

  private constructor(
    readonly response: IncomingMessage,
    private readonly close: () => void,
  ) {
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => this.feed(chunk));
    response.on("end", () => (this.ended = true));
    response.on("error", () => (this.ended = true));
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => resolve(new SseClient(res, () => req.destroy())));
      req.on("error", reject);
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const e: SseEvent = { event: "message", data: "" };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) {
          this.comments++;
          continue;
        }
        const i = line.indexOf(":");
        const [name, value] = i < 0 ? [line, ""] : [line.slice(0, i), line.slice(i + 1).replace(/^ /, "")];
        fields++;
        if (name === "data") data.push(value);
        else if (name === "event") e.event = value;
        else if (name === "id") e.id = value;
      }
      if (data.length) this.events.push({ ...e, data: data.join("\n") });
      else if (fields === 0) continue;
    }
  }

  of(event: string): unknown[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`SSE condition not met after ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(",")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  destroy(): void {
    this.close();
  }
}
