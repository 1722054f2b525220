// My issues (an observer's), the department's queue or all issues (supervisors), soonest
// deadline first, with the working time left and a yellow or red mark.
import * as api from "../api.js";
import { el } from "../dom.js";
import { countyTime, left, t } from "../i18n.js";
import * as outbox from "../outbox.js";

function clock(issue) {
  const c = issue.sla?.resolve?.state === "running" || issue.sla?.resolve?.state === "paused"
    ? issue.sla.resolve : issue.sla?.acknowledge;
  return c || null;
}

function mark(issue) {
  const c = clock(issue);
  if (issue.overdue || (c && c.remaining_seconds !== null && c.remaining_seconds < 0)) return "red";
  if (c && c.remaining_seconds !== null && c.remaining_seconds < 8 * 3600) return "yellow";
  return "";
}

/// Soonest deadline first; issues without a running clock last.
export function byDeadline(items) {
  return items.slice().sort((a, b) => (clock(a)?.due_at ?? "9999").localeCompare(clock(b)?.due_at ?? "9999"));
}

/// One issue in a list: number, title, status and the working time left.
export function issueRow(i) {
  const c = clock(i);
  return el("li", { class: "issue " + mark(i), dataset: { id: i.id } },
    el("a", { href: `#/issues/${i.id}` },
      el("span", { class: "number" }, i.number),
      el("span", { class: "title" }, i.title)),
    el("span", { class: "status" }, t("status_" + i.status),
      i.extension_requested_minutes ? " · " + t("extension_pending") : "",
      i.escalation_level ? " · " + t("escalated") : ""),
    el("span", { class: "left", title: c ? countyTime(c.due_at) : "" },
      !c ? "—" : c.state === "paused" ? t("paused")
        : c.remaining_seconds < 0 ? t("overdue") : `${t("time_left")} ${left(c.remaining_seconds)}`));
}

export async function myIssues(user) {
  const [page, queued] = await Promise.all([api.get("/api/v1/issues?limit=50"), outbox.waiting()]);
  const waiting = queued.filter((w) => w.kind === "filing").map((w) =>
    el("li", { class: "issue waiting" }, el("span", { class: "title" }, w.label), el("span", { class: "status" }, t("waiting"))));
  const items = byDeadline(page.items);
  const title = { observer: t("my_issues"), department_staff: t("queue"), department_head: t("queue") }[user.role] ?? t("all_issues");
  const add = user.role === "observer" ? el("a", { href: "#/new", class: "button", id: "new-issue" }, t("new_issue")) : null;
  if (items.length === 0 && waiting.length === 0) return el("section", {}, el("h1", {}, title), add, el("p", {}, t("no_issues")));
  return el("section", {},
    el("h1", {}, title), add,
    el("ul", { class: "issues", id: "issue-list" }, waiting, items.map(issueRow)));
}
