//! Signatures of outgoing notifications (#17), each as its receiver checks it:
//!
//! - **Standard Webhooks** (generic webhooks): `webhook-signature: v1,<base64 HMAC-SHA256 of
//!   "{id}.{timestamp}.{body}">`, keyed with the base64 part of a `whsec_…` secret; during a
//!   secret rotation every current secret signs, space-separated.
//! - **Feishu / Lark** custom bots: `sign` = base64 HMAC-SHA256 keyed with
//!   `"{timestamp}\n{secret}"` over nothing, beside `timestamp` (seconds) in the body.
//! - **DingTalk** custom robots: `sign` = base64 HMAC-SHA256 keyed with the secret over
//!   `"{timestamp_ms}\n{secret}"`, URL-encoded, with `timestamp` added to the URL's query.
//!
//! Slack incoming webhooks and WeCom group robots carry their secret in the URL and sign nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

type HmacSha256 = Hmac<sha2::Sha256>;

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The key of a Standard Webhooks secret (`whsec_` and base64), or `None` when it is not one.
pub fn standard_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.trim().strip_prefix("whsec_")?;
    STANDARD.decode(encoded).ok().filter(|k| k.len() >= 16)
}

/// The `webhook-signature` header for message `id` sent at `timestamp` (Unix seconds) with
/// `body`, signed with every secret of `secrets` (more than one while a secret is rotated).
/// Secrets that are not `whsec_…` are skipped; `None` when none is usable.
pub fn standard_webhooks(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Option<String> {
    let message = format!("{id}.{timestamp}.{body}");
    let signatures: Vec<String> = secrets
        .iter()
        .filter_map(|s| standard_key(s))
        .map(|key| format!("v1,{}", STANDARD.encode(hmac(&key, message.as_bytes()))))
        .collect();
    (!signatures.is_empty()).then(|| signatures.join(" "))
}

/// Feishu's `sign` for `timestamp` (Unix seconds).
pub fn feishu(secret: &str, timestamp: i64) -> String {
    STANDARD.encode(hmac(format!("{timestamp}\n{secret}").as_bytes(), b""))
}

/// DingTalk's `sign` for `timestamp_ms` (Unix milliseconds), URL-encoded as it goes in the query.
pub fn dingtalk(secret: &str, timestamp_ms: i64) -> String {
    let sign = STANDARD.encode(hmac(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    ));
    url::form_urlencoded::byte_serialize(sign.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_signs_as_its_published_example() {
        // The example of the Standard Webhooks specification (and its reference libraries).
        let header = standard_webhooks(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            header.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_and_a_bad_secret_signs_nothing() {
        let new = format!("whsec_{}", STANDARD.encode([7u8; 32]));
        let header = standard_webhooks(
            &[&new, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "plain"],
            "msg_1",
            1,
            "{}",
        )
        .unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_eq!(
            standard_webhooks(&["plain", "whsec_!!"], "m", 1, "{}"),
            None
        );
        assert_eq!(
            standard_key("whsec_c2hvcnQ="),
            None,
            "a key of 5 bytes is too short"
        );
    }

    #[test]
    fn feishu_and_dingtalk_sign_as_their_documented_algorithms() {
        // Computed independently (Python's hmac) from each platform's documented recipe.
        assert_eq!(
            feishu("demo-secret", 1_599_360_473),
            "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s="
        );
        assert_eq!(
            dingtalk("SEC000000000000000000000", 1_577_262_236_757),
            "xOJIB8eNoYWeLy26EMZOlc2RjOJbtPv9HYjm%2BE3uALU%3D"
        );
    }
}
