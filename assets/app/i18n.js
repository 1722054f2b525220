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
    new_issue: "反映问题", project: "项目", category: "问题类别", priority: "紧急程度",
    normal: "一般", urgent: "紧急", title: "标题", description: "问题描述", private: "仅本人与责任单位可见",
    submit: "提交", choose: "请选择",
    cat_approval_delay: "审批迟滞", cat_land_supply: "用地保障", cat_utility_supply: "水电气保障",
    cat_policy_not_applied: "政策未落实", cat_inspection_disturbance: "检查扰企", cat_service_conduct: "服务作风",
    cat_payment_arrears: "拖欠账款", cat_other: "其他",
    act_acknowledge: "受理", act_request_info: "要求补充材料", act_provide_info: "补充材料", act_resolve: "办结",
    act_confirm: "确认解决", act_reopen: "未解决，重新办理", act_withdraw: "撤回", act_return: "退单",
    reason: "说明（必填）", optional_note: "说明（选填）", rating: "满意度评价",
    internal_toggle: "内部意见（观察员看不到）", internal_hint: "这是内部意见，只有责任单位和督查人员可见",
    ev_filed: "提交问题", ev_routed: "派至责任单位", ev_acknowledge: "已受理", ev_resolve: "已办结",
    ev_confirm: "已确认解决", ev_reopen: "重新办理", ev_withdraw: "已撤回", ev_request_info: "要求补充材料",
    ev_provide_info: "已补充材料", ev_comment: "回复", ev_attachment: "上传附件", ev_assign: "指定经办人",
    ev_dispatch: "派单", ev_transfer: "转办", ev_sla_breach: "超期", ev_sla_escalation: "升级督办",
    ev_auto_close: "自动闭环", ev_return: "退单", ev_chase: "催办",
    offline_title: "离线", offline_note: "网络恢复后，以下内容会按顺序自动发送。",
    photos: "照片或文件（可多选）", keep_original: "上传原图（保留位置信息）",
    nav_projects: "项目", nav_feed: "消息", notifications: "消息", no_notifications: "暂无消息", read_all: "全部标为已读", projects: "我关注的项目",
    no_projects: "暂无项目", ms_planned: "计划中", ms_in_progress: "办理中", ms_done: "已完成", ms_blocked: "受阻",
    nav_issues: "问题", nav_desk: "督办台", nav_dashboard: "看板", nav_admin: "管理", nav_figures: "本单位数据",
    all_issues: "全部问题", desk: "督办台", desk_unassigned: "待派单", desk_returned: "退单待审核",
    desk_extensions: "延期申请待审批", desk_escalated: "升级督办", desk_overdue: "超期问题", none: "无",
    act_assign: "指定经办人", act_request_extension: "申请延期", act_approve_extension: "同意延期",
    act_deny_extension: "不同意延期", act_dispatch: "派单", act_transfer: "转办", act_escalate: "升级督办", act_chase: "催办",
    department: "责任单位", assignee: "经办人", working_days: "延期工作日数", extension_pending: "延期申请待审批",
    days: "个工作日", escalated: "已升级", ev_request_extension: "申请延期", ev_approve_extension: "同意延期",
    ev_deny_extension: "不同意延期", ev_escalate: "升级督办", milestone: "节点（选填）", position: "附上我现在的位置",
    position_got: "已获取位置", position_failed: "无法获取位置（未授权或无信号），将不附位置",
    dashboard: "督查看板", month: "月份", quarter: "季度", by_department: "各单位情况", received: "收到",
    closure_rate: "闭环率", ack_on_time_rate: "按时受理率", resolve_on_time_rate: "按时办结率",
    satisfaction_rate: "满意率", overdue_now: "当前超期", ranking: "季度排名", rank: "名次", score: "得分",
    not_ranked: "未排名", downloads: "下载报表", rep_monthly: "月通报", rep_departments: "部门报表",
    rep_projects: "项目报表", rep_observers: "观察员报表", rep_ranking: "季度排名", filed: "反映问题数", closed: "已闭环",
    figures: "本单位数据", admin: "系统管理", users: "用户", departments: "部门", routing: "派单规则",
    sla: "时限标准", calendar: "工作日历", create: "新建", save: "保存", saved: "已保存", delete: "删除",
    display_name: "姓名", role: "角色", email: "邮箱", active: "在用", deactivate: "停用", activate: "启用",
    reset_password: "重置密码", new_password: "新密码（至少 10 位）",
    role_observer: "观察员", role_department_staff: "部门经办人", role_department_head: "部门负责人",
    role_supervisor: "督查人员", role_admin: "管理员", code: "代码", name: "名称",
    webhook_url: "Webhook 地址", webhook_secret: "Webhook 密钥（16 位以上，留空不变）", secret_set: "已设密钥",
    lead_department: "牵头单位", park: "园区", followers: "关注的观察员", milestones: "项目节点",
    kind: "节点类型", planned_date: "计划日期", any: "任意", ack_hours: "受理时限（工作小时）",
    resolve_hours: "办结时限（工作小时）", warn_percent: "黄牌提醒（%）", auto_close_days: "自动闭环（工作日）",
    year: "年份", hours_of_day: "每日工作时段（如 08:30-12:00，每行一段）", holidays: "节假日（每行一个日期）",
    workdays: "调休上班日（每行一个日期）", weekdays: "工作日（1=周一，逗号分隔）", source: "来源",
    mk_project_approval: "立项", mk_land_pre_review: "用地预审", mk_planning_permit: "规划许可",
    mk_construction_permit: "施工许可", mk_environmental_assessment: "环评", mk_energy_assessment: "能评",
    mk_power_connection: "接电", mk_water_connection: "接水", mk_gas_connection: "接气",
    mk_completion_acceptance: "竣工验收", mk_other: "其他", open: "打开", more: "更多", edit: "修改", inactive: "已停用",
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
    new_issue: "Report an issue", project: "Project", category: "Category", priority: "Priority",
    normal: "Normal", urgent: "Urgent", title: "Title", description: "Description",
    private: "Only me and the department can see it", submit: "Submit", choose: "Choose…",
    cat_approval_delay: "Approval delay", cat_land_supply: "Land supply", cat_utility_supply: "Power, water, gas",
    cat_policy_not_applied: "Policy not applied", cat_inspection_disturbance: "Inspection disturbance",
    cat_service_conduct: "Service conduct", cat_payment_arrears: "Payment arrears", cat_other: "Other",
    act_acknowledge: "Acknowledge", act_request_info: "Ask for information", act_provide_info: "Provide information",
    act_resolve: "Resolve", act_confirm: "Confirm the fix", act_reopen: "Not fixed: reopen", act_withdraw: "Withdraw",
    act_return: "Return (wrong department)", reason: "Reason (required)", optional_note: "Note (optional)",
    rating: "Satisfaction", internal_toggle: "Internal note (observers cannot see it)",
    internal_hint: "This is an internal note: only departments and supervisors see it",
    ev_filed: "Filed", ev_routed: "Sent to the department", ev_acknowledge: "Acknowledged", ev_resolve: "Resolved",
    ev_confirm: "Confirmed", ev_reopen: "Reopened", ev_withdraw: "Withdrawn", ev_request_info: "Information asked for",
    ev_provide_info: "Information provided", ev_comment: "Reply", ev_attachment: "File attached", ev_assign: "Assigned",
    ev_dispatch: "Dispatched", ev_transfer: "Transferred", ev_sla_breach: "Overdue", ev_sla_escalation: "Escalated",
    ev_auto_close: "Closed automatically", ev_return: "Returned", ev_chase: "Chased",
    offline_title: "Offline", offline_note: "What is below is sent, in order, as soon as the connection returns.",
    photos: "Photos or files (several allowed)", keep_original: "Send the original (keeps the position)",
    nav_projects: "Projects", nav_feed: "Inbox", notifications: "Notifications", no_notifications: "No notifications", read_all: "Mark all read",
    projects: "Projects", no_projects: "No projects", ms_planned: "Planned", ms_in_progress: "In progress",
    ms_done: "Done", ms_blocked: "Blocked",
    nav_issues: "Issues", nav_desk: "Desk", nav_dashboard: "Dashboard", nav_admin: "Admin", nav_figures: "Our figures",
    all_issues: "All issues", desk: "Supervisor desk", desk_unassigned: "To dispatch", desk_returned: "Returns to review",
    desk_extensions: "Extension requests", desk_escalated: "Escalated", desk_overdue: "Overdue", none: "None",
    act_assign: "Assign to a colleague", act_request_extension: "Request an extension", act_approve_extension: "Approve the extension",
    act_deny_extension: "Deny the extension", act_dispatch: "Dispatch", act_transfer: "Transfer", act_escalate: "Escalate", act_chase: "Chase",
    department: "Department", assignee: "Assignee", working_days: "Working days asked for", extension_pending: "Extension awaiting a decision",
    days: "working days", escalated: "Escalated", ev_request_extension: "Extension requested", ev_approve_extension: "Extension approved",
    ev_deny_extension: "Extension denied", ev_escalate: "Escalated", milestone: "Milestone (optional)", position: "Attach where I am now",
    position_got: "Position attached", position_failed: "No position (not allowed or no signal); filing without it",
    dashboard: "Dashboard", month: "Month", quarter: "Quarter", by_department: "By department", received: "Received",
    closure_rate: "Closure rate", ack_on_time_rate: "Acknowledged on time", resolve_on_time_rate: "Resolved on time",
    satisfaction_rate: "Satisfaction", overdue_now: "Overdue now", ranking: "Quarterly ranking", rank: "Rank", score: "Score",
    not_ranked: "not ranked", downloads: "Downloads", rep_monthly: "Monthly bulletin", rep_departments: "Departments",
    rep_projects: "Projects", rep_observers: "Observers", rep_ranking: "Ranking", filed: "Filed", closed: "Closed",
    figures: "Our department's figures", admin: "Administration", users: "Users", departments: "Departments", routing: "Routing rules",
    sla: "SLA policies", calendar: "Calendar", create: "Create", save: "Save", saved: "Saved", delete: "Delete",
    display_name: "Name", role: "Role", email: "Email", active: "Active", deactivate: "Deactivate", activate: "Activate",
    reset_password: "Reset password", new_password: "New password (10+ characters)",
    role_observer: "Observer", role_department_staff: "Department clerk", role_department_head: "Department head",
    role_supervisor: "Supervisor", role_admin: "Admin", code: "Code", name: "Name",
    webhook_url: "Webhook URL", webhook_secret: "Webhook secret (16+ characters; empty keeps it)", secret_set: "secret set",
    lead_department: "Lead department", park: "Park", followers: "Observers following", milestones: "Milestones",
    kind: "Kind", planned_date: "Planned date", any: "Any", ack_hours: "Acknowledge within (working hours)",
    resolve_hours: "Resolve within (working hours)", warn_percent: "Yellow card at (%)", auto_close_days: "Auto-close after (working days)",
    year: "Year", hours_of_day: "Working hours (e.g. 08:30-12:00, one per line)", holidays: "Holidays (one date per line)",
    workdays: "Make-up working days (one date per line)", weekdays: "Working weekdays (1 = Monday, comma-separated)", source: "Source",
    mk_project_approval: "Project approval", mk_land_pre_review: "Land pre-review", mk_planning_permit: "Planning permit",
    mk_construction_permit: "Construction permit", mk_environmental_assessment: "Environmental assessment",
    mk_energy_assessment: "Energy assessment", mk_power_connection: "Power connection", mk_water_connection: "Water connection",
    mk_gas_connection: "Gas connection", mk_completion_acceptance: "Completion acceptance", mk_other: "Other", open: "Open", more: "More", edit: "Edit", inactive: "Inactive",
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
