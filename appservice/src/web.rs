//! The web front end (Element widgets and the standalone app), served by Parvis itself under
//! `/widgets/`, from the directory `npm run build` writes (`web.assets_dir`).
//!
//! Hashed assets (`assets/…`) are cached for a year; pages are revalidated every time. Pages
//! carry a Content-Security-Policy allowing only Parvis's own scripts, images only from Parvis
//! and the homeserver (no tracking pixels), and framing only where it is needed: the widget
//! page (`widget.html`, what Parvis pins in rooms) may be framed by Element wherever it runs,
//! the standalone app (`index.html`, which holds the user's access token) by no one.
//!
//! When the deployment chose a theme other than neutral (`web.theme`), the pages say it
//! themselves (`<html data-theme>` and the theme's stylesheet, `themes/<name>.css` of the
//! build), so even a first visit is drawn in that look, with no flash of the neutral one.

use std::{path::PathBuf, sync::Arc};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use parvis_config::WebTheme;

/// Where the assets are, and what the policy allows the pages to connect to.
#[derive(Clone, Debug)]
pub struct WebAssets {
    /// The built front end.
    pub dir: PathBuf,
    /// The deployment's brand files (`web.brand_dir`), served under `brand/`.
    pub brand_dir: Option<PathBuf>,
    /// The homeserver the standalone app signs in at.
    pub homeserver_url: String,
    /// The deployment's look (`web.theme`), written into the pages.
    pub theme: WebTheme,
}

/// The `/widgets/` routes.
pub fn web_router(assets: WebAssets) -> Router {
    Router::new()
        .route("/widgets", get(index))
        .route("/widgets/", get(index))
        .route("/widgets/{*path}", get(asset))
        .with_state(Arc::new(assets))
}

async fn index(State(assets): State<Arc<WebAssets>>) -> Response {
    serve(&assets, "index.html").await
}

/// `GET /widgets/{path}`
async fn asset(State(assets): State<Arc<WebAssets>>, Path(path): Path<String>) -> Response {
    if let Some(brand) = path.strip_prefix("brand/") {
        // The deployment's own files, never the build's: nothing there without `web.brand_dir`.
        return match &assets.brand_dir {
            Some(dir) => {
                let brand_assets = WebAssets {
                    dir: dir.clone(),
                    brand_dir: None,
                    homeserver_url: assets.homeserver_url.clone(),
                    theme: WebTheme::Neutral,
                };
                serve(&brand_assets, brand).await
            }
            None => (StatusCode::NOT_FOUND, "not found").into_response(),
        };
    }
    serve(&assets, &path).await
}

/// The MIME type of a file, by extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The name of a theme's stylesheet in the build (`themes/<name>.css`); `None` for neutral,
/// whose rules are the app's own.
fn theme_stylesheet(theme: WebTheme) -> Option<&'static str> {
    match theme {
        WebTheme::Neutral => None,
        WebTheme::Dsfr => Some("dsfr"),
    }
}

/// `page` with `theme` applied before any script runs: `data-theme` on `<html>` and the theme's
/// stylesheet last in `<head>` (what `app/theme.ts` takes for the initial choice). A page
/// without `<html` or `</head>` (not the build's) is served as it is.
fn themed_page(page: Vec<u8>, theme: WebTheme) -> Vec<u8> {
    let Some(name) = theme_stylesheet(theme) else {
        return page;
    };
    let find = |needle: &[u8]| page.windows(needle.len()).position(|at| at == needle);
    let (Some(html), Some(head_end)) = (find(b"<html"), find(b"</head>")) else {
        return page;
    };
    if head_end < html {
        return page;
    }
    let attribute = format!(" data-theme=\"{name}\"");
    let link = format!(
        "<link rel=\"stylesheet\" href=\"themes/{name}.css\" data-theme-stylesheet=\"{name}\">"
    );
    let after_tag = html + b"<html".len();
    let mut themed = Vec::with_capacity(page.len() + attribute.len() + link.len());
    themed.extend_from_slice(&page[..after_tag]);
    themed.extend_from_slice(attribute.as_bytes());
    themed.extend_from_slice(&page[after_tag..head_end]);
    themed.extend_from_slice(link.as_bytes());
    themed.extend_from_slice(&page[head_end..]);
    themed
}

/// The page Parvis pins in rooms as a widget: the standalone app's page, served so that
/// Element may frame it.
pub const WIDGET_PAGE: &str = "widget.html";

/// The Content-Security-Policy of the pages; `framable` for the widget page.
pub fn content_security_policy(homeserver_url: &str, framable: bool) -> String {
    // Element runs at any origin a deployment chose; the standalone app holds the user's own
    // access token and must not be framed (clickjacking).
    let ancestors = if framable { "*" } else { "'none'" };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: {homeserver_url}; \
         connect-src 'self' {homeserver_url} https:; frame-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; \
         form-action 'self'; object-src 'none'"
    )
}

async fn serve(assets: &WebAssets, path: &str) -> Response {
    // Only plain relative paths inside the directory.
    let safe = !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !safe {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let framable = path == WIDGET_PAGE;
    let file = if framable { "index.html" } else { path };
    let bytes = match tokio::fs::read(assets.dir.join(file)).await {
        Ok(bytes) => bytes,
        Err(_) if !assets.dir.join("index.html").exists() => {
            return (
                StatusCode::NOT_FOUND,
                "the web front end is not built: run `npm ci && npm run build` in widgets/ (or set web.assets_dir)",
            )
                .into_response();
        }
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let bytes = if file == "index.html" {
        themed_page(bytes, assets.theme)
    } else {
        bytes
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if file.ends_with(".html")
        && let Ok(policy) =
            HeaderValue::from_str(&content_security_policy(&assets.homeserver_url, framable))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        if !framable {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(router: &Router, path: &str) -> Response {
        router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn pages_assets_and_traversal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
        std::fs::write(dir.path().parent().unwrap().join("secret.txt"), "secret").ok();
        let router = web_router(WebAssets {
            dir: dir.path().to_owned(),
            brand_dir: None,
            homeserver_url: "https://hs.example".to_owned(),
            theme: WebTheme::Neutral,
        });

        let page = get(&router, "/widgets/").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
        let policy = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            policy.contains("script-src 'self'")
                && policy.contains("connect-src 'self' https://hs.example")
        );
        // The standalone app holds the user's token: framed by no one; images from Parvis and
        // the homeserver only.
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(
            policy.contains("img-src 'self' data: blob: https://hs.example;"),
            "{policy}"
        );
        assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
        let widget = get(&router, "/widgets/widget.html").await;
        assert_eq!(widget.status(), StatusCode::OK);
        let policy = widget.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(policy.contains("frame-ancestors *"), "{policy}");
        assert!(widget.headers().get(header::X_FRAME_OPTIONS).is_none());

        let script = get(&router, "/widgets/assets/app-1234.js").await;
        assert_eq!(
            script.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            script.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            script
                .headers()
                .get(header::CONTENT_SECURITY_POLICY)
                .is_none()
        );

        for path in [
            "/widgets/../secret.txt",
            "/widgets/%2e%2e/secret.txt",
            "/widgets/assets//app-1234.js",
            "/widgets/nothing.js",
        ] {
            assert_eq!(
                get(&router, path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }

    #[tokio::test]
    async fn unbuilt_front_end_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let router = web_router(WebAssets {
            dir: dir.path().join("dist"),
            brand_dir: None,
            homeserver_url: String::new(),
            theme: WebTheme::Neutral,
        });
        let response = get(&router, "/widgets/").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("npm run build"));
    }

    /// The deployment's brand files are served from `web.brand_dir` only: without it, nothing
    /// (not even a `brand/` folder of the build), with it, its files and nothing outside it.
    #[tokio::test]
    async fn brand_files_come_from_the_deployment_only() {
        let dist = tempfile::tempdir().unwrap();
        std::fs::write(dist.path().join("index.html"), "<!doctype html>").unwrap();
        std::fs::create_dir(dist.path().join("brand")).unwrap();
        std::fs::write(dist.path().join("brand/logo.svg"), "<svg/>").unwrap();
        let brand = tempfile::tempdir().unwrap();
        std::fs::write(brand.path().join("brand.css"), "@font-face{}").unwrap();
        let without = web_router(WebAssets {
            dir: dist.path().to_owned(),
            brand_dir: None,
            homeserver_url: String::new(),
            theme: WebTheme::Neutral,
        });
        assert_eq!(
            get(&without, "/widgets/brand/logo.svg").await.status(),
            StatusCode::NOT_FOUND
        );
        let with = web_router(WebAssets {
            dir: dist.path().to_owned(),
            brand_dir: Some(brand.path().to_owned()),
            homeserver_url: String::new(),
            theme: WebTheme::Neutral,
        });
        let css = get(&with, "/widgets/brand/brand.css").await;
        assert_eq!(css.status(), StatusCode::OK);
        assert_eq!(
            css.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        for path in [
            "/widgets/brand/logo.svg",
            "/widgets/brand/../index.html",
            "/widgets/brand/",
        ] {
            assert_eq!(
                get(&with, path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }

    /// A deployment's theme is in the pages themselves, the standalone app's and the widget's;
    /// neutral pages are served as built.
    #[tokio::test]
    async fn pages_carry_the_deployments_theme() {
        let dist = tempfile::tempdir().unwrap();
        let built = "<!doctype html>\n<html lang=\"fr\">\n<head><title>Parvis</title></head><body></body></html>";
        std::fs::write(dist.path().join("index.html"), built).unwrap();
        std::fs::create_dir(dist.path().join("themes")).unwrap();
        std::fs::write(dist.path().join("themes/dsfr.css"), ":root{}").unwrap();
        let router = |theme| {
            web_router(WebAssets {
                dir: dist.path().to_owned(),
                brand_dir: None,
                homeserver_url: String::new(),
                theme,
            })
        };
        let body = |response: Response| async move {
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let dsfr = router(WebTheme::Dsfr);
        for path in ["/widgets/", "/widgets/index.html", "/widgets/widget.html"] {
            let page = body(get(&dsfr, path).await).await;
            assert_eq!(
                page,
                "<!doctype html>\n<html data-theme=\"dsfr\" lang=\"fr\">\n<head><title>Parvis</title>\
                 <link rel=\"stylesheet\" href=\"themes/dsfr.css\" data-theme-stylesheet=\"dsfr\"></head>\
                 <body></body></html>",
                "{path}"
            );
        }
        let css = get(&dsfr, "/widgets/themes/dsfr.css").await;
        assert_eq!(css.status(), StatusCode::OK);
        assert_eq!(css.headers()[header::CACHE_CONTROL], "no-cache");
        let neutral = router(WebTheme::Neutral);
        assert_eq!(body(get(&neutral, "/widgets/").await).await, built);
        // Not the build's page: served as it is.
        assert_eq!(
            themed_page(b"<head></head><html>".to_vec(), WebTheme::Dsfr),
            b"<head></head><html>"
        );
    }
}
