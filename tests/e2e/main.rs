//! Herald's end-to-end tests: one binary, real HTTP on loopback, a real redis-server per
//! instance, SQLite in a temporary directory (and PostgreSQL when
//! `HERALD_TEST_DATABASE_URL` names a server), and fake remote ActivityPub servers built on
//! activitypub_federation that verify Herald's signatures.

mod harness;

mod api_errors;
mod cli;
mod federation_flow;
mod fixtures;
mod inbox_errors;
mod migrations;
mod production_mode;
