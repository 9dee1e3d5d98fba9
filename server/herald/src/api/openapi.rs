//! The OpenAPI document, generated from the handlers' annotations.

use super::{changes, delivery, media, moderation, posts, profile, sources, webhooks};
use crate::http::{ErrorBody, ErrorDetail};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald owner API",
        description = "Publish to a Herald channel and follow each post's delivery. \
            Authenticate with a channel token from `herald token issue NAME`.",
        license(name = "AGPL-3.0-or-later")
    ),
    paths(
        posts::create_post,
        posts::preview_post,
        posts::list_posts,
        posts::get_post,
        changes::patch_post,
        changes::delete_post,
        changes::pin_post,
        changes::unpin_post,
        delivery::get_delivery,
        profile::get_channel,
        profile::patch_channel,
        media::upload_media,
        moderation::list_followers,
        moderation::remove_follower,
        moderation::approve_follower,
        moderation::list_domain_blocks,
        moderation::add_domain_block,
        moderation::remove_domain_block,
        moderation::list_replies,
        moderation::list_reports,
        sources::create_source,
        sources::list_sources,
        sources::delete_source,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::delete_webhook,
        webhooks::list_webhook_deliveries
    ),
    components(schemas(
        posts::NewPostRequest,
        posts::PostResponse,
        posts::CountsResponse,
        posts::PostList,
        posts::MediaResponse,
        posts::PreviewResponse,
        changes::PostChangesRequest,
        delivery::DeliveryStatus,
        delivery::DeliveryFailure,
        profile::ChannelResponse,
        profile::ProfileRequest,
        media::MediaUpload,
        moderation::FollowerResponse,
        moderation::FollowerList,
        moderation::DomainBlockResponse,
        moderation::DomainBlockRequest,
        moderation::ReplyResponse,
        moderation::ReportResponse,
        sources::SourceRequest,
        sources::SourceResponse,
        webhooks::WebhookRequest,
        webhooks::WebhookResponse,
        webhooks::WebhookMessageResponse,
        crate::db::InteractionPolicy,
        crate::db::Audience,
        crate::db::Visibility,
        crate::db::ProfileField,
        ErrorBody,
        ErrorDetail
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "posts", description = "A channel's posts"),
        (name = "channel", description = "A channel's profile"),
        (name = "media", description = "Image uploads"),
        (name = "moderation", description = "Followers, blocks, replies and reports")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
