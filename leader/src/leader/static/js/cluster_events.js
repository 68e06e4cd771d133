// GET /api/events, the cluster's stream (experiments created/archived/…, alerts opened/resolved), once per
// page: every module that follows it (the navigation's alert count, the experiments list) shares this one
// EventSource. Each stream holds a thread of the leader's web workers for as long as the page is open, so
// a page never opens two to the same URL. The URL (with the cursor read when the page was rendered, so
// nothing between render and connect is lost) is in <meta name="cluster-events">, present for those who
// may read the stream.
let source = null;

export function clusterEvents() {
  if (source) return source;
  const url = document.querySelector('meta[name="cluster-events"]')?.content;
  if (!url) return null;
  source = new EventSource(url); // reconnects with Last-Event-ID by itself
  return source;
}
