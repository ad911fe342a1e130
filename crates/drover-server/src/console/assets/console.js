// Follows each running command's log on the deployment page: new text is appended as the
// command writes it; when every command has finished, the page reloads to show the results.
(function () {
  "use strict";
  const logs = Array.from(document.querySelectorAll("pre.log[data-command]"));
  if (logs.length === 0 || logs.every((pre) => pre.dataset.finished === "yes")) return;
  let running = logs.filter((pre) => pre.dataset.finished !== "yes").length;
  async function follow(pre) {
    while (true) {
      const url = "/console/commands/" + pre.dataset.command + "/log?wait=10&offset=" + pre.dataset.offset;
      let chunk;
      try {
        const answer = await fetch(url, { credentials: "same-origin" });
        if (!answer.ok) throw new Error(String(answer.status));
        chunk = await answer.json();
      } catch (e) {
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      if (chunk.data) {
        pre.append(document.createTextNode(chunk.data));
        pre.scrollTop = pre.scrollHeight;
      }
      pre.dataset.offset = String(chunk.next_offset);
      if (chunk.complete) return;
    }
  }
  logs.filter((pre) => pre.dataset.finished !== "yes").forEach((pre) =>
    follow(pre).then(() => {
      running -= 1;
      if (running === 0) window.location.reload();
    })
  );
})();

// Checks the Custom JSON editor's document as it is typed, through the API's own check, and
// shows the first problem at its JSON path.
(function () {
  "use strict";
  const editor = document.querySelector("textarea[data-check]");
  if (!editor) return;
  const shown = document.getElementById("json-error");
  let timer = null;
  function show(text) {
    shown.textContent = text;
    shown.hidden = text === "";
  }
  async function check() {
    let doc;
    try {
      doc = JSON.parse(editor.value);
    } catch (e) {
      show("not valid JSON: " + e.message);
      return;
    }
    const answer = await fetch(editor.dataset.check, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Drover-Csrf": editor.dataset.csrf },
      body: JSON.stringify({ custom_json: doc, layer: editor.dataset.layer || null }),
    });
    if (answer.ok) {
      show("");
      return;
    }
    const body = await answer.json().catch(() => ({}));
    const error = body.error || {};
    show((error.field ? error.field + ": " : "") + (error.message || "refused (" + answer.status + ")"));
  }
  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
})();
