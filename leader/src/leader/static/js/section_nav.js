// The experiment page's section bar on phones (templates/_experiment_section_nav.html): marks the link of
// the section being read with aria-current as the page scrolls. The links are plain anchors and jump
// without this module; the bar is display:none on wide screens, where there is nothing to mark.
const nav = document.querySelector("[data-section-nav]");

const sections = nav
  ? [...nav.querySelectorAll('a[href^="#"]')]
      .map((link) => ({ link, target: document.getElementById(link.hash.slice(1)) }))
      .filter((s) => s.target)
  : [];

function mark(current) {
  for (const s of sections) {
    if (s === current) s.link.setAttribute("aria-current", "true");
    else s.link.removeAttribute("aria-current");
  }
}

function update() {
  if (nav.getClientRects().length === 0) return; // hidden: a wide screen
  // the section being read: the last whose top has passed just under the bar (the anchor jumps put a
  // section's top there: scroll-padding-top in experiment.css)
  const line = nav.getBoundingClientRect().bottom + 24;
  let current = null;
  for (const s of sections) if (s.target.getBoundingClientRect().top <= line) current = s;
  // scrolled to the end: the last section, even when it is too short to reach the bar
  const root = document.documentElement;
  if (window.innerHeight + window.scrollY >= root.scrollHeight - 2) current = sections.at(-1);
  mark(current);
}

let queued = false;
function schedule() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    update();
  });
}

if (sections.length) {
  window.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule);
  // live rows (logs, charts) change the page's height under a still reader
  new ResizeObserver(schedule).observe(document.body);
  update();
}
