//! Herald's URL layout: every id and page URL is built here, and local ids are parsed back
//! here, so the layout lives in one place.
//!
//! ```text
//! /channels/{name}             actor (and /inbox /outbox /followers /following /featured)
//! /posts/{uuid}                Note
//! /media/{file}                uploaded media
//! /activities/{uuid}           outbound activity
//! /inbox                       shared inbox
//! /actor                       instance actor (Application)
//! /@{name}, /@{name}/{uuid}    HTML pages
//! ```

use crate::{
    config::Config,
    ids::{ChannelName, PostId},
};
use url::Url;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// The URL layout of the instance `config` describes. Fails only if the configured
    /// domain is not a host, which config validation already refuses.
    pub fn new(config: &Config) -> Result<Urls, url::ParseError> {
        Ok(Urls {
            base: Url::parse(&config.base_url())?,
        })
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// The instance's base URL (`https://example.com/`).
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The host (and port) of this instance, as in handles.
    pub fn authority(&self) -> String {
        crate::ids::authority_of(&self.base)
    }

    pub fn channel(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}"))
    }

    pub fn channel_inbox(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}/inbox"))
    }

    pub fn outbox(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}/outbox"))
    }

    pub fn outbox_page(&self, name: &ChannelName, before: Option<PostId>) -> Url {
        let mut url = self.outbox(name);
        match before {
            Some(before) => url.set_query(Some(&format!("page=true&before={before}"))),
            None => url.set_query(Some("page=true")),
        }
        url
    }

    pub fn followers(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}/followers"))
    }

    pub fn following(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}/following"))
    }

    pub fn featured(&self, name: &ChannelName) -> Url {
        self.url(&format!("/channels/{name}/featured"))
    }

    pub fn key_id(&self, name: &ChannelName) -> String {
        format!("{}#main-key", self.channel(name))
    }

    pub fn shared_inbox(&self) -> Url {
        self.url("/inbox")
    }

    pub fn instance_actor(&self) -> Url {
        self.url("/actor")
    }

    pub fn instance_inbox(&self) -> Url {
        self.url("/actor/inbox")
    }

    pub fn instance_outbox(&self) -> Url {
        self.url("/actor/outbox")
    }

    pub fn post(&self, id: PostId) -> Url {
        self.url(&format!("/posts/{id}"))
    }

    pub fn activity(&self, id: Uuid) -> Url {
        self.url(&format!("/activities/{id}"))
    }

    /// A channel's permission for another post to quote one of its posts (FEP-044f).
    pub fn quote_authorization(&self, id: Uuid) -> Url {
        self.url(&format!("/quote_authorizations/{id}"))
    }

    pub fn profile_page(&self, name: &ChannelName) -> Url {
        self.url(&format!("/@{name}"))
    }

    pub fn post_page(&self, name: &ChannelName, id: PostId) -> Url {
        self.url(&format!("/@{name}/{id}"))
    }

    /// A channel's page of posts with a hashtag (lower case).
    pub fn hashtag(&self, name: &ChannelName, tag: &str) -> Url {
        self.url(&format!("/@{name}/tags/{tag}"))
    }

    /// An uploaded file in the media directory.
    pub fn media(&self, file_name: &str) -> Url {
        self.url(&format!("/media/{file_name}"))
    }

    /// The path of `url` when it is on this instance.
    fn local_path<'u>(&self, url: &'u Url) -> Option<&'u str> {
        (url.origin() == self.base.origin() && url.query().is_none() && url.fragment().is_none())
            .then(|| url.path())
    }

    /// The channel name of a local actor id (`…/channels/{name}`), if `url` is one.
    pub fn parse_channel(&self, url: &Url) -> Option<ChannelName> {
        let name = self.local_path(url)?.strip_prefix("/channels/")?;
        ChannelName::parse(name).ok()
    }

    /// The post id of a local Note id (`…/posts/{uuid}`), if `url` is one.
    pub fn parse_post(&self, url: &Url) -> Option<PostId> {
        PostId::parse(self.local_path(url)?.strip_prefix("/posts/")?)
    }
}
