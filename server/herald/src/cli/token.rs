//! `herald token …`.

use super::{channel::find, open_db, CliError};
use crate::{
    api::{Scope, TokenKeys},
    config::Config,
    db::{self, Actor, AuditAction, DbError},
};
use chrono::{Duration, Utc};
use clap::Subcommand;
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Issue an API token for channel NAME and print it (alone) on stdout.
    ///
    /// Send it as `Authorization: Bearer TOKEN`. Keep it secret: it can post as the channel.
    Issue {
        name: String,
        /// What the token may do; repeat for several. Default: all of them.
        #[arg(long = "scope", value_name = "SCOPE", value_parser = ["posts:read", "posts:write", "profile:write"])]
        scopes: Vec<String>,
        /// Expire after this long: a number and a unit, s m h d or w (90d, 12h). Default: never.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<Duration>,
        /// A person's token: it acts as EMAIL and can do no more than their role in the
        /// channel allows, now and later. Default: a channel token (for bots and scripts).
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// What the token is for, shown in the token list ("CI deploy bot").
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
    },
    /// List the tokens of channel NAME (ids, scopes, dates; never the tokens themselves).
    List { name: String },
    /// Revoke a token by its id (from `herald token list`); it stops working at once.
    Revoke { id: String },
}

/// Parses `90d`, `12h`, `30m`, `45s`, `2w`.
fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration such as 90d or 12h"))?;
    if n <= 0 {
        return Err("the duration must be positive".into());
    }
    let duration = match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => return Err(format!("unknown unit `{unit}`: use s, m, h, d or w")),
    };
    duration.ok_or_else(|| format!("`{raw}` is too long"))
}

pub async fn run(config: Config, command: TokenCommand) -> Result<(), CliError> {
    let db = open_db(&config).await?;
    match command {
        TokenCommand::Issue {
            name,
            scopes,
            expires_in,
            user,
            label,
        } => {
            let channel = find(&db, &name).await?;
            let scopes: Vec<Scope> = if scopes.is_empty() {
                Scope::ALL.to_vec()
            } else {
                scopes.iter().filter_map(|s| Scope::parse(s)).collect()
            };
            let person = match user {
                Some(email) => {
                    let person = super::user::person(&db, &email).await?;
                    if !person.is_active() {
                        return Err(CliError::msg(format!(
                            "{email} is disabled: `herald user enable {email}` first"
                        )));
                    }
                    let Some(role) = db::role_of(&db, channel.id, person.id)
                        .await
                        .map_err(|e| CliError::msg(crate::error_chain(&e)))?
                    else {
                        return Err(CliError::msg(format!(
                            "{email} has no role in {name}: `herald channel grant {name} {email} --role …` first"
                        )));
                    };
                    let beyond: Vec<&str> = scopes
                        .iter()
                        .filter(|s| !role.includes(s.needed_role()))
                        .map(|s| s.as_str())
                        .collect();
                    if !beyond.is_empty() {
                        eprintln!(
                            "note: {email} is {role} of {name}: the token can use {} only while that is so",
                            scopes
                                .iter()
                                .filter(|s| role.includes(s.needed_role()))
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        );
                    }
                    Some(person)
                }
                None => None,
            };
            let keys = TokenKeys::load(&config)
                .map_err(|e| CliError::msg(format!("cannot read the token secret: {e}")))?;
            let expires_at = expires_in.map(|d| Utc::now() + d);
            let (token, record) = keys
                .issue(&db, &channel, &scopes, expires_at, person.as_ref(), label)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            crate::people::audit(
                &db,
                &channel,
                &Actor::CommandLine,
                AuditAction::TokenIssued,
                &record.id.to_string(),
            )
            .await;
            println!("{token}");
        }
        TokenCommand::List { name } => {
            let channel = find(&db, &name).await?;
            let tokens = db::list_tokens(&db, channel.id)
                .await
                .map_err(|e| CliError::msg(crate::error_chain(&e)))?;
            println!("ID\tSCOPES\tCREATED\tEXPIRES\tREVOKED\tUSER\tLABEL");
            for t in tokens {
                let date = |d: Option<chrono::DateTime<Utc>>| {
                    d.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into())
                };
                let user = match t.user_id {
                    Some(id) => db::user_by_id(&db, id)
                        .await
                        .map(|u| u.email)
                        .unwrap_or_else(|_| "(deleted)".into()),
                    None => "-".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{user}\t{}",
                    t.id,
                    t.scopes.join(","),
                    t.created_at.to_rfc3339(),
                    date(t.expires_at),
                    date(t.revoked_at),
                    t.label.as_deref().unwrap_or("-")
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let id = Uuid::parse_str(&id).map_err(|_| {
                CliError::msg(format!(
                    "`{id}` is not a token id (see `herald token list NAME`)"
                ))
            })?;
            let record = db::revoke_token(&db, id).await.map_err(|e| match e {
                DbError::NotFound => CliError::msg("no token with this id"),
                other => CliError::msg(crate::error_chain(&other)),
            })?;
            if let Ok(channel) = db::channel_by_id(&db, record.channel_id).await {
                crate::people::audit(
                    &db,
                    &channel,
                    &Actor::CommandLine,
                    AuditAction::TokenRevoked,
                    &id.to_string(),
                )
                .await;
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_duration("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_duration("2w"), Ok(Duration::weeks(2)));
        assert!(parse_duration("0d").is_err());
        assert!(parse_duration("ten days").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
