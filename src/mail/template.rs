//! Rendering an email body as a plain-text part and an HTML part from the same content.

/// One paragraph of an email body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A paragraph of text.
    Text(String),
    /// A link to a page of the service: `path` is joined onto `public_base_url`.
    Link { label: String, path: String },
}

impl Line {
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// Creates a link to `path` (such as `/graphiql`) on the service's public base URL.
    pub fn link(label: impl Into<String>, path: impl Into<String>) -> Self {
        Self::Link { label: label.into(), path: path.into() }
    }
}

/// The two parts of a rendered email body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedBody {
    pub text: String,
    pub html: String,
}

/// Renders `title` and `lines` as a plain-text part and an HTML part.
///
/// Links point at `public_base_url` joined with the line's path. Every value
/// inserted into the HTML part, the URLs included, is HTML-escaped. Paths are
/// used as given, so callers percent-encode any value they put in one.
pub fn render(public_base_url: &str, title: &str, lines: &[Line]) -> RenderedBody {
    let mut text = format!("{title}\n{}\n", "=".repeat(title.chars().count().max(1)));
    let mut html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n",
        title = escape_html(title)
    );
    for line in lines {
        text.push('\n');
        match line {
            Line::Text(paragraph) => {
                text.push_str(paragraph);
                text.push('\n');
                html.push_str(&format!("<p>{}</p>\n", escape_html(paragraph)));
            }
            Line::Link { label, path } => {
                let url = link_url(public_base_url, path);
                text.push_str(&format!("{label}: {url}\n"));
                html.push_str(&format!("<p><a href=\"{}\">{}</a></p>\n", escape_html(&url), escape_html(label)));
            }
        }
    }
    html.push_str("</body>\n</html>\n");
    RenderedBody { text, html }
}

/// Joins a path such as `/graphiql` onto the public base URL, with exactly one slash between them.
pub fn link_url(public_base_url: &str, path: &str) -> String {
    format!("{}/{}", public_base_url.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// Escapes the five characters that are special in HTML text and quoted attribute values.
pub fn escape_html(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_escapes_inserted_values() {
        let body = render(
            "http://127.0.0.1:8080/",
            "Limit <reached> & \"more\"",
            &[Line::text("slice 'a<b>'"), Line::link("Open <report>", "/report?a=1&b=\"2\"")],
        );

        assert!(body.html.contains("<h1>Limit &lt;reached&gt; &amp; &quot;more&quot;</h1>"), "{}", body.html);
        assert!(body.html.contains("<p>slice &#39;a&lt;b&gt;&#39;</p>"), "{}", body.html);
        assert!(
            body.html.contains("<a href=\"http://127.0.0.1:8080/report?a=1&amp;b=&quot;2&quot;\">Open &lt;report&gt;</a>"),
            "{}",
            body.html
        );
        assert!(!body.html.contains("<reached>"), "{}", body.html);
    }

    #[test]
    fn render_text_part_keeps_values_verbatim() {
        let body = render("https://licenses.example.com", "Limit <reached>", &[Line::text("a & b"), Line::link("Open", "graphiql")]);

        assert_eq!(
            body.text,
            "Limit <reached>\n===============\n\na & b\n\nOpen: https://licenses.example.com/graphiql\n"
        );
    }

    #[test]
    fn link_url_joins_with_one_slash() {
        assert_eq!(link_url("http://127.0.0.1:8080", "/graphiql"), "http://127.0.0.1:8080/graphiql");
        assert_eq!(link_url("http://127.0.0.1:8080/", "graphiql"), "http://127.0.0.1:8080/graphiql");
        assert_eq!(link_url("https://example.com/seatwarden/", "/graphiql"), "https://example.com/seatwarden/graphiql");
    }
}
