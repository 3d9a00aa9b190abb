//! `serve`'s background tasks: the delivery workers, and the periodic flushes and purges.

use std::sync::Arc;

use crate::config::{RetentionArgs, ServeArgs};
use crate::http::state::AppState;
use crate::mail::Mailer;
use crate::webhook::Sender;
use crate::worker::notifications::NotificationWorker;
use crate::worker::waitlist::WaitlistWorker;
use crate::worker::webhooks::WebhookWorker;

/// The webhook worker, unless this replica leaves it to others.
pub fn webhook_worker(args: &ServeArgs, state: &AppState) -> Result<Option<WebhookWorker>, String> {
    let hooks = &args.webhooks;
    if hooks.no_webhooks {
        tracing::info!("webhooks: not delivered by this process (--no-webhooks)");
        return Ok(None);
    }
    Ok(Some(WebhookWorker {
        pool: state.pool.clone(),
        clock: state.clock.clone(),
        wall_clock: Arc::new(crate::clock::SystemClock),
        sender: Sender::new(hooks.webhook_allow_private)
            .map_err(|e| format!("cannot build the webhook client: {e}"))?,
        lease: chrono::Duration::seconds(i64::from(hooks.webhook_lease_secs)),
        batch: 50,
        concurrency: 8,
    }))
}

/// The notification worker, unless this replica leaves it to others; says in one line where
/// messages go.
pub fn notification_worker(
    args: &ServeArgs,
    state: &AppState,
    mailer: Mailer,
) -> Option<NotificationWorker> {
    if args.mail.no_notifications {
        tracing::info!("notifications: not delivered by this process (--no-notifications)");
        return None;
    }
    Some(NotificationWorker {
        pool: state.pool.clone(),
        clock: state.clock.clone(),
        mailer,
        outbox: (*state.outbox).clone(),
        batch: 50,
        concurrency: 4,
    })
}

/// The waitlist worker, unless this replica leaves it to others.
pub fn waitlist_worker(args: &ServeArgs, state: &AppState) -> Option<WaitlistWorker> {
    if args.waitlist.no_waitlist {
        tracing::info!("waitlist: not offered by this process (--no-waitlist)");
        return None;
    }
    Some(WaitlistWorker {
        pool: state.pool.clone(),
        clock: state.clock.clone(),
    })
}

/// Every few seconds, writes the tallies of refusals whose minute is over, even when no
/// further request comes to trigger it.
pub async fn flush_refusals(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(15));
    loop {
        every.tick().await;
        crate::http::refusals::flush(&state.refusals, &state.pool, state.now(), false).await;
    }
}

/// Now and every hour after: forgets expired idempotency keys, purges events older than
/// `event_retention_days` and, with `retention`, erases the personal data of expired
/// inquiries; with `audit_retention`, purges old audit events.
pub async fn hourly_purges(
    state: AppState,
    retention: Option<RetentionArgs>,
    audit_retention: Option<crate::config::AuditRetentionArgs>,
    event_retention_days: u32,
) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let Ok(mut conn) = state.pool.get().await else {
            continue;
        };
        match crate::http::idempotency::purge_expired(&mut conn, state.now()).await {
            Ok(purged) if purged > 0 => tracing::info!(purged, "forgot expired idempotency keys"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not purge idempotency keys"),
        }
        match crate::app::events::purge_expired(&mut conn, event_retention_days, state.now()).await
        {
            Ok(purged) if purged > 0 => tracing::info!(purged, "purged expired events"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not purge events"),
        }
        match crate::app::webhooks::purge_old(&mut conn, event_retention_days, state.now()).await {
            Ok(purged) if purged > 0 => tracing::info!(purged, "purged old webhook deliveries"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not purge webhook deliveries"),
        }
        match crate::app::online::requests::erase_lapsed(&mut conn, state.now()).await {
            Ok(erased) if erased > 0 => {
                tracing::info!(erased, "erased the details of lapsed booking requests")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not erase lapsed booking requests"),
        }
        if let Some(retention) = &retention {
            match crate::app::inquiries::retention::erase_expired(
                &mut conn,
                retention.inquiry_retention_days,
                state.now(),
            )
            .await
            {
                Ok(erased) if erased > 0 => {
                    tracing::info!(erased, "erased the personal data of expired inquiries")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not erase expired inquiries"),
            }
        }
        if let Some(retention) = &audit_retention {
            match crate::app::audit::purge_expired(
                &mut conn,
                retention.audit_retention_days,
                state.now(),
            )
            .await
            {
                Ok(purged) if purged > 0 => tracing::info!(purged, "purged expired audit events"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge audit events"),
            }
        }
    }
}
