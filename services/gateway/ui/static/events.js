// The live tail of the bus: /v1/events/stream read with fetch, not EventSource, because its
// events are named for their subjects, and an EventSource hears only names it listens for.
"use strict";

// Blocks of a server-sent event stream: "id: …\nevent: …\ndata: …" lines, a blank line apart.
function parseBlock(block) {
  const event = {data: []};
  for (const line of block.split("\n")) {
    const at = line.indexOf(":");
    if (at <= 0) continue;  // a comment (keep-alive) or nothing
    const field = line.slice(0, at);
    const value = line.slice(at + 1).replace(/^ /, "");
    if (field === "data") event.data.push(value);
    else event[field] = value;
  }
  if (!event.data.length) return null;
  return {name: event.event, id: event.id, body: JSON.parse(event.data.join("\n"))};
}

function tailRow(body) {
  const row = document.createElement("tr");
  // The event's own time as it was given (UTC), to the millisecond.
  const time = (body.time || "").replace("T", " ").replace(/(\.\d{3})\d*/, "$1");
  const cells = [body.subject, time, body.id || ""];
  for (const [i, text] of cells.entries()) {
    const cell = document.createElement("td");
    const inner = document.createElement(i === 0 || i === 2 ? "code" : "span");
    inner.textContent = text;
    cell.appendChild(inner);
    row.appendChild(cell);
  }
  const data = document.createElement("td");
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  const text = JSON.stringify(body.data);
  summary.textContent = text.length > 80 ? text.slice(0, 77) + "…" : text;
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(body.data, null, 2);
  details.append(summary, pre);
  data.appendChild(details);
  row.appendChild(data);
  row.dataset.subject = body.subject;
  return row;
}

async function followTail(tbody) {
  const status = document.getElementById("tail-status");
  const keep = Number(tbody.dataset.keep);
  let last = null;
  // The gateway ends a stream after a while; go on from the last event seen.
  for (;;) {
    const headers = last ? {"Last-Event-ID": last} : {};
    const answer = await fetch(tbody.dataset.stream, {headers});
    if (!answer.ok) {
      const detail = await answer.json().catch(() => ({}));
      status.textContent = "stopped: " + (detail.detail || answer.status);
      return;
    }
    status.textContent = "connecting…";
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffered += value.replace(/\r\n?/g, "\n");
      const blocks = buffered.split("\n\n");
      buffered = blocks.pop();
      for (const block of blocks) {
        const event = parseBlock(block);
        if (!event) continue;
        if (event.name === "ready") {  // subscribed: what is published from now on comes
          status.textContent = "live";
          continue;
        }
        last = event.id || last;
        tbody.prepend(tailRow(event.body));  // newest first
        while (tbody.rows.length > keep) tbody.lastElementChild.remove();
      }
    }
    status.textContent = "reconnecting…";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const tail = document.getElementById("tail");
  if (tail) followTail(tail);
});
