//! The post body pipeline: the owner's Markdown becomes the sanitized HTML that federates.
//!
//! The output keeps to the HTML subset Mastodon keeps (its `Sanitize::Config::MASTODON_STRICT`
//! since 4.2: `p br a span del pre code em strong b i u ul ol li blockquote`), so a post
//! looks the same on the follower's server as on ours. Headings, which Mastodon flattens,
//! become bold paragraphs; images, which it drops from content, become links. A leaf
//! module: it calls no other part of Herald.

use ammonia::Builder;
use pulldown_cmark::{html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Link `rel` values on every link: no referrer to the target, no `window.opener`, and no
/// endorsement for search engines.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// URL schemes links may use, as Mastodon's sanitizer allows them.
const LINK_SCHEMES: &[&str] = &[
    "http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini",
    "mailto",
];

fn sanitizer() -> &'static Builder<'static> {
    static SANITIZER: OnceLock<Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "a",
            "span",
            "del",
            "pre",
            "code",
            "em",
            "strong",
            "b",
            "i",
            "u",
            "ul",
            "ol",
            "li",
            "blockquote",
        ]
        .into_iter()
        .collect();
        let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
        attributes.insert("a", ["href"].into_iter().collect());
        attributes.insert("ol", ["start", "reversed"].into_iter().collect());
        attributes.insert("li", ["value"].into_iter().collect());
        let mut builder = Builder::default();
        builder
            .tags(tags)
            .tag_attributes(attributes)
            .generic_attributes(HashSet::new())
            .url_schemes(LINK_SCHEMES.iter().copied().collect())
            .link_rel(Some(LINK_REL))
            .strip_comments(true);
        builder
    })
}

/// Renders the owner's Markdown into federating HTML.
pub fn render_markdown(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Mastodon turns headings into bold paragraphs; do so before it has to.
        Event::Start(Tag::Heading { .. }) => Event::Html(CowStr::Borrowed("<p><strong>")),
        Event::End(TagEnd::Heading(_)) => Event::Html(CowStr::Borrowed("</strong></p>")),
        // Images are not kept in content by receivers; keep them as links to the image.
        Event::Start(Tag::Image {
            dest_url, title, ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url,
            title,
            id: CowStr::Borrowed(""),
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        // A single newline inside a paragraph is a line break in a post, as people type it.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut unsafe_html, events);
    sanitizer()
        .clean(&unsafe_html)
        .to_string()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_links() {
        let html = render_markdown("Hello **world**.\n\nSee [our site](https://example.com/).");
        assert_eq!(
            html,
            "<p>Hello <strong>world</strong>.</p>\n<p>See <a href=\"https://example.com/\" \
             rel=\"nofollow noopener noreferrer\">our site</a>.</p>"
        );
    }

    #[test]
    fn raw_html_and_scripts_are_stripped() {
        let html = render_markdown(
            "<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))",
        );
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn headings_become_bold_paragraphs_and_images_links() {
        let html = render_markdown("# Big news\n\n![the chart](https://example.com/c.png)");
        assert!(
            html.starts_with("<p><strong>Big news</strong></p>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://example.com/c.png\""),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn single_newlines_are_line_breaks() {
        assert_eq!(render_markdown("one\ntwo"), "<p>one<br>\ntwo</p>");
    }

    #[test]
    fn lists_quotes_and_code_survive() {
        let html = render_markdown("> quoted\n\n1. a\n2. b\n\n`code`");
        for needle in ["<blockquote>", "<ol>", "<li>a</li>", "<code>code</code>"] {
            assert!(html.contains(needle), "{needle} missing from {html}");
        }
    }
}
