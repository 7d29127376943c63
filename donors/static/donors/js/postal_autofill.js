// Donor form: fill prefecture and city from a Japanese postal code.
// The postal code input carries data-postal-autofill="<lookup URL>"; the lookup
// uses offline data on the server (no external service). Only empty fields are
// filled, so nothing staff typed is overwritten.
(function () {
  "use strict";

  function digits(value) {
    return (value || "")
      .replace(/[０-９]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/\D/g, "");
  }

  function setup(input) {
    var form = input.form;
    if (!form) return;
    var country = form.querySelector("[name=country]");
    var prefecture = form.querySelector("[name=prefecture]");
    var city = form.querySelector("[name=city]");
    var line1 = form.querySelector("[name=address_line1]");
    var lastLooked = "";

    function lookup() {
      var code = digits(input.value);
      if (code.length !== 7 || code === lastLooked) return;
      if (country && country.value && country.value.toUpperCase() !== "JP") return;
      lastLooked = code;
      var url = input.getAttribute("data-postal-autofill") + "?code=" + code;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data || !data.found) return;
          input.value = data.postal_code;
          if (prefecture && !prefecture.value) prefecture.value = data.prefecture;
          if (city && !city.value) city.value = data.city;
          if (line1 && !line1.value && data.town) line1.value = data.town;
        })
        .catch(function () {
          /* no autofill; staff type the address */
        });
    }

    input.addEventListener("change", lookup);
    input.addEventListener("keyup", lookup);
  }

  function init() {
    document.querySelectorAll("input[data-postal-autofill]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
