//! The project's state: access tokens and items (counts, first and last seen, level, status),
//! saved as `<data dir>/rollbar.json` (a temporary file, fsync, rename) after every change.
//! Occurrences themselves are rows of the store.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::LEVELS;

/// File name of the state in the data directory.
pub const STATE_FILE: &str = "rollbar.json";
/// Every scope a project access token can have.
pub const SCOPES: [&str; 4] = ["post_server_item", "post_client_item", "read", "write"];

/// A project access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessToken {
    /// Its name.
    pub name: String,
    /// The token (32 hex characters).
    pub access_token: String,
    /// What it may do.
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub date_created: i64,
}

/// An item: the occurrences of one error or message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    /// Item id (also its project counter).
    pub id: u64,
    /// Its number in the project.
    pub counter: u64,
    /// The grouping fingerprint (hex SHA-1).
    pub hash: String,
    /// From the first occurrence (or `data.title`).
    pub title: String,
    /// The most severe level seen.
    pub level: String,
    /// The environment.
    pub environment: String,
    /// `active`, `resolved` or `muted`.
    pub status: String,
    /// The first occurrence's `framework`, `platform`, `language`.
    pub framework: String,
    /// The first occurrence's platform.
    pub platform: String,
    /// The first occurrence's language.
    pub language: String,
    /// Occurrences stored.
    pub total_occurrences: u64,
    /// Unix seconds.
    pub first_occurrence_timestamp: i64,
    /// Unix seconds.
    pub last_occurrence_timestamp: i64,
    /// The first occurrence's id.
    pub first_occurrence_id: u64,
    /// The latest occurrence's id.
    pub last_occurrence_id: u64,
    /// When it last became active, unix seconds.
    pub last_activated_timestamp: i64,
    /// When it was last resolved, unix seconds.
    pub last_resolved_timestamp: Option<i64>,
    /// The exception class, for exceptions.
    pub exception_class: Option<String>,
}

impl Item {
    /// Rank of the level, for "most severe".
    pub fn level_rank(level: &str) -> usize {
        LEVELS.iter().position(|known| *known == level).unwrap_or(3)
    }
}

/// Everything saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProjectState {
    /// Format version.
    pub version: u32,
    /// Access tokens.
    pub tokens: Vec<AccessToken>,
    /// Items by id.
    pub items: BTreeMap<u64, Item>,
    /// Item ids by fingerprint.
    pub fingerprints: BTreeMap<String, u64>,
    /// The next item id.
    pub next_item_id: u64,
    /// The next occurrence id.
    pub next_occurrence_id: u64,
}

/// The state and where it is saved.
pub struct ProjectFile {
    path: Option<PathBuf>,
    /// The state.
    pub state: ProjectState,
}

impl ProjectFile {
    /// Loads `<dir>/rollbar.json`, or starts a project with one access token holding every scope.
    pub fn open(dir: &Path, now: i64) -> std::io::Result<Self> {
        let path = dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} is not waggle's Rollbar state ({err}): move it away to start a new project",
                        path.display()
                    ),
                )
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => ProjectState::default(),
            Err(err) => return Err(err),
        };
        let mut file = Self { path: Some(path), state };
        if file.ensure_token(now) {
            file.save()?;
        }
        Ok(file)
    }

    /// A project kept in memory only, for tests.
    pub fn in_memory(now: i64) -> Self {
        let mut file = Self { path: None, state: ProjectState::default() };
        file.ensure_token(now);
        file
    }

    fn ensure_token(&mut self, now: i64) -> bool {
        if self.state.next_item_id == 0 {
            self.state.next_item_id = 1;
            self.state.next_occurrence_id = 1;
        }
        if !self.state.tokens.is_empty() {
            return false;
        }
        self.state.tokens.push(AccessToken {
            name: "default".into(),
            access_token: uuid::Uuid::new_v4().simple().to_string(),
            scopes: SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
            date_created: now,
        });
        true
    }

    /// Saves: a temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let bytes = serde_json::to_vec_pretty(&self.state).map_err(std::io::Error::other)?;
        let temporary = path.with_extension("json.tmp");
        {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}
