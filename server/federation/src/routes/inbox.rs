//! Inboxes: a channel's own and the shared one (see `inbox`).

use super::actors::load_channel;
use crate::{
    state::HeraldState,
    {error::FederationError, inbox},
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn post_channel_inbox(
    name: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let channel = load_channel(&data, &name).await?;
    inbox::receive(&request, &body, &data, Some(&channel)).await
}

pub async fn post_shared_inbox(
    request: HttpRequest,
    body: web::Bytes,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    inbox::receive(&request, &body, &data, None).await
}
