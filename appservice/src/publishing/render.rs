//! Markdown in, sanitized HTML out; wiki links; the text forms used by search.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// A `[[target]]` or `[[target|label]]` link written in a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WikiLink {
    /// The page as written (title or slug), trimmed.
    pub target: String,
    /// The text shown.
    pub label: String,
}

/// A rendered body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedHtml {
    /// Sanitized HTML.
    pub html: String,
    /// The wiki links found, deduplicated, in order.
    pub links: Vec<WikiLink>,
}

/// Parses markdown, merging adjacent text runs (the parser splits text at brackets, which
/// would cut `[[wiki links]]` in pieces).
fn parse(markdown: &str) -> Vec<Event<'_>> {
    let mut events: Vec<Event<'_>> = Vec::new();
    for event in Parser::new_ext(markdown, options()) {
        match (events.last_mut(), event) {
            (Some(Event::Text(previous)), Event::Text(text)) => {
                *previous = format!("{previous}{text}").into();
            }
            (_, event) => events.push(event),
        }
    }
    events
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// Splits text into plain runs and wiki links.
fn split_wiki_links(text: &str) -> Vec<Result<&str, WikiLink>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        let Some(length) = rest[start + 2..].find("]]") else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + length];
        if inner.contains('[') || inner.trim().is_empty() {
            parts.push(Ok(&rest[..start + 2]));
            rest = &rest[start + 2..];
            continue;
        }
        if start > 0 {
            parts.push(Ok(&rest[..start]));
        }
        let (target, label) = inner.split_once('|').unwrap_or((inner, inner));
        parts.push(Err(WikiLink {
            target: target.trim().to_owned(),
            label: label.trim().to_owned(),
        }));
        rest = &rest[start + 2 + length + 2..];
    }
    if !rest.is_empty() {
        parts.push(Ok(rest));
    }
    parts
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The wiki links of a body (outside code), deduplicated, in order.
pub fn extract_wiki_links(markdown: &str) -> Vec<WikiLink> {
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    let mut in_code = 0usize;
    for event in parse(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code += 1,
            Event::End(TagEnd::CodeBlock) => in_code = in_code.saturating_sub(1),
            Event::Text(text) if in_code == 0 => {
                for part in split_wiki_links(&text) {
                    if let Err(link) = part
                        && seen.insert(link.target.clone())
                    {
                        links.push(link);
                    }
                }
            }
            _ => {}
        }
    }
    links
}

/// Renders markdown (CommonMark + GFM tables, strikethrough, task lists, footnotes) to
/// sanitized HTML. `resolve` turns a wiki link into an href, or `None` for a missing page.
pub fn render_markdown(
    markdown: &str,
    resolve: &dyn Fn(&WikiLink) -> Option<String>,
) -> RenderedHtml {
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    let mut in_code = 0usize;
    let mut events = Vec::new();
    for event in parse(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code += 1;
                events.push(Event::Start(Tag::CodeBlock(kind)));
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = in_code.saturating_sub(1);
                events.push(Event::End(TagEnd::CodeBlock));
            }
            Event::Text(text) if in_code == 0 && text.contains("[[") => {
                for part in split_wiki_links(&text) {
                    match part {
                        Ok(plain) => events.push(Event::Text(plain.to_owned().into())),
                        Err(link) => {
                            let html = match resolve(&link) {
                                Some(href) => format!(
                                    "<a href=\"{}\" class=\"wikilink\">{}</a>",
                                    escape(&href),
                                    escape(&link.label)
                                ),
                                None => format!(
                                    "<span class=\"wikilink-missing\">{}</span>",
                                    escape(&link.label)
                                ),
                            };
                            events.push(Event::InlineHtml(html.into()));
                            if seen.insert(link.target.clone()) {
                                links.push(link);
                            }
                        }
                    }
                }
            }
            other => events.push(other),
        }
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events.into_iter());
    RenderedHtml {
        html: sanitize(&unsafe_html),
        links,
    }
}

/// Cleans HTML with an allow-list: no scripts, styles, event handlers, frames, forms, SVG or
/// MathML; links only to http(s), mailto and in-page anchors, with `rel="noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "input",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
        "section",
        "sup",
    ]
    .into_iter()
    .collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("a", ["href", "title", "id"].into_iter().collect());
    attributes.insert(
        "img",
        ["src", "alt", "title", "width", "height"]
            .into_iter()
            .collect(),
    );
    attributes.insert(
        "input",
        ["type", "checked", "disabled"].into_iter().collect(),
    );
    attributes.insert("th", ["align"].into_iter().collect());
    attributes.insert("td", ["align"].into_iter().collect());
    attributes.insert("li", ["id"].into_iter().collect());
    attributes.insert("div", ["id"].into_iter().collect());
    let mut classes: HashMap<&str, HashSet<&str>> = HashMap::new();
    classes.insert("a", ["wikilink", "footnote-backref"].into_iter().collect());
    classes.insert("span", ["wikilink-missing"].into_iter().collect());
    classes.insert("div", ["footnote-definition"].into_iter().collect());
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(tags)
        .tag_attributes(attributes)
        .allowed_classes(classes)
        .url_schemes(["http", "https", "mailto", "mxc"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("input", "type") if value != "checkbox" => None,
            ("img", "src") if !(value.starts_with("https://") || value.starts_with("mxc://")) => {
                None
            }
            // Relative links only within the page (wiki links are `#/wiki/…`).
            ("a", "href")
                if !(value.starts_with('#')
                    || value.starts_with("https://")
                    || value.starts_with("http://")
                    || value.starts_with("mailto:")) =>
            {
                None
            }
            _ => Some(value.into()),
        });
    builder.clean(html).to_string()
}

/// The text of a markdown body, whitespace collapsed (for search and notices).
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in parse(markdown) {
        match event {
            Event::Text(part) | Event::Code(part) => {
                for piece in split_wiki_links(&part) {
                    match piece {
                        Ok(plain) => text.push_str(plain),
                        Err(link) => text.push_str(&link.label),
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lowercase, with accents and ligatures folded ("Œuvre à Noël" → "oeuvre a noel").
pub fn fold_accents(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => folded.push('a'),
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => folded.push('c'),
            'ď' | 'đ' => folded.push('d'),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => folded.push('e'),
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => folded.push('g'),
            'ĥ' | 'ħ' => folded.push('h'),
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => folded.push('i'),
            'ĵ' => folded.push('j'),
            'ķ' => folded.push('k'),
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => folded.push('l'),
            'ñ' | 'ń' | 'ņ' | 'ň' => folded.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => folded.push('o'),
            'ŕ' | 'ŗ' | 'ř' => folded.push('r'),
            'ś' | 'ŝ' | 'ş' | 'š' => folded.push('s'),
            'ţ' | 'ť' | 'ŧ' => folded.push('t'),
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => folded.push('u'),
            'ŵ' => folded.push('w'),
            'ý' | 'ÿ' | 'ŷ' => folded.push('y'),
            'ź' | 'ż' | 'ž' => folded.push('z'),
            'œ' => folded.push_str("oe"),
            'æ' => folded.push_str("ae"),
            'ß' => folded.push_str("ss"),
            other => folded.push(other),
        }
    }
    folded
}

/// An extract of `text` around the first word matching one of `words` (accent-folded, as
/// prefixes), HTML-escaped, matches wrapped in `<mark>`; the start of the text when nothing matches.
pub fn snippet(text: &str, words: &[String], length: usize) -> String {
    let escape = |word: &str| {
        word.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let matches = |token: &str| {
        fold_accents(token)
            .split(|c: char| !c.is_alphanumeric())
            .any(|piece| {
                !piece.is_empty()
                    && words
                        .iter()
                        .any(|word| !word.is_empty() && piece.starts_with(word.as_str()))
            })
    };
    let first = tokens.iter().position(|token| matches(token)).unwrap_or(0);
    let start = first.saturating_sub(length / 3);
    let end = (start + length).min(tokens.len());
    let mut html = String::new();
    if start > 0 {
        html.push_str("… ");
    }
    for (i, token) in tokens[start..end].iter().enumerate() {
        if i > 0 {
            html.push(' ');
        }
        if matches(token) {
            html.push_str(&format!("<mark>{}</mark>", escape(token)));
        } else {
            html.push_str(&escape(token));
        }
    }
    if end < tokens.len() {
        html.push_str(" …");
    }
    html
}

/// A URL-friendly name: folded, alphanumerics joined by `-`, at most 80 characters, never empty.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in fold_accents(title).chars() {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(80).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "page".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(markdown: &str) -> String {
        render_markdown(markdown, &|link| {
            (link.target == "Accueil").then(|| "#/wiki/home".to_owned())
        })
        .html
    }

    /// Decodes the character references an attacker could use to hide a scheme.
    fn decoded(html: &str) -> String {
        let mut text = html.to_lowercase();
        for (entity, c) in [
            ("&#106;", "j"),
            ("&#x6a;", "j"),
            ("&colon;", ":"),
            ("&#58;", ":"),
            ("&#x3a;", ":"),
            ("&tab;", ""),
        ] {
            text = text.replace(entity, c);
        }
        text
    }

    const XSS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<ScRiPt src=https://evil.example/x.js></ScRiPt>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"https://ok.example/a.png\" onload=\"alert(1)\">",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=\"https://evil.example/x.swf\"></object>",
        "<embed src=\"https://evil.example/x.swf\">",
        "<form action=\"javascript:alert(1)\"><button>x</button></form>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href=\"java\tscript:alert(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<img src=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\">",
        "<style>body { background: red }</style>",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<base href=\"https://evil.example/\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<link rel=\"stylesheet\" href=\"https://evil.example/x.css\">",
        "<scr<script>ipt>alert(1)</script>",
        "<<script>alert(1)//<</script>",
        "<img src=x onerror=alert(1)//",
        "<div onclick=alert(1)>click</div>",
        "<body onload=alert(1)>",
        "<input onfocus=alert(1) autofocus>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<a href=x onmouseover=alert(1)>x</a>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "![x](javascript:alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "| a |\n|---|\n| <script>alert(1)</script> |",
        "[[<script>alert(1)</script>]]",
        "[[Accueil|<img src=x onerror=alert(1)>]]",
        "<!-- <script>alert(1)</script> -->",
        "<a href=\"\u{0}javascript:alert(1)\">x</a>",
        "<template><script>alert(1)</script></template>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    ];

    #[test]
    fn no_xss_payload_survives() {
        for payload in XSS {
            let html = decoded(&render(payload));
            for forbidden in [
                "<script",
                "<svg",
                "<math",
                "<iframe",
                "<object",
                "<embed",
                "<style",
                "<base",
                "<meta",
                "<link",
                "<form",
                "<template",
            ] {
                assert!(
                    !html.contains(forbidden),
                    "{forbidden} survived {payload:?}: {html}"
                );
            }
            // Event handlers can only live inside tags; escaped text (`&lt;img onerror=…`) is harmless.
            let tags = html
                .split('<')
                .skip(1)
                .map(|rest| rest.split('>').next().unwrap_or(rest));
            for tag in tags {
                for scheme in ["javascript:", "vbscript:", "data:", "style="] {
                    assert!(
                        !tag.contains(scheme),
                        "{scheme} survived in a tag, from {payload:?}: {html}"
                    );
                }
                let has_handler = tag
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .any(|attribute| attribute.starts_with("on") && attribute.contains('='));
                assert!(
                    !has_handler,
                    "an event handler survived {payload:?}: {html}"
                );
            }
        }
    }

    #[test]
    fn markdown_features_and_links() {
        let html = render(
            "# Titre\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] fait\n\n~~barré~~ [site](https://example.org)",
        );
        assert!(
            html.contains("<h1>Titre</h1>")
                && html.contains("<table>")
                && html.contains("<del>barré</del>"),
            "{html}"
        );
        assert!(html.contains("rel=\"noopener noreferrer\""), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
        let html = render("Voir [[Accueil]] et [[Inconnue|cette page]].");
        assert!(
            html.contains("<a href=\"#/wiki/home\" class=\"wikilink\""),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"wikilink-missing\">cette page</span>"),
            "{html}"
        );
        assert!(render("`[[Accueil]]`").contains("<code>[[Accueil]]</code>"));
        let links = extract_wiki_links("[[A]] [[B|b]] [[A]]\n\n```\n[[C]]\n```");
        assert_eq!(
            links.iter().map(|l| l.target.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
    }

    #[test]
    fn snippets_mark_matches_and_escape() {
        let text = "Le comité a validé l'Événement <annuel> de la préfecture, avec budget.";
        let html = snippet(text, &["evenement".to_owned()], 6);
        assert!(
            html.contains("<mark>l'Événement</mark>") || html.contains("<mark>Événement</mark>"),
            "{html}"
        );
        assert!(
            html.contains("&lt;annuel&gt;") && !html.contains("<annuel>"),
            "{html}"
        );
        assert!(html.starts_with("… ") && html.ends_with(" …"), "{html}");
        assert_eq!(
            snippet("un deux trois", &["zzz".to_owned()], 2),
            "un deux …"
        );
    }

    #[test]
    fn folding_slugs_and_plain_text() {
        assert_eq!(fold_accents("Événement"), "evenement");
        assert_eq!(fold_accents("Œuvre à Noël"), "oeuvre a noel");
        assert_eq!(
            slugify("Réunion du lundi — ordre du jour !"),
            "reunion-du-lundi-ordre-du-jour"
        );
        assert_eq!(slugify("!!!"), "page");
        assert_eq!(slugify(&"a".repeat(200)).len(), 80);
        assert_eq!(
            plain_text("# Titre\n\nUn *texte* avec [[Accueil|un lien]]."),
            "Titre Un texte avec un lien."
        );
    }
}
