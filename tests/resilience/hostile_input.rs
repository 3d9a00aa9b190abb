//! Hostile clients: bodies over the limit (with and without a length), garbage and odd
//! values, and slow-header clients. Every answer is a 4xx problem; memory stays flat; slow
//! clients are cut off while others keep being served.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::replica::Replica;
use crate::support::TestApp;
use crate::support::clinic::clinic;
use crate::support::http::{WireReply, parse_reply};
use crate::{p50_and_max, serially};

/// Writes `head` then `body` (errors ignored: the server may close early) and reads the answer.
async fn raw(addr: std::net::SocketAddr, head: String, body: Vec<u8>) -> Option<WireReply> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
        write
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), read.read_to_end(&mut answer)).await;
    writer.abort();
    parse_reply(&answer)
}

fn json_request(path: &str, key: &str, body: &[u8]) -> (String, Vec<u8>) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    (head, body.to_vec())
}

/// A body of `size` bytes sent in chunks, without a length.
fn chunked_request(path: &str, key: &str, size: usize) -> (String, Vec<u8>) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunk = vec![b' '; 64 * 1024];
    let mut body = Vec::with_capacity(size + size / 10);
    body.extend_from_slice(b"1\r\n{\r\n");
    for _ in 0..size / chunk.len() {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    (head, body)
}

#[actix_web::test]
async fn bodies_over_the_limit_get_413_without_memory_growth() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let replica = Replica::start(&app.db.url, &[]).await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    let big = 8 * 1024 * 1024;
    // Warm up the allocator with one of each before measuring.
    let mut rss_before = 0;
    for round in 0..21 {
        let (head, body) = if round % 2 == 0 {
            let mut body = b"{\"given_name\": \"".to_vec();
            body.resize(big, b'a');
            json_request("/v1/patients", &app.admin_key, &body)
        } else {
            chunked_request("/v1/patients", &app.admin_key, big)
        };
        let reply = raw(replica.addr, head, body).await.expect("an answer");
        assert_eq!(reply.status, 413, "round {round}: {reply:?}");
        assert_eq!(reply.body["type"], "/problems/payload-too-large");
        if round == 0 {
            rss_before = replica.rss_kib();
        }
    }
    let growth = replica.rss_kib().saturating_sub(rss_before);
    assert!(
        growth < 16 * 1024,
        "20 bodies of 8 MiB grew the process by {growth} KiB"
    );
    println!(
        "hostile: 20 bodies of 8 MiB (half with a length, half chunked) -> 413; RSS grew {} KiB",
        growth
    );
}

#[actix_web::test]
async fn garbage_and_odd_values_get_4xx_problems() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let c = clinic(&app).await;
    let replica = Replica::start(&app.db.url, &[]).await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    let patient = |extra: &str| {
        format!(
            "{{\"given_name\": \"Ana\", \"family_name\": \"Ruiz\", \
             \"date_of_birth\": \"1970-01-01\"{extra}}}"
        )
        .into_bytes()
    };
    let booking = |starts_at: &str| {
        let mut body = c.booking("assessment", "2027-01-05T09:00:00-07:00");
        body["starts_at"] = serde_json::json!(starts_at);
        body.to_string().into_bytes()
    };
    let nested = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)).into_bytes();
    let huge_name = patient(&format!(
        ", \"email\": \"{}@example.com\"",
        "a".repeat(60_000)
    ));
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("truncated JSON", "/v1/patients", b"{\"given_name\": ".to_vec()),
        ("not an object", "/v1/patients", b"[1, 2, 3]".to_vec()),
        ("wrong type", "/v1/patients", b"{\"given_name\": 5}".to_vec()),
        ("nested 20,000 deep", "/v1/patients", nested),
        ("invalid UTF-8", "/v1/patients", b"{\"given_name\": \"\xff\xfe\"}".to_vec()),
        ("lone surrogate", "/v1/patients", patient(", \"phone\": \"\\ud800\"")),
        ("NUL character", "/v1/patients", patient(", \"phone\": \"\\u0000\"")),
        ("right-to-left override in email", "/v1/patients", patient(", \"email\": \"a\u{202e}@example.com\"")),
        ("60,000-character email", "/v1/patients", huge_name),
        ("number beyond f64", "/v1/patients", patient(", \"phone\": 1e400")),
        ("unknown field", "/v1/patients", patient(", \"is_admin\": true")),
        ("date of birth in year -44", "/v1/patients", b"{\"given_name\": \"Ana\", \"family_name\": \"Ruiz\", \"date_of_birth\": \"-0044-03-15\"}".to_vec()),
        ("date of birth in 9999", "/v1/patients", b"{\"given_name\": \"Ana\", \"family_name\": \"Ruiz\", \"date_of_birth\": \"9999-12-31\"}".to_vec()),
        ("booking in 9999", "/v1/sessions", booking("9999-12-31T09:00:00-07:00")),
        ("booking in year 275760", "/v1/sessions", booking("+275760-09-13T00:00:00Z")),
        ("booking before year 0", "/v1/sessions", booking("-0001-01-01T09:00:00Z")),
        ("booking with full-width digits", "/v1/sessions", booking("２０２７-01-05T09:00:00-07:00")),
        ("booking without an offset", "/v1/sessions", booking("2027-01-05T09:00:00")),
    ];
    let mut lines = Vec::new();
    for (what, path, body) in cases {
        let (head, body) = json_request(path, &app.admin_key, &body);
        let reply = raw(replica.addr, head, body).await.expect("an answer");
        assert!(
            (400..500).contains(&reply.status),
            "{what}: {} {:?}",
            reply.status,
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "{what}"
        );
        lines.push(format!("{what} -> {}", reply.status));
    }
    for query in [
        "/v1/sessions?from=99999-01-01T00:00:00Z",
        "/v1/sessions?from=-0001-01-01T00:00:00Z",
        "/v1/sessions?limit=-1",
        "/v1/sessions?limit=99999999999999999999",
        "/v1/availability?treatment_area_id=x&kind=injection&from=2027-01-05&to=2027-01-06",
        "/v1/availability?treatment_area_id=00000000-0000-0000-0000-000000000000&kind=injection&from=-9999-01-05&to=9999-01-06",
        "/v1/sessions/%00",
        "/v1/patients/..%2f..%2fetc%2fpasswd",
    ] {
        let reply = replica
            .send("GET", query, None, Some(&app.admin_key), &[])
            .await;
        assert!((400..500).contains(&reply.status), "{query}: {reply:?}");
        lines.push(format!("GET {query} -> {}", reply.status));
    }
    println!(
        "hostile: {} malformed or odd requests, all 4xx problems",
        lines.len()
    );
    for line in lines {
        println!("  {line}");
    }
}

#[actix_web::test]
async fn slow_header_clients_are_cut_off_while_others_are_served() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let replica = Replica::start(&app.db.url, &[]).await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let addr = replica.addr;
            tokio::spawn(async move {
                let started = Instant::now();
                let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                let head = b"GET /v1/locations HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec();
                for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                    if stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    // A closed connection shows as end of stream (or a 408) on the read side.
                    let mut buf = [0u8; 512];
                    match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf))
                        .await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(_)) => break,
                        Err(_) => {}
                    }
                    if started.elapsed() > Duration::from_secs(30) {
                        panic!("a slow client was never cut off");
                    }
                }
                started.elapsed()
            })
        })
        .collect();
    let mut normal = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(7) {
        let sent = Instant::now();
        let reply = replica
            .send("GET", "/v1/locations", None, Some(&app.admin_key), &[])
            .await;
        assert_eq!(reply.status, 200);
        normal.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut cut = Vec::new();
    for client in slow {
        cut.push(client.await.unwrap());
    }
    let (_, latest_cut) = p50_and_max(&mut cut);
    assert!(
        latest_cut < 8000.0,
        "cut off by the 5 s header timeout: the last after {latest_cut} ms"
    );
    let (p50, max) = p50_and_max(&mut normal);
    println!(
        "hostile: 20 clients sending headers a byte per 250 ms cut off after {:.1}-{:.1} s; \
         {} normal requests meanwhile all 200, p50 {p50:.1} ms, max {max:.1} ms",
        cut[0].as_secs_f64(),
        latest_cut / 1000.0,
        normal.len()
    );
}

/// Opens a connection that sends a `POST /v1/patients` head announcing a 200-byte body, then
/// trickles the body a byte every 250 ms; returns how long until the service answered or
/// closed, and the status it answered with, if any.
async fn trickle_body(addr: std::net::SocketAddr, key: String) -> (Duration, Option<u16>) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/patients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"given_name\": \""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    loop {
        if stream.write_all(b"a").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(250), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
        assert!(started.elapsed() < Duration::from_secs(40), "never cut off");
    }
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok());
    (started.elapsed(), status)
}

#[actix_web::test]
async fn slow_bodies_are_cut_off_and_one_key_cannot_hold_every_connection() {
    let _serial = serially().await;
    let app = TestApp::new().await;
    let replica = Replica::start(&app.db.url, &[("PROLO_MAX_IN_FLIGHT", "4")]).await;
    assert!(replica.until_ready(Duration::from_secs(30)).await);
    let other_key = app
        .key(prolo_scheduler::domain::access::Role::Staff, None)
        .await;
    // Five slow bodies with one key, whose allowance is four requests in flight: whichever
    // comes last is refused at once, the other four wait for their bodies.
    let slow: Vec<_> = (0..5)
        .map(|_| tokio::spawn(trickle_body(replica.addr, app.admin_key.clone())))
        .collect();
    // Another key, and clients without one, are served meanwhile.
    let mut others = Vec::new();
    for _ in 0..20 {
        let sent = Instant::now();
        let reply = replica
            .send("GET", "/v1/me", None, Some(&other_key), &[])
            .await;
        assert_eq!(reply.status, 200);
        let public = replica.send("GET", "/v1/locations", None, None, &[]).await;
        assert_eq!(public.status, 200);
        others.push(sent.elapsed());
    }
    let mut cut = Vec::new();
    let mut refused = Vec::new();
    for client in slow {
        match client.await.unwrap() {
            (after, Some(408)) => cut.push(after),
            (after, Some(429)) => refused.push(after),
            other => panic!("a slow body answered {other:?}"),
        }
    }
    assert_eq!((cut.len(), refused.len()), (4, 1), "{cut:?} {refused:?}");
    assert!(
        refused[0] < Duration::from_secs(2),
        "refused at once: {refused:?}"
    );
    let (first_cut, latest_cut) = (
        cut.iter().min().unwrap().as_secs_f64(),
        cut.iter().max().unwrap().as_secs_f64(),
    );
    assert!(
        (9.0..16.0).contains(&first_cut) && latest_cut < 16.0,
        "cut off by the 10 s body deadline: {cut:?}"
    );
    // Once they are gone the key is whole again.
    let reply = replica
        .send("GET", "/v1/me", None, Some(&app.admin_key), &[])
        .await;
    assert_eq!(reply.status, 200);
    let (p50, max) = p50_and_max(&mut others);
    println!(
        "hostile: 4 bodies trickled a byte per 250 ms answered 408 after {first_cut:.1}-{latest_cut:.1} s \
         (10 s body deadline); the key's 5th request 429 at once (PROLO_MAX_IN_FLIGHT=4); \
         another key and public calls meanwhile all 200, p50 {p50:.1} ms, max {max:.1} ms"
    );
}
