//! The SDK clients verify the server's certificate: with the project's own HTTPS client
//! (rustls on ring, shared::deps), a server whose certificate chains to a CA the client does
//! not trust is refused before any request is sent, and the same server is accepted once
//! the client is given that CA. The server is `openssl s_server` on the loopback, with a CA
//! and a certificate for 127.0.0.1 made for this test.

use aws_sdk_dynamodb::error::SdkError;
use aws_smithy_http_client::tls::TrustStore;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("openssl").current_dir(dir).args(args).stderr(Stdio::null()).status().expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, a certificate for 127.0.0.1 it signed, and a server presenting it.
fn server() -> (Server, u16, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("members-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=members test CA",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("openssl")
        .current_dir(&dir)
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-www",
            "-quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Server(child), port, std::fs::read(dir.join("ca.pem")).unwrap())
}

fn client(port: u16, trust: TrustStore) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(format!("https://127.0.0.1:{port}"))
        .http_client(shared::deps::https_client_trusting(trust))
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

#[tokio::test]
async fn a_server_of_an_unknown_ca_is_refused_and_accepted_once_its_ca_is_trusted() {
    let (_server, port, ca) = server();

    let untrusted = client(port, TrustStore::default()).list_tables().send().await;
    let trusted =
        client(port, TrustStore::empty().with_native_roots(false).with_pem_certificate(ca)).list_tables().send().await;

    match untrusted {
        Err(SdkError::DispatchFailure(failure)) => {
            let text = format!("{:?}", failure);
            assert!(text.contains("UnknownIssuer") || text.contains("certificate"), "a TLS refusal: {text}");
        }
        other => panic!("the handshake must fail on an unknown CA, got {other:?}"),
    }
    // Past the handshake: s_server's HTML page is no DynamoDB answer, but it is an answer.
    match trusted {
        Err(SdkError::DispatchFailure(failure)) => panic!("the trusted CA's server was refused: {failure:?}"),
        Err(_) | Ok(_) => {}
    }
}
