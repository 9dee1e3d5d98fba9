//! A post as a `Note`.

use crate::{
    db::{Channel, Post},
    federation::{
        protocol::{
            note::{Note, NoteType},
            PUBLIC,
        },
        Urls,
    },
};
use std::{collections::BTreeMap, sync::LazyLock};
use url::Url;

/// The Note of a public post: to Public, cc the channel's followers, so it reaches home
/// timelines and public timelines alike.
pub fn note_for(urls: &Urls, channel: &Channel, post: &Post) -> Note {
    let content_map = post
        .language
        .as_ref()
        .map(|lang| BTreeMap::from([(lang.clone(), post.content_html.clone())]));
    Note {
        context: None,
        id: urls.post(post.id),
        kind: NoteType::Note,
        attributed_to: urls.channel(&channel.name),
        content: post.content_html.clone(),
        content_map,
        summary: post.summary.clone(),
        sensitive: post.sensitive,
        published: post.published_at.unwrap_or(post.created_at),
        updated: post.updated_at,
        url: urls.post_page(&channel.name, post.id),
        to: vec![public()],
        cc: vec![urls.followers(&channel.name)],
        tag: Vec::new(),
    }
}

/// The public collection's IRI.
pub fn public() -> Url {
    static PUBLIC_URL: LazyLock<Url> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant; the unit test below parses it
        Url::parse(PUBLIC).expect("the public collection IRI parses")
    });
    PUBLIC_URL.clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_public_collection_parses() {
        assert_eq!(super::public().as_str(), super::PUBLIC);
    }
}
