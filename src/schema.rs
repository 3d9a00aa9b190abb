// @generated automatically by Diesel CLI.

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        prefix -> Text,
        key_hash -> Bytea,
        label -> Text,
        role -> Text,
        provider_id -> Nullable<Uuid>,
        expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        key_id -> Nullable<Uuid>,
        role -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Uuid>,
        patient_id -> Nullable<Uuid>,
        request_id -> Nullable<Text>,
        outcome -> Text,
        status -> Int2,
        count -> Int4,
        client -> Nullable<Text>,
    }
}

diesel::table! {
    clinic_settings (id) {
        id -> Bool,
        slot_step_minutes -> Int4,
        minimum_notice_minutes -> Int4,
        booking_horizon_days -> Int4,
        late_cancellation_hours -> Int4,
        buffer_after_injection_minutes -> Int4,
        version -> Int4,
        updated_at -> Timestamptz,
        check_in_lead_minutes -> Int4,
        reminder_offsets_minutes -> Array<Int4>,
        quiet_hours_start -> Nullable<Time>,
        quiet_hours_end -> Nullable<Time>,
        sender_name -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        hold_minutes -> Int4,
        phone -> Nullable<Text>,
        feed_full_names -> Bool,
        waitlist_offer_count -> Int4,
        waitlist_offer_minutes -> Int4,
        waitlist_debounce_minutes -> Int4,
    }
}

diesel::table! {
    booking_requests (id) {
        id -> Uuid,
        hold_id -> Uuid,
        status -> Text,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        message -> Nullable<Text>,
        code_hash -> Bytea,
        attempts -> Int2,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        session_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    calendar_feeds (token_hash) {
        token_hash -> Bytea,
        provider_id -> Uuid,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    clinic_secrets (id) {
        id -> Bool,
        identity_key -> Bytea,
    }
}

diesel::table! {
    clinical_records (session_id) {
        session_id -> Uuid,
        pain_before -> Int2,
        pain_after -> Int2,
        function_score -> Nullable<Int2>,
        injectate -> Nullable<Text>,
        volume_ml -> Nullable<Float8>,
        sites -> Array<Text>,
        adverse_events -> Jsonb,
        note -> Nullable<Text>,
        recorded_by -> Nullable<Uuid>,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    courses (id) {
        id -> Uuid,
        patient_id -> Uuid,
        provider_id -> Uuid,
        location_id -> Uuid,
        treatment_area_id -> Uuid,
        side -> Text,
        planned_sessions -> Int4,
        interval_min_days -> Int4,
        interval_target_days -> Nullable<Int4>,
        interval_max_days -> Int4,
        goal -> Nullable<Text>,
        baseline_pain -> Nullable<Int2>,
        baseline_function -> Nullable<Int2>,
        assessment_session_id -> Nullable<Uuid>,
        status -> Text,
        status_reason -> Nullable<Text>,
        warnings -> Jsonb,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    domain_event_sequence (singleton) {
        singleton -> Bool,
        last_position -> Int8,
    }
}

diesel::table! {
    domain_events (written) {
        written -> Int8,
        id -> Uuid,
        position -> Nullable<Int8>,
        #[sql_name = "type"]
        type_ -> Text,
        occurred_at -> Timestamptz,
        subject_type -> Text,
        subject_id -> Uuid,
        patient_id -> Nullable<Uuid>,
        data -> Jsonb,
    }
}

diesel::table! {
    event_cursors (consumer) {
        consumer -> Text,
        position -> Int8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    holds (id) {
        id -> Uuid,
        token_hash -> Bytea,
        client_hash -> Bytea,
        provider_id -> Uuid,
        location_id -> Uuid,
        treatment_area_id -> Uuid,
        kind -> Text,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        held_until -> Timestamptz,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        released_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (api_key_id, key) {
        api_key_id -> Uuid,
        key -> Text,
        operation -> Text,
        request_hash -> Bytea,
        status -> Int2,
        response -> Jsonb,
        location -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    inquiries (id) {
        id -> Uuid,
        kind -> Text,
        status -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        message -> Nullable<Text>,
        symptom_duration -> Nullable<Text>,
        preferred_contact -> Nullable<Text>,
        preferred_times -> Nullable<Jsonb>,
        source_page -> Nullable<Text>,
        treatment_area_id -> Nullable<Uuid>,
        consented_at -> Timestamptz,
        duplicate_of -> Nullable<Uuid>,
        assignee_key_id -> Nullable<Uuid>,
        notes -> Nullable<Text>,
        patient_id -> Nullable<Uuid>,
        session_id -> Nullable<Uuid>,
        first_contacted_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        erased_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inquiry_events (id) {
        id -> Uuid,
        inquiry_id -> Uuid,
        occurred_at -> Timestamptz,
        key_id -> Nullable<Uuid>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        changed -> Array<Text>,
        assignee_key_id -> Nullable<Uuid>,
        patient_id -> Nullable<Uuid>,
        session_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    locations (id) {
        id -> Uuid,
        name -> Text,
        address -> Nullable<Text>,
        time_zone -> Text,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    provider_locations (provider_id, location_id) {
        provider_id -> Uuid,
        location_id -> Uuid,
    }
}

diesel::table! {
    provider_treatment_areas (provider_id, treatment_area_id) {
        provider_id -> Uuid,
        treatment_area_id -> Uuid,
    }
}

diesel::table! {
    providers (id) {
        id -> Uuid,
        name -> Text,
        credentials -> Nullable<Text>,
        bio -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    manage_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        patient_id -> Uuid,
        session_id -> Nullable<Uuid>,
        course_id -> Nullable<Uuid>,
        kind -> Text,
        channel -> Text,
        status -> Text,
        due_at -> Timestamptz,
        offset_minutes -> Nullable<Int4>,
        previous_starts_at -> Nullable<Timestamptz>,
        event_id -> Nullable<Uuid>,
        resend_of -> Nullable<Uuid>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        skip_reason -> Nullable<Text>,
        subject -> Nullable<Text>,
        lease_token -> Nullable<Uuid>,
        lease_expires_at -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        waitlist_offer_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    patients (id) {
        id -> Uuid,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Date,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        preferred_contact -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        identity_digest -> Nullable<Bytea>,
        email_notifications -> Bool,
        source -> Text,
    }
}

diesel::table! {
    resource_downtime (id) {
        id -> Uuid,
        resource_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    resources (id) {
        id -> Uuid,
        location_id -> Uuid,
        kind -> Text,
        name -> Text,
        tags -> Array<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    session_events (id) {
        id -> Uuid,
        session_id -> Uuid,
        occurred_at -> Timestamptz,
        key_id -> Nullable<Uuid>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        old_starts_at -> Nullable<Timestamptz>,
        new_starts_at -> Nullable<Timestamptz>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        kind -> Text,
        patient_id -> Uuid,
        provider_id -> Uuid,
        location_id -> Uuid,
        treatment_area_id -> Uuid,
        course_id -> Nullable<Uuid>,
        course_number -> Nullable<Int4>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        held_until -> Timestamptz,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        cancel_note -> Nullable<Text>,
        late_cancellation -> Nullable<Bool>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    time_off (id) {
        id -> Uuid,
        provider_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        reason -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    treatment_areas (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        assessment_minutes -> Int4,
        injection_minutes -> Int4,
        follow_up_minutes -> Int4,
        sessions_min -> Int4,
        sessions_max -> Int4,
        interval_min_days -> Int4,
        interval_target_days -> Nullable<Int4>,
        interval_max_days -> Int4,
        pre_care -> Nullable<Text>,
        post_care -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        assessment_gap_days -> Int4,
        requirements -> Jsonb,
    }
}

diesel::table! {
    unsubscribe_tokens (token_hash) {
        token_hash -> Bytea,
        patient_id -> Uuid,
        notification_id -> Uuid,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    working_hours (id) {
        id -> Uuid,
        provider_id -> Uuid,
        location_id -> Uuid,
        weekday -> Int2,
        start_time -> Time,
        end_time -> Time,
        effective_from -> Nullable<Date>,
        effective_until -> Nullable<Date>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Uuid,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        status_code -> Nullable<Int2>,
        latency_ms -> Int4,
        response_excerpt -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int2,
        next_attempt_at -> Timestamptz,
        claim_token -> Nullable<Uuid>,
        claimed_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        settled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Nullable<Array<Text>>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Bytea,
        previous_secret -> Nullable<Bytea>,
        previous_secret_until -> Nullable<Timestamptz>,
        failing_since -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> Uuid,
        patient_id -> Uuid,
        treatment_area_id -> Uuid,
        kind -> Text,
        provider_id -> Nullable<Uuid>,
        location_id -> Nullable<Uuid>,
        earliest -> Nullable<Timestamptz>,
        latest -> Nullable<Timestamptz>,
        weekdays -> Array<Int2>,
        window_start -> Nullable<Time>,
        window_end -> Nullable<Time>,
        urgent -> Bool,
        session_id -> Nullable<Uuid>,
        source -> Text,
        status -> Text,
        booked_session_id -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    waitlist_openings (id) {
        id -> Uuid,
        provider_id -> Uuid,
        location_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        event_id -> Uuid,
        freed_at -> Timestamptz,
        due_at -> Timestamptz,
        status -> Text,
        rounds -> Int4,
    }
}

diesel::table! {
    waitlist_offers (id) {
        id -> Uuid,
        opening_id -> Uuid,
        entry_id -> Uuid,
        provider_id -> Uuid,
        location_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        token_hash -> Nullable<Bytea>,
        status -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        resolved_at -> Nullable<Timestamptz>,
        session_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    waitlist_history (id) {
        id -> Uuid,
        entry_id -> Uuid,
        offer_id -> Nullable<Uuid>,
        action -> Text,
        actor -> Text,
        occurred_at -> Timestamptz,
    }
}

diesel::joinable!(api_keys -> providers (provider_id));
diesel::joinable!(calendar_feeds -> providers (provider_id));
diesel::joinable!(audit_events -> api_keys (key_id));
diesel::joinable!(clinical_records -> sessions (session_id));
diesel::joinable!(courses -> locations (location_id));
diesel::joinable!(courses -> patients (patient_id));
diesel::joinable!(courses -> providers (provider_id));
diesel::joinable!(courses -> treatment_areas (treatment_area_id));
diesel::joinable!(idempotency_keys -> api_keys (api_key_id));
diesel::joinable!(booking_requests -> holds (hold_id));
diesel::joinable!(booking_requests -> sessions (session_id));
diesel::joinable!(holds -> locations (location_id));
diesel::joinable!(holds -> providers (provider_id));
diesel::joinable!(holds -> treatment_areas (treatment_area_id));
diesel::joinable!(inquiries -> api_keys (assignee_key_id));
diesel::joinable!(inquiries -> patients (patient_id));
diesel::joinable!(inquiries -> sessions (session_id));
diesel::joinable!(inquiries -> treatment_areas (treatment_area_id));
diesel::joinable!(inquiry_events -> inquiries (inquiry_id));
diesel::joinable!(manage_tokens -> sessions (session_id));
diesel::joinable!(notifications -> courses (course_id));
diesel::joinable!(notifications -> patients (patient_id));
diesel::joinable!(notifications -> sessions (session_id));
diesel::joinable!(provider_locations -> locations (location_id));
diesel::joinable!(provider_locations -> providers (provider_id));
diesel::joinable!(provider_treatment_areas -> providers (provider_id));
diesel::joinable!(provider_treatment_areas -> treatment_areas (treatment_area_id));
diesel::joinable!(session_events -> sessions (session_id));
diesel::joinable!(sessions -> locations (location_id));
diesel::joinable!(sessions -> patients (patient_id));
diesel::joinable!(sessions -> providers (provider_id));
diesel::joinable!(resource_downtime -> resources (resource_id));
diesel::joinable!(resources -> locations (location_id));
diesel::joinable!(sessions -> treatment_areas (treatment_area_id));
diesel::joinable!(time_off -> providers (provider_id));
diesel::joinable!(unsubscribe_tokens -> notifications (notification_id));
diesel::joinable!(unsubscribe_tokens -> patients (patient_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(waitlist_entries -> patients (patient_id));
diesel::joinable!(waitlist_offers -> waitlist_entries (entry_id));
diesel::joinable!(waitlist_offers -> waitlist_openings (opening_id));
diesel::joinable!(waitlist_history -> waitlist_entries (entry_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    audit_events,
    booking_requests,
    calendar_feeds,
    clinic_secrets,
    clinic_settings,
    clinical_records,
    courses,
    domain_event_sequence,
    domain_events,
    event_cursors,
    holds,
    idempotency_keys,
    inquiries,
    inquiry_events,
    locations,
    manage_tokens,
    notifications,
    patients,
    provider_locations,
    provider_treatment_areas,
    providers,
    resource_downtime,
    resources,
    session_events,
    sessions,
    time_off,
    treatment_areas,
    unsubscribe_tokens,
    waitlist_entries,
    waitlist_history,
    waitlist_offers,
    waitlist_openings,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    working_hours,
);
