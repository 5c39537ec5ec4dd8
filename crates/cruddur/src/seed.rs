//! The bootcamp's sample data, loaded into an empty database.
//!
//! Users, activities and messages are those of the bootcamp's mock services (`home_activities.py`,
//! `notifications_activities.py`, `messages.py`) and its `seed.sql`, with the same uuids; times are
//! relative to the moment of seeding, as the mocks computed them from `now`.

use chrono::TimeDelta;
use sqlx::Row as _;

use crate::clock;
use crate::db::{Db, no_params};

/// A sample user.
pub struct SeedUser {
    /// Fixed uuid.
    pub uuid: &'static str,
    /// Shown name.
    pub display_name: &'static str,
    /// `@handle`, without the `@`.
    pub handle: &'static str,
}

/// A sample activity (a reply when `reply_to` is set).
pub struct SeedActivity {
    /// Fixed uuid.
    pub uuid: &'static str,
    /// Author's handle.
    pub handle: &'static str,
    /// Text.
    pub message: &'static str,
    /// The activity this one replies to.
    pub reply_to: Option<&'static str>,
    /// How long ago it was posted, in minutes.
    pub age_minutes: i64,
    /// How long it stays from now, in minutes.
    pub expires_in_minutes: i64,
    /// Counters shown in the feed.
    pub likes_count: i64,
}

/// A sample direct message.
pub struct SeedMessage {
    /// Fixed uuid.
    pub uuid: &'static str,
    /// Sender's handle.
    pub from: &'static str,
    /// Receiver's handle.
    pub to: &'static str,
    /// Text.
    pub message: &'static str,
    /// How long ago it was sent, in minutes.
    pub age_minutes: i64,
}

const HOUR: i64 = 60;
const DAY: i64 = 24 * HOUR;

/// The sample users.
pub const USERS: &[SeedUser] = &[
    SeedUser { uuid: "a4ee4ae1-7b2f-4ac3-b4a5-9d6e1b0d3f01", display_name: "Andrew Brown", handle: "andrewbrown" },
    SeedUser { uuid: "a4ee4ae1-7b2f-4ac3-b4a5-9d6e1b0d3f02", display_name: "Worf", handle: "worf" },
    SeedUser { uuid: "a4ee4ae1-7b2f-4ac3-b4a5-9d6e1b0d3f03", display_name: "Garek", handle: "garek" },
    SeedUser { uuid: "a4ee4ae1-7b2f-4ac3-b4a5-9d6e1b0d3f04", display_name: "Andrew Bayko", handle: "bayko" },
    SeedUser { uuid: "a4ee4ae1-7b2f-4ac3-b4a5-9d6e1b0d3f05", display_name: "Coco", handle: "coco" },
];

/// The sample activities; replies come after the activity they answer.
pub const ACTIVITIES: &[SeedActivity] = &[
    SeedActivity {
        uuid: "68f126b0-1ceb-4a33-88be-d90fa7109eee",
        handle: "andrewbrown",
        message: "Cloud is fun!",
        reply_to: None,
        age_minutes: 2 * DAY,
        expires_in_minutes: 5 * DAY,
        likes_count: 5,
    },
    SeedActivity {
        uuid: "26e12864-1c26-5c3a-9658-97a10f8fea67",
        handle: "worf",
        message: "This post has no honor!",
        reply_to: Some("68f126b0-1ceb-4a33-88be-d90fa7109eee"),
        age_minutes: 2 * DAY - 10,
        expires_in_minutes: 5 * DAY,
        likes_count: 0,
    },
    SeedActivity {
        uuid: "66e12864-8c26-4c3a-9658-95a10f8fea67",
        handle: "worf",
        message: "I am out of prune juice",
        reply_to: None,
        age_minutes: 7 * DAY,
        expires_in_minutes: 9 * DAY,
        likes_count: 0,
    },
    SeedActivity {
        uuid: "248959df-3079-4947-b847-9e0892d1bab4",
        handle: "garek",
        message: "My dear doctor, I am just simple tailor. I am not interested in having my life examined.",
        reply_to: None,
        age_minutes: HOUR,
        expires_in_minutes: 12 * HOUR,
        likes_count: 0,
    },
    SeedActivity {
        uuid: "9e3d5e2c-61a4-4c5e-8f0a-2b7c4d1e6f30",
        handle: "coco",
        message: "I am white unicorn",
        reply_to: None,
        age_minutes: 2 * DAY + HOUR,
        expires_in_minutes: 5 * DAY,
        likes_count: 5,
    },
    SeedActivity {
        uuid: "c1f0b0a4-5d3e-4f1a-9b2c-7e8d6a5f4b01",
        handle: "andrewbrown",
        message: "This was imported as seed data!",
        reply_to: None,
        age_minutes: 3 * HOUR,
        expires_in_minutes: 10 * DAY,
        likes_count: 0,
    },
];

/// The sample messages.
pub const MESSAGES: &[SeedMessage] = &[
    SeedMessage {
        uuid: "4e81c06a-db0f-4281-b4cc-98208537772a",
        from: "andrewbrown",
        to: "worf",
        message: "Cloud is fun!",
        age_minutes: DAY,
    },
    SeedMessage {
        uuid: "66e12864-8c26-4c3a-9658-95a10f8fea68",
        from: "andrewbrown",
        to: "worf",
        message: "This platform is great!",
        age_minutes: DAY - 5,
    },
    SeedMessage {
        uuid: "24b95582-9e7b-4e0a-9ad1-639773ab7552",
        from: "bayko",
        to: "andrewbrown",
        message: "The frontend sends its traces too now.",
        age_minutes: 2 * HOUR,
    },
];

fn user_uuid(handle: &str) -> &'static str {
    USERS.iter().find(|user| user.handle == handle).map(|user| user.uuid).expect("seed handles are seed users")
}

/// Loads the sample data when the database has no user yet; returns whether it did.
pub async fn seed_if_empty(db: &Db) -> sqlx::Result<bool> {
    let row = db.fetch_optional("SELECT COUNT(*) AS num_users FROM users", no_params).await?;
    let num_users: i64 = match row {
        Some(row) => row.try_get("num_users")?,
        None => 0,
    };
    if num_users > 0 {
        return Ok(false);
    }
    for user in USERS {
        db.execute("INSERT INTO users (uuid, display_name, handle, created_at) VALUES ($1, $2, $3, $4)", |query| {
            query.bind(user.uuid).bind(user.display_name).bind(user.handle).bind(clock::from_now(TimeDelta::days(-30)))
        })
        .await?;
    }
    for activity in ACTIVITIES {
        let num_replies = ACTIVITIES.iter().filter(|reply| reply.reply_to == Some(activity.uuid)).count() as i64;
        db.execute(
            "INSERT INTO activities (uuid, user_uuid, message, reply_to_activity_uuid, likes_count, replies_count,
                reposts_count, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
            |query| {
                query
                    .bind(activity.uuid)
                    .bind(user_uuid(activity.handle))
                    .bind(activity.message)
                    .bind(activity.reply_to)
                    .bind(activity.likes_count)
                    .bind(num_replies)
                    .bind(clock::from_now(TimeDelta::minutes(-activity.age_minutes)))
                    .bind(clock::from_now(TimeDelta::minutes(activity.expires_in_minutes)))
            },
        )
        .await?;
    }
    for message in MESSAGES {
        db.execute(
            "INSERT INTO messages (uuid, sender_user_uuid, receiver_user_uuid, message, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            |query| {
                query
                    .bind(message.uuid)
                    .bind(user_uuid(message.from))
                    .bind(user_uuid(message.to))
                    .bind(message.message)
                    .bind(clock::from_now(TimeDelta::minutes(-message.age_minutes)))
            },
        )
        .await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn test_seed_has_the_bootcamp_users() {
        let handles: Vec<&str> = USERS.iter().map(|user| user.handle).collect();
        for handle in ["andrewbrown", "worf", "garek"] {
            assert!(handles.contains(&handle), "{handle} missing");
        }
        assert_eq!(USERS.iter().find(|user| user.handle == "andrewbrown").unwrap().display_name, "Andrew Brown");
    }

    #[test]
    fn test_seed_references_are_consistent() {
        let uuids: Vec<&str> = USERS
            .iter()
            .map(|user| user.uuid)
            .chain(ACTIVITIES.iter().map(|activity| activity.uuid))
            .chain(MESSAGES.iter().map(|message| message.uuid))
            .collect();
        assert_eq!(uuids.iter().collect::<HashSet<_>>().len(), uuids.len(), "uuids are unique");
        for (index, activity) in ACTIVITIES.iter().enumerate() {
            user_uuid(activity.handle);
            if let Some(parent) = activity.reply_to {
                let position = ACTIVITIES.iter().position(|other| other.uuid == parent).expect("parent exists");
                assert!(position < index, "{} is seeded before its parent", activity.uuid);
                assert!(ACTIVITIES[position].age_minutes > activity.age_minutes, "a reply is newer than its parent");
            }
            assert!(activity.message.chars().count() <= crate::validation::MAX_ACTIVITY_CHARS);
        }
        for message in MESSAGES {
            user_uuid(message.from);
            user_uuid(message.to);
        }
    }
}
