//! `herald channel …`.

use super::{open_db, CliError};
use crate::{
    config::Config,
    db::{self, ChannelName, DbError, NewChannel},
    delivery::signing,
    federation::Urls,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
    /// Create a channel: NAME becomes the handle @NAME@DOMAIN.
    ///
    /// NAME has 1 to 30 lower-case letters, digits or underscores. A signing key is generated.
    Create {
        name: String,
        /// The name shown to followers (defaults to NAME).
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
        /// The channel's description, in Markdown.
        #[arg(long, value_name = "TEXT")]
        summary: Option<String>,
        /// Mark the channel as automated (Mastodon shows an "Automated" badge).
        #[arg(long)]
        bot: bool,
    },
    /// List every channel.
    List,
    /// Show a channel: handle, addresses, followers and posts.
    Show { name: String },
    /// Delete a channel with its posts, followers and tokens. This cannot be undone.
    ///
    /// First every follower's server is sent a `Delete` of the actor (so their users see
    /// the account go), through the queue: a running `herald serve` or `herald worker`
    /// delivers it, and the command waits for the first attempts (a minute at most).
    Delete {
        name: String,
        /// Remove at once, without telling the followers' servers.
        #[arg(long)]
        now: bool,
    },
    /// Give the person EMAIL a role in channel NAME (or change their role).
    ///
    /// owner: everything, including people, profile, followers and tokens; editor: post,
    /// edit, delete, pin and schedule; viewer: read delivery status, replies and reports.
    Grant {
        name: String,
        email: String,
        #[arg(long, value_parser = ["owner", "editor", "viewer"])]
        role: String,
    },
    /// List, add or remove the channel's other accounts (`alsoKnownAs`): a Move from one
    /// of them into this channel is then accepted by followers' servers.
    ///
    /// TARGET is `@user@domain` or an actor URL; followers get the actor's Update.
    Alias {
        name: String,
        #[arg(long, value_name = "TARGET")]
        add: Option<String>,
        /// An actor id, as listed.
        #[arg(long, value_name = "ACTOR")]
        remove: Option<String>,
    },
    /// Move channel NAME to another account, which must list the channel in its
    /// `alsoKnownAs` ("moving from" in Mastodon): followers get a Move, and their servers
    /// follow the new account; the channel shows `movedTo`.
    Move {
        name: String,
        #[arg(long, value_name = "TARGET")]
        to: String,
    },
    /// Take the person EMAIL's role in channel NAME away.
    Revoke { name: String, email: String },
    /// List the people of channel NAME with their roles.
    People { name: String },
}

pub async fn run(config: Config, command: ChannelCommand) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    let urls = Urls::new(&config).map_err(|e| CliError::msg(format!("domain: {e}")))?;
    let handle = |name: &ChannelName| format!("@{name}@{}", urls.authority());
    match command {
        ChannelCommand::Create {
            name,
            display_name,
            summary,
            bot,
        } => {
            let name = ChannelName::parse(&name).map_err(CliError::msg)?;
            let (public_key_pem, private_key_pem) = signing::generate_keypair()
                .map_err(|e| CliError::msg(format!("cannot generate a key: {e}")))?;
            let channel = db::create_channel(
                &db,
                NewChannel {
                    display_name: display_name.unwrap_or_default(),
                    summary: summary.unwrap_or_default(),
                    bot,
                    public_key_pem,
                    private_key_pem,
                    name,
                },
            )
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => CliError::msg("a channel with this name already exists"),
                other => CliError::msg(crate::error_chain(&other)),
            })?;
            println!("created {}", handle(&channel.name));
            println!("actor: {}", urls.channel(&channel.name));
        }
        ChannelCommand::List => {
            for channel in db::list_channels(&db)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?
            {
                println!("{}\t{}", channel.name, handle(&channel.name));
            }
        }
        ChannelCommand::Show { name } => {
            let channel = find(&db, &name).await?;
            let followers = db::count_followers(&db, channel.id)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            let posts = db::count_posts(&db, Some(channel.id))
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            println!("name:         {}", channel.name);
            println!("handle:       {}", handle(&channel.name));
            println!("display name: {}", channel.display_name);
            println!("automated:    {}", if channel.bot { "yes" } else { "no" });
            println!("actor:        {}", urls.channel(&channel.name));
            println!("page:         {}", urls.profile_page(&channel.name));
            println!("followers:    {followers}");
            println!("posts:        {posts}");
            println!("created:      {}", channel.created_at.to_rfc3339());
        }
        ChannelCommand::Delete { name, now } => {
            let channel = find(&db, &name).await?;
            if !now {
                tell_followers(&config, &channel).await?;
            }
            let files = db::media_files_of_channel(&db, channel.id)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            db::delete_channel(&db, channel.id)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            // Its uploads go with it, once the rows are gone (a file left behind by a
            // failure here is harmless: nothing refers to it).
            let media_dir = &config.posts.media_dir;
            let mut kept = 0;
            for file in &files {
                match std::fs::remove_file(media_dir.join(file)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        kept += 1;
                        eprintln!(
                            "warning: cannot remove {}: {e}",
                            media_dir.join(file).display()
                        );
                    }
                }
            }
            println!(
                "deleted {} and {} media file(s)",
                handle(&channel.name),
                files.len() - kept
            );
        }
        ChannelCommand::Grant { name, email, role } => {
            super::user::grant(&db, &name, &email, &role).await?
        }
        ChannelCommand::Revoke { name, email } => super::user::revoke(&db, &name, &email).await?,
        ChannelCommand::People { name } => super::user::list_people(&db, &name).await?,
        ChannelCommand::Alias { name, add, remove } => {
            super::moving::alias(&config, &name, add, remove).await?
        }
        ChannelCommand::Move { name, to } => super::moving::move_to(&config, &name, &to).await?,
    }
    Ok(())
}

/// How long `channel delete` waits for the workers to send the actor's `Delete`.
const DELETE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Sends followers' servers the `Delete` of `channel`'s actor and waits until every one
/// has had its first attempt (or `DELETE_WAIT` passed), saying how it went.
async fn tell_followers(config: &Config, channel: &db::Channel) -> Result<(), CliError> {
    let fail = |e: &(dyn std::error::Error + 'static)| CliError::msg(crate::error_chain(e));
    let herald = crate::app::Herald::start(config.clone()).await?;
    let data = herald.federation.to_request_data();
    if db::count_followers(&data.db, channel.id)
        .await
        .map_err(|e| fail(&e))?
        == 0
    {
        return Ok(());
    }
    let activity = crate::posts::announce_deletion(&data, channel)
        .await
        .map_err(|e| fail(&e))?;
    let started = std::time::Instant::now();
    let counts = loop {
        let done = matches!(
            db::fanout_for_activity(&data.db, activity).await,
            Ok(fanout) if fanout.state == db::FanoutState::Done
        );
        let counts = db::delivery_counts(&data.db, Some(activity))
            .await
            .map_err(|e| fail(&e))?;
        let waiting = counts.get("pending").copied().unwrap_or(0);
        if done && waiting == 0 {
            break Some(counts);
        }
        if started.elapsed() > DELETE_WAIT {
            break None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    match counts {
        Some(counts) => {
            let get = |k: &str| counts.get(k).copied().unwrap_or(0);
            println!(
                "told the followers' servers: {} delivered, {} retrying, {} failed",
                get("delivered"),
                get("retrying"),
                get("failed") + get("parked")
            );
        }
        None => eprintln!(
            "warning: the Delete was not sent within {} s (is `herald serve` or `herald worker` running?); removing the channel anyway",
            DELETE_WAIT.as_secs()
        ),
    }
    Ok(())
}

/// A channel by name, or a clear error.
pub(super) async fn find(db: &db::DatabaseConnection, name: &str) -> Result<db::Channel, CliError> {
    let parsed = ChannelName::parse(name).map_err(CliError::msg)?;
    db::channel_by_name(db, parsed.as_str())
        .await
        .map_err(|e| match e {
            DbError::NotFound => CliError::msg(format!(
                "no channel named `{name}` (see `herald channel list`)"
            )),
            other => CliError::msg(crate::error_chain(&other)),
        })
}
