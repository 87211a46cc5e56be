//! The accept loop's limits, over real sockets (docs/security.md #79): a
//! client that never finishes its headers is cut, and at most
//! `max_connections` are served at once.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use sspr_server::listener::{Limits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
/// The start of a request whose headers never end.
const SLOW: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n";

/// A server with `limits` over a route that names the client; stops when
/// the sender is dropped.
async fn start(limits: Limits) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app =
        Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                format!("hello {}", peer.ip())
            }),
        );
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

async fn get_root(addr: SocketAddr) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(REQUEST).await.unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the server closes the connection.
async fn until_closed(c: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = c.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut() {
    let (addr, _stop) = start(Limits {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 8,
    })
    .await;
    assert!(get_root(addr).await.contains("hello 127.0.0.1"));
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(SLOW).await.unwrap();
    // Without the timeout this waits forever; the bound only keeps a
    // broken build from hanging the suite.
    tokio::time::timeout(Duration::from_secs(30), until_closed(&mut slow))
        .await
        .expect("the server closes a connection whose headers never end");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let (addr, _stop) = start(Limits {
        header_read_timeout: Duration::from_secs(120),
        max_connections: 1,
    })
    .await;
    let mut holder = TcpStream::connect(addr).await.unwrap();
    holder.write_all(SLOW).await.unwrap();
    let second = tokio::spawn(get_root(addr));
    // Not served while the only slot is held: no answer in a second (a
    // build without the cap answers in milliseconds).
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!second.is_finished(), "served beyond the cap");
    drop(holder);
    let body = tokio::time::timeout(Duration::from_secs(30), second)
        .await
        .expect("served once the slot is free")
        .unwrap();
    assert!(body.contains("hello 127.0.0.1"), "{body}");
}
