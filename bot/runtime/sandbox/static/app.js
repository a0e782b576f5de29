// The sandbox page: sidebar, conversation, composer, Home tab, modals, phone and inbox.
// It only talks to /sandbox/api/*; the server turns each gesture into the signed request
// Slack would send the app.
"use strict";

(() => {
  const { el, clear } = Dom;
  const $ = (selector) => document.querySelector(selector);
  const page = {
    state: null,
    version: "",
    selected: null, // conversation id
    tab: "messages", // for the app's DM: "messages" | "home"
    seen: {}, // conversation id → number of messages seen
    rendered: new Map(), // surface key → { json, node } so unchanged surfaces keep focus and input
    used: new Set(), // surface keys shown by the current render
  };

  // ---- talking to the server -----------------------------------------------------------
  async function post(path, body) {
    const response = await fetch(`/sandbox/api/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    // An app that answered badly is reported in the problems bar, as Slack's client would.
    return answer;
  }

  async function poll() {
    for (;;) {
      try {
        const response = await fetch(`/sandbox/api/state?version=${encodeURIComponent(page.version)}`);
        if (response.status === 200) {
          const state = await response.json();
          page.version = state.version;
          render(state);
          $("#offline").hidden = true;
        }
      } catch (error) {
        $("#offline").hidden = false;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  function toast(message) {
    const item = el("div", { class: "toast", role: "status" }, message);
    $("#toasts").append(item);
    setTimeout(() => item.remove(), 6000);
  }

  const report = (promise) => promise.catch((error) => toast(error.message));

  // ---- rendering -----------------------------------------------------------------------
  function ctx(surface, root) {
    return {
      users: page.state.users,
      conversations: page.state.conversations,
      onAction: ({ blockId, actionId, value }) =>
        report(post("action", {
          ...surface, block_id: blockId, action_id: actionId, value,
          entries: BlockKit.entries(root()),
        })),
    };
  }

  // Render a surface once per distinct content; keep typed values across real redraws.
  function surfaceNode(key, json, build) {
    page.used.add(key);
    const known = page.rendered.get(key);
    const serialized = JSON.stringify(json);
    if (known && known.json === serialized) return known.node;
    const node = build();
    if (known) BlockKit.restore(node, BlockKit.entries(known.node));
    page.rendered.set(key, { json: serialized, node });
    return node;
  }

  function conversation() {
    const list = page.state.conversations;
    return list.find((c) => c.id === page.selected) || list[0];
  }

  function render(state) {
    page.state = state;
    page.used = new Set();
    if (!page.selected) page.selected = state.conversations[0].id;
    const current = conversation();
    page.seen[current.id] = current.messages.length;
    renderSidebar();
    renderHeader(current);
    if (current.kind === "im" && page.tab === "home") renderHome();
    else renderMessages(current);
    $("#composer").hidden = current.kind === "im" && page.tab === "home";
    $("#composer-input").placeholder = current.kind === "im"
      ? `Message ${current.name} — try ${state.commands[0] || "/verify"} Jane Doe`
      : `Message #${current.name}`;
    renderModal();
    renderPhone();
    renderProblems();
    // Forget surfaces that are gone (deleted messages, closed modals); keep those of other
    // conversations, so text typed into a card survives a look at another channel.
    const live = new Set(page.used);
    for (const c of state.conversations) for (const m of c.messages) live.add(`msg:${c.id}:${m.ts}`);
    if (state.home.view) live.add(`home:${state.home.view.id}`);
    for (const key of [...page.rendered.keys()]) if (!live.has(key)) page.rendered.delete(key);
  }

  function renderSidebar() {
    const groups = { im: $("#apps"), channel: $("#channels"), private: $("#channels") };
    clear($("#apps"));
    clear($("#channels"));
    for (const c of page.state.conversations) {
      const unread = c.messages.length - (page.seen[c.id] ?? 0);
      const item = el("button", {
        class: `sidebar-item${c.id === page.selected ? " active" : ""}`,
        "data-conversation": c.id,
        onclick: () => {
          page.selected = c.id;
          page.tab = "messages";
          render(page.state);
        },
      }, el("span", { class: "sidebar-icon" }, c.kind === "im" ? "◆" : c.kind === "private" ? "🔒" : "#"),
      el("span", { class: "sidebar-name" }, c.name),
      unread > 0 && c.id !== page.selected ? el("span", { class: "badge" }, String(unread)) : null);
      groups[c.kind].append(item);
    }
  }

  function renderHeader(current) {
    const header = clear($("#conversation-header"));
    header.append(el("h1", {}, current.kind === "im" ? current.name : `# ${current.name}`));
    if (current.kind !== "im") return;
    const tab = (name, label) => el("button", {
      class: `tab${page.tab === name ? " active" : ""}`, role: "tab",
      "aria-selected": page.tab === name ? "true" : "false",
      onclick: () => {
        if (page.tab !== name && name === "home") report(post("home", {}));
        page.tab = name;
        render(page.state);
      },
    }, label);
    header.append(el("div", { class: "tabs", role: "tablist" }, tab("home", "Home"), tab("messages", "Messages")));
  }

  function messageTime(ts) {
    return new Date(Number(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessages(current) {
    const list = $("#messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const nodes = current.messages.map((message) => {
      const key = `msg:${current.id}:${message.ts}`;
      return surfaceNode(key, message, () => {
        let node = null;
        const surface = { conversation: current.id, ts: message.ts };
        const context = ctx(surface, () => node);
        const body = message.blocks.length
          ? BlockKit.render(message.blocks, context)
          : el("div", { class: "bk-text" }, Mrkdwn.render(message.text, context));
        node = el("article", { class: `message${message.ephemeral ? " ephemeral" : ""}`, "data-ts": message.ts },
          el("div", { class: `avatar${message.is_bot ? " bot" : ""}`, "aria-hidden": "true" },
            message.is_bot ? "PV" : message.author.slice(0, 1)),
          el("div", { class: "message-main" },
            el("div", { class: "message-meta" },
              el("strong", {}, message.author),
              message.is_bot ? el("span", { class: "app-tag" }, "APP") : null,
              el("time", {}, messageTime(message.ts)),
              message.ephemeral ? el("span", { class: "only-you" }, "Only visible to you") : null),
            body));
        return node;
      });
    });
    if (!nodes.length) {
      nodes.push(el("div", { class: "empty" },
        current.kind === "im"
          ? `This is your DM with ${current.name}. Type ${page.state.commands[0] || "/verify"} Jane Doe below to start.`
          : `Nothing in #${current.name} yet. Closed verifications are posted here.`));
    }
    Dom.sync(list, nodes);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function renderHome() {
    const home = page.state.home;
    let shown;
    if (!home.enabled) {
      shown = el("div", { class: "empty" },
        "This app has no Home tab yet (its manifest has home_tab_enabled: false).");
    } else if (!home.view) {
      shown = el("div", { class: "empty" }, "The app has not published a Home tab for you.");
    } else {
      shown = surfaceNode(`home:${home.view.id}`, home.view, () => {
        let node = null;
        node = el("div", { class: "home" },
          BlockKit.render(home.view.blocks, ctx({ view: home.view.id }, () => node)));
        return node;
      });
    }
    Dom.sync($("#messages"), [shown]);
  }

  function renderModal() {
    const host = $("#modal-host");
    const top = page.state.modals[page.state.modals.length - 1];
    if (!top) {
      clear(host);
      return;
    }
    const node = surfaceNode(`view:${top.id}`, top, () => {
      let dialog = null;
      const context = ctx({ view: top.id }, () => dialog);
      const failure = el("div", { class: "modal-failure", role: "alert" });
      const close = () => report(post("close", { view: top.id }));
      const submit = () => {
        if (!BlockKit.checkRequired(dialog)) return Promise.resolve();
        return post("submit", { view: top.id, entries: BlockKit.entries(dialog) })
          .then(() => { failure.textContent = ""; })
          .catch((error) => { failure.textContent = error.message; });
      };
      dialog = el("div", { class: "overlay", role: "dialog", "aria-modal": "true", "aria-label": top.title || "Modal" },
        el("div", { class: "dialog modal" },
          el("div", { class: "modal-title" }, el("h2", {}, top.title || ""),
            el("button", { class: "icon-button", "aria-label": "Close", onclick: close }, "✕")),
          el("div", { class: "modal-body" }, BlockKit.render(top.blocks, context, top.errors)),
          failure,
          el("div", { class: "dialog-actions" },
            el("button", { class: "bk-button", onclick: close }, top.close || "Cancel"),
            top.submit ? el("button", { class: "bk-button primary", onclick: submit }, top.submit) : null)));
      return dialog;
    });
    if (host.firstChild !== node) clear(host).append(node);
  }

  function renderPhone() {
    const list = $("#phone-messages");
    const shown = page.state.phone;
    const nodes = shown.map((m) => surfaceNode(`phone:${m.id}`, m, () => {
      const body = el("div", { class: "phone-body" });
      // Codes stand out so a tester can read them back, as the caller would.
      m.body.split(/(\b\d{6,10}\b)/).forEach((part, index) =>
        body.append(index % 2 ? el("strong", { class: "phone-code" }, part) : part));
      return el("article", { class: `phone-message ${m.channel}`, "data-channel": m.channel },
        el("div", { class: "phone-meta" },
          el("span", { class: "phone-kind" }, m.channel === "sms" ? "📱 SMS" : "✉️ Email"),
          el("span", { class: "phone-to" }, `to ${m.recipient}`),
          el("time", {}, new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))),
        m.subject ? el("div", { class: "phone-subject" }, m.subject) : null,
        body);
    }));
    if (!nodes.length) {
      nodes.push(el("div", { class: "empty" }, "Texts and emails the app sends appear here."));
    }
    Dom.sync(list, nodes);
  }

  function renderProblems() {
    const box = clear($("#problems"));
    box.hidden = !page.state.problems.length;
    for (const problem of page.state.problems) box.append(el("div", {}, "⚠️ " + problem));
  }

  // ---- the message box -----------------------------------------------------------------
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#composer-input");
    const text = input.value.trim();
    if (!text) return;
    $("#composer-error").textContent = "";
    post("command", { conversation: conversation().id, text })
      .then(() => { input.value = ""; })
      .catch((error) => { $("#composer-error").textContent = error.message; });
  });

  poll();
})();
