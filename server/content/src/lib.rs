//! The post body pipeline: the owner's Markdown becomes the sanitized HTML that federates.
//!
//! The output keeps to the HTML subset Mastodon keeps (its `Sanitize::Config::MASTODON_STRICT`
//! since 4.2: `p br a span del pre code em strong b i u ul ol li blockquote`), so a post
//! looks the same on the follower's server as on ours. Headings, which Mastodon flattens,
//! become bold paragraphs; images, which it drops from content, become links. A leaf
//! module: it calls no other part of Herald.

mod scan;

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
        // The classes Mastodon keeps for mentions and hashtags (microformats).
        let mut classes: HashMap<&str, HashSet<&str>> = HashMap::new();
        classes.insert("a", ["mention", "hashtag", "u-url"].into_iter().collect());
        classes.insert("span", ["h-card"].into_iter().collect());
        let mut builder = Builder::default();
        builder
            .tags(tags)
            .tag_attributes(attributes)
            .allowed_classes(classes)
            .generic_attributes(HashSet::new())
            .url_schemes(LINK_SCHEMES.iter().copied().collect())
            .link_rel(Some(LINK_REL))
            .strip_comments(true);
        builder
    })
}

/// Where hashtags and mentions link to.
pub struct Links<'a> {
    /// The page of a hashtag (lower-case, without `#`).
    pub hashtag_url: &'a dyn Fn(&str) -> String,
    /// Mentions that resolved: `user@domain` in lower case → the actor's profile URL. A
    /// mention that did not resolve stays plain text.
    pub mentions: &'a HashMap<String, String>,
}

/// A post's body, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Sanitized HTML in Mastodon's subset.
    pub html: String,
    /// Hashtags as written (without `#`), first occurrence of each, in order.
    pub hashtags: Vec<String>,
    /// Mentions that were linked (`user@domain`, lower case), in order.
    pub mentions: Vec<String>,
}

/// Escapes text for HTML and XML (the feeds, which are not templates).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text of sanitized HTML: tags dropped, the few entities `content` writes decoded.
pub fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                if !text.ends_with(' ') && !text.is_empty() {
                    text.push(' ');
                }
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `each` over the plain text of `markdown` outside links and code, and returns
/// the Markdown events with what `each` made of each text.
fn transform<'m>(
    markdown: &'m str,
    mut each: impl FnMut(&str) -> Vec<Event<'m>>,
) -> Vec<Event<'m>> {
    let mut in_link = 0usize;
    let mut in_code = false;
    let mut out = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        // HTML the owner typed is text, as a reader expects: "We launch <today>" shows
        // "<today>". Only Markdown syntax becomes markup (a block of HTML, a paragraph).
        let event = match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            other => other,
        };
        match &event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => in_link += 1,
            Event::End(TagEnd::Link | TagEnd::Image) => in_link = in_link.saturating_sub(1),
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            _ => {}
        }
        match event {
            Event::Text(text) if in_link == 0 && !in_code => out.extend(each(&text)),
            other => out.push(other),
        }
    }
    out
}

/// The `user@domain` of every mention in `markdown` (lower case, each once), to resolve
/// before rendering.
pub fn mention_candidates(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    transform(markdown, |text| {
        for piece in scan::scan(text) {
            if let scan::Piece::Mention { user, domain } = piece {
                let acct = format!("{user}@{domain}").to_lowercase();
                if !found.contains(&acct) {
                    found.push(acct);
                }
            }
        }
        Vec::new()
    });
    found
}

/// Renders the owner's Markdown into federating HTML: bare URLs linked, hashtags linked
/// to their page, resolved mentions linked to the actor (as Mastodon marks them up:
/// `h-card`, `u-url mention`, `mention hashtag`).
pub fn render(markdown: &str, links: &Links<'_>) -> Rendered {
    let mut hashtags: Vec<String> = Vec::new();
    let mut mentions: Vec<String> = Vec::new();
    let events = transform(markdown, |text| {
        let mut events = Vec::new();
        for piece in scan::scan(text) {
            match piece {
                scan::Piece::Text(t) => events.push(Event::Text(CowStr::Boxed(t.into()))),
                scan::Piece::Url(url) => {
                    events.push(Event::Html(CowStr::Boxed(url_link(url).into())))
                }
                scan::Piece::Hashtag(tag) => {
                    let lower = tag.to_lowercase();
                    if !hashtags.iter().any(|h| h.to_lowercase() == lower) {
                        hashtags.push(tag.to_string());
                    }
                    events.push(Event::Html(CowStr::Boxed(
                        format!(
                            "<a href=\"{}\" class=\"mention hashtag\">#<span>{}</span></a>",
                            escape(&(links.hashtag_url)(&lower)),
                            escape(tag)
                        )
                        .into(),
                    )));
                }
                scan::Piece::Mention { user, domain } => {
                    let acct = format!("{user}@{domain}").to_lowercase();
                    match links.mentions.get(&acct) {
                        Some(href) => {
                            if !mentions.contains(&acct) {
                                mentions.push(acct.clone());
                            }
                            events.push(Event::Html(CowStr::Boxed(
                                format!(
                                    "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                                    escape(href),
                                    escape(user)
                                )
                                .into(),
                            )));
                        }
                        None => events.push(Event::Text(CowStr::Boxed(
                            format!("@{user}@{domain}").into(),
                        ))),
                    }
                }
            }
        }
        events
    });
    Rendered {
        html: to_html(events, markdown.len()),
        hashtags,
        mentions,
    }
}

/// Sanitizes HTML from another server (a reply) to the same subset Herald sends.
pub fn sanitize_remote(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

/// A profile field's value as HTML: its links carry `rel="me"`, so Mastodon verifies
/// the sites and accounts that link back to the channel (and the channel page, showing
/// these links, verifies the owner's other accounts that list it).
pub fn render_field(markdown: &str) -> String {
    render_markdown(markdown).replace(
        &format!("rel=\"{LINK_REL}\""),
        &format!("rel=\"me {LINK_REL}\""),
    )
}

/// Renders Markdown without hashtag or mention links (profile summaries and fields).
pub fn render_markdown(markdown: &str) -> String {
    let events = transform(markdown, |text| {
        scan::scan(text)
            .into_iter()
            .map(|piece| match piece {
                scan::Piece::Url(url) => Event::Html(CowStr::Boxed(url_link(url).into())),
                other => Event::Text(CowStr::Boxed(piece_text(&other).into())),
            })
            .collect()
    });
    to_html(events, markdown.len())
}

fn url_link(url: &str) -> String {
    format!("<a href=\"{0}\">{0}</a>", escape(url))
}

/// A piece as the plain text it was written as.
fn piece_text(piece: &scan::Piece<'_>) -> String {
    match piece {
        scan::Piece::Text(t) | scan::Piece::Url(t) => t.to_string(),
        scan::Piece::Hashtag(t) => format!("#{t}"),
        scan::Piece::Mention { user, domain } => format!("@{user}@{domain}"),
    }
}

/// Mastodon's presentation of the remaining Markdown, then the sanitizer.
fn to_html<'m>(events: Vec<Event<'m>>, size_hint: usize) -> String {
    let events = events.into_iter().map(|event| match event {
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
    let mut unsafe_html = String::with_capacity(size_hint * 2);
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
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn text_of_html() {
        assert_eq!(
            strip_tags("<p>We shipped <strong>2.0</strong> &amp; more</p><p>Next</p>"),
            "We shipped 2.0 & more Next"
        );
    }

    #[test]
    fn paragraphs_and_links() {
        let html = render_markdown("Hello **world**.\n\nSee [our site](https://example.com/).");
        assert_eq!(
            html,
            "<p>Hello <strong>world</strong>.</p>\n<p>See <a href=\"https://example.com/\" \
             rel=\"nofollow noopener noreferrer\">our site</a>.</p>"
        );
    }

    fn links<'a>(
        mentions: &'a HashMap<String, String>,
        tag_url: &'a dyn Fn(&str) -> String,
    ) -> Links<'a> {
        Links {
            hashtag_url: tag_url,
            mentions,
        }
    }

    #[test]
    fn hashtags_mentions_and_bare_urls() {
        let mentions = HashMap::from([(
            "alice@social.example".to_string(),
            "https://social.example/users/alice".to_string(),
        )]);
        let tag_url = |t: &str| format!("https://h.example/@ceo/tags/{t}");
        let rendered = render(
            "Hi @alice@social.example and @bob@nowhere.example! #Release at https://example.com/x #release",
            &links(&mentions, &tag_url),
        );
        assert_eq!(
            rendered.html,
            "<p>Hi <span class=\"h-card\"><a href=\"https://social.example/users/alice\" \
             class=\"u-url mention\" rel=\"nofollow noopener noreferrer\">@<span>alice</span></a></span> \
             and @bob@nowhere.example! <a href=\"https://h.example/@ceo/tags/release\" \
             class=\"mention hashtag\" rel=\"nofollow noopener noreferrer\">#<span>Release</span></a> at \
             <a href=\"https://example.com/x\" rel=\"nofollow noopener noreferrer\">https://example.com/x</a> \
             <a href=\"https://h.example/@ceo/tags/release\" class=\"mention hashtag\" \
             rel=\"nofollow noopener noreferrer\">#<span>release</span></a></p>"
        );
        assert_eq!(rendered.hashtags, ["Release"]);
        assert_eq!(rendered.mentions, ["alice@social.example"]);
        assert_eq!(
            mention_candidates(
                "@Alice@Social.Example `@x@y.example` [@z@w.example](https://a.example)"
            ),
            ["alice@social.example"]
        );
    }

    #[test]
    fn nothing_is_linked_inside_code_or_links() {
        let mentions = HashMap::new();
        let tag_url = |t: &str| format!("/tags/{t}");
        let html = render(
            "`#notatag` [see #this](https://example.com)\n\n```\nhttps://x.example #y\n```",
            &links(&mentions, &tag_url),
        )
        .html;
        assert!(!html.contains("hashtag"), "{html}");
        assert!(!html.contains("href=\"https://x.example"), "{html}");
    }

    /// A corpus of ways to smuggle script into HTML: none may survive.
    #[test]
    fn the_xss_corpus_is_defused() {
        let corpus = [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"java\tscript:alert(1)\">x</a>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<a href=\"vbscript:msgbox(1)\">x</a>",
            "[x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![x](javascript:alert(1))",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "<style>body{background:red}</style>",
            "<div onmouseover=\"alert(1)\">x</div>",
            "<object data=\"evil.swf\"></object><embed src=\"evil.swf\">",
            "<form action=\"https://evil.example\"><input name=x></form>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<scr<script>ipt>alert(1)</scr</script>ipt>",
            "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
            "<base href=\"https://evil.example/\">",
            "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
            "<link rel=stylesheet href=https://evil.example/x.css>",
            "<a href=\"https://ok.example\" class=\"evil\" style=\"x\" target=\"_top\">ok</a>",
            "<!-- <script>alert(1)</script> -->",
        ];
        let dangerous = [
            "<script",
            "javascript:",
            "vbscript:",
            "data:",
            "onerror",
            "onload",
            "onclick",
            "onmouseover",
            "<iframe",
            "<svg",
            "<style",
            "style=",
            "<object",
            "<embed",
            "<form",
            "<input",
            "<math",
            "<base",
            "<meta",
            "<link",
            "target=",
            "class=\"evil",
            "<img",
        ];
        let mentions = HashMap::new();
        let tag_url = |t: &str| format!("/tags/{t}");
        for attack in corpus {
            for html in [
                render(attack, &links(&mentions, &tag_url)).html,
                render_markdown(attack),
            ] {
                // What the owner typed may show as text (escaped); no markup of it may
                // survive. Text has no `<` left, so every `<…>` is a real tag.
                let markup: String = html
                    .split('<')
                    .skip(1)
                    .map(|t| format!("<{}>", t.split('>').next().unwrap_or_default()))
                    .collect::<String>()
                    .to_lowercase();
                for bad in dangerous {
                    assert!(!markup.contains(bad), "{attack:?} left {bad:?} in {html:?}");
                }
                assert!(!html.contains("<!--"), "{html}");
            }
        }
    }

    #[test]
    fn html_the_owner_types_is_text() {
        let mentions = HashMap::new();
        let tag_url = |t: &str| format!("/tags/{t}");
        let html = render(
            "We launch <today>, **not** <b>tomorrow</b>.",
            &links(&mentions, &tag_url),
        )
        .html;
        assert_eq!(
            html,
            "<p>We launch &lt;today&gt;, <strong>not</strong> &lt;b&gt;tomorrow&lt;/b&gt;.</p>"
        );
        assert_eq!(
            render_markdown("<div>\nhi\n</div>"),
            "<p>&lt;div&gt;\nhi\n&lt;/div&gt;</p>"
        );
    }

    #[test]
    fn raw_html_and_scripts_are_stripped() {
        let html = render_markdown(
            "<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "shown as text: {html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
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
