// One issue: what was reported, the timeline, the replies, the steps the reader may take,
// and a reply box (a department's internal note looks unmistakably different).
import * as api from "../api.js";
import { el } from "../dom.js";
import { countyTime, t } from "../i18n.js";
import * as outbox from "../outbox.js";

/// The steps offered, by role and state; the server decides (and says no when it must).
function offered(issue, user) {
  const dept = user.role === "department_staff" || user.role === "department_head";
  const mine = user.id === issue.reporter_id;
  const s = issue.status;
  const steps = [];
  if (dept && s === "assigned") steps.push(["acknowledge", false]);
  if (dept && (s === "assigned" || s === "in_progress")) steps.push(["request_info", true]);
  if (dept && s === "in_progress") steps.push(["resolve", true]);
  if (dept && (s === "assigned" || s === "in_progress")) steps.push(["return", true]);
  if (mine && s === "awaiting_info") steps.push(["provide_info", true]);
  if (mine && s === "resolved") steps.push(["confirm", false], ["reopen", true]);
  if (mine && ["submitted", "unassigned", "assigned", "in_progress", "awaiting_info"].includes(s)) steps.push(["withdraw", false]);
  return steps;
}

function stepForm(id, action, needsComment, done) {
  const note = el("textarea", { id: `note-${action}`, rows: 2, maxlength: 5000, required: needsComment });
  const rating = action === "confirm"
    ? el("fieldset", { class: "rating" }, el("legend", {}, t("rating")),
      [1, 2, 3, 4, 5].map((n) => el("label", {}, el("input", { type: "radio", name: "rating", value: n, checked: n === 5 }), " ", n)))
    : null;
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "step", id: `step-${action}` },
    el("label", { for: `note-${action}` }, needsComment ? t("reason") : t("optional_note")), note,
    rating, el("button", { type: "submit" }, t("act_" + action)), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { action };
    if (note.value.trim()) body.comment = note.value;
    if (rating) body.rating = Number(form.querySelector("input[name=rating]:checked").value);
    const key = crypto.randomUUID();
    try {
      const sent = await outbox.queue({ kind: "step", path: `/api/v1/issues/${id}/transitions`, body, key, label: t("act_" + action) });
      if (!sent[key]) { error.textContent = t("waiting"); return; }
      if (sent[key].error) throw new Error(sent[key].error);
      done();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return form;
}

export async function issuePage(id, user, refresh) {
  const [issue, comments, events, files] = await Promise.all([
    api.get(`/api/v1/issues/${id}`),
    api.get(`/api/v1/issues/${id}/comments`),
    api.get(`/api/v1/issues/${id}/events`),
    api.get(`/api/v1/issues/${id}/attachments`),
  ]);
  // Thumbnails come with the bearer token, so they are fetched, then shown from memory;
  // a tap opens the full photo.
  const gallery = el("ul", { class: "gallery", id: "gallery" }, files.items.map((f) => {
    const item = el("li", {});
    const thumbs = ["image/jpeg", "image/png", "image/webp"].includes(f.content_type);
    const open = el("button", { type: "button", class: "file" }, thumbs ? "" : f.file_name);
    open.addEventListener("click", async () => window.open(await api.imageUrl(`/api/v1/attachments/${f.id}`), "_blank"));
    if (thumbs) {
      api.imageUrl(`/api/v1/attachments/${f.id}/thumbnail`)
        .then((url) => open.append(el("img", { src: url, alt: f.file_name, width: 96, height: 96 })))
        .catch(() => open.append(f.file_name));
    }
    item.append(open);
    return item;
  }));
  const entry = (c) => el("li", { class: c.internal ? "internal" : "public" },
    c.internal ? el("strong", { class: "tag" }, t("internal")) : null,
    el("p", { class: "body" }, c.body),
    el("time", { datetime: c.created_at }, countyTime(c.created_at)));
  const list = el("ol", { class: "comments", id: "comments" }, comments.items.map(entry));
  const timeline = el("ol", { class: "timeline", id: "timeline" }, events.items
    .filter((e) => e.kind !== "comment")
    .map((e) => el("li", {},
      el("time", { datetime: e.at }, countyTime(e.at)), " ",
      el("strong", {}, t("ev_" + e.kind)),
      e.data && e.data.comment ? el("p", { class: "body" }, e.data.comment) : null)));
  const box = el("textarea", { id: "reply", name: "reply", rows: 3, maxlength: 5000, required: true });
  const dept = user.role !== "observer";
  const internal = dept ? el("input", { id: "internal", type: "checkbox" }) : null;
  const hint = el("p", { class: "hint", id: "internal-hint", hidden: true }, t("internal_hint"));
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "reply-form" },
    el("label", { for: "reply" }, t("reply_label")), box,
    internal ? el("label", { class: "check" }, internal, " ", t("internal_toggle")) : null,
    hint, el("button", { type: "submit" }, t("send")), error);
  internal?.addEventListener("change", () => {
    form.classList.toggle("internal", internal.checked);
    hint.hidden = !internal.checked;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = crypto.randomUUID();
    const body = { body: box.value, internal: internal?.checked ?? false };
    try {
      const sent = await outbox.queue({ kind: "comment", path: `/api/v1/issues/${id}/comments`, body, key, label: box.value });
      const c = sent[key];
      if (c && c.error) throw new Error(c.error);
      list.append(c ? entry(c) : el("li", { class: "waiting" }, el("p", { class: "body" }, body.body), el("span", { class: "status" }, t("waiting"))));
      box.value = "";
    } catch (err) {
      error.textContent = err.message;
    }
  });
  const steps = offered(issue, user).map(([action, needs]) => stepForm(id, action, needs, refresh));
  return el("article", { class: "issue-page" },
    el("a", { href: "#/issues", class: "back" }, t("back")),
    el("h1", { id: "issue-title" }, issue.title),
    el("p", { class: "meta" }, issue.number, " · ", el("span", { id: "issue-status" }, t("status_" + issue.status))),
    el("p", { class: "description" }, issue.description),
    files.items.length ? gallery : null,
    steps.length ? el("section", { class: "steps", id: "steps" }, steps) : null,
    el("h2", {}, t("timeline")), timeline,
    el("h2", {}, t("comments")), list, form);
}
