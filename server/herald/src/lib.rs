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
pub mod console;
pub mod doctor;
mod form;
pub mod mastodon;
pub mod ops;
pub mod web;
pub mod websub;

pub use herald_base::{config, error_chain, guard, http, metrics, secrets};
pub use herald_content as content;
pub use herald_db as db;
pub use herald_delivery as delivery;
pub use herald_federation as federation;
pub use herald_federation::state;
pub use herald_service::{media, moderation, people, portable, posts, sources};
