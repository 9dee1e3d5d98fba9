// The console's one script, progressive enhancement only: the composer works without it
// (its Preview button renders the same card). With it, the preview follows the text as it
// is typed: the form's text fields go to this origin's preview endpoint, which renders the
// card with the renderer the federation code uses, and the card replaces the last one.
"use strict";
(function () {
  const form = document.querySelector("form.composer");
  const target = document.getElementById("live-preview");
  if (!form || !target || !window.fetch) return;
  const url = form.getAttribute("data-preview");
  let timer = null;
  let sent = 0;
  function refresh() {
    const fields = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") fields.append(name, value);
    }
    const mine = ++sent;
    fetch(url, { method: "POST", body: fields, credentials: "same-origin" })
      // A session that ended redirects to the sign-in page: that is no preview.
      .then((answer) =>
        !answer.redirected && (answer.ok || answer.status === 422) ? answer.text() : null)
      .then((html) => {
        if (html !== null && mine === sent) target.innerHTML = html;
      })
      .catch(() => {});
  }
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
