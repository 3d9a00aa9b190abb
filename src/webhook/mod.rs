//! The webhook transport: one signed POST to a receiver (Standard Webhooks v1 headers), with a
//! 10-second deadline, no redirects followed and no proxy. Unless private addresses are allowed,
//! the connection can only go to public addresses: names are resolved by a resolver that drops
//! forbidden addresses, so the address checked is the address connected to (a name that
//! rebinds to 127.0.0.1 after the endpoint was saved gets nowhere), and a literal address in
//! the URL is checked before anything is sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::webhooks::{
    EXCERPT_BYTES, TIMEOUT_SECS, excerpt, is_forbidden, signature_header,
};

/// One attempt to make.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub url: &'a str,
    /// `webhook-id`: the event's id, the same on every attempt.
    pub id: &'a str,
    /// `webhook-timestamp`: seconds since the epoch, fresh each attempt.
    pub timestamp: i64,
    pub body: &'a str,
    /// The keys that sign (two while a rotation overlaps).
    pub keys: Vec<&'a [u8]>,
}

/// What the receiver answered, or why nothing came.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Option<u16>,
    pub latency: Duration,
    /// The first KiB of the answer's body.
    pub excerpt: Option<String>,
    pub error: Option<String>,
}

/// Sends webhook requests; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// With `allow_private`, receivers on loopback and private networks are reachable (tests and
    /// local trials).
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(TIMEOUT_SECS))
            .connect_timeout(Duration::from_secs(TIMEOUT_SECS))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!(
                "prolo-scheduler-webhooks/",
                env!("CARGO_PKG_VERSION")
            ));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }

    pub async fn send(&self, request: &Request<'_>) -> Answer {
        let started = Instant::now();
        let refused = |error: String| Answer {
            status: None,
            latency: started.elapsed(),
            excerpt: None,
            error: Some(error),
        };
        let Ok(url) = reqwest::Url::parse(request.url) else {
            return refused("the endpoint's URL does not parse".to_owned());
        };
        if !self.allow_private {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(is_forbidden) {
                return refused(FORBIDDEN.to_owned());
            }
        }
        let signature = signature_header(
            &request.keys,
            request.id,
            request.timestamp,
            request.body.as_bytes(),
        );
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", request.id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", signature)
            .body(request.body.to_owned())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return refused(describe(&error)),
        };
        let status = response.status().as_u16();
        // Only the start of the answer is kept; the rest is not read.
        let mut head = Vec::new();
        while head.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => head.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Answer {
            status: Some(status),
            latency: started.elapsed(),
            excerpt: Some(excerpt(&head)),
            error: None,
        }
    }
}

const FORBIDDEN: &str = "the endpoint's address is loopback, private, link-local or otherwise not public \
     (allowed only with PROLO_WEBHOOK_ALLOW_PRIVATE=true)";

/// What went wrong, in a line, without the URL.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        format!("no answer within {TIMEOUT_SECS} s")
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    match causes.last() {
        Some(cause) => format!("{what}: {cause}"),
        None => what,
    }
}

/// Resolves names to their public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !is_forbidden(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(FORBIDDEN.into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
