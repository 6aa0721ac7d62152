/* The assistant's embeddable chat widget: one <script> tag adds a button and a chat panel (Shadow DOM).
 *
 *   <script src="https://assistant.example/widget.js" data-key="READ-ONLY KEY" defer></script>
 *
 * data-key      a READ-ONLY key (ASSISTANT_READ_KEYS), or nothing on a keyless server. Never an admin key:
 *               every visitor of the page can read it, and the server refuses admin keys from web pages.
 * data-title    panel title (default "Ask the articles")
 * data-placeholder, data-position ("right" | "left"), data-open ("true": start open), data-color (accent)
 * data-server   the assistant's address (default: where this script was loaded from)
 *
 * The page's origin must be on the server's allow-list (ASSISTANT_CORS_ORIGINS). Its look is the server's /widget.css
 * (no inline script or style): a page with a Content-Security-Policy needs the server in script-src, style-src and
 * connect-src. Answers stream sentence by
 * sentence from POST /api/ask/stream; a marker [n] opens the cited document with the exact span marked.
 * Everything that comes from the articles is inserted as text (textContent / text nodes), never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__assistantWidgetLoaded) return;
  window.__assistantWidgetLoaded = true;

  var data = script.dataset;
  var server = (data.server || script.src.replace(/\/widget\.js(?:[?#].*)?$/, "")).replace(/\/+$/, "");
  var key = data.key || "";
  var title = data.title || "Ask the articles";
  var accent = /^#[0-9a-fA-F]{3,8}$|^[a-z]+$/.test(data.color || "") ? data.color : "#2457c5";
  var side = data.position === "left" ? "left" : "right";


  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  // A speech bubble (a chat), drawn as SVG nodes: no markup string, nothing for a CSP to refuse.
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    [8, 12, 16].forEach(function (x) {
      var dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", String(x));
      dot.setAttribute("cy", "11");
      dot.setAttribute("r", "1.4");
      dot.setAttribute("fill", "var(--accent)");
      svg.append(dot);
    });
    return svg;
  }

  // The verdict in words a reader understands; the number behind it (the server's verdict_words) only on hover.
  var VERDICT_WORDS = { supported: "answers the question", uncertain: "may not answer it",
                        weak: "only partly backed by its source", disagree: "the sources differ", conflict: "the sources differ" };

  var host = document.createElement("assistant-widget");
  // The look comes from the server's /widget.css, not an inline <style>: pages with style-src 'self' APP allow it.
  // Style set through the CSSOM (host.style) is not inline markup, so CSP lets it through too.
  host.setAttribute("data-side", side);
  host.style.setProperty("--accent", accent);
  host.style.setProperty("visibility", "hidden"); // until the stylesheet is in: no flash of an unstyled button
  var root = host.attachShadow({ mode: "open" });
  var style = el("link", { rel: "stylesheet", href: server + "/widget.css" });
  style.addEventListener("load", function () { host.style.removeProperty("visibility"); });
  style.addEventListener("error", function () { host.style.removeProperty("visibility"); });
  var launcher = el("button", { class: "launcher", "aria-label": title, title: title });
  launcher.append(chatIcon());
  var panel = el("section", { class: "panel", role: "dialog", "aria-label": title, hidden: "" });
  var header = el("header");
  var newButton = el("button", { class: "new", title: "New conversation" }, "New");
  var closeButton = el("button", { class: "close", "aria-label": "Close" }, "\u00d7");
  header.append(el("h2", {}, title), newButton, closeButton);
  var log = el("div", { class: "log", "aria-live": "polite" });
  var viewer = el("div", { class: "viewer", hidden: "" });
  var viewerTitle = el("span");
  var viewerClose = el("button", { class: "back" }, "Back to chat");
  var bar = el("div", { class: "bar" });
  bar.append(viewerTitle, viewerClose);
  var docView = el("div", { class: "doc" });
  viewer.append(bar, docView);
  var form = el("form");
  var input = el("textarea", { placeholder: data.placeholder || "Ask a question\u2026", "aria-label": "Question", maxlength: "4000" });
  var send = el("button", { type: "submit" }, "Ask");
  form.append(input, send);
  panel.append(header, log, viewer, form);
  root.append(style, panel, launcher);

  var history = [];
  var documents = {};
  var busy = false;

  function headers(json) {
    var h = {};
    if (json) h["Content-Type"] = "application/json";
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }

  function errorMessage(response) {
    return response.text().then(function (body) {
      try { return JSON.parse(body).error.message; } catch (e) { return "the assistant answered " + response.status; }
    });
  }

  function setOpen(open) {
    panel.hidden = !open;
    if (open) input.focus();
  }

  function showLog() {
    viewer.hidden = true;
    log.hidden = false;
  }

  function openCitation(citation) {
    var id = citation.document_id;
    var got = documents[id] || fetch(server + "/api/documents/" + encodeURIComponent(id), { headers: headers(false) })
      .then(function (r) { return r.ok ? r.json() : errorMessage(r).then(function (m) { throw new Error(m); }); });
    documents[id] = got;
    got.then(function (doc) {
      // Offsets count code points (Python); Array.from splits by code point, not UTF-16 unit.
      var chars = doc.chars || (doc.chars = Array.from(doc.text));
      var mark = el("mark", { "data-marker": String(citation.marker) }, chars.slice(citation.start, citation.end).join(""));
      docView.replaceChildren(
        document.createTextNode(chars.slice(0, citation.start).join("")),
        mark,
        document.createTextNode(chars.slice(citation.end).join(""))
      );
      viewerTitle.textContent = "[" + citation.marker + "] " + (doc.title || doc.source) + (citation.page ? " \u2014 page " + citation.page : "");
      log.hidden = true;
      viewer.hidden = false;
      mark.scrollIntoView({ block: "center" });
    }).catch(function (e) {
      delete documents[id];
      addMessage("bot error", "Cannot open the source: " + e.message);
    });
  }

  function addMessage(cls, text) {
    var node = el("div", { class: "msg " + cls }, text);
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function renderSentence(bubble, sentence, citations) {
    var span = el("span", { class: "sentence " + sentence.verdict });
    if (sentence.verdict_words) span.title = sentence.verdict_words;  // the verdict in plain words, made by the server
    // Markers come from the sentence's citation list only: a "[2]" quoted from an article stays text.
    var body = sentence.body != null ? sentence.body : sentence.text;
    var markers = sentence.citations || [];
    span.append(document.createTextNode((bubble.querySelector(".sentence") ? " " : "") + body + (markers.length ? " " : "")));
    markers.forEach(function (n) {
      var button = el("button", { class: "marker", "data-marker": String(n), title: "Open the cited source" }, "[" + n + "]");
      button.addEventListener("click", function () { if (citations[n]) openCitation(citations[n]); });
      span.append(button);
    });
    // doubt is shown where the sentence is: only a sentence the model is confident of goes unmarked
    var words = VERDICT_WORDS[sentence.verdict];
    if (sentence.verdict !== "supported" && words) span.append(el("span", { class: "doubt" }, words));
    bubble.append(span);
  }

  function renderSources(bubble, answer, citations) {
    if (!answer.citations.length) return;
    var list = el("ul", { class: "sources" });
    answer.citations.forEach(function (c) {
      var item = el("li");
      // el() sets text, never markup: a title from a file is data
      var button = el("button", { class: "source" }, "[" + c.marker + "] " + (c.title || c.source) +
                      (c.date_shown ? " (" + c.date_shown + ")" : ""));
      button.addEventListener("click", function () { openCitation(citations[c.marker]); });
      item.append(button);
      list.append(item);
    });
    bubble.append(list);
  }

  function ask(question) {
    busy = true;
    send.disabled = true;
    showLog();
    addMessage("user", question);
    var bubble = addMessage("bot pending", "");
    var citations = {};
    var answer = null;
    var body = JSON.stringify({ question: question, history: history });
    fetch(server + "/api/ask/stream", { method: "POST", headers: headers(true), body: body })
      .then(function (response) {
        if (!response.ok) return errorMessage(response).then(function (m) { throw new Error(m); });
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function handle(event) {
          if (event.event === "sentence") {
            event.citations.forEach(function (c) { citations[c.marker] = c; });
            bubble.classList.remove("pending");
            if (event.sentence.verdict !== "abstain") renderSentence(bubble, event.sentence, citations);
          } else if (event.event === "done") {
            answer = event.answer;
          } else if (event.event === "error") {
            throw new Error(event.message);
          }
        }
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split("\n\n");
            buffer = parts.pop();
            parts.forEach(function (part) {
              part.split("\n").forEach(function (line) {
                if (line.indexOf("data: ") === 0) handle(JSON.parse(line.slice(6)));
              });
            });
            return pump();
          });
        }
        return pump();
      })
      .then(function () {
        if (!answer) throw new Error("the answer was cut off");
        bubble.classList.remove("pending");
        if (answer.abstained) {
          bubble.classList.add("abstained");
          bubble.prepend(el("span", { class: "label" }, "Not in the articles"));
          if (!bubble.querySelector(".sentence")) bubble.append(document.createTextNode(answer.answer));
        }
        renderSources(bubble, answer, citations);
        bubble.setAttribute("data-done", "true");
        history.push({ role: "user", content: question }, { role: "assistant", content: answer.answer });
        while (history.length > 20) history.shift();
      })
      .catch(function (e) {
        bubble.className = "msg bot error";
        var reason = e instanceof TypeError ? "cannot reach the assistant (network error, or this page is not allowed to use it)" : e.message;
        bubble.replaceChildren(document.createTextNode("Error: " + reason));
        bubble.setAttribute("data-done", "true");
      })
      .then(function () {
        busy = false;
        send.disabled = false;
        log.scrollTop = log.scrollHeight;
      });
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  viewerClose.addEventListener("click", showLog);
  newButton.addEventListener("click", function () {
    if (busy) return;
    history = [];
    log.replaceChildren();
    showLog();
    input.focus();
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  root.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  function attach() {
    document.body.append(host);
    if (data.open === "true") setOpen(true);
  }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
})();
