//! sea-orm entities: private to `db`, one per table of the first migration.

pub mod activity;
pub mod channel;
pub mod delivery;
pub mod fanout;
pub mod follower;
pub mod idempotency_key;
pub mod instance;
pub mod media;
pub mod post;
pub mod remote_actor;
pub mod setting;
pub mod token;
