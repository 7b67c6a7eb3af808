// The /ops page: the live calls (GET /rtc/calls) and, for each, small charts
// of every participant's streams over the last minutes (GET
// /rtc/rooms/:callId/stats): bitrate, loss, jitter, RTT, score. Polls every
// 2 s with the service token the page was opened with (/ops?token=...).
// Every server string goes in through textContent; no library.
(() => {
  'use strict';
  const POLL_MS = 2000;
  const MAX_CALLS_CHARTED = 6;
  const MIN_SPAN_MS = 30_000;
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const state = { calls: [], stats: new Map(), selected: null, polls: 0, errors: 0, lastError: null };
  window.ops = { state };

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error(`${path.split('?')[0]}: ${res.status} ${body?.error ?? ''} ${body?.message ?? ''}`);
    return body;
  }

  const el = (tag, attrs = {}, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const fmt = {
    bitrate: (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} Mbit/s` : `${(v / 1e3).toFixed(1)} kbit/s`),
    loss: (v) => `${v.toFixed(1)} %`,
    jitter: (v) => `${v.toFixed(1)} ms`,
    rtt: (v) => `${v.toFixed(0)} ms`,
    score: (v) => `${v}/10`,
  };
  const field = { bitrate: 'bitrate', loss: 'lossPct', jitter: 'jitterMs', rtt: 'rttMs', score: 'score' };
  const dur = (ms) => {
    if (ms === null || ms === undefined) return '–';
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };

  /** A sparkline of one metric of a stream's samples (x = time over the window). */
  function chart(kind, samples, windowS, serverNow) {
    const w = 150;
    const h = 36;
    const box = el('div', { class: `chart ${kind}`, 'data-metric': kind });
    const values = samples.map((s) => Number(s[field[kind]]) || 0);
    const last = values.length ? values[values.length - 1] : 0;
    box.append(el('span', {}, `${kind} ${values.length ? fmt[kind](last) : '–'}`));
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', String(w));
    svg.setAttribute('height', String(h));
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const max = 1.15 * (kind === 'score' ? 10 : kind === 'loss' ? Math.max(5, ...values) : Math.max(1e-9, ...values));
    // x: from the first sample (at most the window back) to now (the server's clock: the
    // samples' times are its), at least MIN_SPAN_MS wide
    const now = serverNow;
    const first = samples.length ? samples[0].t : now;
    const from = Math.min(now - MIN_SPAN_MS, Math.max(now - windowS * 1000, first));
    const span = now - from;
    const pts = samples.map((s, i) => {
      const x = Math.max(0, Math.min(w, ((s.t - from) / span) * w));
      const y = h - 2 - (values[i] / max) * (h - 4);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    if (pts.length > 1) {
      const area = document.createElementNS(SVG, 'polygon');
      area.setAttribute('points', `${pts[0].split(',')[0]},${h} ${pts.join(' ')} ${pts[pts.length - 1].split(',')[0]},${h}`);
      area.setAttribute('class', 'area');
      svg.append(area);
    }
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.append(line);
    box.append(svg);
    box.dataset.points = String(pts.length);
    box.dataset.max = String(Math.max(0, ...values));
    return box;
  }

  function renderCalls() {
    const tbody = $('calls');
    tbody.replaceChildren();
    for (const c of state.calls) {
      const st = state.stats.get(c.callId);
      const streams = st ? st.participants.reduce((a, p) => a + p.streams.length, 0) : '–';
      const tr = el('tr', { 'data-call': c.callId });
      if (state.selected === c.callId) tr.className = 'selected';
      tr.append(el('td', {}, c.callId), el('td', {}, c.node ?? 'this node'), el('td', {}, (c.participants ?? []).join(', ')),
        el('td', { class: c.connected ? 'ok' : '' }, c.connected ? 'yes' : 'no'),
        el('td', {}, dur(st?.connectedDurationMs ?? c.connectedDurationMs)), el('td', {}, String(streams)));
      tr.onclick = () => { state.selected = state.selected === c.callId ? null : c.callId; render(); };
      tbody.append(tr);
    }
  }

  function renderDetails() {
    const root = $('details');
    root.replaceChildren();
    const shown = state.selected ? state.calls.filter((c) => c.callId === state.selected) : state.calls.slice(0, MAX_CALLS_CHARTED);
    for (const c of shown) {
      const st = state.stats.get(c.callId);
      const box = el('div', { class: 'call', 'data-call': c.callId });
      box.append(el('h2', {}, `${c.callId}${st?.connected ? ' — connected' : ''}`));
      if (!st) { box.append(el('div', {}, 'no statistics yet')); root.append(box); continue; }
      for (const p of st.participants) {
        const pd = el('div', { class: 'participant', 'data-user': p.userId });
        pd.append(el('h3', {}, `${p.userId} ${p.online ? '' : '(offline)'} — send ${fmt.bitrate(p.sendBitrate)}, receive ${fmt.bitrate(p.recvBitrate)}, RTT ${fmt.rtt(p.rttMs)}`));
        for (const s of p.streams) {
          const row = el('div', { class: 'stream', 'data-stream': s.id, 'data-direction': s.direction });
          const what = s.direction === 'send' ? `sends ${s.kind}` : `receives ${s.kind} of ${s.fromUserId ?? '?'}`;
          const flags = [s.paused ? 'paused' : '', s.silent ? 'SILENT' : ''].filter(Boolean).join(' ');
          row.append(el('div', { class: `label ${s.silent ? 'bad' : ''}` }, `${what} (${s.mimeType}) ${flags}`));
          for (const k of ['bitrate', 'loss', 'jitter', 'rtt', 'score']) row.append(chart(k, s.samples, st.windowS, Date.parse(st.at)));
          pd.append(row);
        }
        box.append(pd);
      }
      root.append(box);
    }
  }

  function render() {
    renderCalls();
    renderDetails();
    $('status').textContent = `${state.calls.length} live call(s); updated ${new Date().toLocaleTimeString()}`
      + (state.lastError ? ` — ${state.lastError}` : '');
    $('status').className = state.lastError ? 'bad' : '';
  }

  async function poll() {
    try {
      const { calls } = await api('/rtc/calls');
      state.calls = calls;
      const charted = state.selected ? calls.filter((c) => c.callId === state.selected) : calls.slice(0, MAX_CALLS_CHARTED);
      const results = await Promise.allSettled(charted.map((c) => api(`/rtc/rooms/${encodeURIComponent(c.callId)}/stats`)));
      const next = new Map();
      results.forEach((r, i) => { if (r.status === 'fulfilled') next.set(charted[i].callId, r.value); });
      state.stats = next;
      state.lastError = null;
    } catch (err) {
      state.errors++;
      state.lastError = err.message;
    }
    state.polls++;
    render();
  }

  if (!token) {
    $('status').textContent = 'open this page as /ops?token=<service token>';
    return;
  }
  poll();
  setInterval(poll, POLL_MS);
})();
