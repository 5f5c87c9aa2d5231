// batchbald labelling page: keyboard shortcuts, one submission per form, and a poll that keeps
// the page in step with the shared state (other annotators' labels, the proposal's progress).
// Without JavaScript every action still works through the page's forms.
(function () {
  "use strict";
  var body = document.body;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function pressKey(key) {
    var control = document.querySelector('[data-key="' + key + '"]');
    if (!control || control.disabled) { return false; }
    if (control.tagName === "INPUT") { control.focus(); } else { control.click(); }
    return true;
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; }
    return Boolean(link);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    var handled = false;
    if (event.key === "ArrowLeft") { handled = follow("prev"); }
    else if (event.key === "ArrowRight") { handled = follow("next"); }
    else if (event.key === "Escape") { handled = follow("back"); }
    else if (event.key.length === 1) { handled = pressKey(event.key.toLowerCase()); }
    if (handled) { event.preventDefault(); }
  });

  // One submission per form: a second click or key press before the page reloads is dropped
  // here, and the server records a repeated request_id once anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    body.classList.add("busy");
  }, true);

  // Small images (MNIST's 28×28) are drawn with square pixels instead of a blur.
  function sharpen(img) {
    if (img.naturalWidth && img.naturalWidth <= 96) { img.classList.add("pixelated"); }
  }
  function sharpenAll() {
    document.querySelectorAll("img").forEach(function (img) {
      if (img.complete) { sharpen(img); } else { img.addEventListener("load", function () { sharpen(img); }); }
    });
  }
  sharpenAll();

  // An image that vanished or cannot be decoded: say so, and how to go on.
  var focusImage = document.getElementById("focus-image");
  function unreadable() {
    var note = document.createElement("p");
    note.className = "unreadable";
    note.setAttribute("role", "alert");
    note.textContent = "This image cannot be shown (its file vanished or cannot be read). " +
      "Press s to skip it; the round goes on.";
    focusImage.replaceWith(note);
  }
  if (focusImage) {
    if (focusImage.complete && focusImage.naturalWidth === 0) { unreadable(); }
    else { focusImage.addEventListener("error", unreadable); }
  }

  var version = body.dataset.version;
  if (version === undefined) { return; }
  var round = body.dataset.round;
  var seconds = parseFloat(body.dataset.pollSeconds) || 2;

  function showPropose(propose) {
    var panel = document.getElementById("propose-panel");
    var state = document.getElementById("propose-state");
    if (!panel || !state) { return false; }
    if (state.dataset.state !== propose.state) { return true; }
    if (propose.state === "running") {
      var percent = Math.round(100 * (propose.fraction || 0));
      var bar = document.getElementById("propose-bar");
      if (bar) { bar.style.width = percent + "%"; }
      var phase = document.getElementById("propose-phase");
      if (phase) { phase.textContent = propose.phase || "starting"; }
      var text = document.getElementById("propose-percent");
      if (text) { text.textContent = percent + "%"; }
      var elapsed = document.getElementById("propose-elapsed");
      if (elapsed && propose.elapsed_s !== null) {
        var whole = Math.floor(propose.elapsed_s);
        elapsed.textContent = Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
      }
    }
    return false;
  }

  function swapLive(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live], #propose-panel").forEach(function (old) {
      var replacement = old.id && fresh.getElementById(old.id);
      if (replacement) { old.replaceWith(document.importNode(replacement, true)); }
    });
    version = fresh.body.dataset.version;
    sharpenAll();
  }

  function refresh() {
    // After a failed form post the address is the form's action: the page itself is "/".
    var page = window.location.pathname === "/" ? window.location.href : "/";
    return fetch(page, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) { swapLive(html); } });
  }

  function poll() {
    if (body.classList.contains("busy")) { return; }
    fetch("/api/state", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        if (String(state.round || "") !== round) { window.location.assign("/"); return; }
        var changed = showPropose(state.propose);
        if (changed || state.version !== version) { return refresh(); }
      })
      .catch(function () { /* the server restarts or the network blips: try again next time */ });
  }
  window.setInterval(poll, seconds * 1000);
})();
