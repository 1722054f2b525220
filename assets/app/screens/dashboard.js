// The dashboard as a screen of the app: the month's figures by department (a meter for each
// rate), the overdue issues, the quarter's ranking, and every report as CSV or XLSX. A
// department head sees the same table with their own department only.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

/// The month shown: the one chosen (kept for the session), else this month in county time
/// (UTC+8); with its first and last day and its quarter.
function period() {
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  const chosen = sessionStorage.getItem("od-month");
  const month = /^\d{4}-(0[1-9]|1[0-2])$/.test(chosen ?? "") ? chosen : current;
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { month, current, from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}`, quarter: `${y}-Q${Math.ceil(m / 3)}` };
}

/// A month picker that shows the screen again for the month chosen.
function monthPicker(p, refresh) {
  const input = el("input", { id: "month", type: "month", value: p.month, max: p.current, required: true });
  input.addEventListener("change", () => {
    if (!/^\d{4}-\d{2}$/.test(input.value)) return;
    sessionStorage.setItem("od-month", input.value);
    refresh();
  });
  return el("p", { class: "period" }, el("label", { for: "month" }, t("month")), " ", input);
}

function rate(x) {
  return el("td", {}, el("meter", { min: 0, max: 1, value: x ?? 0, "aria-hidden": "true" }), " ", pct(x));
}

function table(id, caption, head, rows) {
  return el("div", { class: "scroll" }, el("table", { id },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

function departmentTable(items) {
  return table("departments", t("by_department"),
    [t("department"), t("received"), t("closure_rate"), t("ack_on_time_rate"), t("resolve_on_time_rate"), t("satisfaction_rate"), t("overdue_now")],
    items.map((d) => el("tr", {},
      el("th", { scope: "row" }, d.department_name), el("td", {}, d.received),
      rate(d.closure_rate), rate(d.ack_on_time_rate), rate(d.resolve_on_time_rate), rate(d.satisfaction_rate),
      el("td", { class: d.overdue_now ? "red" : "" }, d.overdue_now))));
}

function downloads(reports) {
  return el("section", { class: "card", id: "downloads" },
    el("h2", {}, t("downloads")),
    el("ul", { class: "downloads" }, reports.map(([key, path, name]) => el("li", {},
      el("span", {}, t(key)), " ",
      ["csv", "xlsx"].map((format) => {
        const b = el("button", { type: "button", id: `dl-${key}-${format}` }, format.toUpperCase());
        b.addEventListener("click", () => api.download(`${path}${path.includes("?") ? "&" : "?"}format=${format}`, `${name}.${format}`));
        return b;
      })))));
}

export async function dashboard(user, refresh) {
  const p = period();
  const { month, quarter } = p;
  const range = `from=${p.from}&to=${p.to}`;
  if (user.role === "department_head") {
    const report = await api.get(`/api/v1/reports/departments?${range}`);
    return el("section", { class: "dashboard" },
      el("h1", {}, t("figures"), " · ", month), monthPicker(p, refresh),
      departmentTable(report.items),
      downloads([["rep_departments", `/api/v1/reports/departments?${range}`, `departments-${month}`]]));
  }
  const [bulletin, ranking] = await Promise.all([
    api.get(`/api/v1/reports/monthly?month=${month}`),
    api.get(`/api/v1/reports/ranking?quarter=${quarter}`),
  ]);
  const tot = bulletin.totals;
  const figure = (label, value) => el("div", { class: "figure" }, el("span", { class: "value" }, value), el("span", {}, label));
  return el("section", { class: "dashboard" },
    el("h1", {}, t("dashboard"), " · ", month), monthPicker(p, refresh),
    el("div", { class: "figures", id: "totals" },
      figure(t("filed"), tot.filed), figure(t("closed"), tot.closed),
      figure(t("closure_rate"), pct(tot.closure_rate)), figure(t("overdue_now"), tot.overdue_now)),
    departmentTable(bulletin.departments),
    el("h2", {}, t("desk_overdue")),
    bulletin.overdue.length
      ? el("ul", { class: "issues", id: "overdue" }, bulletin.overdue.map((i) => el("li", { class: "issue red" },
        el("a", { href: `#/issues/${i.id}` }, el("span", { class: "number" }, i.number), el("span", { class: "title" }, i.title)),
        el("span", { class: "status" }, i.department_name ?? "—"))))
      : el("p", {}, t("none")),
    table("ranking", `${t("ranking")} · ${quarter}`, [t("rank"), t("department"), t("score"), t("received")],
      ranking.items.map((r) => el("tr", {},
        el("td", {}, r.rank ?? t("not_ranked")), el("th", { scope: "row" }, r.department_name),
        el("td", {}, r.score === null || r.score === undefined ? "—" : r.score.toFixed(1)), el("td", {}, r.received)))),
    downloads([
      ["rep_monthly", `/api/v1/reports/monthly?month=${month}`, `bulletin-${month}`],
      ["rep_departments", `/api/v1/reports/departments?${range}`, `departments-${month}`],
      ["rep_projects", `/api/v1/reports/projects?${range}`, `projects-${month}`],
      ["rep_observers", `/api/v1/reports/observers?${range}`, `observers-${month}`],
      ["rep_ranking", `/api/v1/reports/ranking?quarter=${quarter}`, `ranking-${quarter}`],
    ]));
}
