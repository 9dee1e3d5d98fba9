//! The OpenAPI document, generated from the handlers' annotations.

use super::posts;
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
    paths(posts::create_post, posts::list_posts, posts::get_post, posts::get_delivery),
    components(schemas(
        posts::NewPostRequest,
        posts::PostResponse,
        posts::PostList,
        posts::DeliveryStatus,
        posts::DeliveryFailure,
        ErrorBody,
        ErrorDetail
    )),
    modifiers(&BearerAuth),
    tags((name = "posts", description = "A channel's posts"))
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
