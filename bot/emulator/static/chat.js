// The demo chat page: draws one demo user's chat with the bot and sends what they do.
// Plain JavaScript, no libraries; the server side is bot/emulator/web.py.
"use strict";

const AVATAR_COLOURS = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae"];
// The HTML subset Telegram renders; anything else is shown as its text.
const ALLOWED = {
  B: "b", STRONG: "b", I: "i", EM: "i", U: "u", INS: "u", S: "s", STRIKE: "s", DEL: "s",
  CODE: "code", PRE: "pre", BLOCKQUOTE: "blockquote", A: "a", "TG-SPOILER": "span", SPAN: "span",
};

let currentUser = null;
let version = -1;
let poller = null;
let lastRendered = "";

const $ = (id) => document.getElementById(id);

function telegramHtml(source) {
  const parsed = new DOMParser().parseFromString(`<body>${source}</body>`, "text/html");
  const out = document.createDocumentFragment();
  const copy = (from, into) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        into.appendChild(document.createTextNode(node.textContent));
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        const tag = ALLOWED[node.tagName];
        if (!tag) { copy(node, into); continue; }
        const element = document.createElement(tag);
        if (tag === "a") {
          const href = node.getAttribute("href") || "";
          if (/^(https?:|tg:)/i.test(href)) element.href = href;
          element.target = "_blank";
          element.rel = "noopener noreferrer";
        }
        if (node.tagName === "TG-SPOILER" || node.classList.contains("tg-spoiler")) {
          element.className = "spoiler";
          element.addEventListener("click", () => element.classList.add("shown"));
        }
        copy(node, element);
        into.appendChild(element);
      }
    }
  };
  copy(parsed.body, out);
  return out;
}

function el(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value);
  }
  for (const child of children) element.append(child);
  return element;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: currentUser, ...body }),
  });
  return response.json().catch(() => ({ ok: response.ok }));
}

function renderUsers(state) {
  const list = $("users");
  list.replaceChildren(...state.users.map((user, index) => el(
    "li",
    {
      class: user.id === currentUser ? "active" : "",
      "data-user": String(user.id),
      onclick: () => switchUser(user.id),
    },
    el("div", { class: "avatar", style: `background:${AVATAR_COLOURS[index % 6]}` }, user.name[0]),
    el("div", {}, el("div", {}, user.name),
      el("div", { class: "role" }, user.role === "admin" ? "clinic admin" : "patient")),
  )));
  const me = state.users.find((user) => user.id === currentUser);
  $("chat-sub").textContent = me ? `bot · you are ${me.name} (${me.role})` : "bot";
}

function renderClock(clock) {
  $("clock-local").textContent = clock.local;
  $("clock-zone").textContent = clock.zone;
  if (!$("tm-date").value) $("tm-date").value = clock.date;
}

function renderMenu(commands) {
  $("menu").replaceChildren(...commands.map((command) => el(
    "button",
    { type: "button", onclick: () => { toggleMenu(false); sendText(`/${command.command}`); } },
    el("span", { class: "cmd" }, `/${command.command}`),
    el("span", { class: "desc" }, command.description),
  )));
}

function messageView(message) {
  const bubble = el("div", { class: "bubble" });
  if (message.photo) {
    bubble.append(el("a", { href: `/api/file/${message.photo.file_id}`, download: "" },
      el("img", { class: "photo", src: `/api/file/${message.photo.file_id}`, alt: "photo" })));
  }
  if (message.document) {
    const kb = Math.max(1, Math.round(message.document.size / 1024));
    bubble.append(el("a", {
      class: "file", href: `/api/file/${message.document.file_id}`,
      download: message.document.name,
    }, el("span", { class: "file-icon" }, "⬇"),
    el("span", {}, message.document.name, el("small", {}, `${kb} KB · download`))));
  }
  if (message.location) {
    bubble.append(`📍 ${message.location.latitude}, ${message.location.longitude}`);
  }
  const body = el("span", { class: "text" });
  if (message.from_bot) body.append(telegramHtml(message.text));
  else body.textContent = message.text;
  bubble.append(body);
  bubble.append(el("span", { class: "meta" }, `${message.edited ? "edited " : ""}${message.time}`));
  const view = el("div", {
    class: `message ${message.from_bot ? "bot" : "user"}`, "data-message-id": String(message.id),
  }, bubble);
  if (message.buttons.length) {
    view.append(el("div", { class: "keyboard" }, ...message.buttons.map((row) => el(
      "div", { class: "row" }, ...row.map((button) => el("button", {
        type: "button",
        "data-callback": button.callback_data || "",
        onclick: (event) => press(event.currentTarget, message.id, button),
      }, button.text)),
    ))));
  }
  return view;
}

function renderMessages(messages) {
  const box = $("messages");
  const key = JSON.stringify(messages);
  if (key === lastRendered) return;
  lastRendered = key;
  const views = [];
  let day = null;
  for (const message of messages) {
    if (message.day !== day) {
      day = message.day;
      views.push(el("div", { class: "day" }, day));
    }
    views.push(messageView(message));
  }
  box.replaceChildren(...views);
  box.scrollTop = box.scrollHeight;  // something changed: show the newest, as Telegram does
}

function showToasts(toasts) {
  for (const text of toasts) {
    const toast = el("div", { class: "toast" }, text);
    $("toasts").append(toast);
    setTimeout(() => toast.remove(), 3500);
  }
}

function render(state) {
  version = state.version;
  renderUsers(state);
  renderClock(state.clock);
  renderMenu(state.commands);
  renderMessages(state.messages);
  showToasts(state.toasts || []);
}

async function poll() {
  const controller = new AbortController();
  poller = controller;
  while (poller === controller) {
    try {
      const response = await fetch(`/api/state?user=${currentUser}&since=${version}`,
        { signal: controller.signal });
      if (!response.ok) throw new Error(String(response.status));
      const state = await response.json();
      if (poller === controller && state.user === currentUser) render(state);
    } catch (error) {
      if (controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function toggleSidebar(show) {
  const open = show === undefined ? !document.body.classList.contains("sidebar-open") : show;
  document.body.classList.toggle("sidebar-open", open);
  $("chats-button").setAttribute("aria-expanded", String(open));
}

function switchUser(userId) {
  toggleSidebar(false);  // on a phone: back to the chat that was picked
  if (poller) poller.abort();
  currentUser = userId;
  version = -1;
  lastRendered = "";
  history.replaceState(null, "", `#user=${userId}`);
  poll();
}

async function sendText(text) {
  if (!text.trim()) return;
  await post("/api/send", { text });
}

async function press(button, messageId, spec) {
  if (spec.url) { window.open(spec.url, "_blank", "noopener"); return; }
  button.disabled = true;
  await post("/api/press", { message_id: messageId, data: spec.callback_data });
}

function toggleMenu(show) {
  const menu = $("menu");
  menu.hidden = show === undefined ? !menu.hidden : !show;
}

async function jump(action, extra = {}) {
  $("tm-problem").textContent = "";
  $("tm-stops").textContent = "";
  const result = await post("/api/clock", { action, ...extra });
  if (!result.ok) { $("tm-problem").textContent = result.problem || "That did not work."; return; }
  renderClock(result.clock);
  $("tm-date").value = result.clock.date;
  $("tm-stops").textContent = result.stops > 1
    ? `${result.stops} moments with something due on the way: each was sent in turn.`
    : "";
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("text");
  sendText(input.value);
  input.value = "";
});
$("menu-button").addEventListener("click", () => toggleMenu());
$("chats-button").addEventListener("click", () => toggleSidebar());
$("scrim").addEventListener("click", () => toggleSidebar(false));
$("location-button").addEventListener("click", async () => {
  // Telegram's 📎 → Location; here typed in (the browser's own position is not asked for).
  const typed = prompt("Share a location: latitude, longitude", "52.52, 13.40");
  const parts = (typed || "").split(",").map(Number);
  if (parts.length === 2 && parts.every(Number.isFinite)) {
    await post("/api/location", { latitude: parts[0], longitude: parts[1] });
  }
});
for (const button of document.querySelectorAll("[data-jump]")) {
  button.addEventListener("click", () => jump(button.dataset.jump));
}
$("tm-date-form").addEventListener("submit", (event) => {
  event.preventDefault();
  jump("date", { date: $("tm-date").value });
});

(async () => {
  const first = await (await fetch("/api/state")).json();
  const wanted = Number((location.hash.match(/user=(\d+)/) || [])[1]);
  const known = first.users.some((user) => user.id === wanted);
  switchUser(known ? wanted : first.users[0].id);
})();
