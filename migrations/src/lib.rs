//! Herald's database schema as sea-orm migrations.
//!
//! Every migration is written with sea-query only, so one schema runs on SQLite (the
//! embedded default) and PostgreSQL (production). A shipped migration is never edited:
//! a change to the schema is a new migration with its own `up` and `down`.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_schema;
mod m20261125_000002_add_instance_health;
mod m20261125_000003_extend_posts_and_channels;
mod m20261125_000004_add_inbound_and_moderation;
mod m20261204_000001_add_oauth;
mod m20261204_000002_add_people;
mod m20261204_000003_add_sources_and_webhooks;
mod m20261204_000004_add_moves;

/// The ordered list of Herald's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_schema::Migration),
            Box::new(m20261125_000002_add_instance_health::Migration),
            Box::new(m20261125_000003_extend_posts_and_channels::Migration),
            Box::new(m20261125_000004_add_inbound_and_moderation::Migration),
            Box::new(m20261204_000001_add_oauth::Migration),
            Box::new(m20261204_000002_add_people::Migration),
            Box::new(m20261204_000003_add_sources_and_webhooks::Migration),
            Box::new(m20261204_000004_add_moves::Migration),
        ]
    }
}
