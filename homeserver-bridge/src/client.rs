//! The client-server API, spoken as the appservice.
//!
//! Every request is a ruma request type; the appservice's `as_token` authenticates it and
//! [identity assertion](https://spec.matrix.org/v1.18/application-service-api/#identity-assertion)
//! (`?user_id=`, later `&device_id=`) says which virtual user acts.

use std::{borrow::Cow, time::Duration};

use bytes::Bytes;
use ruma::{
    DeviceId, UserId,
    api::{
        AppserviceUserIdentity, IncomingResponse, MatrixVersion, OutgoingRequest,
        OutgoingRequestAppserviceExt, SupportedVersions,
        auth_scheme::{AuthScheme, SendAccessToken},
        client::uiaa::UiaaResponse,
        error::{Error as RumaApiError, ErrorBody, ErrorKind, FromHttpResponseError, RetryAfter},
        path_builder::{PathBuilder, SinglePath, VersionHistory},
    },
};

/// How often a request refused with `429 M_LIMIT_EXCEEDED` is tried again before giving up.
const MAX_RATE_LIMIT_RETRIES: u32 = 6;
/// Longest wait honoured from a `retry_after_ms`; a homeserver asking for more gets an error.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Timeout of one HTTP request to the homeserver.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a request to the homeserver failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The homeserver could not be reached, or the connection broke.
    #[error("cannot reach the homeserver at {url}: {source}")]
    Unreachable {
        /// The homeserver base URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The homeserver answered with a Matrix error.
    #[error("the homeserver refused ({status} {}): {message}", kind.errcode())]
    Matrix {
        /// HTTP status.
        status: u16,
        /// The Matrix error, as ruma reads its `errcode` (`ErrorKind::Forbidden`…);
        /// `ErrorKind::Unknown` when the answer had none.
        kind: ErrorKind,
        /// The homeserver's message.
        message: String,
    },
    /// The homeserver kept answering 429 for longer than Parvis waits.
    #[error("the homeserver is rate-limiting Parvis ({attempts} attempts); try again later")]
    RateLimited {
        /// How many attempts were made.
        attempts: u32,
    },
    /// The request could not be built (a bug, or an invalid identifier).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The homeserver's answer could not be understood.
    #[error("unexpected answer from the homeserver: {0}")]
    Response(String),
}

impl ClientError {
    /// The Matrix error, when the homeserver answered with one.
    pub fn kind(&self) -> Option<&ErrorKind> {
        match self {
            Self::Matrix { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Whether trying again later may succeed (homeserver down, overloaded, rate-limiting).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::RateLimited { .. } => true,
            Self::Matrix { status, .. } => *status >= 500,
            Self::Request(_) | Self::Response(_) => false,
        }
    }
}

/// A path builder whose input Parvis can supply from the homeserver's supported versions.
pub trait PathInput: PathBuilder {
    /// The path builder input for a homeserver supporting `versions`.
    fn input(versions: &SupportedVersions) -> Self::Input<'_>;
}

impl PathInput for VersionHistory {
    fn input(versions: &SupportedVersions) -> Self::Input<'_> {
        Cow::Borrowed(versions)
    }
}

impl PathInput for SinglePath {
    fn input(_: &SupportedVersions) -> Self::Input<'_> {}
}

/// A client-server API client authenticated as the appservice.
#[derive(Clone, Debug)]
pub struct HomeserverClient {
    http: reqwest::Client,
    base_url: String,
    as_token: String,
    versions: SupportedVersions,
}

impl HomeserverClient {
    /// A client for the homeserver at `base_url`, authenticating with `as_token`.
    pub fn new(base_url: &url::Url, as_token: impl Into<String>) -> Result<Self, ClientError> {
        // The rustls provider is chosen here, once per process; a second install is a no-op error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("parvis/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Request(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.as_str().trim_end_matches('/').to_owned(),
            as_token: as_token.into(),
            // Matrix 1.11 gives the stable paths of every endpoint Parvis uses; Synapse has them all.
            versions: SupportedVersions {
                versions: [MatrixVersion::V1_11].into(),
                features: Default::default(),
            },
        })
    }

    /// The homeserver's base URL, without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The homeserver's clock, from the `Date` of its answer to `GET /_matrix/client/versions`
    /// (a request without authentication): `None` when it sends none.
    pub async fn server_time(&self) -> Result<Option<std::time::SystemTime>, ClientError> {
        let url = format!("{}/_matrix/client/versions", self.base_url);
        let response =
            self.http
                .get(&url)
                .send()
                .await
                .map_err(|source| ClientError::Unreachable {
                    url: self.base_url.clone(),
                    source,
                })?;
        if !response.status().is_success() {
            return Err(ClientError::Response(format!(
                "GET /_matrix/client/versions answered {}",
                response.status()
            )));
        }
        Ok(response
            .headers()
            .get(http::header::DATE)
            .and_then(|date| date.to_str().ok())
            .and_then(|date| httpdate::parse_http_date(date).ok()))
    }

    /// Sends `request` as the appservice's bot (no identity assertion).
    pub async fn send<R>(&self, request: R) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
        R::PathBuilder: PathInput,
        for<'a> R::Authentication: AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        self.send_as(request, None, None).await
    }

    /// Sends `request` with a user's own access token (for a user signed in to Parvis with it):
    /// the homeserver sees the user, not the appservice.
    pub async fn send_with_user_token<R>(
        &self,
        request: R,
        access_token: &str,
    ) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
        R::PathBuilder: PathInput,
        for<'a> R::Authentication: AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        let http_request: http::Request<Vec<u8>> = request
            .try_into_http_request(
                &self.base_url,
                SendAccessToken::IfRequired(access_token),
                R::PathBuilder::input(&self.versions),
            )
            .map_err(|e| ClientError::Request(e.to_string()))?;
        self.exchange::<R>(http_request).await
    }

    /// Sends `request` as the virtual user `user_id` (and its device, when given).
    ///
    /// A `429 M_LIMIT_EXCEEDED` is retried after the delay the homeserver asks for (or an
    /// exponential backoff when it names none), a bounded number of times.
    pub async fn send_as<R>(
        &self,
        request: R,
        user_id: Option<&UserId>,
        device_id: Option<&DeviceId>,
    ) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
        R::PathBuilder: PathInput,
        for<'a> R::Authentication: AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        self.send_as_adjusting(request, user_id, device_id, |body| body)
            .await
    }

    /// Like [`Self::send_as`], with the successful answer's body passed through `adjust`
    /// before ruma parses it: for answers a homeserver may fill with entries ruma refuses
    /// (an invalid user ID in a `/sync`'s `device_lists`), which `adjust` drops.
    pub async fn send_as_adjusting<R>(
        &self,
        request: R,
        user_id: Option<&UserId>,
        device_id: Option<&DeviceId>,
        adjust: impl Fn(Bytes) -> Bytes,
    ) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
        R::PathBuilder: PathInput,
        for<'a> R::Authentication: AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        let mut identity = AppserviceUserIdentity::default();
        identity.user_id = user_id;
        identity.device_id = device_id;
        let http_request: http::Request<Vec<u8>> = request
            .try_into_http_request_with_identity(
                &self.base_url,
                SendAccessToken::Appservice(&self.as_token),
                identity,
                R::PathBuilder::input(&self.versions),
            )
            .map_err(|e| ClientError::Request(e.to_string()))?;
        self.exchange_adjusting::<R>(http_request, adjust).await
    }

    /// Sends a built request, retrying on `429`, and parses the answer.
    async fn exchange<R>(
        &self,
        http_request: http::Request<Vec<u8>>,
    ) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
    {
        self.exchange_adjusting::<R>(http_request, |body| body)
            .await
    }

    async fn exchange_adjusting<R>(
        &self,
        http_request: http::Request<Vec<u8>>,
        adjust: impl Fn(Bytes) -> Bytes,
    ) -> Result<R::IncomingResponse, ClientError>
    where
        R: OutgoingRequest,
        R::EndpointError: HomeserverError,
    {
        let mut backoff = Duration::from_millis(500);
        for attempt in 1..=MAX_RATE_LIMIT_RETRIES {
            let response = self.execute(&http_request).await?;
            let response = if response.status().is_success() {
                let (parts, body) = response.into_parts();
                http::Response::from_parts(parts, adjust(body))
            } else {
                response
            };
            match R::IncomingResponse::try_from_http_response(response) {
                Ok(response) => return Ok(response),
                Err(FromHttpResponseError::Server(error)) => {
                    if let Some(ErrorKind::LimitExceeded(data)) =
                        error.matrix_error().and_then(RumaApiError::error_kind)
                    {
                        let wait = match data.retry_after {
                            Some(RetryAfter::Delay(delay)) => delay,
                            Some(RetryAfter::DateTime(at)) => at
                                .duration_since(std::time::SystemTime::now())
                                .unwrap_or_default(),
                            None => backoff,
                        };
                        if wait > MAX_RETRY_AFTER {
                            return Err(ClientError::RateLimited { attempts: attempt });
                        }
                        tracing::warn!(?wait, attempt, "rate-limited by the homeserver; waiting");
                        tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
                        backoff = (backoff * 2).min(MAX_RETRY_AFTER);
                        continue;
                    }
                    return Err(error.into_client_error());
                }
                Err(error) => return Err(ClientError::Response(error.to_string())),
            }
        }
        Err(ClientError::RateLimited {
            attempts: MAX_RATE_LIMIT_RETRIES,
        })
    }

    async fn execute(
        &self,
        request: &http::Request<Vec<u8>>,
    ) -> Result<http::Response<Bytes>, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            url: self.base_url.clone(),
            source,
        };
        let mut builder = self
            .http
            .request(request.method().clone(), request.uri().to_string());
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let response = builder
            .body(request.body().clone())
            .send()
            .await
            .map_err(unreachable)?;
        let mut http_response = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            http_response = http_response.header(name, value);
        }
        let body = response.bytes().await.map_err(unreachable)?;
        http_response
            .body(body)
            .map_err(|e| ClientError::Response(e.to_string()))
    }
}

/// The error types of ruma endpoints, as Parvis reports them.
pub trait HomeserverError: Sized {
    /// The Matrix error inside, if any.
    fn matrix_error(&self) -> Option<&RumaApiError>;
    /// The error as a [`ClientError`].
    fn into_client_error(self) -> ClientError;
}

impl HomeserverError for RumaApiError {
    fn matrix_error(&self) -> Option<&RumaApiError> {
        Some(self)
    }
    fn into_client_error(self) -> ClientError {
        matrix_error(self)
    }
}

impl HomeserverError for UiaaResponse {
    fn matrix_error(&self) -> Option<&RumaApiError> {
        match self {
            UiaaResponse::MatrixError(error) => Some(error),
            _ => None,
        }
    }
    fn into_client_error(self) -> ClientError {
        match self {
            UiaaResponse::MatrixError(error) => matrix_error(error),
            other => ClientError::Matrix {
                status: 401,
                kind: ErrorKind::Forbidden,
                message: format!("the homeserver asks for interactive authentication: {other}"),
            },
        }
    }
}

fn matrix_error(error: RumaApiError) -> ClientError {
    let status = error.status_code.as_u16();
    let kind = error.error_kind().cloned().unwrap_or(ErrorKind::Unknown);
    let message = match &error.body {
        ErrorBody::Standard(body) => body.message.clone(),
        ErrorBody::Json(json) => json.to_string(),
        ErrorBody::NotJson { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
    };
    ClientError::Matrix {
        status,
        kind,
        message,
    }
}
