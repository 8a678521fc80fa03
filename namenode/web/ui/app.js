// The Talus namenode status page: fetches /api/v1 (docs/web.md) every few seconds and redraws.
//
// Rules this file keeps: names from the API only ever reach the page as text (textContent,
// createTextNode), never as HTML; no inline styles in markup (the Content-Security-Policy
// forbids them) — widths are set through element.style from here; no libraries.
// The user's place (tab, sort order, directory, open file) lives in `state` and the URL hash,
// so a refresh redraws the data without moving the user.
'use strict';

(function () {
  const REFRESH_MS = 2500;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    route: { tab: 'overview', path: '/', file: '' },
    sort: { key: 'address', dir: 1 },
    cluster: null,
    datanodes: null,
    ops: null,
    listing: null,      // {path, entries} of the directory shown
    listingError: '',
    fileError: '',      // why the open file's blocks could not be shown
    blocks: null,       // blocks answer of the open file
    refreshStarted: 0,  // refreshes begun; each is numbered, and body[data-refresh-count]
                        // names the last one finished (tests wait for one begun after an event)
    timer: null,
    inFlight: false,
    rendered: {},       // JSON of what each part last drew, to skip identical redraws
  };

  // ---- Small helpers -------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  // el('a', {href: '#x', class: 'y'}, 'text', childNode...): attributes go through
  // setAttribute and strings become text nodes, so data can never become markup.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const c of children) append(node, c);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (const c of children) append(node, c);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) {
      for (const c of child) append(node, c);
    } else if (child instanceof Node) {
      node.appendChild(child);
    } else {
      node.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

  function humanBytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    if (Math.abs(n) < 1024) return n + ' B';
    let v = n;
    let u = 0;
    while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
      v /= 1024;
      u++;
    }
    return v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) + ' ' + UNITS[u];
  }

  function exactBytes(n) {
    return Number(n).toLocaleString('en-US') + ' bytes';
  }

  function count(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
  }

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  function dateTime(ms) {
    if (!ms) return '–';
    const d = new Date(ms);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
        pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }

  function ago(ms) {
    if (typeof ms !== 'number') return '–';
    if (ms < 1000) return ms + ' ms ago';
    const s = ms / 1000;
    if (s < 120) return s.toFixed(1) + ' s ago';
    const m = s / 60;
    if (m < 120) return m.toFixed(0) + ' min ago';
    return (m / 60).toFixed(1) + ' h ago';
  }

  function percent(p) {
    return (typeof p === 'number' ? p : 0).toFixed(2) + '%';
  }

  // Sets a fact's text and its exact value (data-value) in one go.
  function setFact(id, text, value, title) {
    const node = $(id);
    if (!node) return;
    node.textContent = text;
    node.setAttribute('data-value', value === undefined ? '' : String(value));
    if (title) {
      node.setAttribute('title', title);
    } else {
      node.removeAttribute('title');
    }
  }

  function setBytesFact(id, n) {
    setFact(id, humanBytes(n), n, exactBytes(n));
  }

  function setBar(bar, pct) {
    const fill = bar.querySelector('.bar-fill');
    const clamped = Math.max(0, Math.min(100, Number(pct) || 0));
    fill.style.width = clamped + '%';
    bar.classList.toggle('warn', clamped >= 80 && clamped < 95);
    bar.classList.toggle('bad', clamped >= 95);
    bar.setAttribute('title', percent(pct));
  }

  function makeBar(pct) {
    const bar = el('div', { class: 'bar' }, el('div', { class: 'bar-fill' }));
    setBar(bar, pct);
    return bar;
  }

  function joinPath(dir, name) {
    return dir === '/' ? '/' + name : dir + '/' + name;
  }

  // `after`: the listing page that starts after this name (large directories come in pages).
  function browseHash(path, file, after) {
    let h = '#browse?path=' + encodeURIComponent(path);
    if (file) h += '&file=' + encodeURIComponent(file);
    if (after) h += '&after=' + encodeURIComponent(after);
    return h;
  }

  // ---- Fetching ------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, reachable) {
      super(message);
      this.status = status;
      this.reachable = reachable;  // false: no HTTP answer at all (namenode down)
    }
  }

  async function api(target) {
    let res;
    try {
      res = await fetch(target, { cache: 'no-store', headers: { Accept: 'application/json' } });
    } catch (e) {
      throw new ApiError(0, 'no answer (' + e.message + ')', false);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      if (res.ok) throw new ApiError(res.status, 'the answer is not JSON', true);
    }
    if (!res.ok) {
      const msg = body && body.error && body.error.message ? body.error.message
                                                            : 'HTTP ' + res.status;
      // 502/503/504 from a proxy in front of a dead namenode is also "unreachable".
      throw new ApiError(res.status, msg, res.status < 502);
    }
    return body;
  }

  // ---- Routing -------------------------------------------------------------------------------

  function parseRoute() {
    const hash = location.hash.replace(/^#/, '');
    const q = hash.indexOf('?');
    const tab = (q < 0 ? hash : hash.slice(0, q)) || 'overview';
    const params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
    let path = params.get('path') || '/';
    if (!path.startsWith('/')) path = '/' + path;
    return {
      tab: ['overview', 'datanodes', 'browse'].includes(tab) ? tab : 'overview',
      path: path,
      file: params.get('file') || '',
      after: params.get('after') || '',
    };
  }

  function showTab() {
    const tab = state.route.tab;
    for (const section of document.querySelectorAll('section.tab')) {
      section.hidden = section.getAttribute('data-tab') !== tab;
    }
    for (const a of document.querySelectorAll('#tabs a')) {
      const on = a.getAttribute('data-tab') === tab;
      a.classList.toggle('active', on);
      if (on) {
        a.setAttribute('aria-current', 'page');
      } else {
        a.removeAttribute('aria-current');
      }
    }
    document.body.setAttribute('data-tab', tab);
  }

  function onHashChange() {
    const before = state.route;
    state.route = parseRoute();
    if (before.path !== state.route.path || before.after !== state.route.after) {
      state.listing = null;
      state.listingError = '';
    }
    if (before.path !== state.route.path || before.file !== state.route.file) {
      state.blocks = null;
      state.fileError = '';
    }
    state.rendered = {};
    showTab();
    renderAll();
    refreshNow();
  }

  // ---- Overview ------------------------------------------------------------------------------

  function renderOverview() {
    const c = state.cluster;
    if (!c) return;
    $('nn-header-address').textContent = c.namenode ? c.namenode.rpc_address : '';
    $('cluster-id').textContent = c.cluster_id || '(none)';
    $('version').textContent = c.version || '';
    setFact('start-time', dateTime(c.start_time_ms), c.start_time_ms,
            c.now_ms ? 'up ' + ago(c.now_ms - c.start_time_ms).replace(' ago', '') : '');
    const nn = c.namenode || {};
    $('nn-address').textContent = nn.rpc_address || '';
    setFact('nn-role', nn.role || '', nn.role || '');
    setFact('nn-term', count(nn.term), nn.term);
    const leader = !nn.leader_id ? 'unknown'
        : nn.leader_id + (nn.leader_address ? ' (' + nn.leader_address + ')' : '');
    setFact('nn-leader', leader, nn.leader_id || 0);
    const journal = nn.journal === undefined ? ''
        : nn.journal + ': commit ' + count(nn.commit_index) + ', applied ' +
          count(nn.applied_index) + ', last ' + count(nn.last_index);
    setFact('nn-journal', journal, nn.journal || '');

    const sm = c.safe_mode || {};
    setFact('safe-mode', sm.on ? (sm.manual ? 'ON (entered by an administrator)' : 'ON') : 'OFF',
            sm.on ? 'on' : 'off');
    $('safe-mode').classList.toggle('flag-warn', !!sm.on);
    const tip = $('safe-mode-tip');
    tip.textContent = sm.tip || '';
    tip.hidden = !sm.tip;
    tip.classList.toggle('tip-warn', !!sm.on);

    const peersTable = $('peers-table');
    const peers = nn.peers || [];
    peersTable.hidden = peers.length === 0;
    const tbody = peersTable.querySelector('tbody');
    clear(tbody);
    const orDash = (v) => (v === null || v === undefined || v === '') ? '–' : v;
    for (const p of peers) {
      const contact = p.last_contact_ms_ago === null || p.last_contact_ms_ago === undefined
          ? (p.self ? 'this namenode' : 'never') : p.last_contact_ms_ago + ' ms ago';
      tbody.appendChild(el('tr', { 'data-address': p.address, 'data-id': String(p.id) },
                           el('td', null, String(p.id) + (p.self ? ' (this)' : '')),
                           el('td', { class: 'mono' }, p.address), el('td', null, p.role),
                           el('td', null, p.match_index === null ? '–' : count(p.match_index)),
                           el('td', null, p.lag === null ? '–' : count(p.lag)),
                           el('td', null, orDash(p.state)), el('td', null, contact)));
    }

    setBytesFact('capacity-bytes', c.capacity_bytes);
    setBytesFact('used-bytes', c.used_bytes);
    setBytesFact('remaining-bytes', c.remaining_bytes);
    setFact('used-percent', percent(c.used_percent), c.used_percent);
    setBar($('used-bar'), c.used_percent);

    const counts = [
      ['files', c.files], ['directories', c.directories], ['blocks', c.blocks],
      ['under-replicated-blocks', c.under_replicated_blocks],
      ['corrupt-blocks', c.corrupt_blocks], ['missing-blocks', c.missing_blocks],
      ['pending-replication-blocks', c.pending_replication_blocks],
      ['pending-deletion-blocks', c.pending_deletion_blocks],
    ];
    const dn = c.datanodes || {};
    counts.push(['live-nodes', dn.live], ['stale-nodes', dn.stale], ['dead-nodes', dn.dead],
                ['decommissioning-nodes', dn.decommissioning],
                ['decommissioned-nodes', dn.decommissioned]);
    for (const [id, v] of counts) setFact(id, count(v), v);
    for (const [id, bad] of [['under-replicated-blocks', 'flag-warn'],
                             ['corrupt-blocks', 'flag-bad'],
                             ['missing-blocks', 'flag-bad'], ['dead-nodes', 'flag-bad'],
                             ['stale-nodes', 'flag-warn']]) {
      const v = Number($(id).getAttribute('data-value')) || 0;
      $(id).classList.toggle(bad, v > 0);
    }
    renderHealth();
  }

  // Green: nothing to do. Amber: degraded but every block is readable. Red: data unreadable or
  // the namenode unreachable.
  function renderHealth() {
    const c = state.cluster;
    const red = [];
    const amber = [];
    if (state.unreachable) red.push('The namenode does not answer; the figures below are stale.');
    if (c) {
      const dn = c.datanodes || {};
      if (c.missing_blocks > 0) {
        red.push(count(c.missing_blocks) + ' missing block(s): some files cannot be read.');
      }
      if ((dn.live || 0) === 0) red.push('No live datanodes.');
      if (c.corrupt_blocks > 0) {
        amber.push(count(c.corrupt_blocks) + ' block(s) with corrupt replicas.');
      }
      if (dn.dead > 0) amber.push(count(dn.dead) + ' dead datanode(s).');
      if (dn.stale > 0) amber.push(count(dn.stale) + ' stale datanode(s).');
      if (c.under_replicated_blocks > 0) {
        amber.push(count(c.under_replicated_blocks) + ' under-replicated block(s).');
      }
      if (c.safe_mode && c.safe_mode.on) amber.push('Safe mode is ON: the namespace is read-only.');
      if (dn.decommissioning > 0) {
        amber.push(count(dn.decommissioning) + ' datanode(s) decommissioning.');
      }
      if (c.used_percent >= 90) amber.push('The cluster is ' + percent(c.used_percent) + ' full.');
    }
    const health = $('health');
    let level = 'ok';
    let title = 'Healthy';
    if (!c && !state.unreachable) {
      level = 'unknown';
      title = 'Waiting for the namenode…';
    } else if (red.length) {
      level = 'bad';
      title = 'Unhealthy';
    } else if (amber.length) {
      level = 'warn';
      title = 'Degraded';
    }
    health.setAttribute('data-health', level);
    $('health-title').textContent = title;
    const list = $('health-reasons');
    clear(list);
    for (const r of red.concat(amber)) list.appendChild(el('li', null, r));
    if (level === 'ok') {
      list.appendChild(el('li', null, 'All datanodes live, every block fully replicated.'));
    }
  }

  // ---- Charts (SVG) --------------------------------------------------------------------------

  function renderCapacityChart() {
    const box = $('chart-capacity');
    const nodes = (state.datanodes || []).slice().sort((a, b) => cmp(a.address, b.address));
    clear(box);
    if (nodes.length === 0) {
      box.appendChild(el('p', { class: 'muted' }, 'No datanodes.'));
      return;
    }
    const rowH = 26;
    const labelW = 170;
    const width = 560;
    const barW = width - labelW - 140;
    const height = nodes.length * rowH + 24;
    const max = Math.max(1, ...nodes.map((n) => n.capacity_bytes || 0));
    const chart = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, class: 'svg-chart',
                               role: 'img', 'aria-label': 'Used capacity per datanode' });
    nodes.forEach((n, i) => {
      const y = i * rowH + 4;
      const capW = barW * (n.capacity_bytes || 0) / max;
      const usedW = barW * (n.used_bytes || 0) / max;
      const g = svg('g', { class: 'cap-row liveness-' + n.liveness, 'data-address': n.address });
      g.appendChild(svg('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'label' },
                        n.address));
      g.appendChild(svg('rect', { x: labelW, y: y, width: Math.max(capW, 1), height: rowH - 8,
                                  class: 'cap-total' },
                        svg('title', null, 'capacity ' + exactBytes(n.capacity_bytes))));
      // A sliver even for a few bytes on a big disk: "used" must not look like "empty".
      const usedShown = n.used_bytes > 0 ? Math.max(usedW, 2) : 0;
      g.appendChild(svg('rect', { x: labelW, y: y, width: usedShown, height: rowH - 8,
                                  class: 'cap-used',
                                  'data-value': n.used_bytes },
                        svg('title', null, n.address + ': used ' + exactBytes(n.used_bytes) +
                                               ' of ' + exactBytes(n.capacity_bytes))));
      g.appendChild(svg('text', { x: labelW + Math.max(capW, 1) + 6, y: y + 15, class: 'value' },
                        humanBytes(n.used_bytes) + ' (' + percent(n.used_percent) + ')'));
      chart.appendChild(g);
    });
    const ly = nodes.length * rowH + 16;
    chart.appendChild(svg('rect',
                          { x: labelW, y: ly - 9, width: 10, height: 10, class: 'cap-used' }));
    chart.appendChild(svg('text', { x: labelW + 14, y: ly, class: 'legend' }, 'used'));
    chart.appendChild(svg('rect', { x: labelW + 60, y: ly - 9, width: 10, height: 10,
                                    class: 'cap-total' }));
    chart.appendChild(svg('text', { x: labelW + 74, y: ly, class: 'legend' }, 'capacity'));
    box.appendChild(chart);
  }

  function renderOpsChart() {
    const box = $('chart-ops');
    clear(box);
    const samples = (state.ops && state.ops.samples) || [];
    if (samples.length < 2) {
      box.appendChild(el('p', { class: 'muted' }, 'Collecting samples…'));
      return;
    }
    const width = 560;
    const height = 220;
    const left = 48;
    const right = 12;
    const top = 12;
    const bottom = 30;
    const t0 = samples[0].time_ms;
    const t1 = samples[samples.length - 1].time_ms;
    const span = Math.max(1, t1 - t0);
    let max = 0;
    for (const s of samples) max = Math.max(max, s.reads_per_s || 0, s.writes_per_s || 0);
    max = niceCeil(max);
    const x = (t) => left + (width - left - right) * (t - t0) / span;
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const chart = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, class: 'svg-chart',
                               role: 'img', 'aria-label': 'Operations per second' });
    for (let i = 0; i <= 4; i++) {
      const v = max * i / 4;
      chart.appendChild(svg('line',
                            { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
      chart.appendChild(svg('text',
                            { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' },
                            Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1)));
    }
    const minutes = span / 60000;
    chart.appendChild(svg('text', { x: left, y: height - 8, class: 'axis' },
                          '−' + (minutes >= 1 ? minutes.toFixed(1) + ' min'
                                               : (span / 1000).toFixed(0) + ' s')));
    chart.appendChild(svg('text',
                          { x: width - right, y: height - 8, 'text-anchor': 'end', class: 'axis' },
                          'now'));
    for (const [key, cls, label] of [['reads_per_s', 'line-reads', 'reads/s'],
                                     ['writes_per_s', 'line-writes', 'writes/s']]) {
      const points = samples.map((s) => x(s.time_ms).toFixed(1) + ',' + y(s[key] || 0).toFixed(1));
      chart.appendChild(svg('polyline', { points: points.join(' '), class: 'series ' + cls }));
      const last = samples[samples.length - 1][key] || 0;
      chart.appendChild(svg('circle', { cx: x(t1), cy: y(last), r: 3, class: 'dot ' + cls },
                            svg('title', null, label + ' now: ' + last.toFixed(2))));
    }
    const lx = left + 10;
    chart.appendChild(svg('line', { x1: lx, x2: lx + 16, y1: top + 8, y2: top + 8,
                                    class: 'series line-reads' }));
    chart.appendChild(svg('text', { x: lx + 20, y: top + 12, class: 'legend' }, 'reads/s'));
    chart.appendChild(svg('line', { x1: lx + 80, x2: lx + 96, y1: top + 8, y2: top + 8,
                                    class: 'series line-writes' }));
    chart.appendChild(svg('text', { x: lx + 100, y: top + 12, class: 'legend' }, 'writes/s'));
    box.appendChild(chart);
  }

  function niceCeil(v) {
    if (v <= 1) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    // Steps whose quarters (the grid lines) are round numbers.
    for (const m of [1, 2, 4, 6, 8, 10]) {
      if (v <= m * p) return m * p;
    }
    return 10 * p;
  }

  // ---- Datanodes -----------------------------------------------------------------------------

  // One word for a node's state: what an operator must notice first wins.
  function nodeState(n) {
    if (n.liveness === 'dead') return 'dead';
    if (n.admin_state === 'Decommission In Progress') return 'decommissioning';
    if (n.admin_state === 'Decommissioned') return 'decommissioned';
    if (n.liveness === 'stale') return 'stale';
    return 'live';
  }

  const STATE_LABEL = {
    live: 'Live', stale: 'Stale', dead: 'Dead', decommissioning: 'Decommissioning',
    decommissioned: 'Decommissioned',
  };

  function cmp(a, b) {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a).localeCompare(String(b), 'en', { numeric: true });
  }

  function sortValue(n, key) {
    if (key === 'state') return nodeState(n);
    return n[key];
  }

  function renderDatanodes() {
    const nodes = state.datanodes;
    if (!nodes) return;
    const key = state.sort.key;
    const dir = state.sort.dir;
    const sorted = nodes.slice().sort((a, b) =>
        dir * cmp(sortValue(a, key), sortValue(b, key)) || cmp(a.address, b.address));

    for (const th of document.querySelectorAll('#datanodes-table th[data-sort]')) {
      const on = th.getAttribute('data-sort') === key;
      th.classList.toggle('sorted', on);
      th.setAttribute('aria-sort', on ? (dir > 0 ? 'ascending' : 'descending') : 'none');
    }
    $('datanodes-table').setAttribute('data-sort-key', key);
    $('datanodes-table').setAttribute('data-sort-dir', dir > 0 ? 'asc' : 'desc');

    const tbody = $('datanodes-table').querySelector('tbody');
    clear(tbody);
    const tally = {};
    for (const n of sorted) {
      const st = nodeState(n);
      tally[st] = (tally[st] || 0) + 1;
      const address = n.web_url ? el('a', { href: n.web_url, class: 'mono' }, n.address)
                                : el('span', { class: 'mono' }, n.address);
      const tr = el('tr', {
        class: 'dn-' + st, 'data-address': n.address, 'data-liveness': n.liveness,
        'data-admin-state': n.admin_state, 'data-state': st,
      },
      el('td', { class: 'dn-address' }, address),
      el('td', { class: 'dn-state' }, el('span', { class: 'badge badge-' + st }, STATE_LABEL[st]),
         n.liveness === 'stale' && st !== 'stale' ? ' (stale)' : ''),
      el('td', { class: 'dn-last-contact', 'data-value': n.last_contact_ms_ago },
         ago(n.last_contact_ms_ago)),
      bytesCell('dn-capacity', n.capacity_bytes),
      el('td', { class: 'dn-used', 'data-value': n.used_bytes, title: exactBytes(n.used_bytes) },
         makeBar(n.used_percent),
         ' ' + humanBytes(n.used_bytes) + ' (' + percent(n.used_percent) + ')'),
      bytesCell('dn-remaining', n.remaining_bytes),
      el('td', { class: 'num dn-blocks', 'data-value': n.blocks }, count(n.blocks)),
      el('td', { class: 'num dn-volumes', 'data-value': n.volumes },
         count(n.volumes) + (n.failed_volumes ? ' (' + n.failed_volumes + ' failed)' : '')),
      el('td', { class: 'num dn-transfers', 'data-value': n.active_transfers },
         count(n.active_transfers)));
      tbody.appendChild(tr);
    }
    if (sorted.length === 0) {
      const none = el('td', { colspan: 9, class: 'muted' }, 'No datanodes have registered.');
      tbody.appendChild(el('tr', null, none));
    }
    const parts = Object.keys(STATE_LABEL).filter((s) => tally[s])
        .map((s) => tally[s] + ' ' + STATE_LABEL[s].toLowerCase());
    $('datanodes-summary').textContent = sorted.length + ' datanode(s)' +
        (parts.length ? ': ' + parts.join(', ') : '') + '. Click a column header to sort.';
  }

  function bytesCell(cls, n) {
    return el('td', { class: 'num ' + cls, 'data-value': n, title: exactBytes(n) }, humanBytes(n));
  }

  function onSortClick(e) {
    const th = e.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.getAttribute('data-sort');
    if (state.sort.key === key) {
      state.sort.dir = -state.sort.dir;
    } else {
      state.sort = { key: key, dir: 1 };
    }
    renderDatanodes();
  }

  // ---- Browse --------------------------------------------------------------------------------

  function renderBreadcrumb() {
    const nav = $('breadcrumb');
    const path = state.route.path;
    nav.setAttribute('data-path', path);
    clear(nav);
    nav.appendChild(el('a', { href: browseHash('/'), 'data-path': '/', class: 'crumb' }, '/'));
    let sofar = '';
    const parts = path.split('/').filter((p) => p !== '');
    parts.forEach((p, i) => {
      sofar += '/' + p;
      if (i > 0) nav.appendChild(el('span', { class: 'sep' }, '/'));
      nav.appendChild(el('a', { href: browseHash(sofar), 'data-path': sofar, class: 'crumb' }, p));
    });
  }

  function renderListing() {
    renderBreadcrumb();
    const err = $('browse-error');
    err.textContent = state.listingError;
    err.hidden = !state.listingError;
    const table = $('listing');
    const tbody = table.querySelector('tbody');
    const l = state.listing;
    table.setAttribute('data-path', l ? l.path : '');
    clear(tbody);
    if (!l) {
      $('listing-pager').hidden = true;
      return;
    }
    const entries = l.entries || [];
    for (const e of entries) {
      const full = e.path || joinPath(l.path, e.name);
      let name;
      if (e.type === 'directory') {
        name = el('a', { href: browseHash(full), class: 'entry-link dir', 'data-path': full },
                  e.name + '/');
      } else if (e.type === 'file') {
        // A file listed as itself (the path shown is a file) opens in place.
        const dir = l.entries.length === 1 && full === l.path ? parentOf(full) : l.path;
        name = el('a',
                  { href: browseHash(dir, e.name, state.route.after), class: 'entry-link file',
                    'data-path': full },
                  e.name);
      } else {
        name = el('span', { class: 'entry-link symlink' }, e.name, ' → ', e.symlink_target || '');
      }
      const typeChar = e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-';
      tbody.appendChild(el('tr', {
        'data-name': e.name, 'data-type': e.type, 'data-path': full,
        class: state.route.file === e.name ? 'selected' : null,
      },
      el('td', { class: 'name' }, name,
         e.under_construction ? el('span', { class: 'badge badge-stale' }, 'writing') : null),
      el('td', null, e.owner), el('td', null, e.group),
      el('td', { class: 'mono', 'data-value': e.mode }, typeChar + (e.permission || '')),
      e.type === 'file'
          ? el('td', { class: 'num', 'data-value': e.length_bytes,
                       title: exactBytes(e.length_bytes) },
               humanBytes(e.length_bytes))
          : el('td', { class: 'num muted' },
               e.type === 'directory' ? count(e.children) + ' items' : ''),
      el('td', { class: 'num' }, e.type === 'file' ? String(e.replication) : ''),
      el('td', { 'data-value': e.modification_time_ms }, dateTime(e.modification_time_ms))));
    }
    if (entries.length === 0 && !state.route.after) {
      tbody.appendChild(el('tr', null,
                           el('td', { colspan: 7, class: 'muted' }, 'Empty directory.')));
    }
    // A large directory comes in pages: say where this one starts and link the next.
    const pager = $('listing-pager');
    clear(pager);
    pager.hidden = !(l.truncated || state.route.after);
    if (state.route.after) {
      append(pager, [el('a', { href: browseHash(l.path), id: 'listing-first' }, 'First page'),
                     ' · entries after ', el('span', { class: 'mono' }, state.route.after), ' ']);
    }
    if (l.truncated && l.next_start_after) {
      append(pager, el('a', { href: browseHash(l.path, '', l.next_start_after),
                              id: 'listing-next' },
                       'Next ' + entries.length + ' entries →'));
    }
  }

  function parentOf(path) {
    const i = path.lastIndexOf('/');
    return i <= 0 ? '/' : path.slice(0, i);
  }

  function openFilePath() {
    if (!state.route.file) return '';
    return joinPath(state.route.path, state.route.file);
  }

  function renderFile() {
    const box = $('file-detail');
    const path = openFilePath();
    box.hidden = !path;
    if (!path) {
      box.setAttribute('data-path', '');
      return;
    }
    box.setAttribute('data-path', path);
    $('file-detail-path').textContent = path;
    $('file-close').setAttribute('href', browseHash(state.route.path, '', state.route.after));
    $('download-link').setAttribute('href', '/api/v1/download?path=' + encodeURIComponent(path));
    const tbody = $('blocks-table').querySelector('tbody');
    clear(tbody);
    const b = state.blocks;
    box.setAttribute('data-loaded', b ? 'true' : 'false');
    const err = $('file-error');
    err.textContent = state.fileError || '';
    err.hidden = !state.fileError;
    if (!b) {
      setFact('file-length', '…', '');
      setFact('file-replication', '…', '');
      setFact('file-under-construction', '…', '');
      return;
    }
    setBytesFact('file-length', b.length_bytes);
    setFact('file-replication', String(b.replication), b.replication);
    setFact('file-under-construction', b.under_construction ? 'yes' : 'no', !!b.under_construction);
    (b.blocks || []).forEach((blk, i) => {
      const locs = el('ul', { class: 'locations' });
      for (const loc of blk.locations || []) {
        const a = loc.web_url ? el('a', { href: loc.web_url, class: 'mono' }, loc.address)
                              : el('span', { class: 'mono' }, loc.address);
        locs.appendChild(el('li', {
          class: 'loc liveness-' + loc.liveness + (loc.corrupt ? ' corrupt' : ''),
          'data-address': loc.address, 'data-liveness': loc.liveness,
        }, a, loc.liveness !== 'live' ? ' (' + loc.liveness + ')' : '',
        loc.corrupt ? ' (corrupt)' : ''));
      }
      if (!(blk.locations || []).length) {
        locs.appendChild(el('li', { class: 'flag-bad' }, 'no locations'));
      }
      tbody.appendChild(el('tr',
          { 'data-block-id': blk.block_id, class: blk.corrupt ? 'corrupt' : null },
          el('td', { class: 'num' }, String(i)),
          el('td', { class: 'mono' }, String(blk.block_id)),
          el('td', { class: 'num' }, String(blk.generation_stamp)),
          el('td', { class: 'num', title: exactBytes(blk.offset_bytes) },
             humanBytes(blk.offset_bytes)),
          el('td', { class: 'num', 'data-value': blk.length_bytes,
                     title: exactBytes(blk.length_bytes) },
             humanBytes(blk.length_bytes)),
          el('td', null,
             blk.corrupt ? 'corrupt' : blk.complete ? 'complete' : 'under construction'),
          el('td', null, locs)));
    });
    if (!(b.blocks || []).length) {
      tbody.appendChild(el('tr', null,
                           el('td', { colspan: 7, class: 'muted' }, 'No blocks (empty file).')));
    }
  }

  // ---- The refresh loop ----------------------------------------------------------------------

  // Redraws a part only when its data changed: rows are not replaced under the user's pointer
  // (or a test's click) for nothing.
  function renderPart(name, data, fn) {
    const key = JSON.stringify(data);
    if (state.rendered[name] === key) return;
    state.rendered[name] = key;
    fn();
  }

  function renderAll() {
    renderPart('overview', [state.cluster, state.unreachable], renderOverview);
    renderPart('health', [state.cluster, state.unreachable], renderHealth);
    renderPart('capchart', state.datanodes, renderCapacityChart);
    renderPart('opschart', state.ops, renderOpsChart);
    renderPart('datanodes', [state.datanodes, state.sort], renderDatanodes);
    renderPart('listing', [state.route.path, state.route.file, state.listing, state.listingError],
               renderListing);
    renderPart('file', [state.route, state.blocks, state.fileError], renderFile);
  }

  async function refresh() {
    const id = ++state.refreshStarted;
    document.body.setAttribute('data-refresh-started', String(id));
    const route = state.route;
    const jobs = [
      api('/api/v1/cluster').then((c) => { state.cluster = c; }),
      api('/api/v1/datanodes').then((d) => { state.datanodes = d.datanodes || []; }),
    ];
    if (route.tab === 'overview') {
      jobs.push(api('/api/v1/ops').then((o) => { state.ops = o; }));
    }
    if (route.tab === 'browse') {
      let query = '/api/v1/listing?path=' + encodeURIComponent(route.path);
      if (route.after) query += '&start_after=' + encodeURIComponent(route.after);
      jobs.push(api(query).then(
          (l) => {
            if (state.route.path === route.path && state.route.after === route.after) {
              state.listing = l;
              state.listingError = '';
            }
          },
          (e) => {
            if (!e.reachable) throw e;
            if (state.route.path === route.path) {
              state.listing = null;
              state.listingError = route.path + ': ' + e.message;
            }
          }));
      if (route.file) {
        const path = joinPath(route.path, route.file);
        jobs.push(api('/api/v1/blocks?path=' + encodeURIComponent(path)).then(
            (b) => { if (openFilePath() === path) { state.blocks = b; state.fileError = ''; } },
            (e) => {
              if (!e.reachable) throw e;
              if (openFilePath() === path) {
                state.blocks = null;
                state.fileError = path + ': ' + e.message;
              }
            }));
      }
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === 'rejected');
    const conn = $('conn-error');
    if (failed) {
      state.unreachable = true;
      $('conn-error-detail').textContent = failed.reason && failed.reason.message
          ? failed.reason.message : String(failed.reason);
      conn.hidden = false;
      document.body.setAttribute('data-connection', 'down');
    } else {
      state.unreachable = false;
      conn.hidden = true;
      document.body.setAttribute('data-connection', 'up');
      const now = Date.now();
      $('last-refresh').textContent = dateTime(now);
      $('last-refresh').setAttribute('data-time-ms', String(now));
    }
    renderAll();
    document.body.setAttribute('data-refresh-count', String(id));
  }

  async function loop() {
    clearTimeout(state.timer);
    state.timer = null;
    if (state.inFlight) {
      state.again = true;
      return;
    }
    state.inFlight = true;
    try {
      await refresh();
    } catch (e) {
      console.error(e);
    } finally {
      state.inFlight = false;
    }
    if (state.again) {
      state.again = false;
      loop();
      return;
    }
    state.timer = setTimeout(loop, REFRESH_MS);
  }

  function refreshNow() {
    loop();
  }

  function start() {
    // Anything the Content-Security-Policy blocks is a bug of this page: counted where a test
    // reads it.
    let violations = 0;
    document.addEventListener('securitypolicyviolation', (e) => {
      violations++;
      document.body.setAttribute('data-csp-violations', String(violations));
      console.warn('blocked by the Content-Security-Policy:', e.violatedDirective, e.blockedURI);
    });
    state.route = parseRoute();
    showTab();
    $('datanodes-table').querySelector('thead').addEventListener('click', onSortClick);
    $('refresh-now').addEventListener('click', refreshNow);
    window.addEventListener('hashchange', onHashChange);
    renderHealth();
    loop();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
