// Follows each running command on the deployment page as Server-Sent Events: new log text is
// appended as the command writes it, and the step it is on is shown with the time it has taken
// so far. When every command has finished, the page reloads to show the results.
(function () {
  "use strict";
  const logs = Array.from(document.querySelectorAll("pre.log[data-command]"));
  const following = logs.filter((pre) => pre.dataset.finished !== "yes");
  if (following.length === 0) return;
  let running = following.length;
  function finished() {
    running -= 1;
    if (running === 0) window.location.reload();
  }
  function follow(pre) {
    const id = pre.dataset.command;
    const step = document.getElementById("step-" + id);
    const caseCell = document.getElementById("case-" + id);
    let stepName = null;
    let stepSince = 0;
    const timer = setInterval(() => {
      if (step && stepName) step.textContent = stepName + " (" + Math.round((Date.now() - stepSince) / 1000) + " s)";
    }, 1000);
    const source = new EventSource("/console/commands/" + id + "/events?offset=" + pre.dataset.offset);
    source.addEventListener("log", (e) => {
      const chunk = JSON.parse(e.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(document.createTextNode(chunk.data));
      pre.dataset.offset = String(chunk.next_offset);
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
    source.addEventListener("progress", (e) => {
      const p = JSON.parse(e.data);
      if (caseCell && p.case) caseCell.textContent = p.case.replace(/_/g, " ");
      if (p.running !== stepName) {
        stepName = p.running;
        stepSince = Date.now();
        if (step) step.textContent = stepName || p.steps + " steps";
      }
    });
    function end() {
      source.close();
      clearInterval(timer);
      pre.dataset.finished = "yes";
      finished();
    }
    source.addEventListener("end", end);
    source.addEventListener("refused", end);
  }
  following.forEach(follow);
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
