// One issue: what was reported, the public timeline of replies, and a reply box.
import * as api from "../api.js";
import { el } from "../dom.js";
import { countyTime, t } from "../i18n.js";

export async function issuePage(id, user) {
  const [issue, comments] = await Promise.all([
    api.get(`/api/v1/issues/${id}`),
    api.get(`/api/v1/issues/${id}/comments`),
  ]);
  const list = el("ol", { class: "comments", id: "comments" }, comments.items.map((c) =>
    el("li", { class: c.internal ? "internal" : "public" },
      c.internal ? el("strong", { class: "tag" }, t("internal")) : null,
      el("p", { class: "body" }, c.body),
      el("time", { datetime: c.created_at }, countyTime(c.created_at)))));
  const box = el("textarea", { id: "reply", name: "reply", rows: 3, maxlength: 5000, required: true });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "reply-form" },
    el("label", { for: "reply" }, t("reply_label")), box,
    el("button", { type: "submit" }, t("send")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const c = await api.create(`/api/v1/issues/${id}/comments`, { body: box.value });
      list.append(el("li", { class: "public" }, el("p", { class: "body" }, c.body),
        el("time", { datetime: c.created_at }, countyTime(c.created_at))));
      box.value = "";
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return el("article", { class: "issue-page" },
    el("a", { href: "#/issues", class: "back" }, t("back")),
    el("h1", { id: "issue-title" }, issue.title),
    el("p", { class: "meta" }, issue.number, " · ", t("status_" + issue.status)),
    el("p", { class: "description" }, issue.description),
    el("h2", {}, t("comments")), list, form);
}
