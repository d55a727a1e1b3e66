//! OpenID verification: a widget proves who its user is with an OpenID token from the user's
//! homeserver ([`requestOpenIDConnectToken`](https://github.com/matrix-org/matrix-widget-api));
//! Parvis asks that homeserver who the token belongs to
//! ([`GET /_matrix/federation/v1/openid/userinfo`](https://spec.matrix.org/v1.18/server-server-api/#get_matrixfederationv1openiduserinfo)).
//!
//! Guards: the homeserver must answer for a user of *its own* server name, and a homeserver
//! other than Parvis's own is refused when it resolves to a private, loopback or link-local
//! address (unless configured otherwise), so a forged server name cannot make Parvis probe the
//! internal network.

use std::{net::IpAddr, time::Duration};

use ruma::{
    OwnedServerName, OwnedUserId, ServerName,
    api::{
        IncomingResponse, OutgoingRequest,
        federation::{discovery::discover_homeserver, openid::get_openid_userinfo},
    },
};
use serde::Deserialize;

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

/// Verifies OpenID tokens at the issuing homeserver.
#[derive(Clone, Debug)]
pub struct OpenIdVerifier {
    http: reqwest::Client,
    local_server: OwnedServerName,
    local_base: String,
    allow_private: bool,
}

/// Whether an address is one Parvis refuses to call for someone else's server.
pub fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

impl OpenIdVerifier {
    /// A verifier; tokens of `local_server` are checked at `local_base` (the configured
    /// homeserver, always trusted).
    pub fn new(local_server: OwnedServerName, local_base: &url::Url, allow_private: bool) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            http,
            local_server,
            local_base: local_base.as_str().trim_end_matches('/').to_owned(),
            allow_private,
        }
    }

    /// The user the token belongs to, as its homeserver says.
    pub async fn verify(&self, token: &OpenIdToken) -> Result<OwnedUserId, OpenIdError> {
        let server = &token.matrix_server_name;
        let base = if *server == self.local_server {
            self.local_base.clone()
        } else {
            self.federation_base(server).await?
        };
        let request = get_openid_userinfo::v1::Request::new(token.access_token.clone());
        let response: get_openid_userinfo::v1::Response = self.call(server, &base, request).await?;
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
        let discovered = self
            .call(
                server,
                &format!("https://{server}"),
                discover_homeserver::Request::new(),
            )
            .await
            .map(|response: discover_homeserver::Response| response.server)
            .ok();
        let target = discovered.unwrap_or_else(|| server.to_owned());
        let host_port = if target.port().is_some() {
            target.to_string()
        } else {
            format!("{target}:8448")
        };
        self.check_address(server, &host_port).await?;
        Ok(format!("https://{host_port}"))
    }

    async fn check_address(&self, server: &ServerName, host_port: &str) -> Result<(), OpenIdError> {
        if self.allow_private {
            return Ok(());
        }
        let addresses =
            tokio::net::lookup_host(host_port)
                .await
                .map_err(|e| OpenIdError::Unreachable {
                    server: server.to_owned(),
                    reason: e.to_string(),
                })?;
        for address in addresses {
            if is_private(address.ip()) {
                return Err(OpenIdError::PrivateAddress(host_port.to_owned()));
            }
        }
        Ok(())
    }

    async fn call<R>(
        &self,
        server: &ServerName,
        base: &str,
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
        if base != self.local_base && !self.allow_private {
            let host_port = base.trim_start_matches("https://");
            let with_port = if host_port.contains(':') {
                host_port.to_owned()
            } else {
                format!("{host_port}:443")
            };
            self.check_address(server, &with_port).await?;
        }
        let http_request: http::Request<Vec<u8>> = request
            .try_into_http_request(base, Default::default(), Default::default())
            .map_err(|e| unreachable(e.to_string()))?;
        let response = self
            .http
            .request(
                http_request.method().clone(),
                http_request.uri().to_string(),
            )
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
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
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                is_private(private.parse().unwrap_or_else(|_| panic!("{private}"))),
                "{private}"
            );
        }
        for public in ["8.8.8.8", "193.51.0.1", "2001:db8::1", "100.128.0.1"] {
            assert!(
                !is_private(public.parse().unwrap_or_else(|_| panic!("{public}"))),
                "{public}"
            );
        }
    }
}
