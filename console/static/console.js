// Field highlighting: hovering or focusing a field's row or its box lights both up; a click on a
// row brings its page into view. Plain JS, no build step; served from /static (CSP: script-src 'self').
(function () {
  function members(key) {
    return document.querySelectorAll('[data-box="' + CSS.escape(key) + '"]');
  }
  function light(key, on) {
    members(key).forEach(function (el) { el.classList.toggle('hot', on); });
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-box]').forEach(function (el) {
      var key = el.getAttribute('data-box');
      el.addEventListener('mouseenter', function () { light(key, true); });
      el.addEventListener('mouseleave', function () { light(key, false); });
      el.addEventListener('focus', function () { light(key, true); });
      el.addEventListener('blur', function () { light(key, false); });
      el.addEventListener('click', function () {
        var hot = document.querySelectorAll('.hot');
        hot.forEach(function (h) { h.classList.remove('hot'); });
        light(key, true);
        if (el.tagName.toLowerCase() === 'tr') {
          var box = document.querySelector('polygon[data-box="' + CSS.escape(key) + '"]');
          if (box) { box.scrollIntoView({block: 'center', behavior: 'smooth'}); }
        } else {
          var row = document.querySelector('tr[data-box="' + CSS.escape(key) + '"]');
          if (row) { row.scrollIntoView({block: 'center', behavior: 'smooth'}); }
        }
      });
    });
    // A rejection needs codes, an approval none: keep the form honest before it is sent.
    var form = document.querySelector('.decide form');
    if (form) {
      form.addEventListener('submit', function (ev) {
        var choice = form.querySelector('input[name="decision"]:checked');
        var codes = form.querySelectorAll('input[name="reason_codes"]:checked');
        if (choice && choice.value === 'approve') {
          codes.forEach(function (c) { c.checked = false; });
        } else if (choice && choice.value === 'reject' && codes.length === 0) {
          ev.preventDefault();
          alert('A rejection needs at least one reason code.');
        }
      });
    }
  });
})();
