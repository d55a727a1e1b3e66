//! OpenID verification: a widget proves who its user is with an OpenID token from the user's
//! homeserver ([`requestOpenIDConnectToken`](https://github.com/matrix-org/matrix-widget-api));
//! Parvis asks that homeserver who the token belongs to
//! ([`GET /_matrix/federation/v1/openid/userinfo`](https://spec.matrix.org/v1.18/server-server-api/#get_matrixfederationv1openiduserinfo)).
//!
//! Guards:
//! * the homeserver must answer for a user of *its own* server name;
//! * a homeserver other than Parvis's own is refused when its name is, or resolves to, a
//!   private, loopback, link-local, multicast or reserved address ([`is_private`]), unless
//!   configured otherwise, so a forged server name cannot make Parvis probe the internal
//!   network. The check is made by the resolver of the HTTP client itself, on the very
//!   addresses it then connects to, so a DNS server answering a public address to a first
//!   lookup and `127.0.0.1` to a second (DNS rebinding) gains nothing; redirects are not
//!   followed and proxies are not used for other servers;
//! * everything is bounded: addresses considered per name, connect and request time, and the
//!   size of every answer read;
//! * the session the token opens lasts no longer than the token says, and never more than
//!   [`MAX_SESSION_LIFETIME`].

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use ruma::{
    OwnedServerName, OwnedUserId, ServerName,
    api::{
        IncomingResponse, OutgoingRequest,
        federation::{discovery::discover_homeserver, openid::get_openid_userinfo},
    },
};
use serde::Deserialize;

/// Longest wait to open a connection to a homeserver.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest wait for one request to a homeserver, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for a whole verification (`.well-known` lookup, then `userinfo`).
pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(20);

/// Largest answer read from a homeserver: a `userinfo` or `.well-known` answer is a few dozen
/// bytes, so this is generous, and it bounds what a hostile server can make Parvis hold.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024;

/// Addresses considered per resolved name; the others are neither checked nor connected to.
pub const MAX_RESOLVED_ADDRESSES: usize = 8;

/// Longest session an OpenID token opens, whatever it claims.
pub const MAX_SESSION_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Session opened by a token that does not say how long it is valid.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The token a widget receives from `requestOpenIDConnectToken` and hands to Parvis.
#[derive(Clone, Debug, Deserialize)]
pub struct OpenIdToken {
    /// The token.
    pub access_token: String,
    /// Always `Bearer`.
    #[serde(default)]
    pub token_type: String,
    /// The homeserver that issued it.
    pub matrix_server_name: OwnedServerName,
    /// Seconds it stays valid.
    #[serde(default)]
    pub expires_in: u64,
}

/// A token the homeserver vouched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedOpenId {
    /// The user the token belongs to.
    pub user_id: OwnedUserId,
    /// How long a session opened with this token may last: the token's `expires_in`, capped
    /// at [`MAX_SESSION_LIFETIME`] ([`DEFAULT_SESSION_LIFETIME`] when it gives none).
    pub expires_in: Duration,
}

/// Why an OpenID token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum OpenIdError {
    /// The homeserver does not know the token (forged or expired).
    #[error("the homeserver {0} does not recognise this OpenID token (forged or expired)")]
    Rejected(OwnedServerName),
    /// The homeserver answered for a user of another server.
    #[error("the homeserver {server} answered for {user}, who is not one of its users")]
    WrongServer {
        /// The server asked.
        server: OwnedServerName,
        /// The user it named.
        user: OwnedUserId,
    },
    /// The server resolves to an address Parvis does not call.
    #[error("the homeserver {0} is at a private or loopback address, which Parvis does not call")]
    PrivateAddress(String),
    /// The server could not be reached or answered nonsense.
    #[error("cannot verify the token with {server}: {reason}")]
    Unreachable {
        /// The server.
        server: OwnedServerName,
        /// What failed.
        reason: String,
    },
}

/// The session lifetime a token's `expires_in` (seconds) allows.
///
/// `expires_in` comes from the widget, not from the homeserver (`userinfo` answers only with
/// the user), so it is believed only as far as [`MAX_SESSION_LIFETIME`]: a widget lying about
/// it can extend its session by at most that much.
pub fn session_lifetime(expires_in: u64) -> Duration {
    match expires_in {
        0 => DEFAULT_SESSION_LIFETIME,
        seconds => Duration::from_secs(seconds).min(MAX_SESSION_LIFETIME),
    }
}

/// Verifies OpenID tokens at the issuing homeserver.
#[derive(Clone)]
pub struct OpenIdVerifier {
    /// For Parvis's own homeserver, trusted wherever it is (often on localhost).
    local_http: reqwest::Client,
    /// For every other server: resolves names through [`PublicAddressResolver`].
    foreign_http: reqwest::Client,
    local_server: OwnedServerName,
    local_base: String,
    allow_private: bool,
}

impl std::fmt::Debug for OpenIdVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdVerifier")
            .field("local_server", &self.local_server)
            .field("local_base", &self.local_base)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// Whether an IPv4 address is one Parvis refuses to call for someone else's server.
fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    a == 0 // 0.0.0.0/8, "this network"
        || a == 10 // 10.0.0.0/8, private
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
        || a == 127 // 127.0.0.0/8, loopback
        || (a == 169 && b == 254) // 169.254.0.0/16, link-local (cloud metadata lives here)
        || (a == 172 && (b & 0xf0) == 16) // 172.16.0.0/12, private
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // 192.0.2.0/24, documentation
        || (a == 192 && b == 168) // 192.168.0.0/16, private
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || (a == 198 && b == 51 && c == 100) // 198.51.100.0/24, documentation
        || (a == 203 && b == 0 && c == 113) // 203.0.113.0/24, documentation
        || a >= 224 // 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, 255.255.255.255 broadcast
}

/// Whether an IPv6 address is one Parvis refuses to call for someone else's server.
fn is_private_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    // Addresses that carry an IPv4 address are judged by it: ::ffff:0:0/96 (IPv4-mapped),
    // 64:ff9b::/96 (NAT64, which a local translator turns into that IPv4 address) and the
    // deprecated ::/96 (IPv4-compatible; :: and ::1 fall in 0.0.0.0/8).
    let embedded_v4 = || Ipv4Addr::from_bits((v6.to_bits() & 0xffff_ffff) as u32);
    if v6.to_ipv4_mapped().is_some()
        || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || segments[..6] == [0; 6]
    {
        return is_private_v4(embedded_v4());
    }
    (segments[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (segments[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (segments[0] & 0xff00) == 0xff00 // ff00::/8, multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // 2001:db8::/32, documentation
}

/// Whether an address is one Parvis refuses to call for someone else's server: private,
/// loopback, link-local, shared, multicast, documentation, benchmarking, reserved or broadcast,
/// including IPv4 addresses carried in IPv6 ones.
pub fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

/// What an address lookup returns.
type Lookup<'a> = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// How host names become addresses: the system resolver, or, in tests, a DNS server that lies.
trait HostLookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a>;
}

/// The system resolver, through tokio.
struct SystemLookup;

impl HostLookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host, 0))
                .await?
                .map(|address| address.ip())
                .collect())
        })
    }
}

/// The refusal [`PublicAddressResolver`] gives reqwest, recognised again in its error.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {address}, a private address")]
struct PrivateAddressRefused {
    host: String,
    address: IpAddr,
}

/// The resolver of the client that calls other servers: it resolves each name once, checks
/// every address it will hand over, and hands over only those, so what reqwest connects to is
/// exactly what was checked.
struct PublicAddressResolver {
    lookup: Arc<dyn HostLookup>,
    allow_private: bool,
}

impl PublicAddressResolver {
    /// The addresses of `host` Parvis may connect to, or why there are none.
    async fn addresses(
        &self,
        host: &str,
    ) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addresses: Vec<IpAddr> = self
            .lookup
            .lookup(host)
            .await?
            .into_iter()
            .take(MAX_RESOLVED_ADDRESSES)
            .collect();
        if !self.allow_private
            && let Some(&address) = addresses.iter().find(|address| is_private(**address))
        {
            // One private address refuses the name: a server that publishes one is either
            // misconfigured or aiming at the internal network.
            return Err(Box::new(PrivateAddressRefused {
                host: host.to_owned(),
                address,
            }));
        }
        if addresses.is_empty() {
            return Err(format!("{host} has no address").into());
        }
        Ok(addresses)
    }
}

impl reqwest::dns::Resolve for PublicAddressResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = Self {
            lookup: self.lookup.clone(),
            allow_private: self.allow_private,
        };
        Box::pin(async move {
            let addresses = resolver.addresses(name.as_str()).await?;
            // Port 0: reqwest puts the URL's port in.
            let addrs: reqwest::dns::Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|address| SocketAddr::new(address, 0)),
            );
            Ok(addrs)
        })
    }
}

/// Whether `error`, or anything it was caused by, is a [`PrivateAddressRefused`].
fn refused_as_private(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<PrivateAddressRefused>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Which client, and which checks, a request gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Destination {
    /// Parvis's own homeserver, as configured.
    Local,
    /// Any other server, named by whoever sent the token.
    Foreign,
}

impl OpenIdVerifier {
    /// A verifier; tokens of `local_server` are checked at `local_base` (the configured
    /// homeserver, always trusted).
    pub fn new(local_server: OwnedServerName, local_base: &url::Url, allow_private: bool) -> Self {
        Self::build(
            local_server,
            local_base,
            allow_private,
            Arc::new(SystemLookup),
        )
    }

    fn build(
        local_server: OwnedServerName,
        local_base: &url::Url,
        allow_private: bool,
        lookup: Arc<dyn HostLookup>,
    ) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are not followed by either client: each hop would be a destination nobody
        // checked.
        let bounded = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
        };
        let local_http = bounded().build().unwrap_or_default();
        // No proxy for other servers: a proxy would resolve the name itself, after our check.
        let foreign_http = bounded()
            .no_proxy()
            .dns_resolver(PublicAddressResolver {
                lookup,
                allow_private,
            })
            .build()
            // Failing to build a client with these settings is a bug; an unusable client
            // that refuses everything is the safe fallback, not the default one.
            .unwrap_or_else(|_| Self::refusing_client());
        Self {
            local_http,
            foreign_http,
            local_server,
            local_base: local_base.as_str().trim_end_matches('/').to_owned(),
            allow_private,
        }
    }

    /// A client whose every request fails: it resolves no name and is never pointed at an IP.
    fn refusing_client() -> reqwest::Client {
        struct NoResolver;
        impl reqwest::dns::Resolve for NoResolver {
            fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
                Box::pin(async { Err("no resolver".into()) })
            }
        }
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(NoResolver)
            .build()
            .unwrap_or_default()
    }

    /// The user the token belongs to, as its homeserver says.
    ///
    /// Same as [`Self::verify_with_expiry`], without the session lifetime.
    pub async fn verify(&self, token: &OpenIdToken) -> Result<OwnedUserId, OpenIdError> {
        self.verify_with_expiry(token)
            .await
            .map(|verified| verified.user_id)
    }

    /// The user the token belongs to, as its homeserver says, and how long a session opened
    /// with it may last (see [`session_lifetime`]).
    pub async fn verify_with_expiry(
        &self,
        token: &OpenIdToken,
    ) -> Result<VerifiedOpenId, OpenIdError> {
        let server = &token.matrix_server_name;
        let user_id = tokio::time::timeout(VERIFY_TIMEOUT, self.ask_userinfo(token))
            .await
            .map_err(|_| OpenIdError::Unreachable {
                server: server.clone(),
                reason: format!("no answer within {} s", VERIFY_TIMEOUT.as_secs()),
            })??;
        Ok(VerifiedOpenId {
            user_id,
            expires_in: session_lifetime(token.expires_in),
        })
    }

    async fn ask_userinfo(&self, token: &OpenIdToken) -> Result<OwnedUserId, OpenIdError> {
        let server = &token.matrix_server_name;
        let (base, destination) = if *server == self.local_server {
            (self.local_base.clone(), Destination::Local)
        } else {
            (self.federation_base(server).await?, Destination::Foreign)
        };
        let request = get_openid_userinfo::v1::Request::new(token.access_token.clone());
        let response: get_openid_userinfo::v1::Response =
            self.call(server, &base, destination, request).await?;
        if response.sub.server_name() != server {
            return Err(OpenIdError::WrongServer {
                server: server.clone(),
                user: response.sub,
            });
        }
        Ok(response.sub)
    }

    /// Where `server`'s federation API is: `.well-known/matrix/server` delegation, else port 8448.
    async fn federation_base(&self, server: &ServerName) -> Result<String, OpenIdError> {
        let discovered = match self
            .call(
                server,
                &format!("https://{server}"),
                Destination::Foreign,
                discover_homeserver::Request::new(),
            )
            .await
        {
            Ok(discover_homeserver::Response { server, .. }) => Some(server),
            // The name itself is refused: no fallback will make it acceptable.
            Err(error @ OpenIdError::PrivateAddress(_)) => return Err(error),
            // No delegation (or a broken one): the spec's fallback is the name on port 8448.
            Err(_) => None,
        };
        let target = discovered.unwrap_or_else(|| server.to_owned());
        let host_port = if target.port().is_some() {
            target.to_string()
        } else {
            format!("{target}:8448")
        };
        Ok(format!("https://{host_port}"))
    }

    /// Refuses a URL whose host is an IP literal in a private range: the resolver is not asked
    /// about those, so it cannot refuse them.
    fn check_literal(&self, server: &ServerName, url: &str) -> Result<(), OpenIdError> {
        if self.allow_private {
            return Ok(());
        }
        let host = url::Url::parse(url)
            .ok()
            .and_then(|url| url.host().map(|host| host.to_owned()));
        let literal = match host {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
            None => {
                return Err(OpenIdError::Unreachable {
                    server: server.to_owned(),
                    reason: format!("{url} is not a URL with a host"),
                });
            }
        };
        match literal {
            Some(address) if is_private(address) => {
                Err(OpenIdError::PrivateAddress(address.to_string()))
            }
            _ => Ok(()),
        }
    }

    async fn call<R>(
        &self,
        server: &ServerName,
        base: &str,
        destination: Destination,
        request: R,
    ) -> Result<R::IncomingResponse, OpenIdError>
    where
        R: OutgoingRequest,
        for<'a> <R::Authentication as ruma::api::auth_scheme::AuthScheme>::Input<'a>: Default,
        for<'a> <R::PathBuilder as ruma::api::path_builder::PathBuilder>::Input<'a>: Default,
    {
        let unreachable = |reason: String| OpenIdError::Unreachable {
            server: server.to_owned(),
            reason,
        };
        let http_request: http::Request<Vec<u8>> = request
            .try_into_http_request(base, Default::default(), Default::default())
            .map_err(|e| unreachable(e.to_string()))?;
        let url = http_request.uri().to_string();
        let client = match destination {
            Destination::Local => &self.local_http,
            Destination::Foreign => {
                self.check_literal(server, &url)?;
                &self.foreign_http
            }
        };
        let response = client
            .request(http_request.method().clone(), url)
            .send()
            .await
            .map_err(|e| {
                if refused_as_private(&e) {
                    OpenIdError::PrivateAddress(server.to_string())
                } else {
                    unreachable(e.to_string())
                }
            })?;
        let status = response.status();
        let body = read_at_most(response, MAX_RESPONSE_BYTES)
            .await
            .map_err(unreachable)?;
        if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
            return Err(OpenIdError::Rejected(server.to_owned()));
        }
        let http_response = http::Response::builder()
            .status(status)
            .body(body)
            .map_err(|e| unreachable(e.to_string()))?;
        R::IncomingResponse::try_from_http_response(http_response)
            .map_err(|e| unreachable(e.to_string()))
    }
}

/// Reads an answer chunk by chunk, giving up as soon as it goes past `limit` bytes.
async fn read_at_most(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("the answer is larger than {limit} bytes");
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use axum::{Json, Router, extract::Query, routing::get};
    use serde_json::{Value, json};

    use super::*;

    /// A homeserver stand-in, for faults a real one does not produce.
    async fn fake_homeserver(answer: Value) -> url::Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/_matrix/federation/v1/openid/userinfo",
            get(
                move |Query(query): Query<std::collections::HashMap<String, String>>| {
                    let answer = answer.clone();
                    async move {
                        if query.get("access_token").map(String::as_str) == Some("good") {
                            Ok(Json(answer))
                        } else {
                            Err((
                                http::StatusCode::UNAUTHORIZED,
                                Json(json!({"errcode": "M_UNKNOWN_TOKEN", "error": "no"})),
                            ))
                        }
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}").parse().unwrap()
    }

    fn token(access_token: &str, server: &str) -> OpenIdToken {
        serde_json::from_value(json!({"access_token": access_token, "token_type": "Bearer", "matrix_server_name": server, "expires_in": 3600}))
            .unwrap()
    }

    #[tokio::test]
    async fn the_homeserver_must_answer_for_its_own_user() {
        let base = fake_homeserver(json!({"sub": "@alice:ministere.example"})).await;
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &base, false);
        assert_eq!(
            verifier
                .verify(&token("good", "ministere.example"))
                .await
                .unwrap(),
            "@alice:ministere.example"
        );
        assert!(matches!(
            verifier.verify(&token("forged", "ministere.example")).await,
            Err(OpenIdError::Rejected(_))
        ));

        let lying = fake_homeserver(json!({"sub": "@admin:autre.example"})).await;
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &lying, false);
        assert!(matches!(
            verifier.verify(&token("good", "ministere.example")).await,
            Err(OpenIdError::WrongServer { .. })
        ));
    }

    #[tokio::test]
    async fn other_servers_on_private_addresses_are_refused() {
        let base = fake_homeserver(json!({"sub": "@alice:ministere.example"})).await;
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &base, false);
        let result = verifier
            .verify(&token(
                "good",
                &format!("127.0.0.1:{}", base.port().unwrap()),
            ))
            .await;
        assert!(
            matches!(result, Err(OpenIdError::PrivateAddress(_))),
            "{result:?}"
        );
        let result = verifier.verify(&token("good", "localhost")).await;
        assert!(
            matches!(result, Err(OpenIdError::PrivateAddress(_))),
            "{result:?}"
        );
    }

    #[test]
    fn private_ranges() {
        for private in [
            // IPv4
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.5.4",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "2001:db8::1",
            // IPv4 inside IPv6
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
        ] {
            assert!(
                is_private(private.parse().unwrap_or_else(|_| panic!("{private}"))),
                "{private} should be refused"
            );
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "193.51.0.1",
            "100.128.0.1",
            "100.63.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.0.3.1",
            "198.20.0.1",
            "198.51.101.1",
            "203.0.114.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2001:db9::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(
                !is_private(public.parse().unwrap_or_else(|_| panic!("{public}"))),
                "{public} should be allowed"
            );
        }
    }

    /// A DNS server under the attacker's control: answers `answers`, in turn, one per lookup.
    struct LyingDns {
        answers: Vec<Vec<IpAddr>>,
        lookups: std::sync::atomic::AtomicUsize,
    }

    impl LyingDns {
        fn new(answers: &[&[&str]]) -> Arc<Self> {
            Arc::new(Self {
                answers: answers
                    .iter()
                    .map(|answer| answer.iter().map(|a| a.parse().unwrap()).collect())
                    .collect(),
                lookups: Default::default(),
            })
        }
        fn lookups(&self) -> usize {
            self.lookups.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl HostLookup for LyingDns {
        fn lookup<'a>(&'a self, _host: &'a str) -> Lookup<'a> {
            let n = self
                .lookups
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = self.answers[n.min(self.answers.len() - 1)].clone();
            Box::pin(async move { Ok(answer) })
        }
    }

    /// A homeserver that counts the requests it gets: what a refused address must never see.
    async fn counting_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counter = hits.clone();
        tokio::spawn(async move {
            // Raw TCP: TLS would fail anyway; a connection at all is what must not happen.
            while let Ok((_stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        (port, hits)
    }

    fn verifier_with_dns(dns: Arc<LyingDns>) -> OpenIdVerifier {
        let base: url::Url = "http://127.0.0.1:1".parse().unwrap();
        OpenIdVerifier::build("parvis.example".try_into().unwrap(), &base, false, dns)
    }

    #[tokio::test]
    async fn dns_rebinding_to_loopback_is_refused_at_connect_time() {
        // Attack: the old check resolved the name, found it public, and let reqwest resolve it
        // again; a DNS server answering 127.0.0.1 to that second lookup reached the inside.
        // Here every lookup is the attacker's, and each is checked where it is used.
        let (port, hits) = counting_server().await;
        let dns = LyingDns::new(&[&["127.0.0.1"]]);
        let verifier = verifier_with_dns(dns.clone());
        let result = verifier
            .verify(&token("good", &format!("rebind.example:{port}")))
            .await;
        assert!(
            matches!(result, Err(OpenIdError::PrivateAddress(_))),
            "{result:?}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(
            dns.lookups(),
            1,
            "one lookup, checked, and nothing after it"
        );
    }

    #[tokio::test]
    async fn a_public_answer_with_a_private_one_beside_it_is_refused() {
        let (port, hits) = counting_server().await;
        let dns = LyingDns::new(&[&["8.8.8.8", "127.0.0.1"]]);
        let result = verifier_with_dns(dns)
            .verify(&token("good", &format!("mixed.example:{port}")))
            .await;
        assert!(
            matches!(result, Err(OpenIdError::PrivateAddress(_))),
            "{result:?}"
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_resolver_hands_over_exactly_what_it_checked() {
        let dns = LyingDns::new(&[&["8.8.8.8", "1.1.1.1"], &["127.0.0.1"]]);
        let resolver = PublicAddressResolver {
            lookup: dns.clone(),
            allow_private: false,
        };
        assert_eq!(
            resolver.addresses("a.example").await.unwrap(),
            [
                "8.8.8.8".parse::<IpAddr>().unwrap(),
                "1.1.1.1".parse().unwrap()
            ]
        );
        // The rebinding answer is refused, whatever came before it.
        let refused = resolver.addresses("a.example").await.unwrap_err();
        assert!(refused_as_private(&*refused), "{refused}");
        // A long answer is cut to the first few addresses, all checked.
        let many: Vec<String> = (1..=50).map(|i| format!("8.8.4.{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let resolver = PublicAddressResolver {
            lookup: LyingDns::new(&[&many]),
            allow_private: false,
        };
        assert_eq!(
            resolver.addresses("b.example").await.unwrap().len(),
            MAX_RESOLVED_ADDRESSES
        );
    }

    #[tokio::test]
    async fn private_ip_literal_server_names_are_refused() {
        let (port, hits) = counting_server().await;
        let verifier = verifier_with_dns(LyingDns::new(&[&["8.8.8.8"]]));
        for server in [
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
            "10.0.0.1".to_owned(),
            "[::ffff:169.254.169.254]".to_owned(),
        ] {
            let result = verifier.verify(&token("good", &server)).await;
            assert!(
                matches!(result, Err(OpenIdError::PrivateAddress(_))),
                "{server}: {result:?}"
            );
        }
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_oversized_answer_is_not_read_to_the_end() {
        // Attack: a homeserver answering `userinfo` with an endless body.
        let padding = "x".repeat(4 * MAX_RESPONSE_BYTES);
        let base =
            fake_homeserver(json!({"sub": "@alice:ministere.example", "padding": padding})).await;
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &base, false);
        let result = verifier.verify(&token("good", "ministere.example")).await;
        match result {
            Err(OpenIdError::Unreachable { reason, .. }) => {
                assert!(reason.contains("larger than"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/_matrix/federation/v1/openid/userinfo",
            get(|| async {
                (
                    http::StatusCode::FOUND,
                    [(
                        http::header::LOCATION,
                        "http://169.254.169.254/latest/meta-data",
                    )],
                )
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let base: url::Url = format!("http://{address}").parse().unwrap();
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &base, false);
        let result = verifier.verify(&token("good", "ministere.example")).await;
        assert!(
            matches!(result, Err(OpenIdError::Unreachable { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn session_lifetime_follows_the_token_within_bounds() {
        for (expires_in, lifetime) in [
            (0, DEFAULT_SESSION_LIFETIME),
            (1, Duration::from_secs(1)),
            (600, Duration::from_secs(600)),
            (3600, MAX_SESSION_LIFETIME),
            (86_400 * 365, MAX_SESSION_LIFETIME),
            (u64::MAX, MAX_SESSION_LIFETIME),
        ] {
            assert_eq!(session_lifetime(expires_in), lifetime, "{expires_in}");
        }
    }

    #[tokio::test]
    async fn a_verification_says_how_long_its_session_may_last() {
        // Attack: a widget claiming a token valid for a year got a session as long as Parvis's
        // own, whatever the token said; now the session follows the token, capped at an hour.
        let base = fake_homeserver(json!({"sub": "@alice:ministere.example"})).await;
        let verifier = OpenIdVerifier::new("ministere.example".try_into().unwrap(), &base, false);
        let mut long = token("good", "ministere.example");
        long.expires_in = 86_400 * 365;
        assert_eq!(
            verifier.verify_with_expiry(&long).await.unwrap(),
            VerifiedOpenId {
                user_id: "@alice:ministere.example".try_into().unwrap(),
                expires_in: MAX_SESSION_LIFETIME,
            }
        );
        let mut short = token("good", "ministere.example");
        short.expires_in = 90;
        assert_eq!(
            verifier
                .verify_with_expiry(&short)
                .await
                .unwrap()
                .expires_in,
            Duration::from_secs(90)
        );
    }
}
