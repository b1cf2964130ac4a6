//! The SDK clients verify the server's certificate: with the project's own HTTPS client
//! (rustls on ring, `shared::https`) and its trust store (`shared::trust`: the Amazon Trust
//! Services roots compiled in, or `AWS_CA_BUNDLE`), a server whose certificate chains to a
//! CA the client does not trust is refused before any request is sent, and the same server
//! is accepted once the client is given that CA. The CA and the certificate for 127.0.0.1
//! are made by `openssl` for the test; the server is Python's, on the loopback.

use aws_sdk_dynamodb::error::SdkError;
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

/// A stand-in for DynamoDB over TLS: every POST answers an empty ListTables.
const DYNAMODB_OVER_TLS: &str = r#"
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"TableNames":["served-over-tls"]}'
        self.send_response(200)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("server.pem", "server.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

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
    let child = Command::new("python3")
        .current_dir(&dir)
        .args(["-c", DYNAMODB_OVER_TLS, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Server(child), port, std::fs::read(dir.join("ca.pem")).unwrap())
}

fn client(port: u16, http_client: aws_smithy_runtime_api::client::http::SharedHttpClient) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(format!("https://127.0.0.1:{port}"))
        .http_client(http_client)
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn assert_refused<T: std::fmt::Debug, E: std::fmt::Debug, R: std::fmt::Debug>(result: Result<T, SdkError<E, R>>) {
    match result {
        Err(SdkError::DispatchFailure(failure)) => {
            let text = format!("{failure:?}");
            assert!(text.contains("UnknownIssuer"), "a refusal of the certificate's issuer: {text}");
        }
        other => panic!("the handshake must fail on an unknown CA, got {other:?}"),
    }
}

/// The handshake passed and the server's answer came back.
fn assert_accepted<E: std::fmt::Debug, R: std::fmt::Debug>(
    result: Result<aws_sdk_dynamodb::operation::list_tables::ListTablesOutput, SdkError<E, R>>,
) {
    let output = result.expect("the trusted CA's server is accepted");
    assert_eq!(output.table_names(), ["served-over-tls"]);
}

#[tokio::test]
async fn a_server_of_an_unknown_ca_is_refused_and_accepted_once_its_ca_is_trusted() {
    let (_server, port, ca) = server();

    // The functions' default: the Amazon Trust Services roots only.
    assert_refused(client(port, shared::https::https_client()).list_tables().send().await);
    let trusted = shared::trust::bundle(&ca).expect("the test CA is a usable anchor");
    assert_accepted(client(port, shared::https::https_client_trusting(trusted)).list_tables().send().await);
}

fn bundle_variable(value: Option<&str>) -> impl Fn(&str) -> Option<String> {
    let value = value.map(str::to_owned);
    move |name| if name == "AWS_CA_BUNDLE" { value.clone() } else { None }
}

#[tokio::test]
async fn aws_ca_bundle_replaces_the_compiled_in_roots() {
    let (_server, port, ca) = server();
    let dir = std::env::temp_dir().join(format!("members-tls-bundle-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bundle.pem");
    std::fs::write(&path, &ca).unwrap();

    let trusting = |value: Option<&str>| {
        let store = shared::trust::from_lookup(bundle_variable(value)).expect("a trust store");
        client(port, shared::https::https_client_trusting(store))
    };
    assert_accepted(trusting(Some(path.to_str().unwrap())).list_tables().send().await);
    // Unset or blank: the compiled-in roots, which do not know the test CA.
    assert_refused(trusting(None).list_tables().send().await);
    assert_refused(trusting(Some(" ")).list_tables().send().await);
}

#[test]
fn an_unusable_aws_ca_bundle_fails_the_start_with_its_name() {
    let dir = std::env::temp_dir().join(format!("members-tls-bad-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &[u8]); 3] = [
        ("empty.pem", b""),
        ("no-certificate.pem", b"just some text\n"),
        ("broken.pem", b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"),
    ];
    for (file, content) in cases {
        let path = dir.join(file);
        std::fs::write(&path, content).unwrap();
        let error = shared::trust::from_lookup(bundle_variable(path.to_str())).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("AWS_CA_BUNDLE") && text.contains(file), "{file}: {text}");
    }
    let missing = dir.join("missing.pem");
    let error = shared::trust::from_lookup(bundle_variable(missing.to_str())).unwrap_err();
    assert!(error.to_string().contains("AWS_CA_BUNDLE") && error.to_string().contains("missing.pem"), "{error}");
}

/// The compiled-in roots are Mozilla's list (the `webpki-root-certs` crate), whole and each
/// a usable trust anchor, and among them the five that AWS's endpoints chain to today
/// (by SHA-256, as Amazon Trust Services publishes them).
#[test]
fn the_compiled_in_roots_are_mozillas_list_with_amazon_trust_services_among_them() {
    use sha2::{Digest, Sha256};
    let certificates = shared::trust::anchors(shared::trust::MOZILLA_ROOTS).expect("usable anchors");
    let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
    assert_eq!(certificates.len(), mozilla.len());
    assert!(certificates.len() > 100, "a whole root program: {}", certificates.len());
    for (ours, theirs) in certificates.iter().zip(mozilla) {
        assert_eq!(ours.as_ref(), theirs.as_ref());
    }
    let fingerprints: Vec<String> = certificates
        .iter()
        .map(|certificate| Sha256::digest(certificate.as_ref()).iter().map(|byte| format!("{byte:02X}")).collect())
        .collect();
    for (name, fingerprint) in [
        ("Amazon Root CA 1", "8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E"),
        ("Amazon Root CA 2", "1BA5B2AA8C65401A82960118F80BEC4F62304D83CEC4713A19C39C011EA46DB4"),
        ("Amazon Root CA 3", "18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4"),
        ("Amazon Root CA 4", "E35D28419ED02025CFA69038CD623962458DA5C695FBDEA3C22B0BFB25897092"),
        ("Starfield Services Root G2", "568D6905A2C88708A4B3025190EDCFEDB1974A606A13C6E5290FCB2AE63EDAB5"),
    ] {
        assert!(fingerprints.iter().any(|f| f == fingerprint), "{name} is trusted");
    }
}
