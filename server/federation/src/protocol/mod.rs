//! The JSON Herald sends and accepts, as serde types named after their ActivityStreams
//! types. Outbound types are strict and complete; inbound types are lenient where real
//! servers differ (an actor inline or by IRI, one value or an array) and name what they
//! refuse. No network access here: parsing a document never fetches anything.

pub mod activities;
pub mod actor;
pub mod collections;
pub mod context;
pub mod helpers;
pub mod note;
pub mod webfinger;

/// The public collection, written as the full IRI (`as:Public` broke some receivers).
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
