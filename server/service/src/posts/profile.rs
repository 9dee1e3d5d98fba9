//! Profile changes: stored, then followers get an `Update` of the actor.

use super::{body::valid_language, PostError};
use crate::{
    db::{
        self, ActivityKind, Broadcast, Channel, InteractionPolicy, MediaId, NewActivity,
        ProfileChanges, ProfileField,
    },
    federation::{activities::lifecycle::build_update_actor, objects::channel::ApubChannel},
    state::HeraldState,
};
use activitypub_federation::config::Data;

/// Profile fields a channel may have (Mastodon shows four).
pub const MAX_FIELDS: usize = 4;
const MAX_DISPLAY_NAME: usize = 100;
const MAX_SUMMARY: usize = 2_000;
const MAX_FIELD_NAME: usize = 255;
const MAX_FIELD_VALUE: usize = 2_048;

/// A profile change: each `Some` replaces the value (`Some(None)` clears it).
#[derive(Clone, Debug, Default)]
pub struct ProfileInput {
    pub display_name: Option<String>,
    pub summary: Option<String>,
    pub bot: Option<bool>,
    pub fields: Option<Vec<ProfileField>>,
    pub default_language: Option<Option<String>>,
    pub policy: Option<InteractionPolicy>,
    pub avatar: Option<Option<MediaId>>,
    pub header: Option<Option<MediaId>>,
    /// Follow requests wait for the owner's approval.
    pub manually_approves: Option<bool>,
    /// Posts carry their author's name as a signature line.
    pub sign_posts: Option<bool>,
    /// The channel's other accounts (actor ids), replacing the current list.
    pub also_known_as: Option<Vec<String>>,
}

fn too_long(code: &'static str, what: &str, max: usize) -> PostError {
    PostError::invalid(code, format!("{what} is limited to {max} characters"))
}

impl ProfileInput {
    /// Whether the change shows in the actor document (signing posts does not: it shows
    /// in the posts to come).
    fn federates(&self) -> bool {
        let ProfileInput {
            display_name,
            summary,
            bot,
            fields,
            default_language,
            policy,
            avatar,
            header,
            manually_approves,
            sign_posts: _,
            also_known_as,
        } = self;
        display_name.is_some()
            || summary.is_some()
            || bot.is_some()
            || fields.is_some()
            || default_language.is_some()
            || policy.is_some()
            || avatar.is_some()
            || header.is_some()
            || manually_approves.is_some()
            || also_known_as.is_some()
    }

    fn validate(&self) -> Result<(), PostError> {
        if self
            .display_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME)
        {
            return Err(too_long(
                "display_name_too_long",
                "`display_name`",
                MAX_DISPLAY_NAME,
            ));
        }
        if self
            .summary
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SUMMARY)
        {
            return Err(too_long("summary_too_long", "`summary`", MAX_SUMMARY));
        }
        if let Some(fields) = &self.fields {
            if fields.len() > MAX_FIELDS {
                return Err(PostError::invalid(
                    "too_many_fields",
                    format!("a profile has at most {MAX_FIELDS} fields"),
                ));
            }
            for field in fields {
                if field.name.trim().is_empty() {
                    return Err(PostError::invalid("field_invalid", "a field needs a name"));
                }
                if field.name.chars().count() > MAX_FIELD_NAME {
                    return Err(too_long("field_invalid", "a field's name", MAX_FIELD_NAME));
                }
                if field.value.chars().count() > MAX_FIELD_VALUE {
                    return Err(too_long(
                        "field_invalid",
                        "a field's value",
                        MAX_FIELD_VALUE,
                    ));
                }
            }
        }
        if let Some(Some(lang)) = &self.default_language {
            if !valid_language(lang) {
                return Err(PostError::invalid(
                    "language_invalid",
                    format!("`{lang}` is not a language tag such as en or pt-BR"),
                ));
            }
        }
        Ok(())
    }
}

/// Changes a channel's profile and sends its followers an `Update` of the actor.
pub async fn update_profile(
    data: &Data<HeraldState>,
    channel: &Channel,
    by: &db::Actor,
    input: ProfileInput,
) -> Result<Channel, PostError> {
    input.validate()?;
    let federates = input.federates();
    for image in [input.avatar, input.header].into_iter().flatten().flatten() {
        match db::media_by_id(&data.db, channel.id, image).await {
            Ok(_) => {}
            Err(db::DbError::NotFound) => {
                return Err(PostError::invalid(
                    "media_invalid",
                    format!("no uploaded media {image} in this channel"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let changes = ProfileChanges {
        display_name: input.display_name.map(|n| n.trim().to_string()),
        summary: input.summary,
        bot: input.bot,
        fields: input.fields,
        default_language: input.default_language,
        policy: input.policy,
        avatar: input.avatar,
        header: input.header,
        manually_approves: input.manually_approves,
        sign_posts: input.sign_posts,
        also_known_as: input.also_known_as,
        moved_to: None,
    };
    let channel = db::update_profile(&data.db, channel.id, changes).await?;
    crate::people::audit(
        &data.db,
        &channel,
        by,
        db::AuditAction::ProfileChanged,
        "profile",
    )
    .await;
    if !federates {
        return Ok(channel);
    }
    announce_profile(data, &channel).await?;
    Ok(channel)
}

/// Tells every follower's server that `channel` is going: a `Delete` of its actor, fanned
/// out through the queue like any activity. Returns the activity's id, whose deliveries
/// the caller may wait for before removing the channel (the workers need its key).
pub async fn announce_deletion(
    data: &HeraldState,
    channel: &Channel,
) -> Result<uuid::Uuid, PostError> {
    let (id, delete) =
        crate::federation::activities::lifecycle::build_delete_actor(&data.urls, channel);
    fan_out(data, channel, id, ActivityKind::Delete, &delete).await?;
    Ok(id)
}

/// Moves `channel` to `target`, another server's account that lists the channel in its
/// `alsoKnownAs` (else receivers would refuse the move): `movedTo` is set, and followers
/// get the actor's `Update` and a `Move`, so their servers follow the new account.
pub async fn move_channel(
    data: &HeraldState,
    channel: &Channel,
    by: &db::Actor,
    target: &db::RemoteActor,
) -> Result<Channel, PostError> {
    let ours = data.urls.channel(&channel.name).to_string();
    if !target.also_known_as.iter().any(|a| a == &ours) {
        return Err(PostError::invalid(
            "move_not_aliased",
            format!(
                "{} does not list {ours} in its alsoKnownAs: add this channel as an alias (\"moving from\") on the new account first",
                target.uri
            ),
        ));
    }
    let changes = ProfileChanges {
        moved_to: Some(Some(target.uri.to_string())),
        ..ProfileChanges::default()
    };
    let channel = db::update_profile(&data.db, channel.id, changes).await?;
    crate::people::audit(
        &data.db,
        &channel,
        by,
        db::AuditAction::ProfileChanged,
        "moved",
    )
    .await;
    announce_profile(data, &channel).await?;
    let (move_id, moving) =
        crate::federation::activities::lifecycle::build_move(&data.urls, &channel, &target.uri);
    fan_out(data, &channel, move_id, ActivityKind::Move, &moving).await?;
    Ok(channel)
}

/// Sends followers the actor's `Update`, as `channel` now is.
async fn announce_profile(data: &HeraldState, channel: &Channel) -> Result<(), PostError> {
    let images = crate::db::ChannelImages::load(&data.db, channel).await?;
    let actor = ApubChannel::new(channel.clone(), &data.urls).to_actor(&data.urls, &images);
    let (id, update) = build_update_actor(&data.urls, channel, &actor);
    fan_out(data, channel, id, ActivityKind::Update, &update).await
}

/// Stores `activity` of `channel` with its fan-out to the followers, and queues it (if
/// Redis is away, the sweep queues it later).
async fn fan_out<T: serde::Serialize>(
    data: &HeraldState,
    channel: &Channel,
    id: uuid::Uuid,
    kind: ActivityKind,
    activity: &T,
) -> Result<(), PostError> {
    let fanout = db::store_broadcast(
        &data.db,
        Broadcast {
            activity: NewActivity {
                id,
                channel_id: channel.id,
                kind,
                post_id: None,
                payload: serde_json::to_string(activity)?,
            },
            extra_inboxes: Vec::new(),
            held: false,
        },
    )
    .await?;
    if let Err(err) = data.queue.enqueue_fanout(fanout).await {
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue a fan-out");
    }
    Ok(())
}
