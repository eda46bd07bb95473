//! The unused-license digest: a weekly email to each slice's administrators
//! listing the active NAMED users who have not logged in for
//! `unused_license_after`, or never, so they can reclaim those licenses.
//!
//! The list comes from [`users::list`] with the filter that the API's
//! `users(sliceId, filter: {licenseTypes: [NAMED], active: true, lastLoginBefore: …})`
//! passes to it, so the email and that query name the same users.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{LicenseType, slice, user};
use sea_orm::{DatabaseConnection, DatabaseTransaction, EntityTrait, QueryOrder};
use uuid::Uuid;

use super::{NoticeReport, record_notice, recorded_keys};
use crate::{
    access,
    clock::Clock,
    config::Config,
    db,
    error::{AppError, AppResult},
    mail::{self, EmailDraft, Line},
    users::{self, UserFilter, UserOrder, UserOrderField},
};

/// The `notices_sent` kind of the digest, keyed by the UTC date of the run (`YYYY-MM-DD`).
pub const UNUSED_DIGEST: &str = "UNUSED_DIGEST";

/// Maximum number of users one digest lists. A closing line counts the rest.
pub const MAX_LISTED_USERS: u32 = 200;

/// The result of one slice in a run.
enum Outcome {
    /// Today's digest is recorded already.
    AlreadySent,
    /// No user qualifies, or the slice was deleted since it was listed.
    NothingToList,
    NoAdmins,
    Queued,
}

/// Queues today's unused-license digest for every slice that has active NAMED
/// users without a login since `now - unused_license_after`, and records it
/// in `notices_sent` under the UTC date, so a second run on the same day
/// sends nothing.
///
/// Each slice gets its own write transaction. A slice with no such user gets
/// no email and no record. A slice without an active administrator gets
/// nothing recorded and a warning in the log. A slice whose transaction fails
/// is logged and counted in [`NoticeReport::errors`], and the run goes on.
/// Returns an error only when listing the slices fails or
/// `unused_license_after` reaches before the earliest representable instant.
#[tracing::instrument(skip_all)]
pub async fn send_unused_digests(db: &DatabaseConnection, clock: &dyn Clock, config: &Config) -> AppResult<NoticeReport> {
    let now = clock.now();
    let last_login_before = chrono::Duration::from_std(config.unused_license_after)
        .ok()
        .and_then(|period| now.checked_sub_signed(period))
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "unused_license_after ({}) reaches before the earliest representable instant; set a shorter duration",
                humantime::format_duration(config.unused_license_after)
            ))
        })?;
    let key = now.format("%Y-%m-%d").to_string();
    let slice_ids: Vec<Uuid> = slice::Entity::find()
        .order_by_asc(slice::Column::NameKey)
        .all(db)
        .await?
        .into_iter()
        .map(|slice| slice.id)
        .collect();

    let mut report = NoticeReport::default();
    for slice_id in slice_ids {
        report.slices_checked += 1;
        let unused = Unused { last_login_before, period: config.unused_license_after };
        match digest_slice(db, config, slice_id, &key, unused, now).await {
            Ok(Outcome::AlreadySent | Outcome::NothingToList) => {}
            Ok(Outcome::NoAdmins) => report.slices_without_admins += 1,
            Ok(Outcome::Queued) => report.emails_queued += 1,
            Err(error) => {
                tracing::error!(%slice_id, error = format!("{error:#}"), "unused-license digest failed, continuing with the other slices");
                report.errors += 1;
            }
        }
    }
    tracing::info!(?report, date = %key, "unused-license digests run");
    Ok(report)
}

/// The cutoff of a digest: users whose last login is before `last_login_before`.
#[derive(Clone, Copy)]
struct Unused {
    last_login_before: DateTime<Utc>,
    /// `unused_license_after`, for the email's wording.
    period: Duration,
}

/// Builds, records and queues one slice's digest in one write transaction.
#[tracing::instrument(skip_all, fields(%slice_id))]
async fn digest_slice(
    db: &DatabaseConnection,
    config: &Config,
    slice_id: Uuid,
    key: &str,
    unused: Unused,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    // Most re-runs on the same day find the record; this read spares them a write transaction.
    if !recorded_keys(db, slice_id, UNUSED_DIGEST, &[key.to_owned()]).await?.is_empty() {
        return Ok(Outcome::AlreadySent);
    }

    // An error drops the transaction, which rolls it back.
    let txn = db::begin_write(db).await?;
    let outcome = digest_in(&txn, config, slice_id, key, unused, now).await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn digest_in(
    txn: &DatabaseTransaction,
    config: &Config,
    slice_id: Uuid,
    key: &str,
    unused: Unused,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let Some(slice) = slice::Entity::find_by_id(slice_id).one(txn).await? else {
        return Ok(Outcome::NothingToList);
    };
    let filter = UserFilter {
        license_types: Some(vec![LicenseType::Named]),
        active: Some(true),
        last_login_before: Some(unused.last_login_before),
        ..UserFilter::default()
    };
    let order = UserOrder { field: UserOrderField::LastLoginAt, descending: false };
    let limit = i32::try_from(MAX_LISTED_USERS).unwrap_or(i32::MAX);
    let page = users::list(txn, &access::host_administered(slice.clone()), filter, order, Some(limit), None, MAX_LISTED_USERS)
        .await?;
    if page.total_count == 0 {
        return Ok(Outcome::NothingToList);
    }
    let admins = users::admin_addresses(txn, slice.id).await?;
    if admins.is_empty() {
        tracing::warn!(slice_id = %slice.id, unused = page.total_count, "unused-license digest not sent: the slice has no active administrator");
        return Ok(Outcome::NoAdmins);
    }
    if !record_notice(txn, slice.id, UNUSED_DIGEST, key, now).await? {
        // Another run recorded today's digest after the check above.
        return Ok(Outcome::AlreadySent);
    }

    let listed: Vec<user::Model> = page.items.into_iter().map(|(_, user)| user).collect();
    let (subject, body) = compose(&slice, &listed, page.total_count, unused, &config.public_base_url);
    let recipients = admins.len();
    let email = mail::enqueue(txn, EmailDraft::new(admins, subject, body), now).await?;
    tracing::info!(slice_id = %slice.id, unused = page.total_count, outbox_id = %email.id, recipients, "unused-license digest queued");
    Ok(Outcome::Queued)
}

/// Builds the subject and body of a digest listing `listed` of `total` users.
fn compose(
    slice: &slice::Model,
    listed: &[user::Model],
    total: u64,
    unused: Unused,
    public_base_url: &str,
) -> (String, mail::RenderedBody) {
    let period = describe_period(unused.period);
    let (noun, verb) = if total == 1 { ("user", "has") } else { ("users", "have") };
    let subject = format!("[{}] {total} NAMED {noun} {verb} not logged in for {period}", slice.name);
    let mut lines = vec![Line::text(format!(
        "In {} ({}), {total} active NAMED {noun} {verb} not logged in since {} UTC ({period} ago) or {verb} never logged in. \
         Deactivating a user or changing the license type frees the NAMED license for someone else.",
        slice.display_name,
        slice.name,
        unused.last_login_before.format("%Y-%m-%d %H:%M"),
    ))];
    lines.extend(listed.iter().map(|user| Line::text(user_line(user))));
    let rest = total.saturating_sub(listed.len() as u64);
    if rest > 0 {
        lines.push(Line::text(format!(
            "{rest} more {} not listed here; the users query in GraphiQL lists them all.",
            if rest == 1 { "user is" } else { "users are" }
        )));
    }
    lines.push(Line::link("Review users in GraphiQL", "/graphiql"));
    let body = mail::render(public_base_url, &subject, &lines);
    (subject, body)
}

fn user_line(user: &user::Model) -> String {
    let login = match user.last_login_at {
        Some(at) => format!("last login {}", at.format("%Y-%m-%d")),
        None => "never logged in".to_owned(),
    };
    format!("{} ({}, {}): {login}", user.display_name, user.username, user.email)
}

/// Writes a period in whole days, such as `30 days`, or else in whole hours
/// (`36 hours`), or else in humantime's form.
fn describe_period(period: Duration) -> String {
    const HOUR: u64 = 60 * 60;
    const DAY: u64 = 24 * HOUR;
    let whole = period.subsec_nanos() == 0;
    match period.as_secs() {
        DAY => "1 day".to_owned(),
        seconds if whole && seconds % DAY == 0 => format!("{} days", seconds / DAY),
        HOUR => "1 hour".to_owned(),
        seconds if whole && seconds % HOUR == 0 => format!("{} hours", seconds / HOUR),
        _ => humantime::format_duration(period).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_in_days() {
        assert_eq!(describe_period(Duration::from_secs(30 * 24 * 60 * 60)), "30 days");
        assert_eq!(describe_period(Duration::from_secs(24 * 60 * 60)), "1 day");
        assert_eq!(describe_period(Duration::from_secs(36 * 60 * 60)), "36 hours");
        assert_eq!(describe_period(Duration::from_secs(90 * 60)), "1h 30m");
    }
}
