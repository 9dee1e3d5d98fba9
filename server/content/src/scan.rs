//! Finding links, mentions and hashtags in plain text (outside Markdown links and code).

use linkify::{LinkFinder, LinkKind};
use std::ops::Range;

/// What a piece of text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'t> {
    Text(&'t str),
    /// A bare http(s) URL.
    Url(&'t str),
    /// `@user@domain`: the user and the domain (as written).
    Mention {
        user: &'t str,
        domain: &'t str,
    },
    /// `#tag`: the tag without `#`.
    Hashtag(&'t str),
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The mention starting at `start` (at an `@`), as (end, user, domain).
fn mention_at(text: &str, start: usize) -> Option<(usize, &str, &str)> {
    let rest = &text[start + 1..];
    let user_len = rest
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.' || *c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    let user = rest[..user_len].trim_end_matches(['.', '-']);
    if user.is_empty() || !rest[user.len()..].starts_with('@') {
        return None;
    }
    let after = &rest[user.len() + 1..];
    let domain_len = after
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == ':'))
        .map_or(after.len(), |(i, _)| i);
    let domain = after[..domain_len].trim_end_matches(['.', '-', ':']);
    let host = domain.split(':').next().unwrap_or_default();
    let looks_like_host = host.contains('.') || host == "localhost";
    if domain.is_empty() || !looks_like_host {
        return None;
    }
    let end = start + 1 + user.len() + 1 + domain.len();
    Some((end, user, domain))
}

/// The hashtag starting at `start` (at a `#`), as (end, tag). Tags have letters, digits
/// and underscores and are not all digits (so `#1` stays text), as Mastodon reads them.
fn hashtag_at(text: &str, start: usize) -> Option<(usize, &str)> {
    let rest = &text[start + 1..];
    let len = rest
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(rest.len(), |(i, _)| i);
    let tag = &rest[..len];
    if tag.is_empty() || tag.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    Some((start + 1 + len, tag))
}

/// Splits `text` into plain text, URLs, mentions and hashtags.
pub fn scan(text: &str) -> Vec<Piece<'_>> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    let urls: Vec<Range<usize>> = finder
        .links(text)
        .filter(|l| l.as_str().starts_with("http://") || l.as_str().starts_with("https://"))
        .map(|l| l.start()..l.end())
        .collect();
    let mut pieces = Vec::new();
    let mut plain_from = 0;
    let mut i = 0;
    let mut urls = urls.into_iter().peekable();
    while i < text.len() {
        if let Some(url) = urls.peek().cloned() {
            if url.start == i {
                if plain_from < i {
                    pieces.push(Piece::Text(&text[plain_from..i]));
                }
                pieces.push(Piece::Url(&text[url.clone()]));
                urls.next();
                i = url.end;
                plain_from = i;
                continue;
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let after_boundary = text[..i]
            .chars()
            .next_back()
            .is_none_or(|p| !is_word(p) && p != '/' && p != '&');
        let found = match c {
            '@' if after_boundary => mention_at(text, i)
                .filter(|(end, ..)| urls.peek().is_none_or(|u| u.start >= *end))
                .map(|(end, user, domain)| (end, Piece::Mention { user, domain })),
            '#' if after_boundary => {
                hashtag_at(text, i).map(|(end, tag)| (end, Piece::Hashtag(tag)))
            }
            _ => None,
        };
        if let Some((end, piece)) = found {
            if plain_from < i {
                pieces.push(Piece::Text(&text[plain_from..i]));
            }
            pieces.push(piece);
            i = end;
            plain_from = i;
        } else {
            i += c.len_utf8();
        }
    }
    if plain_from < text.len() {
        pieces.push(Piece::Text(&text[plain_from..]));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::{scan, Piece::*};

    #[test]
    fn urls_mentions_and_hashtags() {
        assert_eq!(
            scan("Hi @alice@social.example, see https://example.com/a?b=1. #Rust #2026 #a_b"),
            [
                Text("Hi "),
                Mention {
                    user: "alice",
                    domain: "social.example"
                },
                Text(", see "),
                Url("https://example.com/a?b=1"),
                Text(". "),
                Hashtag("Rust"),
                Text(" #2026 "),
                Hashtag("a_b"),
            ]
        );
    }

    #[test]
    fn what_is_not_a_mention_or_hashtag() {
        for text in [
            "mail me at bob@example.com",
            "@alone",
            "a#b",
            "https://example.com/#anchor",
            "&#39;",
            "@user@nodot",
        ] {
            assert!(
                scan(text).iter().all(|p| matches!(p, Text(_) | Url(_))),
                "{text}: {:?}",
                scan(text)
            );
        }
    }

    #[test]
    fn unicode_hashtags_and_local_ports() {
        assert_eq!(
            scan("#日本語 @bob@localhost:8080"),
            [
                Hashtag("日本語"),
                Text(" "),
                Mention {
                    user: "bob",
                    domain: "localhost:8080"
                },
            ]
        );
    }
}
