// claimdesk pages: small helps on top of pages that work without them.
(function () {
  "use strict";

  // One submission per click: a second click on a form already sent does nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var refused = Array.prototype.find.call(form.querySelectorAll("input[type=file]"),
      function (input) { return input.validationMessage; });
    if (refused && !(event.submitter && event.submitter.hasAttribute("formnovalidate"))) {
      event.preventDefault();
      refused.reportValidity();
      return;
    }
    if (form.dataset.sent === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "true";
    var button = event.submitter;
    if (button && button.dataset.once) {
      // Disabled after the submission has taken the button's name and value.
      setTimeout(function () {
        button.disabled = true;
        button.textContent = button.dataset.once;
      }, 0);
    }
  });

  // The language link of the wizard sends what was typed along, in the other language.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-form]") : null;
    if (!link) return;
    var form = document.getElementById(link.dataset.form);
    var button = document.getElementById("lang-switch-submit");
    if (!form || !button || !form.requestSubmit) return;
    event.preventDefault();
    form.dataset.sent = "";
    form.requestSubmit(button);
  });

  // Back to a page kept in the browser's cache: its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
    });
    document.querySelectorAll("button[data-once]").forEach(function (button) {
      button.disabled = false;
    });
  });

  // Files over the limit are refused before they are sent.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "file" || !input.dataset.maxBytes) return;
    var max = Number(input.dataset.maxBytes);
    var tooLarge = Array.prototype.filter.call(input.files, function (f) { return f.size > max; });
    input.setCustomValidity(tooLarge.length ? input.dataset.tooLarge : "");
    if (tooLarge.length) input.reportValidity();
  });

  // Times in the reader's own zone, in the page's language.
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    var date = new Date(node.getAttribute("datetime"));
    if (isNaN(date.getTime())) return;
    var lang = node.dataset.lang === "ar" ? "ar-MA" : "fr-FR";
    try {
      node.textContent = new Intl.DateTimeFormat(lang, {
        dateStyle: "medium", timeStyle: "short", numberingSystem: "latn"
      }).format(date);
      node.title = node.getAttribute("datetime");
    } catch (e) { /* the server's text stays */ }
  });

  // A refused form: the error summary takes the focus, so that it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
