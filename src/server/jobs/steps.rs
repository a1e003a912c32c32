//! Executing the HTTP kind of step (HTTP request with assertions; the webhook and poll-until
//! steps build on it): the request with connect and total timeouts, the answer read up to a size
//! cap, and the step's assertions — status, body contains, latency bound — judged on it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::model::catalog::parse_duration;
use crate::model::run::{OUTPUT_MAX, truncate_output};
use crate::server::netpolicy::Reach;

/// Bounds on every outgoing request a step makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Longest wait for the connection.
    pub connect: Duration,
    /// Longest wait for the whole answer (the step's own timeout may be shorter).
    pub total: Duration,
    /// Most bytes of the answer read.
    pub max_body: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(30),
            max_body: 1 << 20,
        }
    }
}

/// What a step's execution found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether its checks held.
    pub passed: bool,
    /// What to show (status, timing, the start of the body).
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// An HTTP request and the checks on its answer, read from a step's parameter values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// Method.
    pub method: reqwest::Method,
    /// URL.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body to send.
    pub body: Option<String>,
    /// Status the answer must have.
    pub expect_status: u16,
    /// Text the answer must contain.
    pub body_contains: Option<String>,
    /// Longest the answer may take.
    pub max_latency: Option<Duration>,
}

impl HttpCheck {
    /// Reads the check from parameter values (already validated by the plan).
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let method = get("method")
            .unwrap_or("GET")
            .parse::<reqwest::Method>()
            .map_err(|_| "bad method".to_owned())?;
        let url = get("url").ok_or("no URL")?.to_owned();
        let headers = get("headers")
            .map(|text| {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        l.split_once(':')
                            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                            .ok_or_else(|| format!("header line {l:?} has no ':'"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            method,
            url,
            headers,
            body: params
                .get("body")
                .or(params.get("payload"))
                .filter(|b| !b.is_empty())
                .cloned(),
            expect_status: get("expect_status")
                .unwrap_or("200")
                .parse()
                .map_err(|_| "bad expected status")?,
            body_contains: get("body_contains").map(str::to_owned),
            max_latency: get("max_latency").map(parse_duration).transpose()?,
        })
    }
}

/// A client for one request to `url`, connecting its host to exactly `addrs` (the addresses the
/// network policy checked): bounded connect time, no redirects followed (a check sees what the
/// server answered), no proxy from the environment, no cookies kept.
fn client_to(
    url: &url::Url,
    addrs: &[std::net::SocketAddr],
    limits: &HttpLimits,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(limits.connect)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("nightwatch/", env!("CARGO_PKG_VERSION")));
    if let Some(url::Host::Domain(name)) = url.host() {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    builder
        .build()
        .map_err(|e| format!("the request cannot be made: {e}"))
}

/// An answer to an outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Its status.
    pub status: reqwest::StatusCode,
    /// Its body, at most `limits.max_body` bytes of it.
    pub body: Vec<u8>,
    /// Whether the body was cut there.
    pub cut: bool,
    /// How long it took.
    pub latency: Duration,
}

/// What went wrong with a request, cause by cause, without its URL: a chat hook's URL carries
/// its token, and this text is stored and shown.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Makes one request, if `reach` lets it go where `url` points (checked on the addresses the
/// name resolves to now, which are then the only ones connected to): the answer, or why there
/// is none. Never waits past `limits.total` and never reads more than `limits.max_body`. Plan
/// steps and notifications go out through here.
pub async fn exchange(
    reach: &Reach,
    method: reqwest::Method,
    url: &str,
    headers: &[(String, String)],
    body: Option<String>,
    limits: &HttpLimits,
) -> Result<Answer, String> {
    let url = url::Url::parse(url).map_err(|e| format!("the address is not a URL: {e}"))?;
    let addrs = reach.vet(&url).await?;
    let client = client_to(&url, &addrs, limits)?;
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let started = Instant::now();
    let exchange = async {
        let mut response = request.send().await?;
        let status = response.status();
        let mut body = Vec::new();
        let mut cut = false;
        while let Some(chunk) = response.chunk().await? {
            let room = limits.max_body.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() > room {
                cut = true;
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, body, cut))
    };
    match tokio::time::timeout(limits.total, exchange).await {
        Err(_) => Err(format!(
            "no complete answer within {} s",
            limits.total.as_secs_f64()
        )),
        Ok(Err(e)) => Err(format!("request failed: {}", describe(e))),
        Ok(Ok((status, body, cut))) => Ok(Answer {
            status,
            body,
            cut,
            latency: started.elapsed(),
        }),
    }
}

/// Sends the request and judges the answer, if `reach` lets it go where its URL points (checked
/// on the addresses the name resolves to now). Never panics and never waits past
/// `limits.total`.
pub async fn run_http_check(reach: &Reach, check: &HttpCheck, limits: &HttpLimits) -> Outcome {
    let failed = |output: String, error: String| Outcome {
        passed: false,
        output,
        error: Some(error),
    };
    let answer = exchange(
        reach,
        check.method.clone(),
        &check.url,
        &check.headers,
        check.body.clone(),
        limits,
    )
    .await;
    let Answer {
        status,
        body,
        cut,
        latency,
    } = match answer {
        Ok(answer) => answer,
        Err(error) => return failed(String::new(), error),
    };
    let text = String::from_utf8_lossy(&body);
    let mut output = format!(
        "{} {} → {} in {} ms{}\n{}",
        check.method,
        check.url,
        status,
        latency.as_millis(),
        if cut {
            format!(" (body cut at {} bytes)", limits.max_body)
        } else {
            String::new()
        },
        text
    );
    output = truncate_output(&output, OUTPUT_MAX);
    let mut problems = Vec::new();
    if status.as_u16() != check.expect_status {
        problems.push(format!(
            "expected status {}, got {}",
            check.expect_status,
            status.as_u16()
        ));
    }
    if let Some(needle) = &check.body_contains
        && !text.contains(needle.as_str())
    {
        problems.push(format!("the body does not contain {needle:?}"));
    }
    if let Some(bound) = check.max_latency
        && latency > bound
    {
        problems.push(format!(
            "took {} ms, more than {} ms",
            latency.as_millis(),
            bound.as_millis()
        ));
    }
    if problems.is_empty() {
        Outcome {
            passed: true,
            output,
            error: None,
        }
    } else {
        failed(output, problems.join("; "))
    }
}

/// The header carrying a signed webhook's HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "X-Nightwatch-Signature";

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`: what a receiver recomputes to
/// know the call came from us, unchanged.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The outgoing webhook step: its JSON payload POSTed, signed when it has a secret.
pub fn webhook_check(params: &BTreeMap<String, String>) -> Result<HttpCheck, String> {
    let mut check = HttpCheck::from_params(params)?;
    check.method = reqwest::Method::POST;
    let body = check.body.clone().unwrap_or_else(|| "{}".to_owned());
    check
        .headers
        .push(("Content-Type".to_owned(), "application/json".to_owned()));
    if let Some(secret) = params.get("secret").filter(|s| !s.is_empty()) {
        check.headers.push((
            SIGNATURE_HEADER.to_owned(),
            signature(secret, body.as_bytes()),
        ));
    }
    check.body = Some(body);
    Ok(check)
}

/// A poll-until step: a check repeated every `interval` until it holds or `deadline` passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    /// The request and what must hold.
    pub check: HttpCheck,
    /// Time between calls.
    pub interval: Duration,
    /// When to give up, from the first call.
    pub deadline: Duration,
}

impl Poll {
    /// Reads the poll from parameter values.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, String> {
        let duration = |name: &str| {
            parse_duration(params.get(name).map_or("", String::as_str))
                .map_err(|e| format!("{name}: {e}"))
        };
        Ok(Self {
            check: HttpCheck::from_params(params)?,
            interval: duration("interval")?.max(Duration::from_millis(100)),
            deadline: duration("deadline")?,
        })
    }
}

/// Calls until the check holds (passed) or the deadline passes (failed, with the last answer).
pub async fn run_poll(reach: &Reach, poll: &Poll, limits: &HttpLimits) -> Outcome {
    let started = Instant::now();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = poll.deadline.saturating_sub(started.elapsed());
        let bounded = HttpLimits {
            total: limits.total.min(left.max(Duration::from_millis(100))),
            ..*limits
        };
        let outcome = run_http_check(reach, &poll.check, &bounded).await;
        let elapsed = started.elapsed();
        if outcome.passed {
            return Outcome {
                output: format!(
                    "held on call {attempt} after {:.1} s\n{}",
                    elapsed.as_secs_f64(),
                    outcome.output
                ),
                ..outcome
            };
        }
        if elapsed + poll.interval > poll.deadline {
            return Outcome {
                passed: false,
                output: format!("last answer (call {attempt}):\n{}", outcome.output),
                error: Some(format!(
                    "did not hold within {} after {attempt} calls; last: {}",
                    spoken(poll.deadline),
                    outcome.error.unwrap_or_default()
                )),
            };
        }
        tokio::time::sleep(poll.interval).await;
    }
}

/// A duration as people say it: `400 ms`, `30 s`, `5 min`.
fn spoken(d: Duration) -> String {
    match d.as_millis() {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 120_000 => format!("{} s", ms / 1_000),
        ms => format!("{} min", ms / 60_000),
    }
}
