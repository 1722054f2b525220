// The notification feed: newest first, unread in bold, a tap opens the issue and marks it read.
import * as api from "../api.js";
import { el } from "../dom.js";
import { countyTime, t } from "../i18n.js";

/// The unread count for the badge in the bar.
export async function unread() {
  const page = await api.get("/api/v1/notifications?unread=true&limit=1");
  return page.unread_count;
}

export async function feed() {
  const page = await api.get("/api/v1/notifications?limit=50");
  const open = async (n) => {
    if (!n.read) await api.call("POST", `/api/v1/notifications/${n.id}/read`).catch(() => {});
    location.hash = n.issue_id ? `#/issues/${n.issue_id}` : "#/issues";
  };
  const readAll = el("button", { type: "button", id: "read-all" }, t("read_all"));
  readAll.addEventListener("click", async () => {
    await api.call("POST", "/api/v1/notifications/read-all");
    location.hash = "#/issues";
  });
  return el("section", {},
    el("h1", {}, t("notifications")),
    page.items.length ? readAll : el("p", {}, t("no_notifications")),
    el("ul", { class: "feed", id: "feed" }, page.items.map((n) => {
      const item = el("button", { type: "button", class: n.read ? "read" : "unread", dataset: { id: n.id } },
        el("span", { class: "title" }, n.title),
        el("span", { class: "body" }, n.body),
        el("time", { datetime: n.created_at }, countyTime(n.created_at)));
      item.addEventListener("click", () => open(n));
      return el("li", {}, item);
    })));
}
