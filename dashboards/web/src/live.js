// Live updates from `GET /api/v1/live` (Server-Sent Events). EventSource cannot send an Authorization
// header, so the stream is read with fetch and parsed here; the last event id is sent back on reconnect
// (`Last-Event-ID`, as EventSource would) so nothing is missed while the network blinks.

/** Split a buffer into complete SSE blocks and the unfinished rest. */
export function splitBlocks(buffer) {
  const text = buffer.replace(/\r\n?/g, "\n");
  const parts = text.split("\n\n");
  const rest = parts.pop();
  return [parts.filter((p) => p.trim() !== ""), rest];
}

/** Parse one SSE block into {event, data, id}; comments (":keepalive") give null. */
export function parseBlock(block) {
  let event = "message";
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") id = value;
  }
  if (!data.length) return null;
  return { event, id, data: data.join("\n") };
}

export function connectLive({ url, token, onEvent, onStatus = () => {}, retryMs = 1000 }) {
  let lastId = null;
  let stopped = false;
  let controller = null;

  async function readOnce() {
    controller = new AbortController();
    const headers = { Accept: "text/event-stream" };
    const secret = token();
    if (secret) headers.Authorization = `Bearer ${secret}`;
    if (lastId) headers["Last-Event-ID"] = lastId;
    const res = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
    if (!res.ok) throw new Error(`live stream answered ${res.status}`);
    onStatus("live");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const [blocks, rest] = splitBlocks(buffer + value);
      buffer = rest;
      for (const block of blocks) {
        const message = parseBlock(block);
        if (!message) continue;
        if (message.id) lastId = message.id;
        let payload;
        try {
          payload = JSON.parse(message.data);
        } catch {
          continue;
        }
        onEvent(message.event, payload);
      }
    }
  }

  (async () => {
    let delay = retryMs;
    while (!stopped) {
      try {
        await readOnce();
        delay = retryMs;
      } catch {
        if (stopped) return;
      }
      onStatus("reconnecting");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  })();

  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
      onStatus("offline");
    },
  };
}
