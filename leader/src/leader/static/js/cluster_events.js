// GET /api/events, the cluster's stream (experiments created/archived/…, alerts opened/resolved), once per
// page: every module that follows it (the navigation's alert count, the experiments list) subscribes here
// and shares one EventSource. Each open stream holds a thread of the leader's web workers, so a page never
// opens two to the same URL, and a tab hidden for HIDDEN_MS closes its stream; shown again, it reopens from
// the last event it had (`?after=`), so nothing is missed. The first URL (with the cursor read when the page
// was rendered) is in <meta name="cluster-events">, present for those who may read the stream.
const HIDDEN_MS = 60_000;
const base = document.querySelector('meta[name="cluster-events"]')?.content;
const handlers = new Map(); // event name -> [handler]
let source = null;
let lastId = null;
let closeTimer = null;

function url() {
  if (lastId === null) return base;
  const next = new URL(base, window.location.href);
  next.searchParams.set("after", lastId);
  return next.pathname + next.search;
}

function listen(name) {
  source.addEventListener(name, (event) => {
    if (event.lastEventId) lastId = event.lastEventId;
    for (const handler of handlers.get(name)) handler(event);
  });
}

function open() {
  source = new EventSource(url()); // reconnects with Last-Event-ID by itself
  for (const name of handlers.keys()) listen(name);
}

// `handler(event)` on each event `name`; false when this page has no stream (signed out)
export function onClusterEvent(name, handler) {
  if (!base) return false;
  if (!handlers.has(name)) {
    handlers.set(name, []);
    if (source) listen(name);
  }
  handlers.get(name).push(handler);
  if (!source && document.visibilityState !== "hidden") open();
  return true;
}

document.addEventListener("visibilitychange", () => {
  clearTimeout(closeTimer);
  if (document.visibilityState === "hidden") {
    closeTimer = setTimeout(() => {
      source?.close();
      source = null;
    }, HIDDEN_MS);
  } else if (!source && handlers.size) {
    open();
  }
});
