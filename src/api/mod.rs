//! The HTTP edge: request and response types, handlers, and every route on one screen.

pub mod api_keys;
pub mod audit;
pub mod availability;
pub mod courses;
pub mod events;
pub mod feeds;
pub mod health;
pub mod inquiries;
pub mod locations;
pub mod notifications;
pub mod online;
pub mod patients;
pub mod providers;
pub mod resources;
pub mod schedule;
pub mod sessions;
pub mod settings;
pub mod time_off;
pub mod treatment_areas;
pub mod unsubscribe;
pub mod waitlist;
pub mod webhooks;
pub mod working_hours;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every documented route of the service.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(crate::http::problems::describe_problem_type)
        .service(online::page::booking_page)
        .service(feeds::calendar_feed)
        .service(
            scope("/v1")
                .service(api_keys::create_api_key)
                .service(api_keys::list_api_keys)
                .service(api_keys::revoke_api_key)
                .service(api_keys::me)
                .service(audit::list_audit_events)
                .service(events::list_events)
                .service(patients::create_patient)
                .service(patients::list_patients)
                .service(patients::search_patients)
                .service(patients::get_patient)
                .service(patients::update_patient)
                .service(patients::archive_patient)
                .service(availability::calendar::availability_days)
                .service(availability::calendar::next_availability)
                .service(availability::find_availability)
                .service(courses::plan::plan_course)
                .service(courses::plan::create_course)
                .service(courses::read::list_courses)
                .service(courses::read::get_course)
                .service(courses::change::change_course_status)
                .service(courses::change::cancel_course)
                .service(courses::change::extend_course)
                .service(courses::change::update_course)
                .service(courses::read::patient_courses)
                .service(sessions::book::book_session)
                .service(sessions::read::list_sessions)
                .service(sessions::read::get_session)
                .service(sessions::read::session_history)
                .service(sessions::change::reschedule_session)
                .service(sessions::change::cancel_session)
                .service(sessions::change::confirm_session)
                .service(sessions::change::check_in_session)
                .service(sessions::change::complete_session)
                .service(sessions::change::no_show_session)
                .service(inquiries::intake::submit_inquiry)
                .service(inquiries::triage::list_inquiries)
                .service(inquiries::triage::search_inquiries)
                .service(inquiries::triage::inquiry_stats)
                .service(inquiries::triage::get_inquiry)
                .service(inquiries::triage::update_inquiry)
                .service(inquiries::triage::inquiry_timeline)
                .service(inquiries::convert::convert_inquiry)
                .service(locations::create_location)
                .service(locations::list_locations)
                .service(locations::get_location)
                .service(locations::update_location)
                .service(locations::archive_location)
                .service(treatment_areas::create_treatment_area)
                .service(treatment_areas::list_treatment_areas)
                .service(treatment_areas::get_treatment_area)
                .service(treatment_areas::update_treatment_area)
                .service(treatment_areas::archive_treatment_area)
                .service(resources::create_resource)
                .service(resources::list_resources)
                .service(resources::get_resource)
                .service(resources::update_resource)
                .service(resources::archive_resource)
                .service(resources::downtime::create_downtime)
                .service(resources::downtime::list_downtime)
                .service(resources::downtime::delete_downtime)
                .service(waitlist::matches::waitlist_matches)
                .service(waitlist::offers::get_waitlist_offer)
                .service(waitlist::offers::accept_waitlist_offer)
                .service(waitlist::create_waitlist_entry)
                .service(waitlist::list_waitlist)
                .service(waitlist::get_waitlist_entry)
                .service(waitlist::update_waitlist_entry)
                .service(waitlist::cancel_waitlist_entry)
                .service(providers::create_provider)
                .service(providers::list_providers)
                .service(providers::get_provider)
                .service(providers::update_provider)
                .service(providers::archive_provider)
                .service(feeds::create_calendar_feed)
                .service(feeds::delete_calendar_feed)
                .service(schedule::provider_schedule)
                .service(working_hours::get_working_hours)
                .service(working_hours::replace_working_hours)
                .service(time_off::create_time_off)
                .service(time_off::list_time_off)
                .service(time_off::delete_time_off)
                .service(settings::get_settings)
                .service(settings::update_settings)
                .service(notifications::list_notifications)
                .service(notifications::get_notification)
                .service(notifications::resend_notification)
                .service(unsubscribe::unsubscribe_page)
                .service(unsubscribe::unsubscribe)
                .service(online::holds::create_hold)
                .service(online::bookings::create_booking)
                .service(online::bookings::verify_booking)
                .service(online::manage::get_managed)
                .service(online::manage::cancel_managed)
                .service(online::manage::reschedule_managed)
                .service(online::manage::join_waitlist_managed)
                .service(webhooks::endpoints::create_webhook_endpoint)
                .service(webhooks::endpoints::list_webhook_endpoints)
                .service(webhooks::endpoints::get_webhook_endpoint)
                .service(webhooks::endpoints::update_webhook_endpoint)
                .service(webhooks::endpoints::delete_webhook_endpoint)
                .service(webhooks::endpoints::rotate_webhook_secret)
                .service(webhooks::deliveries::test_webhook_endpoint)
                .service(webhooks::deliveries::list_webhook_deliveries)
                .service(webhooks::deliveries::retry_webhook_delivery),
        );
}
