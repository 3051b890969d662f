// The job page's player, loaded only on a job page with something to play (hls.js is ~390 KB: never on the first page).
// HLS plays through hls.js served from this listener (no CDN) where Media Source Extensions exist, else natively (iOS).
// hls.js runs without its worker (enableWorker: false) so the Content-Security-Policy needs no blob: scripts.

let loading;
function loadHls() {
  loading ??= new Promise((resolve, reject) => {
    if (window.Hls) return resolve(window.Hls);
    const s = document.createElement('script');
    s.src = '/ui/vendor/hls.light.min.js';
    s.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error('hls.js did not load')));
    s.onerror = () => reject(new Error('hls.js could not be fetched'));
    document.head.append(s);
  });
  return loading;
}

export async function play(video, source, status, h) {
  const expired = (detail) => {
    const again = h('button', { type: 'button', id: 'player-reload' }, 'Load again');
    again.addEventListener('click', () => {
      status.textContent = 'Reloading…';
      play(video, source, status, h);
    });
    status.replaceChildren(
      `The video could not be fetched${detail ? ` (${detail})` : ''}: its signed links may have expired (they last 15 minutes), or the file is gone. `,
      again,
    );
  };
  video.addEventListener('error', () => expired(video.error?.message), { once: true });
  const mse = 'MediaSource' in window || 'ManagedMediaSource' in window;
  // hls.js where Media Source Extensions exist (the same player everywhere); the browser's own HLS elsewhere (iPhone).
  if (source.kind !== 'hls' || (!mse && video.canPlayType('application/vnd.apple.mpegurl'))) {
    video.src = source.url;
    video.dataset.ready = 'native';
    return;
  }
  const Hls = await loadHls();
  if (!Hls.isSupported()) {
    status.textContent = 'This browser cannot play HLS (no Media Source Extensions).';
    return;
  }
  video.__hls?.destroy();
  // A segment answering 403/404 is an expired link or a deleted file: retrying the same URL cannot fix it, so give up
  // after one retry and offer "Load again" (fresh links) rather than hls.js's default minute of backoff.
  const fail = { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 };
  const timeout = { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 };
  const policy = { default: { maxTimeToFirstByteMs: 10_000, maxLoadTimeMs: 60_000, timeoutRetry: timeout, errorRetry: fail } };
  const hls = new Hls({ enableWorker: false, fragLoadPolicy: policy, playlistLoadPolicy: policy, manifestLoadPolicy: policy });
  video.__hls = hls;
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    hls.destroy();
    video.__hls = undefined;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) expired(`${data.details}${data.response?.code ? `, HTTP ${data.response.code}` : ''}`);
    else status.textContent = `The video cannot be played: ${data.details}`;
  });
  hls.loadSource(source.url);
  hls.attachMedia(video);
  video.dataset.ready = 'hls.js';
}
