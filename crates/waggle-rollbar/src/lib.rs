//! Rollbar in waggle: the item API pyrollbar and rollbar.js post to, grouping of occurrences into
//! items, item state, project access tokens, and the read API.
//!
//! Occurrences are rows of the store's logs table (dataset `rollbar`, the whole payload kept), so
//! an occurrence carrying a trace id shows in its trace; items and tokens are a small JSON file in
//! the data directory. The HTTP glue (routes, CORS) is the server's.
//!
//! Layout: `error`, `decode` (bodies), `grouping` (fingerprints, titles), `items` (saved state),
//! `service` (the operations).

#![warn(missing_docs)]

mod decode;
mod error;
mod grouping;
mod items;
mod service;

pub use decode::{LEVELS, MAX_ITEM_BYTES, decode_item};
pub use error::{Result, RollbarError};
pub use grouping::{Grouping, group};
pub use items::{AccessToken, Item, SCOPES, STATE_FILE};
pub use service::{ItemFilters, OCCURRENCES_DATASET, RollbarService, TopActiveParams};
