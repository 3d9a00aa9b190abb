//! Webhooks by the Standard Webhooks v1 rules: secrets, signatures, the retry schedule, which
//! answers count as delivered, and which addresses a delivery may never reach.

use std::net::{IpAddr, Ipv4Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a secret as shown to the integrator (`whsec_<base64 of the key>`).
pub const SECRET_PREFIX: &str = "whsec_";

/// Bytes of key in a new secret (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// How long an old secret still signs after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// Failing this long without one success disables an endpoint.
pub const DISABLE_AFTER: Duration = Duration::days(5);

/// How long a receiver has to answer.
pub const TIMEOUT_SECS: u64 = 10;

/// Bytes of a receiver's answer kept with each attempt.
pub const EXCERPT_BYTES: usize = 1024;

/// The waits before the 2nd, 3rd, … attempt; after the last one the delivery has failed.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// The wait before the next attempt after `attempts` failed ones; `None`: give up.
pub fn retry_after(attempts: usize) -> Option<Duration> {
    attempts
        .checked_sub(1)
        .and_then(|n| RETRY_SCHEDULE.get(n))
        .copied()
}

/// A new secret: what the integrator is shown once, and the key that signs.
pub fn generate_secret() -> Result<(String, Vec<u8>), getrandom::Error> {
    let mut key = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut key)?;
    Ok((format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)), key))
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with `key`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per key, space-separated (both the new and
/// the old secret while a rotation overlaps).
pub fn signature_header(keys: &[&[u8]], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| sign(key, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a receiver's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver asks to be sent nothing more; the endpoint is disabled.
    Gone,
    /// Anything else (3xx included: redirects are not followed), a timeout or no connection:
    /// tried again by the schedule.
    Failed,
}

impl Answer {
    pub fn of(status: Option<u16>) -> Self {
        match status {
            Some(200..=299) => Self::Delivered,
            Some(410) => Self::Gone,
            _ => Self::Failed,
        }
    }
}

/// The first [`EXCERPT_BYTES`] of an answer, as text (cut at a character boundary).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES)]).into_owned();
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Whether a delivery may never connect to `ip` (unless private addresses are allowed):
/// loopback, private, link-local (the cloud metadata address 169.254.169.254 among them),
/// shared, unspecified, broadcast, multicast, documentation and unique-local addresses, and
/// IPv4 addresses mapped or translated into IPv6.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let segments = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || (segments[0] == 0x0064 && segments[1] == 0xff9b) // NAT64 64:ff9b::/96
                || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible ::a.b.c.d
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240 // reserved
}

/// Why an endpoint URL is refused, for the field's error.
pub fn url_problem(url: &str, allow_insecure: bool) -> Option<&'static str> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("must be an absolute URL");
    };
    match parsed.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        "http" => {
            return Some(
                "must use https (http is allowed only when PROLO_WEBHOOK_ALLOW_INSECURE=true)",
            );
        }
        _ => return Some("must be an https URL"),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Some("must name a host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("must not carry credentials (sign the receiver's side with the secret)");
    }
    if parsed.fragment().is_some() {
        return Some("must not have a fragment");
    }
    None
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn the_signature_of_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let both = signature_header(
            &[&key, b"other"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert!(both.starts_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,"));
    }

    #[test]
    fn a_new_secret_is_shown_with_its_prefix_and_decodes_to_its_key() {
        let (shown, key) = generate_secret().unwrap();
        let encoded = shown.strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap(), key);
        assert_eq!(key.len(), 32);
        assert_ne!(generate_secret().unwrap().1, key);
    }

    #[test]
    fn retries_follow_the_published_schedule_then_stop() {
        let waits: Vec<_> = (1..=8).map(retry_after).collect();
        assert_eq!(waits[0], Some(Duration::seconds(5)));
        assert_eq!(waits[1], Some(Duration::minutes(5)));
        assert_eq!(waits[6], Some(Duration::hours(10)));
        assert_eq!(waits[7], None, "eight attempts in all");
        assert_eq!(retry_after(0), None);
        let total: Duration = RETRY_SCHEDULE.iter().copied().sum();
        assert_eq!(
            total,
            Duration::minutes(27 * 60 + 35) + Duration::seconds(5)
        );
    }

    #[test]
    fn answers_are_delivered_gone_or_failed() {
        assert_eq!(Answer::of(Some(204)), Answer::Delivered);
        assert_eq!(Answer::of(Some(410)), Answer::Gone);
        for failed in [Some(301), Some(404), Some(500), None] {
            assert_eq!(Answer::of(failed), Answer::Failed);
        }
    }

    #[test]
    fn excerpts_keep_a_kibibyte_cut_between_characters() {
        let long = "é".repeat(1000);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= EXCERPT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(excerpt(b"ok"), "ok");
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_forbidden() {
        for forbidden in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_forbidden(forbidden.parse().unwrap()), "{forbidden}");
        }
        assert!(is_forbidden(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_forbidden(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn endpoint_urls_must_be_https_with_a_host_and_no_credentials() {
        assert_eq!(url_problem("https://hooks.example/prolo", false), None);
        assert!(url_problem("http://hooks.example/prolo", false).is_some());
        assert_eq!(url_problem("http://hooks.example/prolo", true), None);
        for bad in [
            "ftp://hooks.example",
            "hooks.example",
            "https://u:p@hooks.example",
            "https://hooks.example/#x",
        ] {
            assert!(url_problem(bad, true).is_some(), "{bad}");
        }
    }
}
