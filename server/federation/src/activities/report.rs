//! `Flag`: a report, usually sent by a server's instance actor, about a channel or its
//! posts. Stored for the owner and the operator to read.

use super::{local_channel, local_post};
use crate::{
    db::{self, NewReport, RemoteActor},
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{ids_of, Envelope},
    },
};
use activitypub_federation::config::Data;
use serde_json::Value;

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let objects = ids_of(&activity.object);
    let mut channel_id = None;
    for object in &objects {
        if let Some(channel) = local_channel(data, object).await? {
            channel_id = Some(channel.id);
            break;
        }
        if let Some(post) = local_post(data, object).await? {
            channel_id = Some(post.channel_id);
            break;
        }
    }
    let content: String = activity
        .json
        .get("content")
        .and_then(Value::as_str)
        .map(|c| c.chars().take(5000).collect())
        .unwrap_or_default();
    let objects: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
    db::add_report(
        &data.db,
        NewReport {
            activity_uri: activity.id.to_string(),
            channel_id,
            authority: sender.authority.clone(),
            content: content.clone(),
            objects: objects.clone(),
        },
    )
    .await?;
    if let Some(channel) = channel_id {
        // A report names its server, not the reporter (servers send it as themselves).
        let event = serde_json::json!({ "server": sender.authority, "comment": content, "objects": objects });
        super::tell(data, channel, db::EventKind::Report, event).await;
    }
    tracing::info!(server = %sender.authority, "a report was received");
    Ok(())
}
