// Every page: what the top bar does. A static script, because the Content-Security-Policy
// refuses inline handlers (onchange="...") along with any other inline script.
(function () {
  "use strict";
  const language = document.querySelector("#language-form select");
  if (language) language.addEventListener("change", () => language.form.submit());
  // The phone's menu: the top bar's links, folded behind one button below 800 px.
  const toggle = document.querySelector(".topbar .menu-toggle");
  if (toggle) {
    const bar = toggle.closest(".topbar");
    const setOpen = (open) => {
      bar.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    toggle.addEventListener("click", () => setOpen(!bar.classList.contains("open")));
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") setOpen(false); });
  }
})();
