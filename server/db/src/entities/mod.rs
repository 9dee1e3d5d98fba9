//! sea-orm entities: private to `db`, one per table.

pub mod activity;
pub mod audit_entry;
pub mod channel;
pub mod delivery;
pub mod domain_block;
pub mod fanout;
pub mod follower;
pub mod idempotency_key;
pub mod instance;
pub mod interaction;
pub mod media;
pub mod membership;
pub mod oauth_app;
pub mod oauth_code;
pub mod post;
pub mod post_reach;
pub mod received_activity;
pub mod remote_actor;
pub mod reply;
pub mod report;
pub mod session;
pub mod setting;
pub mod sign_in_link;
pub mod token;
pub mod user;
pub mod webhook;
