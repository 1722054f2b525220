// Every string of the app, Chinese first, English by the switch (remembered).
const TEXT = {
  zh: {
    app: "营商环境观察员", english: "English", chinese: "中文", logout: "退出", signin: "登录",
    signin_title: "登录", username: "账号", password: "密码", signin_failed: "登录失败：账号或密码错误",
    throttled: "尝试次数过多，请稍后再试", offline: "网络不可用，请稍后再试", loading: "正在加载…",
    my_issues: "我的问题", queue: "待办问题", no_issues: "暂无问题", number: "编号", status: "状态",
    time_left: "剩余时间", overdue: "已超期", paused: "已暂停", reply: "回复", send: "发送",
    timeline: "办理过程", comments: "回复与意见", internal: "内部意见", back: "返回",
    hours: "小时", minutes: "分钟", waiting: "待发送", reply_label: "回复内容",
    status_submitted: "已提交", status_unassigned: "待派单", status_assigned: "已派单",
    status_in_progress: "办理中", status_awaiting_info: "待补充材料", status_resolved: "已办结",
    status_closed: "已闭环", status_withdrawn: "已撤回", not_found: "找不到该问题",
  },
  en: {
    app: "Business Environment Observers", english: "English", chinese: "中文", logout: "Log out",
    signin: "Sign in", signin_title: "Sign in", username: "Username", password: "Password",
    signin_failed: "Sign-in failed: wrong username or password", throttled: "Too many attempts; try again later",
    offline: "No connection; try again later", loading: "Loading…", my_issues: "My issues", queue: "Queue",
    no_issues: "No issues", number: "Number", status: "Status", time_left: "Time left", overdue: "Overdue",
    paused: "Paused", reply: "Reply", send: "Send", timeline: "Timeline", comments: "Replies",
    internal: "Internal note", back: "Back", hours: "h", minutes: "min", waiting: "waiting to send",
    reply_label: "Your reply",
    status_submitted: "Submitted", status_unassigned: "Awaiting dispatch", status_assigned: "Assigned",
    status_in_progress: "In progress", status_awaiting_info: "Awaiting information",
    status_resolved: "Resolved", status_closed: "Closed", status_withdrawn: "Withdrawn",
    not_found: "No such issue",
  },
};

export let lang = localStorage.getItem("od-lang") === "en" ? "en" : "zh";

export function t(key) {
  return TEXT[lang][key] ?? TEXT.zh[key] ?? key;
}

export function setLang(next) {
  lang = next;
  localStorage.setItem("od-lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}

/// A time in county time (Asia/Shanghai), as people there read it.
export function countyTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

/// Working time left on a clock, in words.
export function left(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 0) return t("overdue");
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} ${t("hours")} ${m} ${t("minutes")}` : `${m} ${t("minutes")}`;
}
