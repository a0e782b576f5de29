// Slack's mrkdwn, rendered minimally and safely: every piece of text becomes a DOM text
// node (never innerHTML), links only for http(s)/mailto, mentions and dates resolved.
"use strict";

const Dom = {
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },
  clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  },
  // Make `parent`'s children exactly `nodes`, moving only what changed, so an input the
  // person is typing in keeps its focus when something else on the page updates.
  sync(parent, nodes) {
    nodes.forEach((node, index) => {
      const current = parent.childNodes[index];
      if (current !== node) parent.insertBefore(node, current || null);
    });
    while (parent.childNodes.length > nodes.length) parent.removeChild(parent.lastChild);
  },
};

const Mrkdwn = (() => {
  const decode = (text) =>
    text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  // Each pattern: the regex, and how to build the node from the match. `lead` is a
  // captured boundary character that belongs to the text before the token.
  const PATTERNS = [
    { re: /```([\s\S]*?)```/, build: (m) => Dom.el("pre", { class: "md-pre" }, decode(m[1])) },
    { re: /`([^`\n]+)`/, build: (m) => Dom.el("code", { class: "md-code" }, decode(m[1])) },
    { re: /<([^<>\n]+)>/, build: (m, ctx) => special(m[1], ctx) },
    { re: /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/, lead: true, wrap: "strong" },
    { re: /(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?!\w)/, lead: true, wrap: "em" },
    { re: /(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?!\w)/, lead: true, wrap: "s" },
  ];

  function appendText(parent, text) {
    const lines = decode(text).split("\n");
    lines.forEach((line, index) => {
      if (index > 0) parent.append(Dom.el("br"));
      if (line) parent.append(document.createTextNode(line));
    });
  }

  function renderInto(parent, text, ctx) {
    while (text) {
      let best = null;
      for (const pattern of PATTERNS) {
        const match = pattern.re.exec(text);
        if (!match) continue;
        const start = match.index + (pattern.lead ? match[1].length : 0);
        if (!best || start < best.start) best = { pattern, match, start };
      }
      if (!best) {
        appendText(parent, text);
        return;
      }
      const { pattern, match, start } = best;
      appendText(parent, text.slice(0, start));
      if (pattern.wrap) {
        const node = Dom.el(pattern.wrap);
        renderInto(node, match[2], ctx);
        parent.append(node);
      } else {
        parent.append(pattern.build(match, ctx));
      }
      text = text.slice(match.index + match[0].length);
    }
  }

  function safeHref(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function special(inner, ctx) {
    const [target, ...rest] = inner.split("|");
    const label = rest.length ? decode(rest.join("|")) : null;
    if (target.startsWith("@")) {
      const user = (ctx.users || {})[target.slice(1)];
      return Dom.el("span", { class: "md-mention" }, "@" + (user ? user.name : label || target.slice(1)));
    }
    if (target.startsWith("#")) {
      const channel = (ctx.conversations || []).find((c) => c.id === target.slice(1));
      return Dom.el("span", { class: "md-mention" }, "#" + (label || (channel ? channel.name : target.slice(1))));
    }
    if (target.startsWith("!date^")) return document.createTextNode(formatDate(target, label));
    if (target.startsWith("!subteam^")) return Dom.el("span", { class: "md-mention" }, label || "@group");
    if (target.startsWith("!")) return Dom.el("span", { class: "md-mention" }, "@" + target.slice(1));
    const href = safeHref(decode(target));
    if (!href) return document.createTextNode(label || decode(target));
    return Dom.el("a", { href, target: "_blank", rel: "noopener noreferrer" }, label || href);
  }

  function formatDate(token, fallback) {
    const [, stamp, format] = token.split("^");
    const seconds = Number(stamp);
    if (!Number.isFinite(seconds) || !format) return fallback || token;
    const when = new Date(seconds * 1000);
    const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const parts = {
      time,
      time_secs: when.toLocaleTimeString(),
      date_num: when.toISOString().slice(0, 10),
      date_short: when.toLocaleDateString([], { month: "short", day: "numeric", year: "numeric" }),
      date: when.toLocaleDateString([], { month: "long", day: "numeric", year: "numeric" }),
      date_long: when.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric", year: "numeric" }),
    };
    for (const name of ["date_pretty", "date_short_pretty", "date_long_pretty"]) {
      const today = new Date().toDateString() === when.toDateString();
      parts[name] = today ? "today" : parts[name.replace("_pretty", "")] || parts.date;
    }
    return format.replace(/\{(\w+)\}/g, (whole, name) => (name in parts ? parts[name] : whole));
  }

  return {
    // A text object ({type: mrkdwn|plain_text, text}) or a string, as DOM nodes.
    render(textObject, ctx) {
      const fragment = document.createDocumentFragment();
      if (textObject === null || textObject === undefined) return fragment;
      if (typeof textObject === "string") {
        renderInto(fragment, textObject, ctx || {});
      } else if (textObject.type === "plain_text") {
        fragment.append(document.createTextNode(textObject.text || ""));
      } else {
        renderInto(fragment, textObject.text || "", ctx || {});
      }
      return fragment;
    },
    plain(textObject) {
      if (!textObject) return "";
      return typeof textObject === "string" ? textObject : textObject.text || "";
    },
  };
})();
