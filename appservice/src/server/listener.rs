//! Serving HTTP/1.1 on a listener with bounds a client cannot push past: so many connections
//! at once, a time to send a request's headers, a time for a request as a whole.
//!
//! `axum::serve` sets none of these (hyper's header timeout needs a timer it does not give),
//! so one client opening connections and sending a byte a minute would hold the listener, and
//! the homeserver's transactions with it, for good.

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore, task::JoinSet};
use tower::ServiceExt;

use parvis_homeserver_bridge::MatrixErrorBody;

/// The bounds of one listener.
#[derive(Clone, Copy, Debug)]
pub struct ListenerLimits {
    /// Connections served at once; further ones wait in the system's accept queue.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (also how long an idle connection stays).
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests under way finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ListenerLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A permit first: past the limit, connections stay in the accept queue.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(|request: Request<Incoming>| request.map(Body::new)),
        );
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                }
                _ = closed.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A layer answering `503 M_UNAVAILABLE` to a request not done within `timeout`, its body
/// included.
pub fn with_request_timeout(router: Router, timeout: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => Ok::<Response, Infallible>(response),
                Err(_) => Ok(MatrixErrorBody::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "M_UNAVAILABLE",
                    "the request took too long; try again",
                )
                .into_response()),
            }
        },
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpStream,
    };

    use super::*;

    async fn served(limits: ListenerLimits, router: Router) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, router, limits, std::future::pending()));
        address
    }

    fn hello() -> Router {
        Router::new().route("/", get(|| async { "hello" }))
    }

    /// Sends a whole request on a new connection; returns the answer's text.
    async fn get_root(address: std::net::SocketAddr) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: parvis\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    /// Whether the server closed `stream` (reading ends) within `within`.
    async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
        let mut buffer = [0; 1024];
        matches!(
            tokio::time::timeout(within, stream.read(&mut buffer)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    #[tokio::test]
    async fn a_client_sending_its_headers_a_byte_at_a_time_is_disconnected() {
        let address = served(
            ListenerLimits {
                max_connections: 8,
                header_timeout: Duration::from_millis(500),
            },
            hello(),
        )
        .await;
        let mut slow = TcpStream::connect(address).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nhost: par")
            .await
            .unwrap();
        assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
        // An idle connection goes the same way.
        let mut idle = TcpStream::connect(address).await.unwrap();
        assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
        assert!(get_root(address).await.ends_with("hello"));
    }

    #[tokio::test]
    async fn connections_past_the_limit_wait_for_one_to_close() {
        let header_timeout = Duration::from_millis(800);
        let address = served(
            ListenerLimits {
                max_connections: 2,
                header_timeout,
            },
            hello(),
        )
        .await;
        let mut holders = Vec::new();
        for _ in 0..2 {
            let mut holder = TcpStream::connect(address).await.unwrap();
            holder.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            holders.push(holder);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The third is served once a holder is disconnected, not before.
        let started = Instant::now();
        let answer = get_root(address).await;
        assert!(answer.ends_with("hello"), "{answer}");
        assert!(
            started.elapsed() >= header_timeout / 2,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_request_past_its_time_gets_a_matrix_error() {
        let slow = Router::new().route(
            "/",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
        let address = served(
            ListenerLimits {
                max_connections: 8,
                header_timeout: Duration::from_secs(5),
            },
            with_request_timeout(slow, Duration::from_millis(300)),
        )
        .await;
        let answer = get_root(address).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains(r#""errcode":"M_UNAVAILABLE""#), "{answer}");
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_under_way_finish() {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = Router::new().route(
            "/",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(
            listener,
            router,
            ListenerLimits {
                max_connections: 8,
                header_timeout: Duration::from_secs(5),
            },
            async {
                let _ = stopped.await;
            },
        ));
        let request = tokio::spawn(get_root(address));
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.send(()).unwrap();
        assert!(request.await.unwrap().ends_with("done"));
        server.await.unwrap().unwrap();
    }
}
