//! The service layer: what more than one entry point does. The post lifecycle and profile
//! changes (`posts`), moderation (`moderation`), uploaded images (`media`) and moving data
//! between instances (`portable`). The API, the console, the CLI and the scheduler call
//! these; they call `federation` (to build activities), `content`, `delivery` and `db`.
//! Nothing here is an HTTP handler; see ARCHITECTURE.md.

pub mod media;
pub mod moderation;
pub mod people;
pub mod portable;
pub mod posts;
pub mod sources;

use herald_base::{config, error_chain, guard, metrics, secrets};
use herald_content as content;
use herald_db as db;
use herald_delivery as delivery;
use herald_federation as federation;
use herald_federation::state;
