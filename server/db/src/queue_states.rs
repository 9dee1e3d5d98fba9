//! The states a fan-out and a delivery move through. They are stored as text in the
//! `fanouts.state` and `deliveries.state` columns, and the API and CLI show the same
//! strings, so each state's string is fixed once here. Rows carry the enums; the query
//! code turns them into text at the database's edge and reads them back with
//! [`DbError::Corrupt`] for a string that names no state.

use super::{DbError, DbResult};

/// Declares a state enum stored as text. Each variant is written once with its stored
/// string, and `ALL`, `as_str` and `parse` are built from that one list: a new state is
/// one line (its doc comment and `Name => "text",`) and cannot be left out of any of them.
macro_rules! stored_states {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $( $(#[$variant_doc:meta])* $variant:ident => $stored:literal, )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_doc])* $variant, )+
        }

        impl $name {
            /// Every state, in the order they are declared (the order reports show them).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the database, and shown by the API and the CLI.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $stored,)+
                }
            }

            /// The state stored as `stored`, or `None` when the string names no state.
            pub fn parse(stored: &str) -> Option<$name> {
                match stored {
                    $($stored => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Reads a stored state back; a string that names no state is a corrupt row.
            pub(crate) fn from_stored(stored: &str) -> DbResult<$name> {
                $name::parse(stored).ok_or_else(|| {
                    DbError::Corrupt(format!(
                        concat!("unknown ", stringify!($name), " {:?}"),
                        stored
                    ))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A state equals its stored string (reports and tests hold states as text).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

stored_states! {
    /// Where a fan-out (one per broadcast activity) stands: held for its post's mentions,
    /// its expansion into one delivery per inbox still to do, or done.
    pub enum FanoutState {
        /// Waiting for its post's mentions of other servers' accounts to be resolved (see
        /// `held`); the queue does not see it yet.
        Held => "held",
        /// Not yet expanded; the sweeper re-enqueues one that stays so too long.
        Pending => "pending",
        /// Expanded into its deliveries; a repeated fan-out job does nothing.
        Done => "done",
    }
}

stored_states! {
    /// Where one delivery (an activity to one inbox) stands.
    pub enum DeliveryState {
        /// Waiting in the queue for its first attempt, or for its next after a requeue.
        Pending => "pending",
        /// The server took it (2xx).
        Delivered => "delivered",
        /// An attempt failed in a way worth retrying; due again at `next_attempt_at`.
        Retrying => "retrying",
        /// Given up for good (rejected, gone, blocked, or out of attempts): a dead letter.
        Failed => "failed",
        /// Waiting for an unreachable server to come back; not retried until then.
        Parked => "parked",
    }
}

impl DeliveryState {
    /// Whether a delivery in this state is finished: nothing will send it again unless an
    /// operator requeues it.
    pub fn is_final(self) -> bool {
        matches!(self, DeliveryState::Delivered | DeliveryState::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::{DbError, DeliveryState, FanoutState};

    #[test]
    fn stored_strings_match_the_schema() {
        let fanouts: Vec<&str> = FanoutState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(fanouts, ["held", "pending", "done"]);
        let deliveries: Vec<&str> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            deliveries,
            ["pending", "delivered", "retrying", "failed", "parked"]
        );
    }

    #[test]
    fn every_state_reads_back_as_itself() {
        for state in FanoutState::ALL {
            assert_eq!(FanoutState::parse(state.as_str()), Some(*state));
            assert_eq!(state.to_string(), state.as_str());
        }
        for state in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(state.as_str()), Some(*state));
            assert_eq!(*state, state.as_str());
        }
    }

    #[test]
    fn an_unknown_string_is_a_corrupt_row() {
        assert_eq!(DeliveryState::parse("Delivered"), None);
        assert_eq!(FanoutState::parse(""), None);
        assert!(matches!(
            DeliveryState::from_stored("lost"),
            Err(DbError::Corrupt(message)) if message == "unknown DeliveryState \"lost\""
        ));
    }
}
