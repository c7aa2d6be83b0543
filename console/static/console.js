// The reviewer console's behaviour. Plain JS, no build step; served from /static (CSP: script-src
// 'self', no inline script or style: sizes are set through the CSSOM, which CSP allows).
//
// - Field highlighting: hovering or focusing a field's row or its box lights both up; a click on a
//   row brings its page into view.
// - Keys (never while typing in a text field, except Ctrl+Enter): a approve, r reject (focus to the
//   reason codes), c comment, Ctrl+Enter save, j / k next / previous, + / - / 0 zoom, f full
//   resolution, ? keys, Esc close.
// - Zoom and pan of the page images (buttons, keys, the wheel with Ctrl, drag).
// - The decision form: a rejection needs codes; an approval over failed checks asks the browser's
//   confirm dialog naming them and needs a comment (dismissed: nothing is sent); the comment counter.
// - Its words come from the page (#console-strings, written by base.html in the page's language from
//   the gettext catalogue): none are written here.
(function () {
  'use strict';
  var ZOOM_STEP = 1.25, ZOOM_MAX = 8, ZOOM_MIN = 1;

  var strings = null;
  // The page's sentence `key` with {name} filled from `values` (the key itself if the page has none).
  function t(key, values) {
    if (strings === null) {
      var data = document.getElementById('console-strings');
      strings = data ? JSON.parse(data.textContent) : {};
    }
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.replace(/\{(\w+)\}/g, function (m, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : m;
    });
  }

  function members(key) {
    return document.querySelectorAll('[data-box="' + CSS.escape(key) + '"]');
  }
  function light(key, on) {
    members(key).forEach(function (el) { el.classList.toggle('hot', on); });
  }

  function setupHighlight() {
    document.querySelectorAll('[data-box]').forEach(function (el) {
      var key = el.getAttribute('data-box');
      el.addEventListener('mouseenter', function () { light(key, true); });
      el.addEventListener('mouseleave', function () { light(key, false); });
      el.addEventListener('focus', function () { light(key, true); });
      el.addEventListener('blur', function () { light(key, false); });
      el.addEventListener('click', function () {
        document.querySelectorAll('.hot').forEach(function (h) { h.classList.remove('hot'); });
        light(key, true);
        var other = el.tagName.toLowerCase() === 'tr'
          ? document.querySelector('polygon[data-box="' + CSS.escape(key) + '"]')
          : document.querySelector('tr[data-box="' + CSS.escape(key) + '"]');
        if (other) { other.scrollIntoView({block: 'center', behavior: 'smooth'}); }
      });
    });
    // A reason's or a crop's link to a field lights the field and its box.
    document.querySelectorAll('a[href^="#field-"]').forEach(function (a) {
      a.addEventListener('click', function () {
        var row = document.getElementById(a.getAttribute('href').slice(1));
        if (row && row.dataset.box) {
          document.querySelectorAll('.hot').forEach(function (h) { h.classList.remove('hot'); });
          light(row.dataset.box, true);
          var box = document.querySelector('polygon[data-box="' + CSS.escape(row.dataset.box) + '"]');
          if (box) { setActive(box.closest('.zoom')); }
        }
      });
    });
  }

  // -- zoom and pan --
  var active = null;  // the page image the zoom keys act on: last hovered, clicked or focused
  function setActive(zoom) { if (zoom) { active = zoom; } }
  function zoomOf(z) { return parseFloat(z.dataset.zoom || '1'); }
  function setZoom(z, level) {
    if (!z) { return; }
    var svg = z.querySelector('svg');
    var before = zoomOf(z);
    level = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, level));
    // keep the centre of the view where it was
    var cx = (z.scrollLeft + z.clientWidth / 2) / before, cy = (z.scrollTop + z.clientHeight / 2) / before;
    z.dataset.zoom = String(level);
    svg.style.width = (level * 100) + '%';
    z.classList.toggle('zoomed', level > 1);
    z.scrollLeft = cx * level - z.clientWidth / 2;
    z.scrollTop = cy * level - z.clientHeight / 2;
  }
  function setupZoom() {
    var zooms = document.querySelectorAll('.zoom');
    if (!zooms.length) { return; }
    active = zooms[0];
    zooms.forEach(function (z) {
      z.addEventListener('mouseenter', function () { setActive(z); });
      z.addEventListener('focus', function () { setActive(z); });
      z.addEventListener('wheel', function (ev) {
        if (!ev.ctrlKey) { return; }
        ev.preventDefault();
        setZoom(z, zoomOf(z) * (ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
      }, {passive: false});
      var drag = null;
      z.addEventListener('mousedown', function (ev) {
        if (zoomOf(z) <= 1 || ev.button !== 0) { return; }
        drag = {x: ev.clientX, y: ev.clientY, left: z.scrollLeft, top: z.scrollTop};
        z.classList.add('dragging');
        ev.preventDefault();
      });
      window.addEventListener('mousemove', function (ev) {
        if (!drag) { return; }
        z.scrollLeft = drag.left - (ev.clientX - drag.x);
        z.scrollTop = drag.top - (ev.clientY - drag.y);
      });
      window.addEventListener('mouseup', function () { drag = null; z.classList.remove('dragging'); });
      var figure = z.closest('figure');
      figure.querySelector('.zoom-in').addEventListener('click', function () { setActive(z); setZoom(z, zoomOf(z) * ZOOM_STEP); });
      figure.querySelector('.zoom-out').addEventListener('click', function () { setActive(z); setZoom(z, zoomOf(z) / ZOOM_STEP); });
      figure.querySelector('.zoom-reset').addEventListener('click', function () { setActive(z); setZoom(z, 1); });
    });
  }

  // -- the decision form --
  var form = null;
  function failedChecks() { return form ? (form.dataset.failedChecks || '') : ''; }
  function failedLabels() { return form ? (form.dataset.failedLabels || failedChecks()) : ''; }
  function say(message) {
    var p = document.getElementById('problem');
    if (!p) {
      p = document.createElement('p');
      p.id = 'problem';
      p.className = 'error problem';
      p.setAttribute('role', 'alert');
      form.parentNode.insertBefore(p, form);
    }
    p.textContent = message;
  }
  function updateCounter() {
    var area = form.querySelector('textarea[name="comment"]');
    var out = document.getElementById('comment-count');
    var max = parseInt(area.dataset.max, 10), n = area.value.trim().length;
    out.textContent = n > max ? t('over', {n: n, max: max, over: n - max}) : t('counter', {n: n, max: max});
    out.classList.toggle('over', n > max);
    return n <= max;
  }
  function check(ev) {
    var choice = form.querySelector('input[name="decision"]:checked');
    var codes = form.querySelectorAll('input[name="reason_codes"]:checked');
    var comment = form.querySelector('textarea[name="comment"]');
    var override = form.querySelector('input[name="override"]');
    function stop(message, focus) {
      ev.preventDefault();
      say(message);
      if (focus) { focus.focus(); }
      return false;
    }
    if (!choice) { return stop(t('choose'), form.querySelector('input[name="decision"]')); }
    if (!updateCounter()) { return stop(t('too_long', {max: comment.dataset.max}), comment); }
    if (choice.value === 'reject' && codes.length === 0) {
      return stop(t('needs_codes'), form.querySelector('input[name="reason_codes"]'));
    }
    if (choice.value === 'approve') {
      codes.forEach(function (c) { c.checked = false; });
      if (failedChecks()) {
        if (!comment.value.trim()) {
          return stop(t('needs_comment', {checks: failedLabels()}), comment);
        }
        // The worst error is a wrong approve: the browser asks, naming what failed.
        if (!window.confirm(t('confirm', {checks: failedLabels()}))) {
          if (override) { override.checked = false; }
          return stop(t('cancelled'), null);
        }
        if (override) { override.checked = true; }
      }
    }
    return true;
  }
  function setupForm() {
    form = document.getElementById('decision-form');
    if (!form) { return; }
    form.addEventListener('submit', check);
    var area = form.querySelector('textarea[name="comment"]');
    area.addEventListener('input', updateCounter);
    updateCounter();
  }
  function submit() {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else if (check({preventDefault: function () {}})) { form.submit(); }
  }

  // -- keys --
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName.toLowerCase();
    if (tag === 'textarea' || tag === 'select' || el.isContentEditable) { return true; }
    return tag === 'input' && !/^(radio|checkbox|button|submit|reset)$/i.test(el.type || '');
  }
  function help(show) {
    var h = document.getElementById('keys-help');
    if (h) { h.hidden = show === undefined ? !h.hidden : !show; }
  }
  function go(id) {
    var a = document.getElementById(id);
    if (a) { window.location.href = a.href; }
    return !!a;
  }
  function onKey(ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {  // save, also from the comment
      if (form) { ev.preventDefault(); submit(); }
      return;
    }
    if (ev.key === 'Escape') { help(false); if (typing(ev.target)) { ev.target.blur(); } return; }
    if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var radio;
    switch (ev.key) {
      case 'a':
        if (!form) { return; }
        radio = form.querySelector('input[name="decision"][value="approve"]');
        radio.checked = true;
        radio.focus();
        break;
      case 'r':
        if (!form) { return; }
        form.querySelector('input[name="decision"][value="reject"]').checked = true;
        var first = form.querySelector('input[name="reason_codes"]:checked') ||
                    form.querySelector('input[name="reason_codes"]');
        first.focus();
        break;
      case 'c':
        if (!form) { return; }
        form.querySelector('textarea[name="comment"]').focus();
        break;
      case 'j': if (!go('next-link')) { go('first-link'); } break;  // the queue page: its first free row
      case 'k': go('prev-link'); break;
      case '+': case '=': setZoom(active, zoomOf(active) * ZOOM_STEP); break;
      case '-': setZoom(active, zoomOf(active) / ZOOM_STEP); break;
      case '0': setZoom(active, 1); break;
      case 'f':
        var full = active && active.closest('figure').querySelector('a.full');
        if (full) { window.open(full.href, '_blank', 'noopener'); }
        break;
      case '?': help(); break;
      default: return;
    }
    ev.preventDefault();
  }

  document.addEventListener('DOMContentLoaded', function () {
    setupHighlight();
    setupZoom();
    setupForm();
    var button = document.getElementById('keys-button');
    if (button) { button.addEventListener('click', function () { help(); }); }
    document.addEventListener('keydown', onKey);
  });
  // Back to a page kept in the browser's memory: fetch it again, so it shows the decision just made.
  window.addEventListener('pageshow', function (ev) { if (ev.persisted) { window.location.reload(); } });
})();
