//! Herald's rows wrapped for the federation crate: local channels, the instance actor,
//! cached remote actors, and posts as Notes.

pub mod channel;
pub mod instance;
pub mod post;
pub mod remote_actor;

pub use channel::ApubChannel;
pub use instance::InstanceActor;
pub use remote_actor::ApubRemoteActor;
