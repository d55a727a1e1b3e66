//! Wiring: builds the application from the configuration and runs it until stopped.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use parvis_config::{Config, DeviceUpdates};
use parvis_e2ee::BotCrypto;
use parvis_homeserver_bridge::{
    AppserviceApi, ClientError, HomeserverClient, Intent, Intents, appservice_router,
};
use ruma::api::client::appservice::request_ping;
use tokio::{net::TcpListener, sync::Notify};

use crate::{
    api::{ApiState, ToolRoutes, api_router},
    bot::Bot,
    ingest::Ingest,
    projection::{Identity, Job},
    store::{Index, IndexStore, StoreError, now_ms},
};

mod listener;

pub use listener::{ListenerLimits, serve, with_request_timeout};

/// How long processed-event records are kept (the homeserver does not redeliver older events).
const PROCESSED_EVENTS_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// The HTTP routes of every tool that has some, one line per tool (see [`crate::tools`]).
#[rustfmt::skip]
pub static TOOL_ROUTES: &[ToolRoutes] = &[
    crate::publishing::api::ROUTES,
    crate::tools::tasks::api::ROUTES,
    crate::tools::likes::api::ROUTES,
];

/// Why Parvis could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The index database.
    #[error("index database: {0}")]
    Store(#[from] StoreError),
    /// The homeserver client.
    #[error("homeserver client: {0}")]
    Homeserver(#[from] ClientError),
    /// The encryption device's store.
    #[error("end-to-end encryption: {0}")]
    Crypto(#[from] parvis_e2ee::CryptoError),
    /// The listening socket.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// The parts shared by the server and the command-line tools.
pub struct Services {
    /// The configuration.
    pub config: Config,
    /// The index.
    pub index: Index,
    /// The bot.
    pub bot: Arc<Bot>,
    /// Woken when jobs are queued.
    pub jobs_waiting: Arc<Notify>,
    /// Who Parvis is.
    pub identity: Identity,
    /// What `/metrics` shows.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Services {
    /// Connects to the index and prepares the homeserver client.
    pub async fn connect(config: Config) -> Result<Self, ServerError> {
        let index = Index::connect(&config.database.url, config.database.max_connections).await?;
        let client =
            HomeserverClient::new(&config.homeserver.url, config.appservice.as_token.clone())?;
        let identity = Identity {
            bot: config.bot_user_id(),
            user_prefix: config.appservice.user_prefix.clone(),
        };
        let jobs_waiting = Arc::new(Notify::new());
        let crypto = if config.e2ee.enabled {
            Some(Arc::new(
                BotCrypto::open(
                    client.clone(),
                    &identity.bot,
                    Path::new(&config.e2ee.store_dir),
                    config.e2ee.store_passphrase.as_deref(),
                )
                .await?,
            ))
        } else {
            None
        };
        let intents = Intents::new(client, identity.bot.clone(), config.bot_is_sender());
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let bot = Arc::new(
            Bot::new(
                intents,
                index.clone(),
                identity.clone(),
                config.homeserver.server_name.clone(),
                jobs_waiting.clone(),
                config.public_url(),
                crypto,
            )
            .encrypting_new_communities(config.e2ee.encrypt_new_communities && config.e2ee.enabled)
            .with_limits(&config.bot)
            .with_metrics(metrics.clone()),
        );
        Ok(Self {
            config,
            index,
            bot,
            jobs_waiting,
            identity,
            metrics,
        })
    }
}

/// The running application: listener bound, ready to serve.
pub struct Application {
    services: Services,
    listener: TcpListener,
    /// The Application Service API's own listener, when `appservice.homeserver_bind` is set.
    homeserver_listener: Option<TcpListener>,
}

impl Application {
    /// Connects to the index and binds the listener.
    pub async fn build(config: Config) -> Result<Self, ServerError> {
        let address = config.appservice.bind;
        let services = Services::connect(config).await?;
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServerError::Bind { address, source })?;
        let homeserver_listener = match services.config.appservice.homeserver_bind {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .map_err(|source| ServerError::Bind { address, source })?,
            ),
            None => None,
        };
        Ok(Self {
            services,
            listener,
            homeserver_listener,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops the background tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Services {
            config,
            index,
            bot,
            jobs_waiting,
            identity,
            metrics,
        } = self.services;
        let crypto = bot.crypto().cloned();
        let crypto_waiting = Arc::new(Notify::new());
        let sync = config.e2ee.device_updates == DeviceUpdates::Sync;
        let mut ingest = Ingest::new(index.clone(), identity, jobs_waiting.clone())
            .with_crypto(crypto.clone(), crypto_waiting.clone())
            .with_metrics(metrics.clone());
        if sync {
            ingest = ingest.reading_device_updates_with_sync();
        }
        let appservice = Arc::new(AppserviceApi::new(
            config.appservice.hs_token.clone(),
            ingest,
        ));
        let api = Arc::new(ApiState {
            client: bot.intents().client().clone(),
            bot: bot.clone(),
            index: index.clone(),
            admin_token: config.api.admin_token.clone(),
            sessions: Default::default(),
            refused_tokens: Default::default(),
            widget_sessions: Default::default(),
            metrics: metrics.clone(),
            answers: crate::api::kept_answers::KeptAnswers::new(crate::api::KEPT_ANSWERS_BUDGET),
            openid: parvis_homeserver_bridge::OpenIdVerifier::new(
                config.homeserver.server_name.clone(),
                &config.homeserver.url,
                config.web.openid_allow_private,
            ),
            info: serde_json::json!({
                "server_name": config.homeserver.server_name,
                "homeserver_url": config.homeserver.url.as_str().trim_end_matches('/'),
                "version": env!("CARGO_PKG_VERSION"),
                "theme": config.web.theme,
                "brand": config.web.brand_dir.is_some(),
            }),
        });
        // The homeserver's routes on a listener of their own, when configured: the public one
        // then serves no `/_matrix/app` path at all.
        let (public_appservice, homeserver_router) = match self.homeserver_listener {
            Some(listener) => (None, Some((listener, appservice_router(appservice)))),
            None => (Some(appservice_router(appservice)), None),
        };
        let limits = ListenerLimits {
            max_connections: usize::try_from(config.appservice.max_connections)
                .unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(config.appservice.header_timeout_secs),
        };
        // The REST API and the pages have a time each; the homeserver's transactions have
        // their own bounds (the body's read, the homeserver's own timeout).
        let people = with_request_timeout(
            api_router(api, TOOL_ROUTES).merge(crate::web::web_router(crate::web::WebAssets {
                dir: config.web.assets_dir.clone().into(),
                brand_dir: config.web.brand_dir.clone().map(Into::into),
                homeserver_url: config
                    .homeserver
                    .url
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
                theme: config.web.theme,
            })),
            Duration::from_secs(config.appservice.request_timeout_secs),
        );
        let router = public_appservice
            .unwrap_or_default()
            .merge(people)
            .layer(axum::middleware::from_fn_with_state(
                metrics.clone(),
                time_request,
            ))
            .layer(tower_http::trace::TraceLayer::new_for_http());

        let stop = Arc::new(Notify::new());
        let worker = tokio::spawn(bot.clone().run_jobs(stop.clone()));
        let keys_waiting = sync.then(|| jobs_waiting.clone());
        let upkeep = tokio::spawn(upkeep(
            index,
            jobs_waiting,
            Duration::from_secs(config.index.reconcile_interval_secs),
        ));
        let bot_intent = bot.intents().bot().clone();
        let ping = tokio::spawn(ping_homeserver(
            bot,
            config.appservice.id.clone(),
            metrics.clone(),
        ));
        let device = crypto.map(|crypto| {
            tokio::spawn(run_device(crypto, bot_intent, crypto_waiting, keys_waiting))
        });

        tracing::info!(address = %self.listener.local_addr()?, "Parvis is listening");
        let stopping = Arc::new(Notify::new());
        let homeserver_api = match homeserver_router {
            Some((listener, router)) => {
                tracing::info!(address = %listener.local_addr()?, "the Application Service API listens apart");
                let stopping = stopping.clone();
                Some(tokio::spawn(async move {
                    serve(listener, router, limits, async move {
                        stopping.notified().await
                    })
                    .await
                }))
            }
            None => None,
        };
        let served = serve(self.listener, router, limits, shutdown).await;
        stopping.notify_waiters();
        if let Some(homeserver_api) = homeserver_api {
            let _ = homeserver_api.await;
        }
        stop.notify_waiters();
        upkeep.abort();
        ping.abort();
        if let Some(device) = device {
            device.abort();
        }
        let _ = worker.await;
        Ok(served?)
    }
}

/// Pings the homeserver until it answers: this tells it the appservice is up, so it sends its
/// backlog of transactions at once instead of after its backoff (up to 512 s in Synapse).
async fn ping_homeserver(
    bot: Arc<Bot>,
    appservice_id: String,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let mut delay = Duration::from_millis(500);
    loop {
        let mut request = request_ping::v1::Request::new(appservice_id.clone());
        request.transaction_id = Some(uuid::Uuid::new_v4().to_string().into());
        match bot.intents().client().send(request).await {
            Ok(response) => {
                tracing::info!(round_trip = ?response.duration, "the homeserver reached Parvis");
                metrics.homeserver_reached();
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "the homeserver did not complete the ping yet; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                // The ping flushes the homeserver's backlog to Parvis: keep it prompt.
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Periodic upkeep: reconcile every followed room with the homeserver (at start, then every
/// `interval`; zero disables), and forget old processed-event records.
async fn upkeep(index: Index, jobs_waiting: Arc<Notify>, interval: Duration) {
    let period = if interval.is_zero() {
        Duration::from_secs(24 * 3600)
    } else {
        interval
    };
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        // One reconcile at a time: a pass slower than the interval must not pile up others.
        if !interval.is_zero() {
            match index.pending_jobs(&Job::ReconcileAll).await {
                Ok(0) => match index.enqueue(&Job::ReconcileAll).await {
                    Ok(()) => jobs_waiting.notify_one(),
                    Err(error) => tracing::error!(%error, "cannot queue a reconcile"),
                },
                Ok(_) => tracing::info!("a reconcile is still waiting; none added"),
                Err(error) => tracing::error!(%error, "cannot read the job queue"),
            }
        }
        if let Err(error) = index
            .prune_processed(now_ms() - PROCESSED_EVENTS_RETENTION_MS)
            .await
        {
            tracing::error!(%error, "cannot prune processed events");
        }
    }
}

/// How long one `/sync` for the bot's device waits for something new.
const DEVICE_SYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// Keeps the bot's encryption device in step with the homeserver: registers it (MSC4190),
/// uploads its keys and cross-signs it at start, retrying while the homeserver is not up; then
/// sends what the Olm
/// machine asks for (key queries, one-time keys, to-device messages) after each transaction
/// that changed something, and every minute. With `keys_waiting` (`e2ee.device_updates =
/// "sync"`), it also reads the device's updates with `/sync`, waking `keys_waiting` when room
/// keys arrive.
async fn run_device(
    crypto: Arc<BotCrypto>,
    bot: Arc<Intent>,
    waiting: Arc<Notify>,
    keys_waiting: Option<Arc<Notify>>,
) {
    let mut delay = Duration::from_millis(500);
    // The bot exists before its device (it is the appservice's own user, or registered here).
    while let Err(error) = async {
        bot.ensure_registered().await?;
        crypto.register_device().await
    }
    .await
    {
        tracing::warn!(%error, "the bot's encryption device is not ready; retrying");
        tokio::time::sleep(delay).await;
        // Soon after the homeserver is up: messages encrypted before the device exists are
        // never readable by it.
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    if let Err(error) = crypto.bootstrap_cross_signing().await {
        tracing::warn!(%error, "the bot's device could not be cross-signed: clients that read \
            only devices their owner signed will not read what the bot sends");
    }
    let send_requests = async {
        loop {
            tokio::select! {
                _ = waiting.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            }
            if let Err(error) = crypto.send_outgoing_requests().await {
                tracing::warn!(%error, "could not send the encryption device's requests");
            }
        }
    };
    match keys_waiting {
        Some(keys_waiting) => {
            tokio::join!(
                send_requests,
                read_device_updates(&crypto, &waiting, &keys_waiting)
            );
        }
        None => send_requests.await,
    }
}

/// Long-polls `/sync` as the bot's device for its to-device messages, device list changes and
/// key counts (for homeservers that do not push them to appservices), backing off while the
/// homeserver fails.
async fn read_device_updates(crypto: &BotCrypto, requests_waiting: &Notify, keys_waiting: &Notify) {
    tracing::info!("reading the device's encryption updates with /sync");
    let mut delay = Duration::from_secs(1);
    loop {
        match crypto.sync_device_updates(DEVICE_SYNC_TIMEOUT).await {
            Ok(keys) => {
                delay = Duration::from_secs(1);
                requests_waiting.notify_one();
                if !keys.is_empty() {
                    tracing::debug!(keys = keys.len(), "room keys received");
                    keys_waiting.notify_one();
                }
            }
            Err(error) => {
                tracing::warn!(%error, "reading the device's encryption updates failed; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// Times each request for `/metrics`, by its route's path template (never the IDs in the path,
/// which would make a series per community), method and status class.
async fn time_request(
    axum::extract::State(metrics): axum::extract::State<Arc<crate::metrics::Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    metrics.answered(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The web app's API types are generated from `widgets/openapi.json`: it must be this
    /// API's description, its tools' routes included, or the app would be typed against
    /// another API.
    #[test]
    fn the_web_apps_copy_of_the_openapi_description_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../widgets/openapi.json");
        let copy = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            copy == crate::api::openapi_document(TOOL_ROUTES),
            "widgets/openapi.json is stale: run `cargo run -p parvis -- openapi --output widgets/openapi.json`"
        );
    }
}
