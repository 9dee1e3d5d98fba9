//! `herald user …` and the people of a channel (`herald channel grant|revoke|people`).

use super::{channel::find, open_db, CliError};
use crate::{
    config::Config,
    db::{self, Actor, DbError, Role, User},
    people::{self, PeopleError},
};
use clap::Subcommand;
use std::io::Read;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a person who can sign in to the console at /console.
    ///
    /// Prints a one-time sign-in link at which they choose a password (valid for
    /// `console.link_hours`), unless --password-stdin sets one now. Give them a role in a
    /// channel with `herald channel grant`.
    Create {
        /// Their email address: the name they sign in with (Herald sends no mail).
        email: String,
        /// The name the team sees, and that signs their posts where a channel signs posts
        /// (default: the email's part before the @).
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Read the password from standard input instead of printing a sign-in link.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every person, with their channels and roles.
    List,
    /// Print a new one-time sign-in link for EMAIL (to set a forgotten password).
    Link { email: String },
    /// Disable EMAIL: their sessions end and their tokens stop at once.
    Disable { email: String },
    /// Enable EMAIL again.
    Enable { email: String },
    /// Delete EMAIL with their roles and sessions; their tokens are revoked.
    Delete { email: String },
    /// End every console session of EMAIL.
    SignOutEverywhere { email: String },
}

fn failed(e: impl std::error::Error + 'static) -> CliError {
    CliError::msg(crate::error_chain(&e))
}

fn people_failed(e: PeopleError) -> CliError {
    match e {
        PeopleError::Invalid(message) => CliError::msg(message),
        other => failed(other),
    }
}

/// A person by email, or a clear error.
pub(super) async fn person(db: &db::DatabaseConnection, email: &str) -> Result<User, CliError> {
    db::user_by_email(db, email).await.map_err(|e| match e {
        DbError::NotFound => CliError::msg(format!(
            "no person with the email `{email}` (see `herald user list`)"
        )),
        other => failed(other),
    })
}

pub async fn run(config: Config, command: UserCommand) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    match command {
        UserCommand::Create {
            email,
            name,
            password_stdin,
        } => {
            let name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let password = if password_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| CliError::msg(format!("cannot read the password: {e}")))?;
                Some(text.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let user = people::create_user(&db, &email, &name, password.as_deref())
                .await
                .map_err(|e| match e {
                    PeopleError::Taken => {
                        CliError::msg(format!("`{email}` already has an account"))
                    }
                    other => people_failed(other),
                })?;
            if password.is_some() {
                println!("created {} ({})", user.email, user.display_name);
            } else {
                let link = people::sign_in_link(&db, &config, &user)
                    .await
                    .map_err(people_failed)?;
                eprintln!(
                    "created {}; send them this one-time link to choose a password:",
                    user.email
                );
                println!("{link}");
            }
        }
        UserCommand::List => {
            println!("EMAIL\tNAME\tSTATE\tCHANNELS");
            for user in db::list_users(&db).await.map_err(failed)? {
                let channels = db::channels_of(&db, user.id).await.map_err(failed)?;
                let channels: Vec<String> = channels
                    .iter()
                    .map(|(c, role)| format!("{}:{role}", c.name))
                    .collect();
                let state = match (&user.disabled_at, &user.password_hash) {
                    (Some(_), _) => "disabled",
                    (None, None) => "invited",
                    (None, Some(_)) => "active",
                };
                println!(
                    "{}\t{}\t{state}\t{}",
                    user.email,
                    user.display_name,
                    if channels.is_empty() {
                        "-".to_string()
                    } else {
                        channels.join(",")
                    }
                );
            }
        }
        UserCommand::Link { email } => {
            let user = person(&db, &email).await?;
            if !user.is_active() {
                return Err(CliError::msg(format!(
                    "{email} is disabled: `herald user enable {email}` first"
                )));
            }
            let link = people::sign_in_link(&db, &config, &user)
                .await
                .map_err(people_failed)?;
            println!("{link}");
        }
        UserCommand::Disable { email } => {
            let user = person(&db, &email).await?;
            db::set_disabled(&db, user.id, true).await.map_err(failed)?;
            println!(
                "disabled {}: their sessions ended and their tokens stopped",
                user.email
            );
        }
        UserCommand::Enable { email } => {
            let user = person(&db, &email).await?;
            db::set_disabled(&db, user.id, false)
                .await
                .map_err(failed)?;
            println!("enabled {}", user.email);
        }
        UserCommand::Delete { email } => {
            let user = person(&db, &email).await?;
            for (channel, role) in db::channels_of(&db, user.id).await.map_err(failed)? {
                if role == Role::Owner
                    && db::owner_count(&db, channel.id).await.map_err(failed)? <= 1
                {
                    return Err(CliError::msg(format!(
                        "{} is the last owner of {}: make someone else owner first (herald channel grant {} EMAIL --role owner)",
                        user.email, channel.name, channel.name
                    )));
                }
            }
            db::delete_user(&db, user.id).await.map_err(failed)?;
            println!("deleted {}", user.email);
        }
        UserCommand::SignOutEverywhere { email } => {
            let user = person(&db, &email).await?;
            let ended = db::delete_sessions_of(&db, user.id).await.map_err(failed)?;
            println!("ended {ended} session(s) of {}", user.email);
        }
    }
    Ok(())
}

/// `herald channel grant NAME EMAIL --role ROLE`.
pub async fn grant(
    db: &db::DatabaseConnection,
    name: &str,
    email: &str,
    role: &str,
) -> Result<(), CliError> {
    let role = Role::parse(role)
        .ok_or_else(|| CliError::msg(format!("`{role}` is not a role: owner, editor or viewer")))?;
    let channel = find(db, name).await?;
    let user = person(db, email).await?;
    people::grant(db, &Actor::CommandLine, &channel, &user, role)
        .await
        .map_err(people_failed)?;
    println!("{} is now {role} of {}", user.email, channel.name);
    Ok(())
}

/// `herald channel revoke NAME EMAIL`.
pub async fn revoke(db: &db::DatabaseConnection, name: &str, email: &str) -> Result<(), CliError> {
    let channel = find(db, name).await?;
    let user = person(db, email).await?;
    people::revoke(db, &Actor::CommandLine, &channel, &user)
        .await
        .map_err(|e| match e {
            PeopleError::NotFound => {
                CliError::msg(format!("{} has no role in {}", user.email, channel.name))
            }
            other => people_failed(other),
        })?;
    println!("{} no longer has a role in {}", user.email, channel.name);
    Ok(())
}

/// `herald channel people NAME`.
pub async fn list_people(db: &db::DatabaseConnection, name: &str) -> Result<(), CliError> {
    let channel = find(db, name).await?;
    println!("EMAIL\tNAME\tROLE");
    for (user, role) in db::members(db, channel.id).await.map_err(failed)? {
        println!("{}\t{}\t{role}", user.email, user.display_name);
    }
    Ok(())
}
