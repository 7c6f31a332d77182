// Every page: what the top bar does. A static script, because the Content-Security-Policy
// refuses inline handlers (onchange="...") along with any other inline script.
(function () {
  "use strict";
  const language = document.querySelector("#language-form select");
  if (language) language.addEventListener("change", () => language.form.submit());
})();
