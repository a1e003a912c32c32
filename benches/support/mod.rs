//! What the benchmarks share: their settings from the environment and one raw HTTP request.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A number from environment variable `name`, or `default`.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One HTTP/1.1 request on a fresh connection; returns the status and the whole response.
#[allow(dead_code)] // the scheduler benchmark sends no HTTP
pub async fn request(addr: SocketAddr, raw: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(raw.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Latencies of a run of requests.
#[allow(dead_code)] // the scheduler benchmark sends no HTTP
pub struct Stats {
    /// Requests answered.
    pub count: usize,
    /// From the first request to the last answer.
    pub wall: std::time::Duration,
    /// Median.
    pub p50: std::time::Duration,
    /// 95th percentile.
    pub p95: std::time::Duration,
    /// 99th percentile.
    pub p99: std::time::Duration,
}

/// Sends `requests` from `concurrency` clients, each on a new connection; every answer must be a
/// 2xx.
#[allow(dead_code)] // the scheduler benchmark sends no HTTP
pub async fn load(addr: SocketAddr, requests: Vec<String>, concurrency: usize) -> Stats {
    use std::time::Instant;
    let total = requests.len();
    let queue = std::sync::Arc::new(tokio::sync::Mutex::new(requests.into_iter()));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    let next = queue.lock().await.next();
                    let Some(raw) = next else { break };
                    let t = Instant::now();
                    let (status, body) = request(addr, &raw).await;
                    assert!(
                        (200..300).contains(&status),
                        "status {status}: {}",
                        &body[..body.len().min(400)]
                    );
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for w in workers {
        times.extend(w.await.expect("worker"));
    }
    let wall = start.elapsed();
    times.sort();
    assert_eq!(times.len(), total);
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        count: times.len(),
        wall,
        p50: pick(0.5),
        p95: pick(0.95),
        p99: pick(0.99),
    }
}

/// Signs `username` in through the login server function; returns the session cookie.
#[allow(dead_code)] // the scheduler benchmark sends no HTTP
pub async fn sign_in(addr: SocketAddr, username: &str, password: &str) -> String {
    let body = format!(
        "username={username}&password={}",
        password.replace(' ', "+")
    );
    let (status, text) = request(
        addr,
        &format!(
            "POST /api/login HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}
