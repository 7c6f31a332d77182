// A case on the desk: fills the dispatch and duplicate choices from the case's suggestions and
// posts each action form to /api/cases/{id}/act/ with the version the page was rendered at.
// When someone else acted first (409) the page says so and shows the case as it is now.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("desk-case-config").textContent);
  const text = config.text;
  const FLASH = "desk-flash-" + config.id;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }

  function option(value, label) {
    const node = document.createElement("option");
    node.value = value;
    node.textContent = label;
    return node;
  }

  const flash = sessionStorage.getItem(FLASH);
  if (flash) {
    sessionStorage.removeItem(FLASH);
    const box = document.getElementById("desk-flash");
    const message = JSON.parse(flash);
    box.textContent = message.text;
    box.classList.toggle("warning", message.kind === "warning");
    box.hidden = false;
  }

  async function suggest() {
    const response = await fetch(config.suggestionsUrl, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const body = await response.json();
    for (const select of document.querySelectorAll("select[data-suggest=dispatch]")) {
      for (const s of body.dispatch) {
        const role = s.kind === "user" ? (text.roles[s.role] || s.role) : s.role;
        select.appendChild(option(s.kind + ":" + s.id + ":" + (s.kind === "department" ? s.role : ""),
          s.name + " · " + role));
      }
    }
    for (const select of document.querySelectorAll("select[data-suggest=duplicates]")) {
      for (const d of body.duplicates) {
        select.appendChild(option(String(d.id), d.number + " · " + d.status + " · " +
          format(text.metres, { metres: Math.round(d.distance_m) })));
      }
    }
    document.body.setAttribute("data-suggested", "");
  }

  function body(form) {
    const out = { action: form.dataset.action, version: config.version };
    for (const field of form.elements) {
      if (!field.name || field.value === "") continue;
      if (field.name === "assignee") {
        const [kind, id, code] = field.value.split(":");
        if (kind === "department") out.department = code;
        else out.assignee = Number(id);
      } else if (field.name === "rating" || field.name === "duplicate_of") {
        out[field.name] = Number(field.value);
      } else {
        out[field.name] = field.value;
      }
    }
    return out;
  }

  function again(kind, message) {
    sessionStorage.setItem(FLASH, JSON.stringify({ kind: kind, text: message }));
    location.reload();
  }

  async function act(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const error = form.querySelector(".error");
    const buttons = document.querySelectorAll(".act-form button");
    buttons.forEach((b) => { b.disabled = true; });
    error.hidden = true;
    try {
      const response = await fetch(config.actUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify(body(form)),
      });
      if (response.ok) {
        const label = form.querySelector("button[type=submit]").textContent.trim();
        again("done", format(text.done, { action: label }));
        return;
      }
      let answer = null;
      try { answer = await response.json(); } catch (e) { answer = null; }
      if (response.status === 409) {
        again("warning", text.stale);
        return;
      }
      error.textContent = format(text.failed, { detail: (answer && answer.detail) || response.status });
      error.hidden = false;
    } catch (e) {
      error.textContent = format(text.failed, { detail: e.message });
      error.hidden = false;
    }
    buttons.forEach((b) => { b.disabled = false; });
  }

  for (const form of document.querySelectorAll(".act-form")) form.addEventListener("submit", act);
  if (config.wantsSuggestions) suggest(); else document.body.setAttribute("data-suggested", "");
})();
