//! A homeserver with faults: a proxy in front of the real Synapse that answers the requests a
//! test picks with an error, as a homeserver overloaded or half down would, and records every
//! request it forwards. It injects only what a real Synapse cannot be made to do on demand;
//! everything else is Synapse's own answer.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, to_bytes},
    extract::State,
    http::{Request, Response, StatusCode},
};
use tokio::task::JoinHandle;

use crate::{HarnessError, Result, http_client, io};

/// Which requests fail, and how: answered `502 M_UNKNOWN`, either instead of Synapse's answer
/// (Synapse never sees them) or after Synapse has done the request (the answer is lost, as
/// when a connection drops).
#[derive(Clone, Debug)]
pub struct Fault {
    method: String,
    path_contains: String,
    /// Matching requests let through before the first failure.
    skip: u32,
    /// How many fail; `None`: every one, until healed.
    times: Option<u32>,
    answer_lost: bool,
}

impl Fault {
    /// Every request whose method is `method` and whose percent-decoded path contains
    /// `path_contains`, until healed.
    pub fn on(method: &str, path_contains: &str) -> Self {
        Self {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            skip: 0,
            times: None,
            answer_lost: false,
        }
    }

    /// Lets the first `skip` matching requests through.
    pub fn after(mut self, skip: u32) -> Self {
        self.skip = skip;
        self
    }

    /// Fails `times` requests, then lets the others through.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// Lets Synapse do the request, then loses its answer.
    pub fn answer_lost(mut self) -> Self {
        self.answer_lost = true;
        self
    }

    fn matches(&self, method: &str, seen: &str) -> bool {
        self.method == method && seen.contains(&self.path_contains) && self.times != Some(0)
    }
}

/// What the proxy does with one request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Forward,
    Fail,
    ForwardThenFail,
}

#[derive(Debug, Default)]
struct Faults {
    rules: Vec<Fault>,
    /// `METHOD /decoded/path` of every request seen, in order.
    seen: Vec<String>,
}

/// The proxy, listening on its own port until dropped.
pub struct FaultyHomeserver {
    url: String,
    faults: Arc<Mutex<Faults>>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct Upstream {
    url: String,
    client: reqwest::Client,
    faults: Arc<Mutex<Faults>>,
}

impl FaultyHomeserver {
    /// Starts a proxy in front of the homeserver at `upstream` (`http://127.0.0.1:port`).
    pub async fn start(upstream: &str) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(io("binding the faulty homeserver"))?;
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(io("reading the faulty homeserver's address"))?
        );
        let faults = Arc::new(Mutex::new(Faults::default()));
        let upstream = Upstream {
            url: upstream.trim_end_matches('/').to_owned(),
            client: http_client(),
            faults: faults.clone(),
        };
        let router = axum::Router::new().fallback(forward).with_state(upstream);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { url, faults, task })
    }

    /// Its URL, to configure as Parvis's homeserver.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().rules.push(fault);
    }

    /// Fails nothing any more.
    pub fn heal(&self) {
        self.lock().rules.clear();
    }

    /// The requests seen so far, `METHOD /decoded/path`, failed ones included.
    pub fn requests(&self) -> Vec<String> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for FaultyHomeserver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `%21room%3Aserver` → `!room:server`.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| {
            bytes
                .get(at)
                .and_then(|b| char::from(*b).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push(high * 16 + low);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

async fn forward(State(upstream): State<Upstream>, request: Request<Body>) -> Response<Body> {
    let method = request.method().clone();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let seen = format!("{method} {}", percent_decoded(request.uri().path()));
    let verdict = {
        let mut faults = upstream
            .faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        faults.seen.push(seen.clone());
        match faults
            .rules
            .iter_mut()
            .find(|rule| rule.matches(method.as_str(), &seen))
        {
            Some(rule) if rule.skip > 0 => {
                rule.skip -= 1;
                Verdict::Forward
            }
            Some(rule) => {
                if let Some(times) = rule.times.as_mut() {
                    *times -= 1;
                }
                if rule.answer_lost {
                    Verdict::ForwardThenFail
                } else {
                    Verdict::Fail
                }
            }
            None => Verdict::Forward,
        }
    };
    if verdict == Verdict::Fail {
        return error_response(StatusCode::BAD_GATEWAY, "a fault injected by the test");
    }
    let answer = relay(&upstream, request, &path_and_query).await;
    match (verdict, answer) {
        (Verdict::ForwardThenFail, _) => {
            error_response(StatusCode::BAD_GATEWAY, "an answer lost by the test")
        }
        (_, Ok(response)) => response,
        (_, Err(error)) => error_response(StatusCode::BAD_GATEWAY, &error.to_string()),
    }
}

async fn relay(
    upstream: &Upstream,
    request: Request<Body>,
    path_and_query: &str,
) -> Result<Response<Body>> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 256 * 1024 * 1024)
        .await
        .map_err(|e| HarnessError::Other(format!("reading a request to forward: {e}")))?;
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
        .map_err(|e| HarnessError::Other(e.to_string()))?;
    let mut forwarded = upstream
        .client
        .request(method, format!("{}{path_and_query}", upstream.url))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forwarded = forwarded.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = forwarded
        .send()
        .await
        .map_err(|e| HarnessError::Other(format!("forwarding to the homeserver: {e}")))?;
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    let bytes = answer
        .bytes()
        .await
        .map_err(|e| HarnessError::Other(format!("reading the homeserver's answer: {e}")))?;
    response
        .body(Body::from(bytes))
        .map_err(|e| HarnessError::Other(e.to_string()))
}

fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({"errcode": "M_UNKNOWN", "error": message}).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn room_ids_in_paths_are_decoded() {
        assert_eq!(
            percent_decoded("/_matrix/client/v3/rooms/%21abc%3Alocalhost/state"),
            "/_matrix/client/v3/rooms/!abc:localhost/state"
        );
        assert_eq!(percent_decoded("/a%2"), "/a%2");
        assert_eq!(percent_decoded("%zz"), "%zz");
    }
}
