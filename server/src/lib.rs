//! Herald: a federated channel broadcast server.
//!
//! A channel is a one-way announcement feed. Its owner posts through the HTTP API (`api`);
//! followers on Mastodon and other ActivityPub servers follow it (`federation`); every post
//! fans out to their servers through a Redis queue (`delivery`). `db` owns storage,
//! `content` turns Markdown into the HTML that federates, `web` serves the public pages,
//! `config` loads settings, `app` wires it all together and `cli` is the `herald` command.
//! See DESIGN.md for the map.

pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod delivery;
pub mod doctor;
pub mod federation;
pub mod http;
pub mod limits;
pub mod media;
pub mod metrics;
pub mod moderation;
pub mod ops;
pub mod portable;
pub mod posts;
pub mod state;
pub mod web;

/// An error with its chain of causes on one line (`a: b: c`), for logs and the CLI.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
