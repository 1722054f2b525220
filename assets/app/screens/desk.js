// The supervisors' desk: what waits for a supervisor's decision, one list each — issues to
// dispatch, returns to review, extension requests, escalations, overdue issues. Each opens
// the issue's page, where the decision is taken.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { byDeadline, issueRow } from "./issues.js";

const OPEN = ["submitted", "unassigned", "assigned", "in_progress", "awaiting_info", "resolved"];
const LISTS = [
  ["unassigned", "status=unassigned&returned=false"],
  ["returned", "status=unassigned&returned=true"],
  ["extensions", "extension_pending=true"],
  ["escalated", "escalated=true"],
  ["overdue", "overdue=true"],
];

export async function desk() {
  const pages = await Promise.all(LISTS.map(([, q]) => api.get(`/api/v1/issues?limit=100&${q}`)));
  return el("section", { class: "desk" },
    el("h1", {}, t("desk")),
    LISTS.map(([name], n) => {
      const items = byDeadline(pages[n].items.filter((i) => OPEN.includes(i.status)));
      return el("section", { class: "card", id: `desk-${name}`, "aria-labelledby": `desk-${name}-h` },
        el("h2", { id: `desk-${name}-h` }, t("desk_" + name), " ", el("span", { class: "count" }, items.length)),
        items.length ? el("ul", { class: "issues" }, items.map(issueRow)) : el("p", { class: "muted" }, t("none")));
    }));
}
