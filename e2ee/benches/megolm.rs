//! Crypto throughput of the bot's device, without the homeserver (its answers are built in
//! memory from the other devices' own key uploads): decrypting Megolm room events, and sharing
//! a room key with 200 devices (Olm-encrypting it for each).
//!
//! `cargo bench -p parvis-e2ee --bench megolm`

#![allow(clippy::unwrap_used, missing_docs)]

use std::{collections::BTreeMap, hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use matrix_sdk_crypto::{
    DecryptionSettings, EncryptionSettings, EncryptionSyncChanges, OlmMachine, TrustRequirement,
    types::requests::AnyOutgoingRequest,
};
use parvis_e2ee::EncryptedEvent;
use ruma::{
    OwnedDeviceId, OwnedOneTimeKeyId, OwnedRoomId, OwnedUserId, RoomId,
    api::client::{
        keys::{claim_keys, get_keys, upload_keys},
        sync::sync_events::DeviceLists,
    },
    encryption::{DeviceKeys, OneTimeKey},
    events::AnyToDeviceEvent,
    owned_room_id,
    serde::Raw,
};
use serde_json::json;
use tokio::runtime::Runtime;

struct Uploaded {
    user: OwnedUserId,
    device: OwnedDeviceId,
    device_keys: Raw<DeviceKeys>,
    one_time_keys: BTreeMap<OwnedOneTimeKeyId, Raw<OneTimeKey>>,
}

async fn new_device(n: usize) -> (OlmMachine, Uploaded) {
    let user = OwnedUserId::try_from(format!("@user{n}:hs")).unwrap();
    let device = OwnedDeviceId::from(format!("DEVICE{n}"));
    let machine = OlmMachine::new(&user, &device).await;
    let requests = machine.outgoing_requests().await.unwrap();
    let request = requests
        .iter()
        .find(|r| matches!(r.request(), AnyOutgoingRequest::KeysUpload(_)))
        .unwrap();
    let AnyOutgoingRequest::KeysUpload(upload) = request.request() else {
        unreachable!()
    };
    let uploaded = Uploaded {
        user,
        device,
        device_keys: upload.device_keys.clone().unwrap(),
        one_time_keys: upload.one_time_keys.clone(),
    };
    let counts = BTreeMap::from([(
        ruma::OneTimeKeyAlgorithm::SignedCurve25519,
        ruma::UInt::from(uploaded.one_time_keys.len() as u32),
    )]);
    machine
        .mark_request_as_sent(
            request.request_id(),
            &upload_keys::v3::Response::new(counts),
        )
        .await
        .unwrap();
    (machine, uploaded)
}

/// Makes `sender` know the devices of `others` and hold an Olm session with each, as a key
/// query and a one-time key claim at the homeserver would.
async fn introduce(sender: &OlmMachine, others: &mut [Uploaded]) {
    sender
        .update_tracked_users(others.iter().map(|o| o.user.as_ref()))
        .await
        .unwrap();
    for request in sender.outgoing_requests().await.unwrap() {
        if let AnyOutgoingRequest::KeysQuery(_) = request.request() {
            let mut response = get_keys::v3::Response::new();
            for other in others.iter() {
                response.device_keys.insert(
                    other.user.clone(),
                    BTreeMap::from([(other.device.clone(), other.device_keys.clone())]),
                );
            }
            sender
                .mark_request_as_sent(request.request_id(), &response)
                .await
                .unwrap();
        }
    }
    let (id, _) = sender
        .get_missing_sessions(others.iter().map(|o| o.user.as_ref()))
        .await
        .unwrap()
        .unwrap();
    let mut keys = BTreeMap::new();
    for other in others.iter_mut() {
        let (key_id, key) = other.one_time_keys.pop_first().unwrap();
        keys.insert(
            other.user.clone(),
            BTreeMap::from([(other.device.clone(), BTreeMap::from([(key_id, key)]))]),
        );
    }
    sender
        .mark_request_as_sent(&id, &claim_keys::v3::Response::new(keys))
        .await
        .unwrap();
}

fn settings() -> DecryptionSettings {
    DecryptionSettings {
        sender_device_trust_requirement: TrustRequirement::Untrusted,
    }
}

/// Sender and receiver sharing a room key; `count` events encrypted by the sender.
async fn encrypted_events(room: &RoomId, count: usize) -> (OlmMachine, Vec<Raw<EncryptedEvent>>) {
    let (sender, _) = new_device(0).await;
    let (receiver, uploaded) = new_device(1).await;
    let mut others = [uploaded];
    introduce(&sender, &mut others).await;
    // One Megolm session for all the events (by default a session rotates every 100 messages).
    let one_session = EncryptionSettings {
        rotation_period_msgs: count as u64 + 1,
        ..Default::default()
    };
    let requests = sender
        .share_room_key(room, std::iter::once(others[0].user.as_ref()), one_session)
        .await
        .unwrap();
    let mut to_device = Vec::new();
    for request in requests {
        for (user, devices) in &request.messages {
            for content in devices.values() {
                if user == &others[0].user {
                    let event = json!({"type": request.event_type.to_string(), "sender": "@user0:hs", "content": content});
                    to_device.push(Raw::<AnyToDeviceEvent>::from_json(
                        serde_json::value::to_raw_value(&event).unwrap(),
                    ));
                }
            }
        }
    }
    let (_, keys) = receiver
        .receive_sync_changes(
            EncryptionSyncChanges {
                to_device_events: to_device,
                changed_devices: &DeviceLists::new(),
                one_time_keys_counts: &BTreeMap::new(),
                unused_fallback_keys: None,
                next_batch_token: None,
            },
            &settings(),
        )
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "the receiver got the room key");
    let mut events = Vec::with_capacity(count);
    for n in 0..count {
        let content =
            Raw::new(&json!({"msgtype": "m.text", "body": format!("!parvis search message {n}")}))
                .unwrap()
                .cast_unchecked();
        let encrypted = sender
            .encrypt_room_event_raw(room, "m.room.message", &content)
            .await
            .unwrap();
        let event = json!({
            "type": "m.room.encrypted", "sender": "@user0:hs", "event_id": format!("$event{n}"),
            "origin_server_ts": 1_700_000_000_000u64 + n as u64, "room_id": room, "content": encrypted.content,
        });
        events.push(Raw::from_json(
            serde_json::value::to_raw_value(&event).unwrap(),
        ));
    }
    (receiver, events)
}

fn decrypt(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let room: OwnedRoomId = owned_room_id!("!room:hs");
    let (receiver, events) = runtime.block_on(encrypted_events(&room, 1000));
    let mut group = c.benchmark_group("megolm");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("decrypt 1000 room events", |b| {
        b.to_async(&runtime).iter(|| async {
            for event in &events {
                black_box(
                    receiver
                        .decrypt_room_event(event, &room, &settings())
                        .await
                        .unwrap(),
                );
            }
        });
    });
    group.bench_function("decrypt 1000 room events, one task per core", |b| {
        b.to_async(&runtime).iter(|| async {
            let results = parvis_e2ee::decrypt_many_with(&receiver, &room, events.clone()).await;
            assert!(results.iter().all(Result::is_ok));
            black_box(results);
        });
    });
    group.finish();
}

fn share(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let mut group = c.benchmark_group("room key");
    group.sample_size(10);
    {
        let devices = 200usize;
        let (sender, _) = runtime.block_on(new_device(0));
        let mut others = runtime.block_on(async {
            let mut others = Vec::new();
            for n in 1..=devices {
                others.push(new_device(n).await.1);
            }
            others
        });
        // Olm sessions with each device, as after a key query and a one-time key claim.
        runtime.block_on(introduce(&sender, &mut others));
        group.throughput(Throughput::Elements(devices as u64));
        group.bench_function(BenchmarkId::new("share with devices", devices), |b| {
            b.to_async(&runtime).iter(|| async {
                // The key of a new room each time: encrypted with Olm for every device.
                let room =
                    OwnedRoomId::try_from(format!("!{}:hs", ruma::TransactionId::new())).unwrap();
                let requests = sender
                    .share_room_key(
                        &room,
                        others.iter().map(|o| o.user.as_ref()),
                        EncryptionSettings::default(),
                    )
                    .await
                    .unwrap();
                let messages: usize = requests
                    .iter()
                    .flat_map(|r| r.messages.values())
                    .map(BTreeMap::len)
                    .sum();
                assert_eq!(messages, devices);
                black_box(requests);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decrypt, share);
criterion_main!(benches);
