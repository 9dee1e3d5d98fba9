//! The one way a handler learns who is asking: [`Authorized<S>`], an extractor for "a
//! token authorized for the channel in this path with scope `S`". It runs
//! [`TokenKeys::authorize`] once, before the handler, so no handler repeats the check or
//! can forget it: a handler that takes `Authorized<scope::PostsWrite>` cannot run without
//! such a token.

use super::{ApiError, Scope, TokenKeys};
use crate::{
    db::{Actor, Channel},
    state::HeraldState,
};
use activitypub_federation::config::Data;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use std::marker::PhantomData;

/// A scope a handler requires, named as a type so that it is part of the signature.
pub trait RequiredScope {
    const SCOPE: Scope;
}

/// The scopes as types, for [`Authorized`].
pub mod scope {
    use super::{RequiredScope, Scope};

    /// Reading posts, their delivery, replies and reports.
    pub struct PostsRead;
    /// Creating, editing, deleting and pinning posts, and uploading media.
    pub struct PostsWrite;
    /// Changing the profile, followers and blocks.
    pub struct ProfileWrite;

    impl RequiredScope for PostsRead {
        const SCOPE: Scope = Scope::PostsRead;
    }
    impl RequiredScope for PostsWrite {
        const SCOPE: Scope = Scope::PostsWrite;
    }
    impl RequiredScope for ProfileWrite {
        const SCOPE: Scope = Scope::ProfileWrite;
    }
}

/// The channel named by the path's `{name}`, for a request whose bearer token belongs to
/// that channel and carries scope `S`. Refusals, in order: no or bad token (401), no such
/// channel (404), another channel's token or a missing scope (403).
pub struct Authorized<S> {
    pub channel: Channel,
    /// Who is acting: the token's person, or the channel token itself (for the audit log
    /// and the author signature).
    pub actor: Actor,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequest for Authorized<S> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let (keys, data) = keys_and_state(&request).await?;
            let name = request.match_info().get("name").unwrap_or_default();
            let grant = keys.authorize(&request, &data.db, name, S::SCOPE).await?;
            Ok(Authorized {
                channel: grant.channel,
                actor: grant.actor,
                scope: PhantomData,
            })
        })
    }
}

/// The token keys and the state a token check needs, from the app's data.
pub(crate) async fn keys_and_state(
    request: &HttpRequest,
) -> Result<(web::Data<TokenKeys>, Data<HeraldState>), ApiError> {
    let keys = request
        .app_data::<web::Data<TokenKeys>>()
        .cloned()
        .ok_or_else(|| missing("the token keys"))?;
    let data = Data::<HeraldState>::extract(request)
        .await
        .map_err(|_| missing("the federation data"))?;
    Ok((keys, data))
}

/// A route mounted without the app data the extractor needs: a wiring bug, not the
/// client's fault.
fn missing(what: &str) -> ApiError {
    ApiError::Internal(format!("{what} are not configured for this route").into())
}
