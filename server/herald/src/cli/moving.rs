//! `herald channel alias` and `herald channel move`: a channel's other accounts, and its
//! move to another server.

use super::{channel::find, CliError};
use crate::{
    config::Config,
    db::{self, Actor, RemoteActor},
    federation::objects::ApubRemoteActor,
    posts::{self, PostError, ProfileInput},
    state::HeraldState,
};
use activitypub_federation::{
    config::Data, fetch::object_id::ObjectId, fetch::webfinger::webfinger_resolve_actor,
};

fn failed(e: impl std::error::Error + 'static) -> CliError {
    CliError::msg(crate::error_chain(&e))
}

/// The account `target` names (`@user@domain`, `user@domain` or an actor URL), fetched
/// afresh from its server.
async fn resolve(data: &Data<HeraldState>, target: &str) -> Result<RemoteActor, CliError> {
    let target = target.trim();
    let found = if target.starts_with("http://") || target.starts_with("https://") {
        let url = url::Url::parse(target)
            .map_err(|e| CliError::msg(format!("`{target}` is not a URL: {e}")))?;
        ObjectId::<ApubRemoteActor>::from(url)
            .dereference_forced(data)
            .await
    } else {
        webfinger_resolve_actor::<HeraldState, ApubRemoteActor>(
            target.trim_start_matches('@'),
            data,
        )
        .await
    };
    found
        .map(|actor| actor.0)
        .map_err(|e| CliError::msg(format!("cannot find the account {target}: {e}")))
}

fn post_failed(e: PostError) -> CliError {
    match e {
        PostError::Invalid { message, .. } => CliError::msg(message),
        other => failed(other),
    }
}

/// `herald channel alias NAME [--add TARGET] [--remove TARGET]`: lists the aliases after
/// the change; followers get the actor's Update when there is one.
pub async fn alias(
    config: &Config,
    name: &str,
    add: Option<String>,
    remove: Option<String>,
) -> Result<(), CliError> {
    let herald = crate::app::Herald::start(config.clone()).await?;
    let data = herald.federation.to_request_data();
    let channel = find(&data.db, name).await?;
    let mut aliases = channel.also_known_as.clone();
    if let Some(target) = &add {
        let actor = resolve(&data, target).await?;
        let id = actor.uri.to_string();
        if !aliases.contains(&id) {
            aliases.push(id);
        }
    }
    if let Some(target) = &remove {
        let before = aliases.len();
        aliases.retain(|a| a != target.trim());
        if aliases.len() == before {
            return Err(CliError::msg(format!(
                "`{target}` is not an alias of {name} (give the actor id `herald channel alias {name}` lists)"
            )));
        }
    }
    let channel = if add.is_some() || remove.is_some() {
        let input = ProfileInput {
            also_known_as: Some(aliases),
            ..ProfileInput::default()
        };
        posts::update_profile(&data, &channel, &Actor::CommandLine, input)
            .await
            .map_err(post_failed)?
    } else {
        channel
    };
    if channel.also_known_as.is_empty() {
        println!("{name} has no aliases");
    }
    for alias in &channel.also_known_as {
        println!("{alias}");
    }
    Ok(())
}

/// `herald channel move NAME --to TARGET`.
pub async fn move_to(config: &Config, name: &str, target: &str) -> Result<(), CliError> {
    let herald = crate::app::Herald::start(config.clone()).await?;
    let data = herald.federation.to_request_data();
    let channel = find(&data.db, name).await?;
    let actor = resolve(&data, target).await?;
    let channel = posts::move_channel(&data, &channel, &Actor::CommandLine, &actor)
        .await
        .map_err(post_failed)?;
    let followers = db::count_followers(&data.db, channel.id)
        .await
        .map_err(failed)?;
    println!(
        "{name} moved to {}: the Move goes to the servers of its {followers} follower(s)",
        actor.uri
    );
    Ok(())
}
