//! WebFinger, host-meta and NodeInfo: how other servers find a channel and this instance.

use crate::{
    db::{self, ChannelName, DbError},
    state::HeraldState,
    {
        error::FederationError,
        protocol::webfinger::{Jrd, JrdLink, NodeInfo},
        Urls,
    },
};
use activitypub_federation::config::Data;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// What a WebFinger `resource` names.
#[derive(Debug, PartialEq, Eq)]
enum Resource {
    Channel(ChannelName),
    Instance,
}

/// Parses `acct:name@domain` (with or without `acct:`), an actor id, or a profile URL.
/// `Ok(None)`: well-formed but not ours or no such name. `Err`: malformed.
fn parse_resource(urls: &Urls, raw: &str) -> Result<Option<Resource>, String> {
    let raw = raw.trim();
    if raw.starts_with("http://") || raw.starts_with("https://") {
        let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a valid URL: {e}"))?;
        if let Some(name) = urls.parse_channel(&url) {
            return Ok(Some(Resource::Channel(name)));
        }
        if url == urls.instance_actor() {
            return Ok(Some(Resource::Instance));
        }
        let profile = url
            .path()
            .strip_prefix("/@")
            .filter(|_| url.origin() == urls.base().origin());
        return Ok(profile
            .and_then(|name| ChannelName::parse(name).ok())
            .map(Resource::Channel));
    }
    let acct = raw.strip_prefix("acct:").unwrap_or(raw);
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (user, host) = acct
        .rsplit_once('@')
        .filter(|(user, host)| !user.is_empty() && !host.is_empty())
        .ok_or_else(|| format!("`{raw}` is neither acct:name@domain nor an http(s) URL"))?;
    if !host.eq_ignore_ascii_case(&urls.authority()) {
        return Ok(None);
    }
    if user.eq_ignore_ascii_case(&urls.authority()) {
        return Ok(Some(Resource::Instance));
    }
    Ok(ChannelName::parse(&user.to_ascii_lowercase())
        .ok()
        .map(Resource::Channel))
}

fn jrd(subject: String, actor: String, profile: String) -> Jrd {
    Jrd {
        subject,
        aliases: vec![actor.clone(), profile.clone()],
        links: vec![
            JrdLink {
                rel: "self".into(),
                kind: Some("application/activity+json".into()),
                href: Some(actor),
                template: None,
            },
            JrdLink {
                rel: "http://webfinger.net/rel/profile-page".into(),
                kind: Some("text/html".into()),
                href: Some(profile),
                template: None,
            },
        ],
    }
}

pub async fn get_webfinger(
    query: web::Query<WebfingerQuery>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let raw = query
        .resource
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            FederationError::BadRequest("the `resource` parameter is required".into())
        })?;
    let urls = &data.urls;
    let resource = parse_resource(urls, raw)
        .map_err(FederationError::BadRequest)?
        .ok_or(FederationError::NotFound)?;
    let authority = urls.authority();
    let body = match resource {
        Resource::Instance => jrd(
            format!("acct:{authority}@{authority}"),
            urls.instance_actor().to_string(),
            urls.base().to_string(),
        ),
        Resource::Channel(name) => {
            match db::channel_by_name(&data.db, name.as_str()).await {
                Ok(_) => {}
                Err(DbError::NotFound) => return Err(FederationError::NotFound),
                Err(e) => return Err(e.into()),
            }
            jrd(
                format!("acct:{name}@{authority}"),
                urls.channel(&name).to_string(),
                urls.profile_page(&name).to_string(),
            )
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/jrd+json; charset=utf-8")
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(body))
}

/// host-meta (RFC 6415), for older software that finds WebFinger through it.
pub async fn get_host_meta(data: Data<HeraldState>) -> HttpResponse {
    let template = format!("{}.well-known/webfinger?resource={{uri}}", data.urls.base());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{template}\"/>\n\
         </XRD>\n"
    );
    HttpResponse::Ok()
        .content_type("application/xrd+xml; charset=utf-8")
        .body(body)
}

pub async fn get_nodeinfo_links(data: Data<HeraldState>) -> HttpResponse {
    let base = data.urls.base();
    HttpResponse::Ok().json(json!({
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": format!("{base}nodeinfo/2.0")
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": format!("{base}nodeinfo/2.1")
            },
            {
                // FEP-2677: the application actor.
                "rel": "https://www.w3.org/ns/activitystreams#Application",
                "href": format!("{base}actor")
            }
        ]
    }))
}

pub async fn get_nodeinfo(
    version: web::Path<String>,
    data: Data<HeraldState>,
) -> Result<HttpResponse, FederationError> {
    let version = version.into_inner();
    if version != "2.0" && version != "2.1" {
        return Err(FederationError::NotFound);
    }
    let software = json!({ "name": "herald", "version": env!("CARGO_PKG_VERSION") });
    let channels = db::count_channels(&data.db).await?;
    let posts = db::count_posts(&data.db, None).await?;
    let body = NodeInfo {
        version: version.clone(),
        software,
        protocols: vec!["activitypub".into()],
        services: json!({ "inbound": [], "outbound": ["atom1.0", "rss2.0"] }),
        open_registrations: false,
        usage: json!({
            "users": { "total": channels, "activeMonth": channels, "activeHalfyear": channels },
            "localPosts": posts
        }),
        metadata: json!({}),
    };
    Ok(HttpResponse::Ok()
        .content_type(format!(
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
        ))
        .json(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn urls() -> Urls {
        let config =
            Config::from_sources(None, [("HERALD_DOMAIN".into(), "example.com".into())]).unwrap();
        Urls::new(&config).unwrap()
    }

    fn channel(name: &str) -> Option<Resource> {
        Some(Resource::Channel(ChannelName::parse(name).unwrap()))
    }

    #[test]
    fn resources_in_every_form() {
        let urls = urls();
        assert_eq!(
            parse_resource(&urls, "acct:ceo@example.com").unwrap(),
            channel("ceo")
        );
        assert_eq!(
            parse_resource(&urls, "ceo@Example.com").unwrap(),
            channel("ceo")
        );
        assert_eq!(
            parse_resource(&urls, "acct:@CEO@example.com").unwrap(),
            channel("ceo")
        );
        assert_eq!(
            parse_resource(&urls, "https://example.com/channels/ceo").unwrap(),
            channel("ceo")
        );
        assert_eq!(
            parse_resource(&urls, "https://example.com/@ceo").unwrap(),
            channel("ceo")
        );
        assert_eq!(
            parse_resource(&urls, "acct:example.com@example.com").unwrap(),
            Some(Resource::Instance)
        );
        assert_eq!(
            parse_resource(&urls, "acct:ceo@elsewhere.org").unwrap(),
            None
        );
        assert_eq!(
            parse_resource(&urls, "https://elsewhere.org/@ceo").unwrap(),
            None
        );
        assert!(parse_resource(&urls, "ceo").is_err());
        assert!(parse_resource(&urls, "acct:@example.com").is_err());
        assert!(parse_resource(&urls, "https://exa mple.com/").is_err());
    }
}
