//! Mastodon's OAuth scopes and the Herald token scopes they grant. Every scope Mastodon
//! defines is accepted (apps ask for `read write follow push` and refuse to sign in
//! otherwise); those Herald has nothing behind (`follow`, `push`, `admin:*`, most
//! children) grant nothing. A scope no Mastodon version defines is refused.

use crate::api::Scope;
use std::collections::BTreeSet;

/// The children of `read:` that Mastodon defines.
const READ_CHILDREN: [&str; 11] = [
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
];

/// The children of `write:` that Mastodon defines.
const WRITE_CHILDREN: [&str; 13] = [
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
];

/// The Herald scopes that Mastodon scope `scope` grants, or `None` when Mastodon defines
/// no such scope.
fn grants(scope: &str) -> Option<Vec<Scope>> {
    let granted = match scope {
        "read" | "profile" => vec![Scope::PostsRead],
        "write" => vec![Scope::PostsWrite, Scope::ProfileWrite],
        "follow" | "push" => vec![],
        "write:statuses" | "write:media" => vec![Scope::PostsWrite],
        "write:accounts" => vec![Scope::ProfileWrite],
        other => match other.split_once(':') {
            Some(("read", child)) if READ_CHILDREN.contains(&child) => vec![Scope::PostsRead],
            Some(("write", child)) if WRITE_CHILDREN.contains(&child) => vec![],
            Some(("admin", rest)) if !rest.is_empty() => vec![],
            _ => return None,
        },
    };
    Some(granted)
}

/// The Mastodon scopes of a request (space-separated), defaulting to `read` as Mastodon
/// does, with the Herald scopes they grant; `Err(scope)` names the first unknown one.
pub fn parse(raw: Option<&str>) -> Result<(Vec<String>, BTreeSet<Scope>), String> {
    let requested: Vec<String> = raw
        .unwrap_or("read")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let requested = if requested.is_empty() {
        vec!["read".to_string()]
    } else {
        requested
    };
    let mut herald = BTreeSet::new();
    for scope in &requested {
        let granted = grants(scope).ok_or_else(|| scope.clone())?;
        herald.extend(granted);
    }
    Ok((requested, herald))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn herald(raw: &str) -> Vec<&'static str> {
        parse(Some(raw))
            .unwrap()
            .1
            .into_iter()
            .map(|s| s.as_str())
            .collect()
    }

    #[test]
    fn the_apps_scopes_map_onto_heralds() {
        assert_eq!(
            herald("read write follow push"),
            ["posts:read", "posts:write", "profile:write"]
        );
        assert_eq!(
            herald("read:statuses write:media"),
            ["posts:read", "posts:write"]
        );
        assert_eq!(herald("write:accounts"), ["profile:write"]);
        assert_eq!(herald("profile"), ["posts:read"]);
        assert!(herald("follow push admin:read").is_empty());
        assert_eq!(parse(None).unwrap().0, ["read"]);
    }

    #[test]
    fn scopes_mastodon_does_not_define_are_refused() {
        for bad in [
            "everything",
            "read:everything",
            "write:",
            "posts:write",
            "READ",
        ] {
            assert_eq!(parse(Some(&format!("read {bad}"))), Err(bad.to_string()));
        }
    }
}
