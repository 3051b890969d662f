// The vidpipe dashboard: plain ES module, no framework, no build. Every value from the API is put in the page with
// textContent (h() below): an event field holding "<script>" shows as those characters, it never runs.
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const liveBadge = document.getElementById('live');
const CLIENT = { 'x-vidpipe-client': 'dashboard' };

/** Builds an element: h('a', { href, class }, child, 'text', …). Strings become text nodes, never markup. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, credentials: 'same-origin', headers: { ...CLIENT, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  if (res.status === 401) throw new Unauthorized('signed out');
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error((body && body.message) || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

const pad = (n) => String(n).padStart(2, '0');
function time(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}` : `${Math.floor(s / 60)}:${pad(s % 60)}`;
}
function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}
const badge = (state) => h('span', { class: `badge s-${state}` }, state);
function renditions(video) {
  const sizes = new Set();
  for (const o of video.outputs || []) if ((o.kind === 'rendition' || o.kind === 'video') && o.width && o.height) sizes.add(`${o.width}×${o.height}`);
  return [...sizes].sort((a, b) => parseInt(b) - parseInt(a));
}

// ── sign-in ────────────────────────────────────────────────────────────────────────────────────────────────────────
function showSignIn(message) {
  nav.hidden = true;
  liveBadge.hidden = true;
  stopLive();
  const msg = h('p', { class: 'msg', role: 'alert', id: 'signin-msg' }, message || '');
  const key = h('input', { type: 'password', name: 'apiKey', id: 'apiKey', autocomplete: 'current-password', placeholder: 'the listener’s API key' });
  const user = h('input', { type: 'text', name: 'user', id: 'user', autocomplete: 'username' });
  const pass = h('input', { type: 'password', name: 'password', id: 'password', autocomplete: 'current-password' });
  const form = h(
    'form',
    { class: 'signin box', id: 'signin' },
    h('h1', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Use the listener’s API key (the one EventBridge sends; `vidpipe setup` saved it in the secrets file).'),
    h('label', {}, 'API key', key),
    h('details', {}, h('summary', {}, 'Basic user and password instead'), h('label', {}, 'User', user), h('label', {}, 'Password', pass)),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    msg,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    const body = key.value ? { apiKey: key.value } : { user: user.value, password: pass.value };
    const res = await fetch('/dashboard/session', { method: 'POST', credentials: 'same-origin', headers: { ...CLIENT, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      msg.textContent = answer.message || `Sign-in failed (HTTP ${res.status}).`;
      return;
    }
    route();
  });
  main.replaceChildren(form);
  key.focus();
}

document.getElementById('signout').addEventListener('click', async () => {
  await fetch('/dashboard/session', { method: 'DELETE', credentials: 'same-origin', headers: CLIENT });
  showSignIn('Signed out.');
});

// ── live updates (server-sent events from the listener's commit path) ───────────────────────────────────────────────
let source;
let onLive = () => {};
function startLive() {
  if (source) return;
  source = new EventSource('/api/stream');
  source.addEventListener('open', () => {
    liveBadge.textContent = 'live';
    liveBadge.classList.add('on');
    onLive({ type: 'open' });
  });
  source.addEventListener('error', () => {
    liveBadge.textContent = 'offline';
    liveBadge.classList.remove('on');
  });
  source.addEventListener('commit', (e) => onLive({ type: 'commit', ...JSON.parse(e.data) }));
  source.addEventListener('notifications', () => onLive({ type: 'notifications' }));
}
function stopLive() {
  source?.close();
  source = undefined;
}
/** Runs fn at most once per 300 ms while events stream in. */
function debounce(fn) {
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, 300);
  };
}

// ── routing ────────────────────────────────────────────────────────────────────────────────────────────────────────
let session;
async function route() {
  try {
    session ??= await api('/api/session');
  } catch (err) {
    session = undefined;
    if (err instanceof Unauthorized) return showSignIn();
    main.replaceChildren(h('p', { class: 'box error' }, `The listener did not answer: ${err.message}`));
    return;
  }
  nav.hidden = false;
  liveBadge.hidden = false;
  startLive();
  onLive = () => {};
  const path = location.pathname;
  const job = /^\/jobs\/(.+)$/.exec(path);
  try {
    if (job) await jobPage(decodeURIComponent(job[1]));
    else if (path === '/notifications') await notificationsPage();
    else await postsPage();
  } catch (err) {
    if (err instanceof Unauthorized) {
      session = undefined;
      return showSignIn('Your session ended (it expired, or the API key changed). Sign in again.');
    }
    main.replaceChildren(h('p', { class: 'box error' }, err.message));
  }
}

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-nav]');
  if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);

// ── posts ──────────────────────────────────────────────────────────────────────────────────────────────────────────
const STATES = [['', 'All states'], ['PROGRESSING', 'Processing'], ['COMPLETE', 'Complete'], ['ERROR', 'Error'], ['CANCELED', 'Canceled']];

function thumbnail(video) {
  const hasThumb = (video.outputs || []).some((o) => o.kind === 'thumbnail');
  const none = (text) => h('div', { class: 'thumb none' }, text);
  if (!hasThumb) return none(video.status === 'COMPLETE' ? 'No thumbnail' : video.status === 'PROGRESSING' ? 'Processing…' : 'No thumbnail');
  const img = h('img', { class: 'thumb', alt: `thumbnail of ${video.postId ?? video.jobId}`, loading: 'lazy', src: `/api/videos/${encodeURIComponent(video.jobId)}/thumbnail` });
  img.addEventListener('error', () => img.replaceWith(none('Thumbnail unavailable')));
  return img;
}

function card(video) {
  const link = `/jobs/${encodeURIComponent(video.jobId)}`;
  const sizes = renditions(video);
  return h(
    'li',
    { class: 'card', 'data-job': video.jobId },
    h('a', { href: link, 'data-nav': true, tabindex: -1 }, thumbnail(video)),
    h(
      'div',
      { class: 'body' },
      h('a', { class: 'title', href: link, 'data-nav': true }, video.postId !== null ? `Post ${video.postId}` : `Job ${video.jobId}`),
      h('div', {}, badge(video.status), ' ', h('span', { class: 'muted' }, video.status === 'PROGRESSING' && video.progress !== null ? `${video.progress}%` : '')),
      video.status === 'PROGRESSING' ? h('progress', { max: 100, value: video.progress ?? 0 }) : null,
      h('div', { class: 'muted' }, `Duration ${duration(video.durationMs)}`),
      h('div', { class: 'muted' }, sizes.length ? `Renditions ${sizes.join(', ')}` : 'No renditions'),
      h('div', { class: 'muted' }, `Updated ${time(video.lastEventAt)}`),
    ),
  );
}

async function postsPage() {
  const params = new URLSearchParams(location.search);
  const state = params.get('state') || '';
  const select = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' }, ...STATES.map(([v, label]) => h('option', { value: v, selected: v === state }, label)));
  select.addEventListener('change', () => {
    history.replaceState(null, '', select.value ? `/?state=${select.value}` : '/');
    route();
  });
  const list = h('ul', { class: 'cards', id: 'posts' });
  const more = h('button', { type: 'button', hidden: true }, 'More');
  const empty = h('p', { class: 'muted', hidden: true, id: 'posts-empty' }, state ? 'No videos in this state.' : 'No videos yet. Upload one (vidpipe upload) or simulate one (vidpipe simulate-complete).');
  main.replaceChildren(h('h1', {}, 'Posts'), h('div', { class: 'toolbar' }, select), list, empty, more);

  let cursor = null;
  const shown = new Set();
  async function load(reset) {
    const q = new URLSearchParams({ limit: '60' });
    if (state) q.set('status', state);
    if (!reset && cursor) q.set('cursor', cursor);
    const page = await api(`/api/videos?${q}`);
    if (reset) {
      list.replaceChildren();
      shown.clear();
    }
    // A post shows its newest video: the list is newest first, so the first job seen for a post is the one.
    for (const v of page.videos) {
      const key = v.postId !== null ? `p:${v.postId}` : `j:${v.jobId}`;
      if (shown.has(key)) continue;
      shown.add(key);
      list.append(card(v));
    }
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  }
  more.addEventListener('click', () => load(false));
  await load(true);
  const refresh = debounce(() => load(true).catch(() => {}));
  onLive = (e) => (e.type === 'commit' || e.type === 'open') && refresh();
}

// ── a job ──────────────────────────────────────────────────────────────────────────────────────────────────────────
function facts(pairs) {
  return h('dl', { class: 'facts' }, ...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

async function jobPage(jobId) {
  const id = encodeURIComponent(jobId);
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  let detail;
  try {
    detail = await api(`/api/videos/${id}`);
  } catch (err) {
    if (err.status === 404) {
      main.replaceChildren(h('h1', {}, `Job ${jobId}`), h('p', { class: 'box' }, 'No such job here (yet). It appears as soon as its first event is stored.'));
      onLive = (e) => e.type === 'commit' && e.events.some((x) => x.jobId === jobId) && route();
      return;
    }
    throw err;
  }
  const header = h('div', { id: 'job-header' });
  const anomalies = h('div', { id: 'anomalies' });
  const player = h('section', { id: 'player' });
  const outputs = h('section', { id: 'outputs' });
  const timeline = h('section', { id: 'timeline' });
  const notes = h('section', { id: 'job-notifications' });
  main.replaceChildren(h('h1', {}, `Job ${jobId}`), header, anomalies, player, outputs, timeline, notes);

  let playerKey = '';
  async function render(d) {
    const v = d.video;
    header.replaceChildren(
      ...[h('div', { class: 'toolbar' }, badge(v.status), v.postId !== null ? h('span', {}, `Post ${v.postId}`) : h('span', { class: 'muted' }, 'No post id')),
      v.status === 'PROGRESSING' ? h('progress', { max: 100, value: v.progress ?? 0, id: 'job-progress' }) : null,
      facts([
        ['Progress', v.progress !== null ? `${v.progress}%` : null],
        ['Phase', v.currentPhase],
        ['Duration', v.durationMs !== null ? duration(v.durationMs) : null],
        ['Size', v.width && v.height ? `${v.width}×${v.height}` : null],
        ['Input', v.inputUri],
        ['Queue', v.queue],
        ['First event', time(v.firstEventAt)],
        ['Last event', time(v.lastEventAt)],
        ['Events', String(v.eventCount)],
        ['Error', v.errorCode !== null || v.errorMessage ? `${v.errorCode ?? ''} ${v.errorMessage ?? ''}`.trim() : null],
        ['User metadata', Object.keys(v.userMetadata || {}).length ? Object.entries(v.userMetadata).map(([k, val]) => `${k}: ${val}`).join('\n') : null],
      ])].filter(Boolean),
    );
    anomalies.replaceChildren(
      ...(v.anomalies.length
        ? [h('div', { class: 'box warn' }, h('strong', {}, 'Anomalies'), h('ul', {}, ...v.anomalies.map((a) => h('li', {}, `${a.status} at ${time(a.at)} (event ${a.eventId}): ${a.reason}`))))]
        : []),
    );
    const [media, tl] = await Promise.all([api(`/api/videos/${id}/media`), api(`/api/videos/${id}/timeline`)]);
    const key = JSON.stringify(media.player);
    if (key !== playerKey) {
      playerKey = key;
      renderPlayer(player, media);
    }
    renderOutputs(outputs, media);
    renderTimeline(timeline, tl);
    renderNotifications(notes, d.notifications.map((n) => ({ ...n, postId: v.postId })), 'Notifications of this job', () => refresh());
  }
  const refresh = debounce(async () => {
    try {
      await render(await api(`/api/videos/${id}`));
    } catch (err) {
      if (err instanceof Unauthorized) route();
    }
  });
  await render(detail);
  onLive = (e) => (e.type === 'open' || e.type === 'notifications' || (e.type === 'commit' && e.events.some((x) => x.jobId === jobId))) && refresh();
}

function renderPlayer(section, media) {
  const p = media.player;
  const head = h('h2', {}, 'Player');
  if (p.state !== 'playable') {
    section.replaceChildren(head, h('p', { class: 'box', id: 'player-state' }, p.state === 'none' ? `Nothing to play: ${p.reason}` : p.reason));
    return;
  }
  const video = h('video', { controls: true, playsInline: true, muted: true, preload: 'metadata', id: 'video' });
  const status = h('p', { class: 'muted', id: 'player-state' }, `${p.kind === 'hls' ? 'HLS' : 'MP4'} from ${p.source === 's3' ? 'S3 (short-lived signed links)' : p.source === 'file' ? 'the local output directory' : p.url}`);
  section.replaceChildren(head, video, status);
  import('/ui/player.js').then((m) => m.play(video, p, status, h)).catch((err) => (status.textContent = `The player did not load: ${err.message}`));
}

function renderOutputs(section, media) {
  const head = h('h2', {}, 'Outputs');
  if (!media.outputs.length) {
    section.replaceChildren(head, h('p', { class: 'box', id: 'no-outputs' }, 'No outputs: the job has not completed, or it completed without listing any.'));
    return;
  }
  section.replaceChildren(
    head,
    media.thumbnail.state !== 'available' ? h('p', { class: 'muted', id: 'thumb-state' }, `Thumbnail: ${media.thumbnail.reason}`) : '',
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['Group', 'Kind', 'File', 'Size', 'Dimensions', 'Duration'].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          ...media.outputs.map((o) =>
            h('tr', {}, h('td', {}, o.group), h('td', {}, o.kind), h('td', { class: 'uri' }, o.uri), h('td', {}, bytes(o.size)), h('td', {}, o.width && o.height ? `${o.width}×${o.height}` : '—'), h('td', {}, duration(o.durationMs))),
          ),
        ),
      ),
    ),
  );
}

function renderTimeline(section, tl) {
  const open = new Set([...section.querySelectorAll('pre.raw')].map((p) => p.dataset.event));
  const items = tl.events.map((e) => {
    const raw = h('div', {});
    const toggle = h('button', { type: 'button', class: 'link', 'data-raw': e.eventId }, 'Raw JSON');
    async function show() {
      if (raw.firstChild) return raw.replaceChildren();
      const body = await api(`/api/events/${encodeURIComponent(e.eventId)}`);
      raw.replaceChildren(h('pre', { class: 'raw', 'data-event': e.eventId }, JSON.stringify(body, null, 2)));
    }
    toggle.addEventListener('click', () => show().catch((err) => raw.replaceChildren(h('p', { class: 'msg' }, err.message))));
    if (open.has(e.eventId)) show().catch(() => {});
    return h(
      'li',
      { class: e.anomaly ? 'anomaly' : '', 'data-status': e.status ?? '' },
      h(
        'div',
        { class: 'line' },
        h('span', { class: 'when' }, time(e.detailTimestamp ?? e.receivedAt)),
        badge(e.status ?? 'unknown'),
        e.percent !== null ? h('span', {}, `${e.percent}%`) : null,
        e.phase ? h('span', { class: 'muted' }, e.phase) : null,
        toggle,
      ),
      ...e.warnings.map((w) => h('div', { class: 'muted' }, `Warning ${w.code}${w.message ? `: ${w.message}` : ''}${w.count !== null ? ` (×${w.count})` : ''}`)),
      e.errorCode !== null || e.errorMessage !== null ? h('div', { class: 's-ERROR' }, `Error ${e.errorCode ?? ''} ${e.errorMessage ?? ''}`) : null,
      e.anomaly ? h('div', { class: 's-ERROR' }, `Anomaly: ${e.anomaly}`) : null,
      raw,
    );
  });
  section.replaceChildren(h('h2', {}, 'Timeline'), items.length ? h('ol', { class: 'timeline' }, ...items) : h('p', { class: 'muted' }, 'No events.'));
}

// ── notifications ──────────────────────────────────────────────────────────────────────────────────────────────────
function renderNotifications(section, rows, title, reload) {
  const head = h('h2', {}, title);
  if (!rows.length) {
    section.replaceChildren(head, h('p', { class: 'muted' }, 'None.'));
    return;
  }
  const msg = h('p', { class: 'msg', role: 'status' });
  section.replaceChildren(
    head,
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { class: 'notifications' },
        h('thead', {}, h('tr', {}, ...['#', 'Job', 'Post', 'Kind', 'State', 'Attempts', 'Next attempt', 'Last error', ''].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          ...rows.map((n) => {
            const retry =
              n.state === 'failed' || n.state === 'skipped'
                ? h('button', { type: 'button', 'data-retry': n.id }, 'Retry')
                : null;
            retry?.addEventListener('click', async () => {
              retry.disabled = true;
              try {
                const r = await api('/api/notifications/retry', { method: 'POST', body: JSON.stringify({ ids: [n.id] }) });
                msg.textContent = r.requeued.length ? `Notification ${n.id} queued to send again.` : `Notification ${n.id} was not failed or skipped any more.`;
                reload();
              } catch (err) {
                retry.disabled = false;
                msg.textContent = err.message;
              }
            });
            return h(
              'tr',
              { 'data-notification': n.id, 'data-state': n.state },
              h('td', {}, String(n.id)),
              h('td', { class: 'uri' }, h('a', { href: `/jobs/${encodeURIComponent(n.jobId)}`, 'data-nav': true }, n.jobId)),
              h('td', {}, n.postId ?? '—'),
              h('td', {}, n.kind),
              h('td', {}, badge(n.state)),
              h('td', {}, String(n.attempts)),
              h('td', {}, n.state === 'pending' ? time(n.nextAttemptAt) : '—'),
              h('td', { class: 'uri' }, n.lastError ?? '—'),
              h('td', {}, retry),
            );
          }),
        ),
      ),
    ),
    msg,
  );
}

async function notificationsPage() {
  const state = new URLSearchParams(location.search).get('state') || '';
  const select = h(
    'select',
    { id: 'notification-filter', 'aria-label': 'Filter by state' },
    ...[['', 'All'], ['pending', 'Pending'], ['sent', 'Sent'], ['failed', 'Failed'], ['skipped', 'Skipped']].map(([v, l]) => h('option', { value: v, selected: v === state }, l)),
  );
  select.addEventListener('change', () => {
    history.replaceState(null, '', select.value ? `/notifications?state=${select.value}` : '/notifications');
    route();
  });
  const section = h('section', { id: 'notifications' });
  main.replaceChildren(h('h1', {}, 'Notifications'), h('div', { class: 'toolbar' }, select), section);
  const load = async () => {
    const { notifications } = await api(`/api/notifications?limit=200${state ? `&state=${state}` : ''}`);
    renderNotifications(section, notifications, 'Slack messages', () => refresh());
  };
  const refresh = debounce(() => load().catch(() => {}));
  await load();
  onLive = () => refresh();
}

route();
