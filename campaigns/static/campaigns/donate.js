// The donate form's suggested amounts follow the chosen currency and frequency.
// Without this script the server renders the choices for what was submitted.
(function () {
  "use strict";
  var form = document.querySelector("form.donate-form");
  var tableNode = document.getElementById("donate-preset-table");
  var box = document.getElementById("donate-presets");
  if (!form || !tableNode || !box) return;
  var table = JSON.parse(tableNode.textContent);
  var currency = form.querySelector("select[name=currency]");

  function frequency() {
    var checked = form.querySelector("input[name=frequency]:checked");
    return checked ? checked.value : "once";
  }

  function render() {
    var choices = ((table[currency.value] || {})[frequency()]) || [];
    var list = document.createElement("div");
    list.id = "id_preset";
    choices.forEach(function (choice, i) {
      var wrapper = document.createElement("div");
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "preset";
      input.value = choice.value;
      input.id = "id_preset_" + i;
      input.checked = i === Math.min(1, choices.length - 1);
      label.htmlFor = input.id;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + choice.label));
      wrapper.appendChild(label);
      list.appendChild(wrapper);
    });
    box.replaceChildren(list);
  }

  currency.addEventListener("change", render);
  form.querySelectorAll("input[name=frequency]").forEach(function (input) {
    input.addEventListener("change", render);
  });
})();
