//! `QuoteRequest` (FEP-044f, as Mastodon 4.5 sends it): another server asks whether one of
//! its posts (the `instrument`) may quote a channel post (the `object`). The post's quote
//! policy answers: anyone may → `Accept` whose `result` is a `QuoteAuthorization` the
//! channel serves at its id (the quoting server shows it as proof); nobody but the
//! channel → `Reject`. Either answer goes to the asking actor's inbox through the queue.

use super::local_post;
use crate::{
    db::{self, ActivityKind, Audience, NewActivity, RemoteActor},
    protocol::context::object_context,
    state::HeraldState,
    {
        error::FederationError,
        inbox::envelope::{id_of, Envelope},
    },
};
use activitypub_federation::config::Data;
use serde_json::{json, Value};
use uuid::Uuid;

/// The JSON-LD terms of a quote authorization.
fn quote_context() -> Value {
    let mut context = object_context();
    if let Some(terms) = context.get_mut(1).and_then(Value::as_object_mut) {
        terms.insert(
            "QuoteRequest".into(),
            json!("https://w3id.org/fep/044f#QuoteRequest"),
        );
        terms.insert(
            "QuoteAuthorization".into(),
            json!("https://w3id.org/fep/044f#QuoteAuthorization"),
        );
        terms.insert(
            "interactingObject".into(),
            json!({ "@id": "gts:interactingObject", "@type": "@id" }),
        );
        terms.insert(
            "interactionTarget".into(),
            json!({ "@id": "gts:interactionTarget", "@type": "@id" }),
        );
    }
    context
}

pub async fn receive(
    data: &Data<HeraldState>,
    activity: &Envelope,
    sender: &RemoteActor,
) -> Result<(), FederationError> {
    let Some(object) = activity.object_id() else {
        return Ok(());
    };
    let Some(post) = local_post(data, &object).await? else {
        // Not one of our posts: not ours to answer.
        return Ok(());
    };
    let quoting = activity
        .json
        .get("instrument")
        .and_then(id_of)
        .ok_or_else(|| {
            FederationError::ActivityInvalid(
                "a QuoteRequest names its quoting post in `instrument`".into(),
            )
        })?;
    if quoting.host_str() != sender.uri.host_str() {
        return Err(FederationError::Refused(
            "the quoting post must be the sender's own".into(),
        ));
    }
    let channel = db::channel_by_id(&data.db, post.channel_id).await?;
    let policy = post.policy.unwrap_or(channel.policy);
    let channel_id = data.urls.channel(&channel.name);
    let answer_id = Uuid::now_v7();
    let (kind, answer) = match policy.quote {
        Audience::Everyone => {
            let stamp_id = Uuid::now_v7();
            let stamp = json!({
                "@context": quote_context(),
                "type": "QuoteAuthorization",
                "id": data.urls.quote_authorization(stamp_id),
                "attributedTo": channel_id,
                "interactingObject": quoting,
                "interactionTarget": data.urls.post(post.id),
            });
            db::insert_activity(
                &data.db,
                NewActivity {
                    id: stamp_id,
                    channel_id: channel.id,
                    kind: ActivityKind::QuoteAuthorization,
                    post_id: Some(post.id),
                    payload: stamp.to_string(),
                },
            )
            .await?;
            // The quote's readers get the post's edits and deletion too.
            db::add_reach(&data.db, post.id, sender.delivery_inbox().as_str()).await?;
            let accept = json!({
                "@context": quote_context(),
                "type": "Accept",
                "id": data.urls.activity(answer_id),
                "actor": channel_id,
                "to": sender.uri,
                "object": activity.id,
                "result": data.urls.quote_authorization(stamp_id),
            });
            (ActivityKind::Accept, accept)
        }
        Audience::Nobody => {
            let reject = json!({
                "@context": quote_context(),
                "type": "Reject",
                "id": data.urls.activity(answer_id),
                "actor": channel_id,
                "to": sender.uri,
                "object": activity.id,
            });
            (ActivityKind::Reject, reject)
        }
    };
    tracing::info!(server = %sender.authority, answer = kind.as_str(), "a quote request was answered");
    let delivery = db::insert_activity_for_inbox(
        &data.db,
        NewActivity {
            id: answer_id,
            channel_id: channel.id,
            kind,
            post_id: None,
            payload: answer.to_string(),
        },
        &sender.inbox,
    )
    .await?;
    if let Err(err) = data.queue.enqueue_delivery(delivery, 0).await {
        tracing::warn!(error = %crate::error_chain(&err), "could not enqueue the answer to a quote request");
    }
    Ok(())
}
