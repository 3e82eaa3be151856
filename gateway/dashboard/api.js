// Talking to the gateway: JSON over fetch (errors carry the API's { error: { code, message } })
// and server-sent events with automatic reconnection (EventSource resumes from Last-Event-ID).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function get(path) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ApiError(0, "UNREACHABLE", `the gateway did not answer (${e.message})`);
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? "HTTP_" + res.status, body?.error?.message ?? res.statusText);
  return body;
}

/**
 * Opens /v1/stream with the given query and calls handlers by event name. Returns a close
 * function. `onState` gets "open" | "connecting" | "closed" for the live indicator.
 */
export function stream(query, handlers, onState = () => {}) {
  const es = new EventSource(`/v1/stream${query ? "?" + query : ""}`);
  onState("connecting");
  es.onopen = () => onState("open");
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? "closed" : "connecting");
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (ev) => {
      try {
        fn(JSON.parse(ev.data));
      } catch (e) {
        console.error(`bad ${name} event`, e);
      }
    });
  }
  return () => es.close();
}
