//! A post as a `Note`, with its addressing, tags, attachments and interaction policy.

use crate::{
    db::{Audience, Channel, InteractionPolicy, Media, Post, Visibility},
    {
        protocol::{
            note::{Attachment, Note, NoteType, Source},
            PUBLIC,
        },
        Urls,
    },
};
use serde_json::{json, Value};
use std::{collections::BTreeMap, sync::LazyLock};
use url::Url;

/// The Note of `post`, with `media` its attachments in order.
pub fn note_for(urls: &Urls, channel: &Channel, post: &Post, media: &[Media]) -> Note {
    let content_map = post
        .language
        .as_ref()
        .map(|lang| BTreeMap::from([(lang.clone(), post.content_html.clone())]));
    let followers = urls.followers(&channel.name);
    let (mut to, mut cc) = match post.visibility {
        Visibility::Public => (vec![public()], vec![followers]),
        Visibility::Quiet => (vec![followers], vec![public()]),
    };
    // Mentioned actors are addressed too, so their servers show the mention.
    cc.extend(post.mentions.iter().filter_map(|m| Url::parse(m).ok()));
    to.dedup();
    let policy = post.policy.unwrap_or(channel.policy);
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
        to,
        cc,
        tag: post.tags.clone(),
        source: Some(Source {
            content: post.source.clone(),
            media_type: "text/markdown".into(),
        }),
        attachment: media.iter().map(|m| attachment(urls, m)).collect(),
        interaction_policy: Some(interaction_policy(urls, channel, policy)),
    }
}

fn attachment(urls: &Urls, media: &Media) -> Attachment {
    Attachment {
        kind: "Document".into(),
        media_type: media.media_type.clone(),
        url: urls.media(&media.file_name),
        name: media.description.clone(),
        blurhash: media.blurhash.clone(),
        focal_point: Some([media.focus.0, media.focus.1]),
        width: Some(media.width),
        height: Some(media.height),
    }
}

/// Who may interact with a post: everyone (Public) or only the channel. Written in both
/// GoToSocial's current (`automaticApproval`) and earlier (`always`) terms; `canQuote` is
/// Mastodon 4.5's quote policy (without it, Mastodon treats a post as unquotable).
pub fn interaction_policy(urls: &Urls, channel: &Channel, policy: InteractionPolicy) -> Value {
    let channel_id = urls.channel(&channel.name).to_string();
    let who = |audience: Audience| match audience {
        Audience::Everyone => json!([PUBLIC]),
        Audience::Nobody => json!([channel_id]),
    };
    let rule = |audience: Audience| {
        json!({
            "automaticApproval": who(audience),
            "manualApproval": [],
            "always": who(audience),
            "approvalRequired": [],
        })
    };
    json!({
        "canLike": rule(Audience::Everyone),
        "canReply": rule(policy.reply),
        "canAnnounce": rule(policy.boost),
        "canQuote": { "automaticApproval": who(policy.quote), "manualApproval": [] },
    })
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
