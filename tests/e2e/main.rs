//! Herald's end-to-end tests: one binary, real HTTP on loopback, a real redis-server per
//! instance, SQLite in a temporary directory (and PostgreSQL when
//! `HERALD_TEST_DATABASE_URL` names a server), and fake remote ActivityPub servers built on
//! activitypub_federation that verify Herald's signatures.

// Test code panics on purpose: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod api_errors;
mod browser;
mod client_api;
mod console;
mod console_sessions;
mod crash;
mod delivery_outcomes;
mod deploy_files;
mod doctor;
mod documents;
mod federation_flow;
mod feeds;
mod fixtures;
mod forged;
mod inbound;
mod inbox_errors;
mod inbox_fixtures;
mod layers;
mod mastodon_shape;
mod media;
mod migrations;
mod moderation;
mod ops;
mod pages;
mod portability;
mod post_lifecycle;
mod processes;
mod production_mode;
mod query_plans;
mod quotes;
mod sources;
mod startup;
mod team;
mod webhooks;
