// Talus datanode page: fetches /api/v1/datanode every 3 s and redraws. Every value from the
// API is put into the page with textContent (never parsed as HTML), so a name or a log
// message is always shown as text.
'use strict';

(function () {
  const REFRESH_MS = 3000;
  const MAX_ERRORS_SHOWN = 100;

  function $(id) { return document.getElementById(id); }

  function formatBytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function formatDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms) || ms < 0) return '—';
    const s = Math.floor(ms / 1000);
    if (s < 1) return ms + ' ms';
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + (s % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + (m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  function formatTime(ms) {
    if (typeof ms !== 'number' || ms <= 0) return '—';
    return new Date(ms).toLocaleString();
  }

  function percent(part, whole) {
    return whole > 0 ? (100 * part) / whole : 0;
  }

  // Sets a fact's text and its raw value for tests.
  function setFact(id, text, value) {
    const el = $(id);
    if (!el) return;
    el.textContent = text;
    if (value !== undefined) el.dataset.value = String(value);
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  // A usage bar: Talus's replicas, then what else fills the disk (other files, space held for
  // replicas being written), so a disk filled by something else shows as full. Widths are
  // set through the CSSOM (allowed by the CSP, unlike a style attribute).
  function fillBar(bar, pct, otherPct) {
    const used = Math.max(0, Math.min(100, pct));
    const other = Math.max(0, Math.min(100 - used, otherPct || 0));
    bar.dataset.value = used.toFixed(1);
    bar.dataset.other = other.toFixed(1);
    const full = used + other;
    bar.dataset.level = full >= 90 ? 'bad' : full >= 75 ? 'warn' : 'ok';
    if (bar.children.length < 2) {
      while (bar.firstChild) bar.removeChild(bar.firstChild);
      bar.appendChild(el('div', null, 'bar-fill'));
      bar.appendChild(el('div', null, 'bar-other'));
    }
    bar.children[0].style.width = used.toFixed(2) + '%';
    bar.children[1].style.width = other.toFixed(2) + '%';
    bar.title = 'Talus replicas ' + used.toFixed(1) + ' %, other use ' + other.toFixed(1) + ' %';
  }

  function otherPercent(capacity, used, remaining) {
    return capacity > 0 ? percent(Math.max(0, capacity - used - remaining), capacity) : 0;
  }

  function newBar(pct, otherPct) {
    const bar = el('div', null, 'bar');
    fillBar(bar, pct, otherPct);
    return bar;
  }

  function replaceRows(table, rows) {
    const body = table.tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function renderFacts(d) {
    document.title = 'Talus datanode ' + (d.http_address || d.data_address || '');
    setFact('dn-header-address', d.data_address || '');
    setFact('storage-id', d.storage_id);
    setFact('version', d.version);
    setFact('start-time', formatTime(d.start_time_ms), d.start_time_ms);
    setFact('uptime', formatDuration(d.now_ms - d.start_time_ms));
    setFact('rpc-address', d.rpc_address);
    setFact('data-address', d.data_address);
    setFact('http-address', d.http_address);

    setFact('capacity-bytes', formatBytes(d.capacity_bytes), d.capacity_bytes);
    setFact('used-bytes', formatBytes(d.used_bytes), d.used_bytes);
    setFact('remaining-bytes', formatBytes(d.remaining_bytes), d.remaining_bytes);
    const usedPct = percent(d.used_bytes, d.capacity_bytes);
    const otherPct = otherPercent(d.capacity_bytes, d.used_bytes, d.remaining_bytes);
    fillBar($('used-bar'), usedPct, otherPct);
    setFact('used-percent', usedPct.toFixed(1) + ' % (other use ' + otherPct.toFixed(1) + ' %)');
    setFact('replicas', String(d.replicas), d.replicas);

    const t = d.transfers || {};
    setFact('active-transfers', String(d.active_transfers), d.active_transfers);
    setFact('transfers-reads', String(t.reads), t.reads);
    setFact('transfers-writes', String(t.writes), t.writes);
    setFact('transfers-replications', String(t.replications), t.replications);
    setFact('bytes-read', formatBytes(t.bytes_read), t.bytes_read);
    setFact('bytes-written', formatBytes(t.bytes_written), t.bytes_written);
    setFact('checksum-errors', String(t.checksum_errors), t.checksum_errors);
  }

  function renderVolumes(volumes) {
    const failed = volumes.filter(function (v) { return v.failed; }).length;
    setFact('volume-count', '(' + volumes.length + (failed ? ', ' + failed + ' failed' : '') + ')',
            volumes.length);
    replaceRows($('volumes-table'), volumes.map(function (v) {
      const tr = document.createElement('tr');
      tr.className = v.failed ? 'volume failed' : 'volume';
      tr.dataset.volumeId = v.volume_id;
      tr.dataset.path = v.path;
      tr.dataset.failed = String(v.failed);
      tr.appendChild(el('td', v.path, 'mono path'));
      const state = el('td', v.failed ? 'FAILED' : 'in service',
                       'state ' + (v.failed ? 'state-bad' : 'state-ok'));
      if (v.failed && v.failure_reason) state.title = v.failure_reason;
      tr.appendChild(state);
      const cap = el('td', formatBytes(v.capacity_bytes), 'num capacity');
      cap.dataset.value = String(v.capacity_bytes);
      tr.appendChild(cap);
      const used = el('td', null, 'used');
      used.dataset.value = String(v.used_bytes);
      used.appendChild(newBar(percent(v.used_bytes, v.capacity_bytes),
                              otherPercent(v.capacity_bytes, v.used_bytes, v.remaining_bytes)));
      used.appendChild(el('span', formatBytes(v.used_bytes) + ' (' +
                                  percent(v.used_bytes, v.capacity_bytes).toFixed(1) + ' %)'));
      tr.appendChild(used);
      const rem = el('td', formatBytes(v.remaining_bytes), 'num remaining');
      rem.dataset.value = String(v.remaining_bytes);
      tr.appendChild(rem);
      const reps = el('td', String(v.replicas), 'num replicas');
      reps.dataset.value = String(v.replicas);
      tr.appendChild(reps);
      tr.appendChild(el('td', v.volume_id, 'mono muted'));
      return tr;
    }));
  }

  function renderNamenodes(namenodes) {
    replaceRows($('namenodes-table'), namenodes.map(function (nn) {
      const tr = document.createElement('tr');
      tr.className = 'namenode';
      tr.dataset.address = nn.address;
      tr.dataset.registered = String(nn.registered);
      tr.appendChild(el('td', nn.address, 'mono'));
      tr.appendChild(el('td', nn.registered ? 'registered' : 'not registered',
                        'state ' + (nn.registered ? 'state-ok' : 'state-bad')));
      const ago = nn.last_heartbeat_ms_ago;
      const never = ago === null || ago === undefined;
      const hb = el('td', never ? 'never' : formatDuration(ago) + ' ago', 'num heartbeat');
      hb.dataset.value = never ? '' : String(ago);
      tr.appendChild(hb);
      return tr;
    }));
  }

  function renderErrors(entries) {
    setFact('error-count', '(' + entries.length + ')', entries.length);
    $('errors-empty').hidden = entries.length > 0;
    $('errors-table').hidden = entries.length === 0;
    // Newest first.
    const shown = entries.slice(-MAX_ERRORS_SHOWN).reverse();
    replaceRows($('errors-table'), shown.map(function (e) {
      const tr = document.createElement('tr');
      tr.className = 'log-entry sev-' + String(e.severity).replace(/[^A-Z]/g, '');
      tr.dataset.severity = e.severity;
      tr.appendChild(el('td', formatTime(e.time_ms), 'time'));
      tr.appendChild(el('td', e.severity, 'sev'));
      tr.appendChild(el('td', e.location, 'mono location'));
      tr.appendChild(el('td', e.message, 'message'));
      return tr;
    }));
  }

  function renderHealth(d) {
    const reasons = [];
    let level = 'ok';
    const volumes = d.volumes || [];
    const namenodes = d.namenodes || [];
    const failed = volumes.filter(function (v) { return v.failed; });
    if (failed.length > 0) {
      level = 'bad';
      reasons.push(failed.length + ' of ' + volumes.length + ' volume(s) failed');
    }
    const unregistered = namenodes.filter(function (nn) { return !nn.registered; });
    if (unregistered.length === namenodes.length && namenodes.length > 0) {
      level = 'bad';
      reasons.push('not registered with any namenode');
    } else if (unregistered.length > 0) {
      if (level === 'ok') level = 'warn';
      reasons.push('not registered with ' + unregistered.map(function (nn) {
        return nn.address;
      }).join(', '));
    }
    const remainingPct = percent(d.remaining_bytes, d.capacity_bytes);
    if (d.capacity_bytes > 0 && remainingPct < 10) {
      if (level === 'ok') level = 'warn';
      reasons.push('only ' + remainingPct.toFixed(1) + ' % of the storage remains');
    }
    const health = $('health');
    health.dataset.health = level;
    $('health-title').textContent = level === 'ok' ? 'Healthy'
                                  : level === 'warn' ? 'Needs attention' : 'Unhealthy';
    const list = $('health-reasons');
    while (list.firstChild) list.removeChild(list.firstChild);
    reasons.forEach(function (r) { list.appendChild(el('li', r)); });
  }

  function render(d) {
    renderFacts(d);
    renderVolumes(d.volumes || []);
    renderNamenodes(d.namenodes || []);
    renderErrors(d.recent_errors || []);
    renderHealth(d);
    const refreshed = $('last-refresh');
    refreshed.textContent = new Date().toLocaleTimeString();
    refreshed.dataset.timeMs = String(Date.now());
  }

  function showError(message) {
    $('conn-error-detail').textContent = message;
    $('conn-error').hidden = false;
  }

  let timer = null;
  function refresh() {
    fetch('/api/v1/datanode', { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (d) {
        $('conn-error').hidden = true;
        render(d);
      })
      .catch(function (e) { showError(e && e.message ? e.message : String(e)); })
      .finally(function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, REFRESH_MS);
      });
  }

  refresh();
})();
