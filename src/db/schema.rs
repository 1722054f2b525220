//! The one schema both databases share: ids are BigInt, times are UTC Timestamps.

diesel::table! {
    departments (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        display_name -> Text,
        role -> Text,
        department_id -> Nullable<BigInt>,
        email -> Nullable<Text>,
        locale -> Text,
        active -> Bool,
        version -> BigInt,
        password_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        notify_email -> Bool,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    projects (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        lead_department_id -> Nullable<BigInt>,
        park -> Nullable<Text>,
        chain_group -> Nullable<Text>,
        investment_wan -> Nullable<Double>,
        enterprise -> Nullable<Text>,
        contact_person -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        agent -> Nullable<Text>,
        stage -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    project_observers (project_id, user_id) {
        project_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    milestones (id) {
        id -> BigInt,
        project_id -> BigInt,
        kind -> Text,
        title -> Text,
        responsible_department_id -> Nullable<BigInt>,
        planned_date -> Nullable<Date>,
        actual_date -> Nullable<Date>,
        status -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> BigInt,
        category -> Text,
        park -> Nullable<Text>,
        milestone_kind -> Nullable<Text>,
        department_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    issue_counters (year) {
        year -> Integer,
        last -> BigInt,
    }
}

diesel::table! {
    issues (id) {
        id -> BigInt,
        number -> Text,
        project_id -> BigInt,
        milestone_id -> Nullable<BigInt>,
        reporter_id -> BigInt,
        category -> Text,
        priority -> Text,
        title -> Text,
        description -> Text,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        private -> Bool,
        status -> Text,
        department_id -> Nullable<BigInt>,
        assignee_id -> Nullable<BigInt>,
        ack_due_at -> Nullable<Timestamp>,
        resolve_due_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        overdue -> Bool,
        escalation_level -> Integer,
        rating -> Nullable<Integer>,
        reopen_count -> Integer,
        extension_requested_minutes -> Nullable<BigInt>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ack_work_seconds -> Nullable<BigInt>,
        resolve_work_seconds -> Nullable<BigInt>,
    }
}

diesel::table! {
    issue_clocks (issue_id) {
        issue_id -> BigInt,
        ack_seconds -> BigInt,
        resolve_seconds -> BigInt,
        warn_percent -> Integer,
        auto_close_days -> Double,
        ack_started_at -> Nullable<Timestamp>,
        resolve_started_at -> Nullable<Timestamp>,
        resolve_paused_at -> Nullable<Timestamp>,
        resolve_paused_seconds -> BigInt,
        auto_close_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sla_policies (category, priority) {
        category -> Text,
        priority -> Text,
        ack_seconds -> BigInt,
        resolve_seconds -> BigInt,
        warn_percent -> Integer,
        auto_close_days -> Double,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    business_calendars (year) {
        year -> Integer,
        body -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rules_token (id) {
        id -> Integer,
        token -> BigInt,
    }
}

diesel::table! {
    sla_timers (id) {
        id -> BigInt,
        issue_id -> BigInt,
        kind -> Text,
        due_at -> Timestamp,
        fired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    issue_departments (issue_id, department_id) {
        issue_id -> BigInt,
        department_id -> BigInt,
        issue_created_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    issue_comments (id) {
        id -> BigInt,
        issue_id -> BigInt,
        author_id -> BigInt,
        body -> Text,
        internal -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    issue_events (id) {
        id -> BigInt,
        issue_id -> BigInt,
        kind -> Text,
        actor_id -> Nullable<BigInt>,
        at -> Timestamp,
        data -> Text,
        internal -> Bool,
        department_id -> Nullable<BigInt>,
        issue_created_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        issue_id -> Nullable<BigInt>,
        kind -> Text,
        title -> Text,
        body -> Text,
        data -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        headers -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        issue_id -> BigInt,
        comment_id -> Nullable<BigInt>,
        uploader_id -> BigInt,
        file_name -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        location_kept -> Bool,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    devices (id) {
        id -> BigInt,
        user_id -> BigInt,
        platform -> Text,
        push_token -> Text,
        app_version -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    visibility_changes (id) {
        id -> BigInt,
        user_id -> BigInt,
        issue_id -> Nullable<BigInt>,
        visible -> Bool,
        at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        notification_id -> Nullable<BigInt>,
        department_id -> Nullable<BigInt>,
        payload -> Nullable<Text>,
        channel -> Text,
        target -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inspections (id) {
        id -> BigInt,
        department_id -> BigInt,
        project_id -> BigInt,
        planned_on -> Date,
        window_from -> Nullable<Text>,
        window_until -> Nullable<Text>,
        purpose -> Text,
        basis -> Text,
        inspectors -> Text,
        status -> Text,
        took_place_on -> Nullable<Date>,
        outcome -> Nullable<Text>,
        filed_by -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inspection_departments (inspection_id, department_id) {
        inspection_id -> BigInt,
        department_id -> BigInt,
    }
}

diesel::table! {
    issue_inspections (issue_id) {
        issue_id -> BigInt,
        project_id -> BigInt,
        visiting_department_id -> Nullable<BigInt>,
        visited_on -> Date,
        inspection_id -> Nullable<BigInt>,
        unfiled -> Bool,
    }
}

diesel::table! {
    inspection_ratings (inspection_id, rater_key) {
        inspection_id -> BigInt,
        rater_key -> Text,
        score -> Integer,
        comment -> Nullable<Text>,
    }
}

diesel::table! {
    inspection_alerts (id) {
        id -> BigInt,
        project_id -> BigInt,
        period -> Text,
        period_start -> Date,
        inspections -> BigInt,
        threshold -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inspection_limits (id) {
        id -> BigInt,
        per_day -> BigInt,
        per_week -> BigInt,
        per_month -> BigInt,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(users -> departments (department_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(milestones -> projects (project_id));
diesel::joinable!(project_observers -> projects (project_id));
diesel::joinable!(issue_departments -> issues (issue_id));
diesel::joinable!(issue_inspections -> issues (issue_id));
diesel::joinable!(inspection_departments -> inspections (inspection_id));
diesel::joinable!(issue_comments -> issues (issue_id));
diesel::joinable!(issue_events -> issues (issue_id));
diesel::joinable!(sla_timers -> issues (issue_id));
diesel::joinable!(issue_clocks -> issues (issue_id));
diesel::joinable!(attachments -> issues (issue_id));
diesel::allow_tables_to_appear_in_same_query!(
    departments,
    users,
    refresh_tokens,
    login_throttle,
    projects,
    project_observers,
    milestones,
    routing_rules,
    issue_counters,
    issues,
    issue_departments,
    issue_comments,
    issue_events,
    sla_policies,
    business_calendars,
    rules_token,
    sla_timers,
    issue_clocks,
    notifications,
    deliveries,
    idempotency_keys,
    attachments,
    devices,
    visibility_changes,
    inspections,
    inspection_departments,
    issue_inspections,
    inspection_ratings,
    inspection_alerts,
    inspection_limits,
);
