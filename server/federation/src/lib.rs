//! Everything ActivityPub, on the `activitypub_federation` crate: the JSON (`protocol`),
//! Herald's rows as federated objects (`objects`), the activities sent and received
//! (`activities`), the endpoints (`routes`), and the application state that is the
//! federation crate's data (`state`).
//!
//! Called by the entry points (`api` builds activities here; `app` mounts the routes).
//! It calls `delivery` (to enqueue), `db` and `content`. Outbound signing is not here:
//! `delivery` signs and sends every request itself.

pub mod activities;
pub mod error;
pub mod inbox;
pub mod objects;
pub mod protocol;
pub mod remote_follow;
mod routes;
pub mod state;

pub use error::FederationError;
pub use herald_base::Urls;
pub use routes::{routes, INBOX_BODY_LIMIT};

use activitypub_federation::config::{FederationConfig, FederationConfigBuilderError};
use herald_base::{config, error_chain, guard, http, metrics};
use herald_content as content;
use herald_db as db;
use herald_delivery as delivery;
use objects::InstanceActor;
use state::HeraldState;
use std::time::Duration;

/// How long a fetch of a remote document may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The federation crate's configuration for this instance: Mastodon-compatible signatures
/// on fetches, signed by the instance actor, through an HTTP client that refuses private
/// addresses outside debug mode.
pub async fn federation_config(
    state: HeraldState,
) -> Result<FederationConfig<HeraldState>, FederationConfigBuilderError> {
    let instance = InstanceActor::new(&state.urls, &state.instance_keys);
    let client = guard::fetch_client(
        state.config.debug,
        FETCH_TIMEOUT,
        &herald_base::user_agent(&state.config),
    )
    .map_err(|e| FederationConfigBuilderError::ValidationError(e.to_string()))?;
    FederationConfig::builder()
        .domain(state.config.domain.as_str())
        .debug(state.config.debug)
        .http_signature_compat(true)
        .request_timeout(FETCH_TIMEOUT)
        .client(client.into())
        .signed_fetch_actor(&instance)
        .app_data(state)
        .build()
        .await
}
