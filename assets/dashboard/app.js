// The supervisors' dashboard: plain JavaScript and SVG, nothing fetched from outside the
// service. Chinese first; English on the button.
"use strict";

const TEXT = {
  zh: {
    title: "营商环境观察员 · 督查看板", logout: "退出", login: "督查人员登录", username: "账号",
    password: "密码", signin: "登录", month: "本月", export: "导出 CSV",
    by_department: "各单位闭环率与按时办结率", closure_rate: "闭环率", resolve_on_time_rate: "按时办结率",
    trend: "近六个月趋势", filed: "反映问题数", closed: "已闭环", overdue: "超期问题", number: "编号",
    issue: "问题", department: "责任单位", due: "办结期限", ranking: "本季度排名", rank: "名次",
    score: "综合得分", received: "收到问题数", overdue_now: "当前超期", satisfaction: "满意率",
    not_ranked: "未排名", login_failed: "登录失败：账号或密码错误", not_allowed: "该账号无权查看报表",
    none: "无",
  },
  en: {
    title: "Business Environment Observers · Supervisor dashboard", logout: "Log out",
    login: "Supervisor sign-in", username: "Username", password: "Password", signin: "Sign in",
    month: "This month", export: "Export CSV", by_department: "Closure and on-time resolution by department",
    closure_rate: "Closure rate", resolve_on_time_rate: "Resolved on time", trend: "Last six months",
    filed: "Issues filed", closed: "Closed", overdue: "Overdue issues", number: "Number", issue: "Issue",
    department: "Department", due: "Resolve by", ranking: "Ranking this quarter", rank: "Rank",
    score: "Score", received: "Received", overdue_now: "Overdue now", satisfaction: "Satisfaction",
    not_ranked: "not ranked", login_failed: "Sign-in failed: wrong username or password",
    not_allowed: "This account may not read reports", none: "none",
  },
};

let lang = localStorage.getItem("od-lang") || "zh";
let token = sessionStorage.getItem("od-token");
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[lang][key] || key;
const pct = (x) => (x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%");

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang").textContent = lang === "zh" ? "English" : "中文";
}

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + token, "Accept-Language": lang } });
  if (r.status === 401) { signOut(); throw new Error("unauthorized"); }
  if (!r.ok) throw new Error((await r.json()).title || r.status);
  return r;
}

function countyToday() {
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  return { y: now.getUTCFullYear(), m: now.getUTCMonth() + 1 };
}
const monthKey = (y, m) => y + "-" + String(m).padStart(2, "0");

function svg(tag, attrs, text) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function bars(rows) {
  const box = $("bars");
  box.replaceChildren();
  const width = box.clientWidth || 900, height = 300, left = 36, bottom = 90, top = 10;
  const plotH = height - bottom - top;
  const slot = (width - left) / Math.max(rows.length, 1);
  const barW = Math.max(4, Math.min(28, slot / 3));
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    box.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#e6eaef" }));
    box.append(svg("text", { x: 2, y: y + 4 }, i * 25 + "%"));
  }
  rows.forEach((r, i) => {
    const x = left + i * slot + slot / 2 - barW;
    [["a", r.closure_rate], ["b", r.resolve_on_time_rate]].forEach(([cls, v], j) => {
      const h = (v || 0) * plotH;
      const rect = svg("rect", { class: cls, x: x + j * barW, y: top + plotH - h, width: barW - 2, height: Math.max(h, 0.5) });
      rect.append(svg("title", {}, r.department_name + " · " + t(cls === "a" ? "closure_rate" : "resolve_on_time_rate") + " " + pct(v)));
      box.append(rect);
    });
    const label = svg("text", { x: left + i * slot + slot / 2, y: height - bottom + 14, "text-anchor": "end",
      transform: `rotate(-30 ${left + i * slot + slot / 2} ${height - bottom + 14})` }, r.department_name);
    box.append(label);
  });
}

function trend(points) {
  const box = $("trend");
  box.replaceChildren();
  const width = box.clientWidth || 900, height = 280, left = 40, bottom = 30, top = 10;
  const plotH = height - bottom - top;
  const max = Math.max(1, ...points.map((p) => Math.max(p.filed, p.closed)));
  const step = (width - left - 20) / Math.max(points.length - 1, 1);
  const xy = (i, v) => [left + i * step, top + plotH - (v / max) * plotH];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    box.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#e6eaef" }));
    box.append(svg("text", { x: 2, y: y + 4 }, Math.round((max * i) / 4)));
  }
  for (const [cls, key] of [["a", "filed"], ["b", "closed"]]) {
    const d = points.map((p, i) => (i ? "L" : "M") + xy(i, p[key]).join(" ")).join(" ");
    box.append(svg("path", { class: cls, d }));
    points.forEach((p, i) => {
      const [x, y] = xy(i, p[key]);
      const dot = svg("circle", { cx: x, cy: y, r: 3, fill: cls === "a" ? "#2e75b6" : "#f0a030" });
      dot.append(svg("title", {}, p.month + " " + t(key) + " " + p[key]));
      box.append(dot);
    });
  }
  points.forEach((p, i) => box.append(svg("text", { x: xy(i, 0)[0], y: height - 8, "text-anchor": "middle" }, p.month)));
}

function fill(id, rows) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  if (!rows.length) rows = [[t("none"), "", "", ""]];
  for (const cells of rows) {
    const tr = document.createElement("tr");
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
    body.append(tr);
  }
}

async function load() {
  const { y, m } = countyToday();
  const month = monthKey(y, m);
  $("month").textContent = month;
  const quarter = y + "-Q" + (Math.floor((m - 1) / 3) + 1);
  const [bulletin, ranking] = await Promise.all([
    api("/api/v1/reports/monthly?month=" + month).then((r) => r.json()),
    api("/api/v1/reports/ranking?quarter=" + quarter).then((r) => r.json()),
  ]);
  const tot = bulletin.totals;
  $("totals").replaceChildren(...[["filed", tot.filed], ["closed", tot.closed], ["closure_rate", pct(tot.closure_rate)],
    ["resolve_on_time_rate", pct(tot.resolve_on_time_rate)], ["satisfaction", pct(tot.satisfaction_rate)], ["overdue_now", tot.overdue_now]]
    .map(([k, v]) => { const d = document.createElement("div"); d.innerHTML = "<b></b><span></span>"; d.firstChild.textContent = v; d.lastChild.textContent = t(k); return d; }));
  bars(bulletin.departments.filter((r) => r.received > 0));
  fill("overdue", bulletin.overdue.slice(0, 20).map((o) => [o.number, o.title, o.department_name || "—", (o.resolve_due_at || "").slice(0, 16).replace("T", " ")]));
  fill("ranking", ranking.items.map((r) => [r.rank ?? t("not_ranked"), r.department_name, r.score ?? "—", r.received]));
  const months = [];
  for (let i = 5; i >= 0; i--) { const d = new Date(Date.UTC(y, m - 1 - i, 1)); months.push(monthKey(d.getUTCFullYear(), d.getUTCMonth() + 1)); }
  const totals = await Promise.all(months.map((mm) => api("/api/v1/reports/monthly?month=" + mm).then((r) => r.json())));
  trend(totals.map((b) => ({ month: b.month, filed: b.totals.filed, closed: b.totals.closed })));
  document.body.dataset.ready = "true";
}

async function exportCsv() {
  const month = $("month").textContent;
  const [y, m] = month.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const r = await api(`/api/v1/reports/departments?from=${month}-01&to=${month}-${last}&format=csv`);
  const blob = await r.blob();
  const a = $("download");
  a.href = URL.createObjectURL(blob);
  a.download = `departments-${month}.csv`;
  a.click();
}

function show() {
  const signedIn = !!token;
  $("login").hidden = signedIn;
  $("board").hidden = !signedIn;
  $("logout").hidden = !signedIn;
  if (signedIn) load().catch((e) => { $("login-error").textContent = e.message; });
}

function signOut() {
  token = null;
  sessionStorage.removeItem("od-token");
  delete document.body.dataset.ready;
  show();
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  const r = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: $("username").value, password: $("password").value }),
  });
  if (!r.ok) { $("login-error").textContent = t("login_failed"); return; }
  const body = await r.json();
  if (!["supervisor", "admin"].includes(body.user.role)) { $("login-error").textContent = t("not_allowed"); return; }
  token = body.access_token;
  sessionStorage.setItem("od-token", token);
  show();
});
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("od-lang", lang);
  translate();
  if (token) load().catch(() => {});
});
$("logout").addEventListener("click", signOut);
$("export").addEventListener("click", () => exportCsv().catch((e) => alert(e.message)));
translate();
show();
