//! `scripts/demo`: a local Synapse, Parvis on its embedded SQLite, and a demo community.
//!
//! State lives in `./.parvis-demo/` so a second run resumes (same ports, same accounts).

use std::{path::PathBuf, time::Duration};

use parvis_tests::{
    HarnessError, ParvisProcess, Result, Synapse, TestUser, free_port, http_client,
};
use serde_json::{Value, json};

const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "demo-password";
const COMMUNITY: &str = "Communauté de démonstration";

fn port_or_free(preferred: u16) -> Result<u16> {
    match std::net::TcpListener::bind(("127.0.0.1", preferred)) {
        Ok(_) => Ok(preferred),
        Err(_) => free_port(),
    }
}

/// Ports chosen on the first run, kept so the homeserver's name stays the same.
fn ports(dir: &std::path::Path) -> Result<(u16, u16)> {
    let file = dir.join("ports.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        if let (Some(synapse), Some(parvis)) = (value["synapse"].as_u64(), value["parvis"].as_u64())
        {
            return Ok((synapse as u16, parvis as u16));
        }
    }
    let synapse = port_or_free(8008)?;
    let parvis = port_or_free(8009).and_then(|port| {
        if port == synapse {
            free_port()
        } else {
            Ok(port)
        }
    })?;
    std::fs::write(
        &file,
        json!({"synapse": synapse, "parvis": parvis}).to_string(),
    )
    .map_err(|source| HarnessError::Io {
        context: "writing ports.json".into(),
        source,
    })?;
    Ok((synapse, parvis))
}

async fn demo_communities(parvis: &ParvisProcess, user: &TestUser) -> Vec<Value> {
    let response = http_client()
        .get(format!("{}/api/v1/communities", parvis.url()))
        .bearer_auth(&parvis.tokens().admin_token)
        .send()
        .await;
    let Ok(response) = response else {
        return Vec::new();
    };
    let list: Value = response.json().await.unwrap_or_default();
    list.as_array()
        .map(|list| {
            list.iter()
                .filter(|c| c["requested_by"] == user.user_id())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Joins the demo user to the community's space and rooms (accepting Parvis's invitations), and
/// writes a first wiki page, so the web app opens on something. Both are skipped when done.
async fn open_community(parvis: &ParvisProcess, user: &TestUser, community: &Value) {
    let space = community["space_id"].as_str().unwrap_or_default();
    let rooms = community["rooms"].as_array().cloned().unwrap_or_default();
    for room in std::iter::once(space).chain(rooms.iter().filter_map(|room| room[0].as_str())) {
        if let Err(error) = user.join(room).await {
            eprintln!("could not join {room}: {error}");
        }
    }
    let wiki = format!(
        "{}/api/v1/communities/{}/wiki",
        parvis.url(),
        parvis_tests::path_segment(space)
    );
    let pages: Value = match http_client()
        .get(&wiki)
        .bearer_auth(user.access_token())
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => return,
    };
    if pages.as_array().is_some_and(Vec::is_empty) {
        let _ = http_client()
            .post(&wiki)
            .bearer_auth(user.access_token())
            .json(&json!({
                "title": "Bienvenue",
                "body": "# Bienvenue dans la communauté\n\nCe wiki est fait d'événements Matrix : \
                         chaque modification est une version, visible par tous les membres.\n\n\
                         - Modifiez cette page, comparez les versions, restaurez-en une.\n\
                         - Commentez : les réponses arrivent dans le fil du salon.\n",
                "tags": ["démo"],
            }))
            .send()
            .await;
    }
}

async fn run() -> Result<()> {
    let dir = PathBuf::from(".parvis-demo");
    std::fs::create_dir_all(&dir).map_err(|source| HarnessError::Io {
        context: "creating .parvis-demo".into(),
        source,
    })?;
    let dir = dir.canonicalize().map_err(|source| HarnessError::Io {
        context: "resolving .parvis-demo".into(),
        source,
    })?;
    let (synapse_port, parvis_port) = ports(&dir)?;
    let server_name = format!("localhost:{synapse_port}");
    let homeserver_url = format!("http://127.0.0.1:{synapse_port}");

    eprintln!("Preparing Synapse (installed into ~/.cache/parvis on first use)…");
    let database = format!("sqlite://{}", dir.join("parvis/parvis.db").display());
    let mut parvis = ParvisProcess::configure(
        &dir.join("parvis"),
        &homeserver_url,
        &server_name,
        &database,
        Some(parvis_port),
    )?;
    let registration = parvis.generate_registration().await?;
    parvis.start().await?;
    let mut synapse = Synapse::start(&dir.join("synapse"), synapse_port, &[registration]).await?;

    let user = TestUser::register(&synapse.base_url(), DEMO_USER, DEMO_PASSWORD).await?;
    let bot = parvis.bot_user_id();
    if demo_communities(&parvis, &user).await.is_empty() {
        eprintln!("Asking {bot} for a demo community…");
        let dm = user.create_dm(&bot).await?;
        user.wait_for_member(&dm, &bot, Duration::from_secs(30))
            .await?;
        let command = user.send_text(&dm, &format!("!parvis community create \"{COMMUNITY}\" --description \"Un espace pour essayer Parvis\"")).await?;
        user.wait_for_event(&dm, Duration::from_secs(90), |event| {
            event["sender"] == bot.as_str()
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == command.as_str()
        })
        .await?;
    }
    let communities = demo_communities(&parvis, &user).await;
    for community in &communities {
        open_community(&parvis, &user, community).await;
    }

    println!();
    println!("Parvis demo is running.");
    println!("  Homeserver:  {homeserver_url}   (server name {server_name})");
    println!(
        "  User:        {}   password: {DEMO_PASSWORD}",
        user.user_id()
    );
    println!("  Parvis:      {}   (bot {bot})", parvis.url());
    println!(
        "  Web app:     {}/widgets/index.html   (sign in as {DEMO_USER} / {DEMO_PASSWORD})",
        parvis.url()
    );
    for community in &communities {
        println!(
            "  Community:   {} — space {} with {} rooms",
            community["name"].as_str().unwrap_or(""),
            community["space_id"].as_str().unwrap_or(""),
            community["rooms"].as_array().map_or(0, Vec::len)
        );
    }
    println!();
    println!(
        "Sign in with any Matrix client (Element Web, Element desktop, Fractal, nheko…): choose a custom"
    );
    println!(
        "homeserver {homeserver_url}, user {DEMO_USER}, password {DEMO_PASSWORD}. Accept the invitations to the space"
    );
    println!("and its rooms, and talk to {bot} in the direct chat: `!parvis help`.");
    println!(
        "Or with curl:  curl -s -XPOST {homeserver_url}/_matrix/client/v3/login -d '{{\"type\":\"m.login.password\",\"user\":\"{DEMO_USER}\",\"password\":\"{DEMO_PASSWORD}\"}}'"
    );
    println!();
    println!("Logs: {}. Ctrl-C stops everything.", dir.display());

    let _ = tokio::signal::ctrl_c().await;
    eprintln!("Stopping…");
    parvis.stop().await;
    synapse.stop().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parvis-demo: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
